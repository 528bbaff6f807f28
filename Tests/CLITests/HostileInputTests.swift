import Foundation
import Testing
import Engine

// The binary against hostile surroundings: closed, full and broken output streams, special
// files given as checkpoints or as output targets, numbers JSON cannot spell, and a terminal
// curses cannot drive. Shell redirections (`2>&-`, `> /dev/full`) are what users write, so
// the commands run under /bin/sh, each inside `timeout` so that a hang fails instead of
// stalling the suite.

@Suite("Hostile surroundings")
struct HostileInputTests {
    // MARK: Output streams

    @Test func closedStderrStillSavesTheCheckpoint() throws {
        let w = try Workspace()
        let run = try w.shell(#"exec "$OICSR" train --model tiny.json --data data --epochs 2 --batch-size 32 --out t.safetensors 2>&-"#)
        #expect(run.status == 0, "exit status \(run.status)")
        #expect(run.stdout.contains("saved t.safetensors"))
        #expect(try Checkpoint.load(path: w.path("t.safetensors")).1.metrics["top1"] != nil)
    }

    @Test func fullStderrStillSavesTheCheckpoint() throws {
        let w = try Workspace()
        let run = try w.shell(#"exec "$OICSR" train --model tiny.json --data data --epochs 1 --batch-size 32 --out t.safetensors 2>/dev/full"#)
        #expect(run.status == 0, "exit status \(run.status)")
        #expect(FileManager.default.fileExists(atPath: w.path("t.safetensors")))
    }

    @Test func fullStdoutIsAFailure() throws {
        let w = try Workspace()
        for command in ["info tiny.json", "info tiny.json --json", "groups resnet20"] {
            let run = try w.shell(#"exec "$OICSR" "# + command + " > /dev/full")
            #expect(run.status == 1, "\(command): exit status \(run.status)")
            #expect(run.stderr == "oicsr: cannot write to standard output: No space left on device\n", "\(command): \(run.stderr)")
        }
    }

    @Test func closedStdoutIsAFailure() throws {
        let w = try Workspace()
        let run = try w.shell(#"exec "$OICSR" info tiny.json >&-"#)
        #expect(run.status == 1, "exit status \(run.status)")
        #expect(run.stderr == "oicsr: cannot write to standard output: Bad file descriptor\n", "\(run.stderr)")
    }

    @Test func brokenPipeIsAFailureNotASignal() throws {
        // The reader is gone before the first write: EPIPE, with SIGPIPE ignored.
        let w = try Workspace()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = ["info", "tiny.json"]
        process.currentDirectoryURL = w.folder
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try out.fileHandleForReading.close()
        try process.run()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 1,
                "\(process.terminationReason == .exit ? "exit status" : "signal") \(process.terminationStatus)")
        #expect(stderr == "oicsr: cannot write to standard output: Broken pipe\n", "\(stderr)")
    }

    @Test func nonFiniteNumbersInJSON() throws {
        // Weights so large that the logits overflow: the loss is not a number. JSON output
        // spells it as a string instead of trapping.
        let w = try Workspace()
        #expect(try w.train().status == 0)
        var file = try SafeTensorsFile.read(path: w.path("tiny.safetensors"))
        let i = try #require(file.tensors.firstIndex { $0.name == "fc.weight" })
        file.tensors[i].values = file.tensors[i].values.indices.map { $0 % 2 == 0 ? 3e38 : -3e38 }
        try file.write(path: w.path("overflow.safetensors"))
        let run = try w.oicsr("eval", "overflow.safetensors", "--data", w.data.path, "--json")
        #expect(run.status == 0, "exit status \(run.status): \(run.stderr)")
        let result = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        let loss = (result?["evaluation"] as? [String: Any])?["loss"]
        #expect(["NaN", "Infinity"].contains(loss as? String), "loss: \(String(describing: loss))")
    }

    // MARK: Special files as checkpoints

    @Test func fifoDeviceOrFolderAsCheckpoint() throws {
        let w = try Workspace()
        #expect(mkfifo(w.path("fifo.safetensors"), 0o644) == 0)
        try FileManager.default.createDirectory(atPath: w.path("folder.safetensors"), withIntermediateDirectories: false)
        let cases = [("fifo.safetensors", "is a FIFO (named pipe), not a regular file"),
                     ("/dev/zero", "is a character device, not a regular file"),
                     ("folder.safetensors", "is a directory, not a regular file")]
        for (path, problem) in cases {
            for command in ["info \(path)", "eval \(path) --data data", "energies \(path)", "prune \(path) --flops 0.3 --dry-run"] {
                let run = try w.shell(#"exec timeout -s KILL 20 "$OICSR" "# + command)
                #expect(run.status == 2, "\(command): exit status \(run.status) (137: it hung)")
                #expect(run.stderr == "oicsr: \(path): \(problem)\n", "\(command): \(run.stderr)")
            }
        }
    }

    // MARK: Special files as output targets

    @Test func forceNeverReplacesAFifoFolderOrDevice() throws {
        let w = try Workspace()
        #expect(try w.train().status == 0)
        #expect(mkfifo(w.path("fifo"), 0o644) == 0)
        #expect(symlink("fifo", w.path("link-to-fifo")) == 0)
        try FileManager.default.createDirectory(atPath: w.path("folder"), withIntermediateDirectories: false)
        var targets = ["fifo", "link-to-fifo", "folder"]
        // A copy of /dev/null's node in the workspace (never the real one); needs root.
        var null = stat()
        if stat("/dev/null", &null) == 0 && mknod(w.path("device"), S_IFCHR | 0o666, null.st_rdev) == 0 {
            targets.append("device")
        }
        for target in targets {
            var before = stat()
            #expect(lstat(w.path(target), &before) == 0)
            let commands = [
                "train --model tiny.json --data data --epochs 1 --out \(target) --force",
                "prune tiny.safetensors --flops 0.3 --out \(target) --force",
            ]
            for command in commands {
                let run = try w.shell(#"exec timeout -s KILL 60 "$OICSR" "# + command)
                // Refused up front by the command, or at the save by AtomicFile: bad input either way.
                #expect(run.status == 2, "\(command): exit status \(run.status)")
                let last = run.stderr.split(separator: "\n").last.map(String.init) ?? ""
                #expect(last.contains(target) && last.contains("not a regular file"), "\(command): \(run.stderr)")
                var after = stat()
                #expect(lstat(w.path(target), &after) == 0)
                #expect(after.st_mode == before.st_mode && after.st_ino == before.st_ino, "\(command): \(target) left as it was")
            }
        }
        let left = try FileManager.default.contentsOfDirectory(atPath: w.folder.path).filter { $0.contains(".tmp-") }
        #expect(left.isEmpty, "no temporary files: \(left)")
    }

    // MARK: The terminal

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "needs script(1) for a terminal"))
    func dumbTerminalIsRefusedUntouched() throws {
        let w = try Workspace()
        #expect(try w.train().status == 0)
        // script(1) gives the explorer a real terminal; -e passes on its exit status. The inner
        // timeout ends an explorer that opened anyway, the outer one a stuck script(1).
        let run = try w.shell(#"exec timeout -s KILL 40 script -qec "timeout -s KILL 20 \"$OICSR\" explore tiny.safetensors --data data" /dev/null"#,
                              environment: ["TERM": "dumb"])
        #expect(run.status == 2, "exit status \(run.status) (137: the explorer opened)")
        let output = run.stdout.replacingOccurrences(of: "\r\n", with: "\n")
        #expect(output == "oicsr: explore: the terminal type 'dumb' cannot move the cursor, which the explorer needs; use a full-screen terminal (e.g. TERM=xterm-256color), or the commands (oicsr --help)\n",
                "\(output.debugDescription)")
    }
}

extension Workspace {
    /// Runs `script` with /bin/sh in the workspace, `$OICSR` naming the binary.
    func shell(_ script: String, environment: [String: String] = [:]) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        process.currentDirectoryURL = folder
        process.environment = ProcessInfo.processInfo.environment.merging(environment.merging(["OICSR": CLI.binary]) { $1 }) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Both pipes are drained at once, so a chatty child cannot fill one and stall.
        nonisolated(unsafe) var stderr = Data()
        let drained = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            stderr = err.fileHandleForReading.readDataToEndOfFile()
            drained.signal()
        }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        drained.wait()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                   stderr: String(decoding: stderr, as: UTF8.self))
    }
}
