// The real program in a real terminal: the release binary runs in a detached tmux session,
// the test types with send-keys and reads the screen with capture-pane, polling for what it
// expects (never sleeping a fixed time). Afterwards the shell must be back, with its
// terminal settings sane.
//
// Needs the release binary (scripts/test.sh builds it first):
//     swift build -c release --product oicsr
// OICSR_BINARY points elsewhere; OICSR_SKIP_E2E=1 skips these tests.

import Foundation
import Testing

@Suite("End to end: the release binary in tmux", .serialized,
       .enabled(if: ProcessInfo.processInfo.environment["OICSR_SKIP_E2E"] != "1", "OICSR_SKIP_E2E=1"))
struct EndToEndTests {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var binary: String {
        ProcessInfo.processInfo.environment["OICSR_BINARY"] ?? packageRoot.appendingPathComponent(".build/release/oicsr").path
    }

    /// A folder with a small checkpoint trained by the binary itself (one epoch on 3000 images).
    static let workspace: Result<URL, TestFailure> = {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            return .failure(TestFailure("no release binary at \(binary): build it with 'swift build -c release --product oicsr' (scripts/test.sh does), or set OICSR_SKIP_E2E=1"))
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("oicsr-e2e-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let training = try run([binary, "train", "--limit", "3000", "--epochs", "1", "--reg", "oicsr-gl", "--out", "m.safetensors"], in: folder)
            guard training.status == 0 else { return .failure(TestFailure("oicsr train failed:\n\(training.output)")) }
        } catch {
            return .failure(TestFailure("cannot prepare \(folder.path): \(error)"))
        }
        return .success(folder)
    }()

    @Test(.timeLimit(.minutes(2))) func openMoveTargetStepPruneEvaluateQuit() throws {
        let folder = try Self.workspace.get()
        let terminal = try Tmux(folder: folder)
        defer { terminal.close() }
        try terminal.type("\(Self.binary) explore m.safetensors --limit 1000; echo exit=$?", enter: true)
        try terminal.wait(for: "Layers · 5 prunable pairs", seconds: 30)

        try terminal.type("j")
        try terminal.wait(for: "▸ conv2")
        try terminal.type(">>>")
        try terminal.wait(for: "target 30% FLOPs")
        let steps = try #require(terminal.firstMatch(#"step (\d+)/\d+ ="#).flatMap { Int($0) })

        try terminal.type("\r")
        try terminal.wait(for: "conv2 · 32 channels")
        try terminal.type("]")
        try terminal.wait(for: "step \(steps + 1)/")
        try terminal.wait(for: "step \(steps + 1): ")
        try terminal.type("[")
        try terminal.wait(for: "kept again")

        try terminal.type("p")
        try terminal.wait(for: "pruned model #1:", seconds: 30)
        try terminal.type("e")
        try terminal.wait(for: "evaluated", seconds: 60)
        #expect(terminal.firstMatch(#"top-1, as pruned\s+(\d+\.\d%) →\s+\d+\.\d%"#) != nil, "\(terminal.screen())")

        // The command line that reproduces the selection: shown, copied, and printed on quitting.
        try terminal.type("y")
        try terminal.wait(for: "copied: oicsr prune")
        try terminal.type("q")
        try terminal.wait(for: "Quit anyway?")
        try terminal.type("y")
        try terminal.wait(for: "exit=0")
        try terminal.expectSaneShell()
        let command = try #require(terminal.firstMatch(#"(oicsr prune m\.safetensors [^\n]*)"#), "\(terminal.screen())")
        #expect(command.contains("--flops") && command.contains("--criterion out-in") && command.contains("--limit 1000"))
        // Run from a script, it selects what the explorer did.
        let words = command.split(separator: " ").dropFirst().map(String.init)
        let dryRun = try run([Self.binary] + words + ["--dry-run", "--json"], in: folder)
        #expect(dryRun.status == 0, "\(dryRun.output)")
        #expect(dryRun.output.contains("\"channels\" : \(320 - steps)"), "\(steps) steps: \(dryRun.output.prefix(400))")
    }

    @Test(.timeLimit(.minutes(1))) func escDuringTheFirstTrainingSaysNothingIsCachedAndFails() throws {
        let folder = try Self.workspace.get()
        let terminal = try Tmux(folder: folder)
        defer { terminal.close() }
        try terminal.type("XDG_CACHE_HOME=\(folder.path)/cache \(Self.binary) --limit 2000; echo exit=$?", enter: true)
        try terminal.wait(for: "Training convnet-s", seconds: 30)
        try terminal.type("\u{1B}")
        try terminal.wait(for: "training cancelled; nothing cached", seconds: 30)
        try terminal.wait(for: "exit=1")
        try terminal.expectSaneShell()
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/cache/oicsr/convnet-s-oicsr-gl-first2000.safetensors"))
    }

    @Test(.timeLimit(.minutes(1))) func trainingOnTheCommandLineShowsTheTimeLeft() throws {
        let folder = try Self.workspace.get()
        let training = try run([Self.binary, "train", "--limit", "3000", "--epochs", "1", "--out", "eta.safetensors"], in: folder)
        #expect(training.status == 0, "\(training.output)")
        #expect(training.output.contains(" ETA "), "\(training.output)")
        #expect(training.output.contains("1 epoch") && !training.output.contains("1 epochs"))
    }

