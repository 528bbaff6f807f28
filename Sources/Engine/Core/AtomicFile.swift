import Foundation

// Whole-file I/O through POSIX calls, so that failures carry the system's reason (strerror)
// and the path, and so that a save can never leave a half-written file behind.
//
// An atomic write follows the usual POSIX recipe: write a temporary file in the target's
// folder (rename(2) is atomic only within one file system), fsync it so its data is on disk
// before it becomes visible under the real name, rename it over the target, then fsync the
// folder so the rename itself survives a crash. Until the rename, the previous file is
// untouched; a reader sees either the old bytes or the new ones, never a mix. Where the file
// system allows it (Linux ≥ 3.11: ext4, xfs, btrfs, tmpfs), the temporary file is created
// without a name (O_TMPFILE) and only gets one just before the rename, so a process killed
// while writing leaves nothing behind.
//
// Only regular files are read or replaced. A path that names a FIFO, a device, a socket or a
// folder is refused before it is opened for reading (a FIFO would block the open and every
// read) and is never replaced by a write (renaming over /dev/full would delete the device
// node). A symbolic link is followed when it leads to a regular file: a write then replaces
// the file it points to, in that file's folder, and the link stays.
//
// Files opened here never take descriptors 0, 1 or 2: when standard output or error was
// closed (`2>&-`), a new file would otherwise get that number and the program's messages
// would be written into a checkpoint.

