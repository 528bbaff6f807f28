import Foundation

// Whole-file I/O through POSIX calls, so that failures carry the system's reason (strerror)
// and the path, and so that a save can never leave a half-written file behind.
//
// An atomic write follows the usual POSIX recipe: write a temporary file in the target's
// folder (rename(2) is atomic only within one file system), fsync it so its data is on disk
// before it becomes visible under the real name, rename it over the target, then fsync the
// folder so the rename itself survives a crash. Until the rename, the previous file is
// untouched; a reader sees either the old bytes or the new ones, never a mix.

/// A failed whole-file read or write: the path and what went wrong.
public struct FileIOError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let problem: String

    public init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }

    public var description: String { "\(path): \(problem)" }
}

public enum AtomicFile {
    /// Replaces the file at `path` with `bytes`, atomically: after a failure (or a crash)
    /// the previous file, if any, is intact and no temporary file is left behind.
    /// New files get mode 0644 (less the umask).
    public static func write(_ bytes: [UInt8], to path: String) throws {
        try bytes.withUnsafeBytes { try write(buffer: $0, to: path) }
    }

    /// `write(_:to:)` for `Data`.
    public static func write(_ data: Data, to path: String) throws {
        try data.withUnsafeBytes { try write(buffer: $0, to: path) }
    }

    /// The whole contents of the file at `path`.
    public static func read(path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileIOError(path: path, problem: "cannot open: \(systemError())") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FileIOError(path: path, problem: "cannot stat: \(systemError())") }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw FileIOError(path: path, problem: "not a regular file")
        }
        let size = Int(info.st_size)
        var failure: String?
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            var done = 0
            while done < size {
                let n = Foundation.read(fd, buffer.baseAddress! + done, size - done)
                if n > 0 { done += n; continue }
                if n < 0 && errno == EINTR { continue }
                failure = n == 0 ? "file shrank while being read (\(done) of \(size) bytes)" : "read failed: \(systemError())"
                break
            }
            initialized = done
        }
        if let failure { throw FileIOError(path: path, problem: failure) }
        return bytes
    }

    private static func write(buffer: UnsafeRawBufferPointer, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        let temporary = folder + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"

        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw FileIOError(path: path, problem: "cannot create a temporary file in \(folder): \(systemError())")
        }
        do {
            try writeAll(fd, buffer, path: path)
            guard fsync(fd) == 0 else { throw FileIOError(path: path, problem: "fsync failed: \(systemError())") }
            guard close(fd) == 0 else { throw FileIOError(path: path, problem: "close failed: \(systemError())") }
        } catch {
            close(fd)  // a second close after a failed one only returns EBADF
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let reason = systemError()
            unlink(temporary)
            throw FileIOError(path: path, problem: "cannot replace the file: \(reason)")
        }
        // The data is safe under its new name; syncing the folder makes the rename durable.
        // Some file systems refuse fsync on a directory, which is not worth failing a save.
        let folderFD = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folderFD >= 0 {
            fsync(folderFD)
            close(folderFD)
        }
    }

    private static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, path: String) throws {
        var done = 0
        while done < buffer.count {
            let n = Foundation.write(fd, buffer.baseAddress! + done, buffer.count - done)
            if n >= 0 { done += n; continue }
            if errno == EINTR { continue }
            throw FileIOError(path: path, problem: "write failed after \(done) of \(buffer.count) bytes: \(systemError())")
        }
    }

    private static func systemError() -> String { String(cString: strerror(errno)) }
}
