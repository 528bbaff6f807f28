import Foundation
import Testing
@testable import Engine

// Files that are not what they claim: pipes, devices and folders where a checkpoint or a data
// file should be, headers that declare more than the file holds or than is accepted, gzip
// bombs, and output paths that must never be replaced. Every case must end in an error that
// names the file, quickly, without allocating for what a file merely declares.

@Suite("Hostile files: special files, declared sizes, output targets")
struct HostileFileTests {
    // MARK: Reading only regular files

    @Test func fifoCheckpointIsRefusedWithoutBlocking() throws {
        let folder = try DataTests.ScratchFolder("fifo")
        let path = folder.path + "/model.safetensors"
        #expect(mkfifo(path, 0o644) == 0)
        let unblock = Self.unblockReaders(of: path, after: 3)
        defer { unblock.cancel() }
        let start = Date()
        let error = #expect(throws: CheckpointError.self) { try SafeTensorsFile.read(path: path) }
        #expect(Date().timeIntervalSince(start) < 2, "the FIFO is refused before a blocking open")
        #expect(error?.description == "\(path): is a FIFO (named pipe), not a regular file")
    }

    @Test func deviceCheckpointIsRefused() {
        let error = #expect(throws: CheckpointError.self) { try SafeTensorsFile.read(path: "/dev/zero") }
        #expect(error?.description == "/dev/zero: is a character device, not a regular file")
    }

    @Test func folderCheckpointIsRefused() throws {
        let folder = try DataTests.ScratchFolder("folder")
        let error = #expect(throws: CheckpointError.self) { try SafeTensorsFile.read(path: folder.path) }
        #expect(error?.description == "\(folder.path): is a directory, not a regular file")
    }

    @Test func fifoDataFileIsRefusedWithoutBlocking() throws {
        let folder = try DataTests.ScratchFolder("mnist")
        try folder.writeIDX(.tiny, gzip: false)
        let path = folder.path + "/train-images-idx3-ubyte"
        try FileManager.default.removeItem(atPath: path)
        #expect(mkfifo(path, 0o644) == 0)
        let unblock = Self.unblockReaders(of: path, after: 3)
        defer { unblock.cancel() }
        let start = Date()
        let error = #expect(throws: DataError.self) { try DataSource.load(folder: folder.path) }
        #expect(Date().timeIntervalSince(start) < 2, "the FIFO is refused before a blocking open")
        #expect(error?.description == "\(path): is a FIFO (named pipe), not a regular file")
    }

    // MARK: Sizes a checkpoint declares

    @Test func checkpointLargerThanAcceptedIsRefusedUnread() throws {
        // A sparse file: 4 GiB and one byte of holes, refused from its size alone.
        let folder = try DataTests.ScratchFolder("huge")
        let path = folder.path + "/huge.safetensors"
        try Self.sparseFile(path, bytes: (1 << 32) + 1, prefix: [])
        let start = Date()
        let error = #expect(throws: CheckpointError.self) { try SafeTensorsFile.read(path: path) }
        #expect(Date().timeIntervalSince(start) < 1)
        #expect(error?.description == "\(path): is 4 GiB (4294967297 bytes), more than the 4 GiB (4294967296 bytes) accepted")
    }

    @Test func oversizeHeaderIsRefusedUnread() throws {
        // The header length is within the (sparse) file, but above the 100 MB limit.
        let folder = try DataTests.ScratchFolder("header")
        let path = folder.path + "/header.safetensors"
        let length = UInt64(150_000_000)
        try Self.sparseFile(path, bytes: 8 + Int(length) + 16, prefix: withUnsafeBytes(of: length.littleEndian) { Array($0) })
        let error = #expect(throws: CheckpointError.self) { try SafeTensorsFile.read(path: path) }
        #expect(error?.description == "\(path): header length 150000000 is more than the 100000000 bytes accepted")
    }