public enum AtomicFile {
    /// Replaces the file at `path` with `bytes`, atomically: after a failure (or a crash)
    /// the previous file, if any, is intact and no temporary file is left behind.
    /// New files get mode 0644 (less the umask). A path naming anything but a regular file
    /// (or a symbolic link to one) is refused: see the top of this file.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        try bytes.withUnsafeBytes { try write(buffer: $0, to: path) }
    }

    /// `write(_:to:)` for `Data`.
    public static func write(_ data: Data, to path: String) throws {
        try data.withUnsafeBytes { try write(buffer: $0, to: path) }
    }

    /// The whole contents of the regular file at `path`, if it holds at most `maximumBytes`.
    /// A FIFO, device, socket or folder is refused without blocking; a larger file is refused
    /// before anything is read.
    public static func read(path: String, maximumBytes: Int = .max) throws -> [UInt8] {
        let file = try RegularFile(path: path, maximumBytes: maximumBytes)
        return try file.readAll()
    }

    /// Throws the error `write(_:to:)` would throw for a target that is not a regular file
    /// (a device, FIFO, socket, folder, or a symbolic link to one or to nothing), so that a
    /// command can refuse its output path before doing the work.
    public static func checkReplaceable(path: String) throws {
        guard !path.isEmpty else { throw FileIOError(path: path, problem: "empty file name") }
        _ = try replaceableTarget(path)
    }

    // MARK: Writing

    private static func write(buffer: UnsafeRawBufferPointer, to path: String) throws {
        guard !path.isEmpty else { throw FileIOError(path: path, problem: "empty file name") }
        let target = try replaceableTarget(path)
        let url = URL(fileURLWithPath: target)
        let folder = url.deletingLastPathComponent().path
        let temporary = folder + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"

        // Unnamed first (nothing to clean up if the process dies), named as a fallback. The
        // unnamed file is named later through /proc, so it is used only where /proc is there.
        var fd: Int32 = canNameUnnamedFiles ? open(folder, O_WRONLY | openUnnamed | O_CLOEXEC, 0o644) : -1
        let unnamed = fd >= 0
        if !unnamed {
            fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw FileIOError(path: path, problem: "cannot create a temporary file in \(folder): \(systemError())")
            }
        }
        fd = aboveStandardStreams(fd)
        var named = !unnamed
        do {
            guard fd >= 0 else { throw FileIOError(path: path, problem: "cannot create a temporary file in \(folder): \(systemError())") }
            try writeAll(fd, buffer, path: path)
            guard fsync(fd) == 0 else { throw FileIOError(path: path, problem: "fsync failed: \(systemError())") }
            if unnamed {
                // linkat(2): an O_TMPFILE file gets a name through its /proc/self/fd entry.
                guard linkat(AT_FDCWD, "/proc/self/fd/\(fd)", AT_FDCWD, temporary, AT_SYMLINK_FOLLOW) == 0 else {
                    throw FileIOError(path: path, problem: "cannot name the temporary file in \(folder): \(systemError())")
                }
                named = true
            }
            guard close(fd) == 0 else {
                fd = -1
                throw FileIOError(path: path, problem: "close failed: \(systemError())")
            }
            fd = -1
            // Looked at again just before the rename: something may have appeared there since.
            _ = try replaceableTarget(path)
            guard rename(temporary, target) == 0 else {
                throw FileIOError(path: path, problem: "cannot replace the file: \(systemError())")
            }
        } catch {
            if fd >= 0 { close(fd) }
            if named { unlink(temporary) }
            throw error
        }
        // The data is safe under its new name; syncing the folder makes the rename durable.
        // Some file systems refuse fsync on a directory, which is not worth failing a save.
        let folderFD = aboveStandardStreams(open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC))
        if folderFD >= 0 {
            fsync(folderFD)
            close(folderFD)
        }
    }

    /// The path a write to `path` replaces: `path` itself when it is a regular file or does
    /// not exist, the file a symbolic link leads to when that is a regular file; anything
    /// else is refused.
    private static func replaceableTarget(_ path: String) throws -> String {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { return path }  // the folder reports it
            throw FileIOError(path: path, problem: "cannot inspect the output file: \(systemError())")
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG:
            return path
        case S_IFLNK:
            guard let resolved = realpath(path, nil) else {
                if errno == ENOENT {
                    throw FileIOError(path: path, problem: "is a symbolic link to a missing file; refusing to write through it")
                }
                throw FileIOError(path: path, problem: "cannot follow the symbolic link: \(systemError())")
            }
            defer { free(resolved) }
            let target = String(cString: resolved)
            guard stat(target, &info) == 0 else {
                throw FileIOError(path: path, problem: "cannot inspect \(target): \(systemError())")
            }
            guard (info.st_mode & S_IFMT) == S_IFREG else {
                throw FileIOError(path: path, problem: "is a symbolic link to \(target), which \(fileKind(info.st_mode)), not a regular file; refusing to replace it")
            }
            return target
        default:
            throw FileIOError(path: path, problem: "\(fileKind(info.st_mode)), not a regular file; refusing to replace it (write to a regular file instead)")
        }
    }

    private static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, path: String) throws {
        var done = 0
        while done < buffer.count {
            // Linux transfers at most 0x7ffff000 bytes per call; ask for no more than 1 GiB.
            let n = Foundation.write(fd, buffer.baseAddress! + done, min(buffer.count - done, 1 << 30))
            if n > 0 { done += n; continue }
            if n < 0 && errno == EINTR { continue }
            let reason = n == 0 ? "nothing written" : systemError()
            throw FileIOError(path: path, problem: "write failed after \(done) of \(buffer.count) bytes: \(reason)")
        }
    }

    /// O_TMPFILE, a macro Swift does not import: __O_TMPFILE | O_DIRECTORY, with the value of
    /// Linux's asm-generic/fcntl.h, which x86-64 and arm64 use.
    private static let openUnnamed: Int32 = 0o2000_0000 | O_DIRECTORY
    private static let canNameUnnamedFiles = access("/proc/self/fd", X_OK) == 0

    // MARK: Shared with RegularFile

    /// `fd` moved to a number above 2 (closing the original), so that a closed standard
    /// stream is never reused by a file; -1 stays -1.
    static func aboveStandardStreams(_ fd: Int32) -> Int32 {
        guard fd >= 0, fd <= 2 else { return fd }
        let moved = fcntl(fd, F_DUPFD_CLOEXEC, 3)
        let saved = errno
        close(fd)
        errno = saved
        return moved
    }

    /// "is a FIFO (named pipe)", "is a directory", …, for the file type bits of `mode`.
    static func fileKind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFREG: "is a regular file"
        case S_IFDIR: "is a directory"
        case S_IFIFO: "is a FIFO (named pipe)"
        case S_IFCHR: "is a character device"
        case S_IFBLK: "is a block device"
        case S_IFSOCK: "is a socket"
        case S_IFLNK: "is a symbolic link"
        default: "is of an unknown file type"
        }
    }

    static func systemError() -> String { String(cString: strerror(errno)) }
}