    @Test(.timeLimit(.minutes(1))) func sigtermRestoresTheTerminal() throws {
        let folder = try Self.workspace.get()
        let terminal = try Tmux(folder: folder)
        defer { terminal.close() }
        try terminal.type("\(Self.binary) explore m.safetensors --limit 1000; echo exit=$?", enter: true)
        try terminal.wait(for: "Layers · 5 prunable pairs", seconds: 30)
        let shell = try #require(Int32(try terminal.tmux(["display-message", "-p", "-t", terminal.name, "#{pane_pid}"]).trimmingCharacters(in: .whitespacesAndNewlines)))
        let children = try run(["pgrep", "-P", String(shell)]).output.split(separator: "\n").compactMap { Int32($0) }
        let explorer = try #require(children.first, "the explorer runs under the pane's shell")
        kill(explorer, SIGTERM)
        try terminal.wait(for: "exit=143")
        try terminal.expectSaneShell()
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs a program and waits for it; returns its exit status and its output (stdout and
/// stderr together, through a file). Spawned directly rather than with Foundation's
/// `Process`, which waits until every process holding its internal descriptors is gone: a
/// tmux server started by the program holds them for as long as it runs.
@discardableResult
func run(_ arguments: [String], in folder: URL? = nil) throws -> (status: Int32, output: String) {
    let log = FileManager.default.temporaryDirectory.appendingPathComponent("oicsr-run-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: log) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    // Test runners block signals in their threads, and a spawned process inherits the mask:
    // start the child (and the tmux server and shell it may start) with none blocked and
    // default handlers, as from a login shell, so that SIGTERM reaches the explorer.
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var noSignals = sigset_t(), handled = sigset_t()
    sigemptyset(&noSignals)
    sigemptyset(&handled)
    for signal in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE] { sigaddset(&handled, signal) }
    posix_spawnattr_setsigmask(&attributes, &noSignals)
    posix_spawnattr_setsigdefault(&attributes, &handled)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    // env -C: coreutils' chdir, so that the child starts in `folder`.
    let command = ["env"] + (folder.map { ["-C", $0.path] } ?? []) + arguments
    let environment = ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }
    var argv = command.map { strdup($0) } + [nil]
    var envp = environment.map { strdup($0) } + [nil]
    defer { for pointer in argv + envp { free(pointer) } }
    var pid: pid_t = 0
    let spawned = posix_spawnp(&pid, "env", &actions, &attributes, &argv, &envp)
    guard spawned == 0 else { throw TestFailure("cannot start \(arguments[0]): \(String(cString: strerror(spawned)))") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    // The exit code sits in bits 8-15 when the low 7 bits (the signal) are zero.
    let exitCode = status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    return (exitCode, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
}

/// A detached tmux session of its own server (socket), running a plain bash at 100x30.
struct Tmux {
    let socket = "oicsr-e2e-\(UUID().uuidString.prefix(8))"
    let name = "explorer"
    let folder: URL
    static let prompt = "e2e$"

    init(folder: URL) throws {
        self.folder = folder
        try tmux(["new-session", "-d", "-s", name, "-x", "100", "-y", "30", "-c", folder.path,
                  "env PS1='\(Self.prompt) ' bash --norc --noprofile"])
        try wait(for: Self.prompt)
    }

    @discardableResult
    func tmux(_ arguments: [String]) throws -> String {
        let result = try run(["tmux", "-L", socket] + arguments)
        guard result.status == 0 else { throw TestFailure("tmux \(arguments.joined(separator: " ")): \(result.output)") }
        return result.output
    }

    /// Types `text` literally, then Enter when asked.
    func type(_ text: String, enter: Bool = false) throws {
        try tmux(["send-keys", "-t", name, "-l", text])
        if enter { try tmux(["send-keys", "-t", name, "Enter"]) }
    }

    func screen() -> String {
        // -J joins lines the pane wrapped, so a long line reads as one.
        (try? tmux(["capture-pane", "-p", "-J", "-t", name])) ?? ""
    }

    /// Polls the screen every 20 ms until it shows `text`.
    func wait(for text: String, seconds: Double = 10, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if screen().contains(text) { return }
            usleep(20_000)
        }
        throw TestFailure("waited \(seconds) s for '\(text)'; the screen shows:\n\(screen())")
    }

    /// The first capture group of `pattern` on the screen.
    func firstMatch(_ pattern: String) -> String? {
        let text = screen()
        guard let regex = try? NSRegularExpression(pattern: pattern),
              let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
              match.numberOfRanges > 1, let range = Range(match.range(at: 1), in: text) else { return nil }
        return String(text[range])
    }

    /// The shell has its prompt back, and the terminal echoes and reads lines again.
    func expectSaneShell() throws {
        try wait(for: Self.prompt)
        // The shell prints "stty-42" once stty has written its file; the typed command line
        // itself shows "stty-$((40+2))", so the wait cannot end on the echo of the command.
        try type("stty -a > stty.txt; echo stty-$((40+2))", enter: true)
        try wait(for: "stty-42")
        let settings = try String(contentsOf: folder.appendingPathComponent("stty.txt"), encoding: .utf8)
        let flags = Set(settings.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == ";" }).map(String.init))
        #expect(flags.contains("icanon") && flags.contains("echo") && flags.contains("isig"), "stty -a: \(settings)")
        #expect(!flags.contains("-icanon") && !flags.contains("-echo"), "stty -a: \(settings)")
        let lines = screen().split(separator: "\n")
        #expect(lines.last?.hasPrefix(Self.prompt) == true, "back at the prompt:\n\(screen())")
    }

    func close() {
        _ = try? tmux(["kill-server"])
    }
}