    @Test func tensorDeclaredBeyondTheFileIsRefusedBeforeAllocating() throws {
        // 2^40 floats declared, 16 bytes held: refused from the header, in memory and on disk.
        let bytes = SafeTensorsTests.file(
            header: #"{"w":{"dtype":"F32","shape":[1099511627776],"data_offsets":[0,4398046511104]}}"#,
            buffer: [UInt8](repeating: 0, count: 16))
        let folder = try DataTests.ScratchFolder("beyond")
        try folder.write(bytes, to: "beyond.safetensors")
        let path = folder.path + "/beyond.safetensors"
        for decode in [{ try SafeTensorsFile.read(path: path) }, { try SafeTensorsFile.decode(bytes, path: path) }] {
            let error = #expect(throws: CheckpointError.self) { _ = try decode() }
            #expect(error?.description == "\(path): tensor 'w': data_offsets [0, 4398046511104] run past the end of the data buffer (16 bytes)")
        }
    }

    @Test func headerInUTF16IsRefused() {
        // Foundation would decode UTF-16 JSON; the format is UTF-8, and the duplicate-key scan
        // reads UTF-8 only (this header once sent it past the end of the bytes).
        let json = Array(#"{"a\"":1}"#.utf16).flatMap { [UInt8($0 & 0xff), UInt8($0 >> 8)] }
        var n = UInt64(json.count).littleEndian
        let bytes = withUnsafeBytes(of: &n) { Array($0) } + json
        let error = #expect(throws: CheckpointError.self) { try SafeTensorsFile.decode(bytes, path: "x.safetensors") }
        #expect(error?.description == "x.safetensors: header is not UTF-8 JSON (it holds a NUL byte)")
    }

    // MARK: Sizes a data file declares

    @Test func gzipBombStopsAtTheDeclaredSize() throws {
        // Five labels declared, then 64 MB of zeros that deflate to about 64 KB.
        let folder = try DataTests.ScratchFolder("mnist")
        try folder.writeIDX(.tiny, gzip: true)
        let bomb = Gzip.compress(DataTests.IDXSet.labelsFile([0, 1, 2, 9, 3]) + [UInt8](repeating: 0, count: 64 << 20))
        #expect(bomb.count < 1 << 17)
        try folder.write(bomb, to: "train-labels-idx1-ubyte.gz")
        try DataTests().expectLoadError(folder, file: "train-labels-idx1-ubyte.gz",
                                        says: "decompresses to more than the 13 bytes its header declares (stopped there)")
    }

    @Test func gzipDeclaringMoreThanItCanHoldIsRefusedBeforeInflating() throws {
        // 2^32 - 1 images of 28x28 declared (3.4 TB) in a file of a few dozen bytes.
        let folder = try DataTests.ScratchFolder("mnist")
        try folder.writeIDX(.tiny, gzip: true)
        let header: [UInt8] = [0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 28, 0, 0, 0, 28]
        try folder.write(Gzip.compress(header + [1, 2, 3]), to: "train-images-idx3-ubyte.gz")
        try DataTests().expectLoadError(folder, file: "train-images-idx3-ubyte.gz",
                                        says: "the header declares 3367254359296 bytes of data, more than the 4294967296 accepted")
    }

    @Test func gzipWithoutHeaderIsBoundedByTheLimit() throws {
        // CIFAR files have no header: inflation stops at deflate's ratio limit for the file.
        let bomb = Gzip.compress([UInt8](repeating: 0, count: 16 << 20))
        let error = #expect(throws: DataError.self) {
            try Gzip.contents(of: bomb, path: "cifar.bin.gz", maximumBytes: 1 << 20)
        }
        #expect(error?.description == "cifar.bin.gz: decompresses to more than the 1048576 bytes accepted (stopped there)")
    }

    @Test(arguments: [false, true])
    func idxDimensionsWhoseSizeOverflowWithTheHeader(_ gzip: Bool) throws {
        // 454279 × 31252369 × 649657 = 2^63 - 1: the product fits, adding the header does not.
        let folder = try DataTests.ScratchFolder("mnist")
        try folder.writeIDX(.tiny, gzip: gzip)
        let header: [UInt8] = [0, 0, 8, 3] + DataTests.IDXSet.bigEndian(454_279) + DataTests.IDXSet.bigEndian(31_252_369)
            + DataTests.IDXSet.bigEndian(649_657)
        let name = "t10k-images-idx3-ubyte" + (gzip ? ".gz" : "")
        try folder.write(gzip ? Gzip.compress(header) : header, to: name)
        try DataTests().expectLoadError(folder, file: name, says: "dimensions [454279, 31252369, 649657] are too large")
    }