/// A regular file open for reading, whose size is known before anything is read: the one way
/// checkpoints and data files are read. `read(at:into:)` reads any piece of it, so a reader can
/// check what a file declares against what it holds before allocating for it.
final class RegularFile {
    let path: String
    /// Bytes in the file when it was opened.
    let size: Int
    private let fd: Int32

    /// Opens `path` if it is a regular file of at most `maximumBytes`. The type is checked
    /// with stat(2) before the open, so a FIFO is never opened for a blocking read; the open
    /// itself is non-blocking and the type is checked again on the open file (fstat), so a
    /// FIFO swapped in between cannot block either.
    init(path: String, maximumBytes: Int = .max) throws {
        func fail(_ problem: String) -> FileIOError { FileIOError(path: path, problem: problem) }
        var info = stat()
        guard stat(path, &info) == 0 else { throw fail("cannot open: \(AtomicFile.systemError())") }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw fail(Self.notRegular(info.st_mode)) }

        var fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw fail("cannot open: \(AtomicFile.systemError())") }
        fd = AtomicFile.aboveStandardStreams(fd)
        guard fd >= 0 else { throw fail("cannot open: \(AtomicFile.systemError())") }
        guard fstat(fd, &info) == 0 else {
            let reason = AtomicFile.systemError()
            close(fd)
            throw fail("cannot stat: \(reason)")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw fail(Self.notRegular(info.st_mode))
        }
        let size = Int(info.st_size)
        guard size <= maximumBytes else {
            close(fd)
            throw fail("is \(Self.bytes(size)), more than the \(Self.bytes(maximumBytes)) accepted")
        }
        self.path = path
        self.size = size
        self.fd = fd
    }

    deinit { close(fd) }

    /// Fills `buffer` with the bytes at `offset`…; the range must lie within `size`.
    func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws {
        precondition(offset >= 0 && buffer.count <= size - offset, "read beyond the file's size")
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, min(buffer.count - done, 1 << 30), off_t(offset + done))
            if n > 0 { done += n; continue }
            if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            throw FileIOError(path: path, problem: n == 0
                ? "file shrank while being read (\(offset + done) of \(size) bytes)"
                : "read failed: \(AtomicFile.systemError())")
        }
    }

    /// The bytes at `offset` ..< `offset + count`.
    func read(at offset: Int, count: Int) throws -> [UInt8] {
        var failure: (any Error)?
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            do {
                try read(at: offset, into: UnsafeMutableRawBufferPointer(buffer))
                initialized = count
            } catch {
                failure = error
                initialized = 0
            }
        }
        if let failure { throw failure }
        return bytes
    }

    func readAll() throws -> [UInt8] { try read(at: 0, count: size) }

    private static func notRegular(_ mode: mode_t) -> String {
        "\(AtomicFile.fileKind(mode)), not a regular file"
    }

    /// A byte count for messages: exact below 1 KiB, else in KiB, MiB or GiB with one decimal.
    static func bytes(_ n: Int) -> String {
        guard n >= 1024 else { return "\(n) bytes" }
        let units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var value = Double(n) / 1024
        var unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        var text = String(format: "%.1f", value)
        if text.hasSuffix(".0") { text.removeLast(2) }
        return "\(text) \(units[unit]) (\(n) bytes)"
    }
}
