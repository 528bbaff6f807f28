import Foundation
import Synchronization

// Standard output and error, written with write(2) so that a closed, full or broken stream is
// an errno to handle rather than a trap (FileHandle.write traps on EBADF and EPIPE) or a
// silent loss (C's stdout buffers and drops a failed flush at exit).
//
// - stderr carries messages and progress. Its failures are ignored: a closed or full stderr
//   (`2>&-`, `2>/dev/full`) must not stop a training run from writing its checkpoint.
// - stdout carries the result (tables, `--json`). A failed write (ENOSPC, EPIPE, EBADF, EIO)
//   ends the program at once with a message on stderr and exit status 1: `oicsr info >
//   /dev/full` must not report success.
// - SIGPIPE is ignored (a reader that went away is EPIPE, reported as above).
//
// The module-wide `print` below routes every `print(...)` of the executable through here.

enum Console {
    /// Writes `line` and a newline to stderr; failures are ignored.
    static func error(_ line: String) {
        _ = write(line + "\n", to: STDERR_FILENO)
    }

    /// Writes to stderr without a newline (progress bars redraw their line); failures are
    /// ignored.
    static func status(_ text: String) {
        _ = write(text, to: STDERR_FILENO)
    }

    /// Writes `text` to stdout as is; a failed write ends the program (see above).
    static func output(_ text: String) {
        guard let failure = write(text, to: STDOUT_FILENO) else { return }
        fail("cannot write to standard output: \(String(cString: strerror(failure)))")
    }

    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }
    static var stdoutIsTerminal: Bool { isatty(STDOUT_FILENO) == 1 }

    /// `value` as pretty, key-sorted JSON on stdout. Non-finite numbers, which JSON cannot
    /// express, are written as the strings "NaN", "Infinity" and "-Infinity" (the spelling
    /// of JavaScript and Python's json module), so a diverged loss still gives valid JSON.
    static func printJSON<T: Encodable>(_ value: T) {
        let data: Data
        do {
            data = try jsonEncoder.encode(value)
        } catch {
            fail("cannot write the JSON output: \(error)")
        }
        output(String(decoding: data, as: UTF8.self) + "\n")
    }

    /// The encoder of `printJSON`.
    static var jsonEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return encoder
    }

    /// Call first thing in `main`: ignores SIGPIPE, and opens /dev/null on any of descriptors
    /// 0, 1 and 2 that the program was started without, so that no file opened later takes
    /// that number and receives the program's output. A closed stdout is remembered: output
    /// then fails as it would have (EBADF) instead of vanishing into /dev/null.
    static func prepareStandardStreams() {
        _ = ignoreBrokenPipes
        for fd in [STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO] where fcntl(fd, F_GETFD) == -1 && errno == EBADF {
            if fd == STDOUT_FILENO { stdoutWasClosed.store(true, ordering: .relaxed) }
            let null = open("/dev/null", fd == STDIN_FILENO ? O_RDONLY : O_WRONLY)
            if null >= 0 && null != fd {
                dup2(null, fd)
                close(null)
            }
        }
    }

    // MARK: Writing

    private static let ignoreBrokenPipes: Void = { signal(SIGPIPE, SIG_IGN) }()
    private static let stdoutWasClosed = Atomic<Bool>(false)

    /// Writes all of `text` to `fd`, resuming after EINTR and partial writes; the errno of a
    /// failure, nil on success.
    private static func write(_ text: String, to fd: Int32) -> Int32? {
        _ = ignoreBrokenPipes
        if fd == STDOUT_FILENO && stdoutWasClosed.load(ordering: .relaxed) { return EBADF }
        var text = text
        return text.withUTF8 { bytes -> Int32? in
            var done = 0
            while done < bytes.count {
                let n = Foundation.write(fd, bytes.baseAddress! + done, bytes.count - done)
                if n > 0 { done += n; continue }
                if n < 0 && errno == EINTR { continue }
                if n < 0 && errno == EAGAIN {
                    // A non-blocking descriptor inherited from the caller: wait until writable.
                    var ready = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&ready, 1, -1)
                    continue
                }
                return n == 0 ? EIO : errno
            }
            return nil
        }
    }

    /// Reports `message` on stderr and exits with status 1 (a failure that is not the input's
    /// fault, as `RuntimeFailure`).
    private static func fail(_ message: String) -> Never {
        error("oicsr: " + message)
        exit(ExitStatus.failure)
    }

}

/// Swift's `print`, for this module: the same arguments, written through `Console.output`
/// instead of C's buffered stdout, so that a failed write is reported and the exit status says
/// so. Every `print(...)` in the executable resolves here; `Swift.print` is the original.
func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {
    Console.output(items.map { "\($0)" }.joined(separator: separator) + terminator)
}