    // MARK: Output targets

    @Test(arguments: ["fifo", "folder", "device"])
    func specialOutputTargetIsNeverReplaced(_ kind: String) throws {
        let folder = try DataTests.ScratchFolder("out")
        let path = folder.path + "/model.safetensors"
        switch kind {
        case "fifo": #expect(mkfifo(path, 0o644) == 0)
        case "folder": try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        default:
            // A copy of /dev/null's node; making one needs root.
            var null = stat()
            guard stat("/dev/null", &null) == 0, mknod(path, S_IFCHR | 0o666, null.st_rdev) == 0 else { return }
        }
        var before = stat()
        #expect(lstat(path, &before) == 0)
        let error = #expect(throws: CheckpointError.self) { try SafeTensorsTests.sample.write(path: path) }
        let what = ["fifo": "is a FIFO (named pipe)", "folder": "is a directory", "device": "is a character device"][kind]!
        let message = "\(path): \(what), not a regular file; refusing to replace it (write to a regular file instead)"
        #expect(error?.description == message)
        let early = #expect(throws: FileIOError.self) { try AtomicFile.checkReplaceable(path: path) }
        #expect(early?.description == message, "the same answer before the work")
        var after = stat()
        #expect(lstat(path, &after) == 0)
        #expect(after.st_mode == before.st_mode && after.st_ino == before.st_ino && after.st_rdev == before.st_rdev, "left as it was")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["model.safetensors"], "no temporary file left")
    }

    @Test func symbolicLinkToAFileIsFollowed() throws {
        let folder = try DataTests.ScratchFolder("link")
        try FileManager.default.createDirectory(atPath: folder.path + "/runs", withIntermediateDirectories: false)
        try SafeTensorsFile(tensors: [.init(name: "old", shape: [1], values: [1])]).write(path: folder.path + "/runs/a.safetensors")
        #expect(symlink("runs/a.safetensors", folder.path + "/latest.safetensors") == 0)
        try SafeTensorsTests.sample.write(path: folder.path + "/latest.safetensors")
        #expect(try SafeTensorsFile.read(path: folder.path + "/runs/a.safetensors").metadata == SafeTensorsTests.sample.metadata)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: folder.path + "/latest.safetensors") == "runs/a.safetensors")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path + "/runs") == ["a.safetensors"])
    }

    @Test func symbolicLinkToADeviceOrNowhereIsRefused() throws {
        let folder = try DataTests.ScratchFolder("link")
        #expect(symlink("/dev/null", folder.path + "/null.safetensors") == 0)
        #expect(symlink("missing/file", folder.path + "/dangling.safetensors") == 0)
        let device = #expect(throws: CheckpointError.self) { try SafeTensorsTests.sample.write(path: folder.path + "/null.safetensors") }
        #expect(device?.description == "\(folder.path)/null.safetensors: is a symbolic link to /dev/null, which is a character device, not a regular file; refusing to replace it")
        let dangling = #expect(throws: CheckpointError.self) { try SafeTensorsTests.sample.write(path: folder.path + "/dangling.safetensors") }
        #expect(dangling?.description == "\(folder.path)/dangling.safetensors: is a symbolic link to a missing file; refusing to write through it")
    }

    // MARK: Helpers

    /// Opens `path` for writing after `seconds` (then closes it), which releases a reader
    /// blocked in open(2) on a FIFO: without it, a failing test would hang instead of failing.
    static func unblockReaders(of path: String, after seconds: Double) -> DispatchWorkItem {
        let item = DispatchWorkItem {
            let fd = open(path, O_WRONLY | O_NONBLOCK)
            if fd >= 0 { close(fd) }
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: item)
        return item
    }

    /// A file of `bytes` bytes that are holes (zeros taking no disk space) after `prefix`.
    static func sparseFile(_ path: String, bytes: Int, prefix: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw CocoaError(.fileWriteUnknown) }
        defer { close(fd) }
        _ = prefix.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard ftruncate(fd, off_t(bytes)) == 0 else { throw CocoaError(.fileWriteOutOfSpace) }
    }
}
