import Foundation
import Testing
@testable import Engine

// Checkpoint files: round trips, the byte layout the format fixes, and one hand-made broken
// file per kind of damage, each of which must be reported with the file's name.

@Suite("safetensors checkpoints and atomic writes")
struct SafeTensorsTests {
    static let path = "/checkpoints/model.safetensors"

    static let sample = SafeTensorsFile(
        tensors: [
            .init(name: "conv.weight", shape: [2, 1, 1, 3],
                  values: [1, -2, 0.5, -0.0, .infinity, .leastNonzeroMagnitude]),
            .init(name: "bn.running_var", shape: [2], values: [Float(bitPattern: 0x7fc0_1234), 3]),
            .init(name: "scalar", shape: [], values: [42]),
            .init(name: "empty", shape: [0, 4], values: []),
        ],
        metadata: ["architecture": "{\"name\": \"convnet-s\"}", "note": "línea 1\nline \"2\"\t\u{1}"])

    // MARK: Round trips and layout

    @Test func roundTrip() throws {
        let decoded = try SafeTensorsFile.decode(Self.sample.encode(), path: Self.path)
        #expect(decoded.metadata == Self.sample.metadata)
        #expect(decoded.tensors.map(\.name) == Self.sample.tensors.map(\.name))
        #expect(decoded.tensors.map(\.shape) == Self.sample.tensors.map(\.shape))
        for (a, b) in zip(decoded.tensors, Self.sample.tensors) {
            #expect(a.values.map(\.bitPattern) == b.values.map(\.bitPattern), "\(a.name)")
        }
    }

    @Test func writeAndReadFile() throws {
        let folder = try DataTests.ScratchFolder("checkpoints")
        let path = folder.path + "/model.safetensors"
        try Self.sample.write(path: path)
        let read = try SafeTensorsFile.read(path: path)
        #expect(read.tensors.map(\.name) == Self.sample.tensors.map(\.name))
        #expect(read["scalar"]?.values == [42])
        // Overwriting replaces the file and leaves nothing else in the folder.
        try SafeTensorsFile(tensors: [.init(name: "x", shape: [1], values: [7])]).write(path: path)
        #expect(try SafeTensorsFile.read(path: path).tensors.map(\.name) == ["x"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["model.safetensors"])
    }

    @Test func headerIsPaddedToEightBytes() throws {
        let bytes = Self.sample.encode()
        let n = Self.headerLength(bytes)
        #expect(n % 8 == 0)
        let header = String(decoding: bytes[8 ..< 8 + n], as: UTF8.self)
        #expect(header.hasPrefix("{\"__metadata__\":{\"architecture\":"))
        #expect(header.trimmingCharacters(in: .whitespaces).hasSuffix("}"))
        #expect(bytes.count == 8 + n + 4 * (6 + 2 + 1))
    }

    @Test func bytesAreDeterministic() {
        var reordered = Self.sample
        reordered.metadata = [:]
        for key in Self.sample.metadata.keys.reversed() { reordered.metadata[key] = Self.sample.metadata[key] }
        #expect(reordered.encode() == Self.sample.encode())
        // Keys are sorted; the buffer keeps the tensors' order.
        let header = String(decoding: Self.sample.encode().dropFirst(8), as: UTF8.self)
        let positions = ["bn.running_var", "conv.weight", "empty", "scalar"].map { header.range(of: "\"\($0)\"")!.lowerBound }
        #expect(positions == positions.sorted())
        #expect(header.contains("\"conv.weight\":{\"dtype\":\"F32\",\"shape\":[2,1,1,3],\"data_offsets\":[0,24]}"))
    }

    @Test func readsOtherDTypesAsFloat() throws {
        var buffer: [UInt8] = []
        withUnsafeBytes(of: 2.5 as Double) { buffer += $0 }
        withUnsafeBytes(of: Int64(-7)) { buffer += $0 }
        withUnsafeBytes(of: Int32(123)) { buffer += $0 }
        let file = try SafeTensorsFile.decode(Self.file(header: """
            {"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},
             "num_batches_tracked":{"dtype":"I64","shape":[],"data_offsets":[8,16]},
             "c":{"dtype":"I32","shape":[1,1],"data_offsets":[16,20]}}
            """, buffer: buffer), path: Self.path)
        #expect(file.tensors.map(\.values) == [[2.5], [-7], [123]])
        #expect(file.metadata.isEmpty)
    }

    @Test func millionFloatsAreFast() throws {
        let values = (0..<1_000_000).map { Float($0) * 0.5 }
        let file = SafeTensorsFile(tensors: [.init(name: "w", shape: [1000, 1000], values: values)])
        let clock = ContinuousClock()
        var bytes: [UInt8] = []
        var decoded = SafeTensorsFile()
        let elapsed = try clock.measure {
            bytes = file.encode()
            decoded = try SafeTensorsFile.decode(bytes, path: Self.path)
        }
        #expect(decoded.tensors[0].values == values)
        // Bulk copies only: about 35 ms in a debug build; the bound leaves room for a machine
        // busy with other tests.
        #expect(elapsed < .milliseconds(200), "encode + decode took \(elapsed)")
    }

    // MARK: Damage

    @Test func tooShort() {
        expectDecodeError([1, 0, 0], says: "truncated: 3 bytes, too short for the 8-byte header length")
    }

    @Test func headerLengthBeyondFile() {
        expectDecodeError([0xe8, 3, 0, 0, 0, 0, 0, 0] + Array("{}".utf8),
                          says: "header length 1000 runs past the end of the file (10 bytes, so at most 2)")
    }

    @Test func headerNotJSON() {
        expectDecodeError(Self.file(header: "{\"a\": [1,", buffer: []), says: "header is not valid JSON")
    }

    @Test func headerNotAnObject() {
        expectDecodeError(Self.file(header: "[1, 2]", buffer: []), says: "header is not a JSON object")
    }

    @Test(arguments: ["dtype", "shape", "data_offsets"])
    func entryMissingField(_ field: String) {
        var entry = ["\"dtype\":\"F32\"", "\"shape\":[1]", "\"data_offsets\":[0,4]"]
        entry.removeAll { $0.hasPrefix("\"\(field)\"") }
        expectDecodeError(Self.file(header: "{\"w\":{\(entry.joined(separator: ","))}}", buffer: [0, 0, 0, 0]),
                          says: "tensor 'w': missing \(field)")
    }

    @Test func unknownDType() {
        expectDecodeError(Self.file(header: #"{"w":{"dtype":"Q7","shape":[1],"data_offsets":[0,4]}}"#, buffer: [0, 0, 0, 0]),
                          says: "tensor 'w': unsupported dtype 'Q7' (supported: F32, F64, I32, I64, U8)")
    }

    @Test func offsetsOutOfBounds() {
        expectDecodeError(Self.file(header: #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, buffer: [0, 0, 0, 0]),
                          says: "tensor 'w': data_offsets [0, 8] run past the end of the data buffer (4 bytes)")
    }

    @Test func offsetsEndBeforeBegin() {
        expectDecodeError(Self.file(header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, buffer: [0, 0, 0, 0]),
                          says: "tensor 'w': data_offsets [4, 0] end before they begin")
    }

    @Test func negativeOffset() {
        expectDecodeError(Self.file(header: #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}"#, buffer: [0, 0, 0, 0]),
                          says: "tensor 'w': data_offsets is not a pair of non-negative integers [begin, end]")
    }

    @Test func byteCountNotMatchingShape() {
        expectDecodeError(Self.file(header: #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, buffer: Array(repeating: 0, count: 8)),
                          says: "tensor 'w': data_offsets [0, 8] hold 8 bytes but shape [3] of F32 needs 3 × 4 bytes")
    }

    @Test func overlappingTensors() {
        expectDecodeError(Self.file(header: """
            {"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}
            """, buffer: Array(repeating: 0, count: 12)),
                          says: "tensor 'b': data_offsets [4, 12] overlap tensor 'a', which ends at 8")
    }

    @Test func gapBetweenTensors() {
        expectDecodeError(Self.file(header: """
            {"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}
            """, buffer: Array(repeating: 0, count: 12)),
                          says: "tensor 'b': gap of 4 bytes in the data buffer before it (after tensor 'a', at 4)")
    }

    @Test func bytesAfterLastTensor() {
        expectDecodeError(Self.file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, buffer: Array(repeating: 0, count: 8)),
                          says: "the data buffer has 8 bytes but the tensors cover 4: 4 bytes unaccounted for")
    }

    @Test func duplicateNames() {
        expectDecodeError(Self.file(header: """
            {"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}
            """, buffer: Array(repeating: 0, count: 8)),
                          says: "duplicate tensor name 'a'")
    }

    @Test func metadataNotStrings() {
        expectDecodeError(Self.file(header: #"{"__metadata__":{"epochs":3}}"#, buffer: []),
                          says: "__metadata__ entry 'epochs' is not a string (the format allows strings only)")
    }

    @Test func missingFile() {
        let error = #expect(throws: CheckpointError.self) { try SafeTensorsFile.read(path: "/nonexistent/model.safetensors") }
        #expect(error?.description == "/nonexistent/model.safetensors: cannot open: No such file or directory")
    }

    // MARK: Atomic writes

    @Test func folderIsNeverReplaced() throws {
        // The target is a folder with content: it is refused before anything is written.
        let folder = try DataTests.ScratchFolder("checkpoints")
        let path = folder.path + "/model.safetensors"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        try folder.write([1, 2, 3], to: "model.safetensors/old")
        let error = #expect(throws: CheckpointError.self) { try Self.sample.write(path: path) }
        #expect(error?.description == "\(path): is a directory, not a regular file; refusing to replace it (write to a regular file instead)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["model.safetensors"])
        #expect(FileManager.default.contents(atPath: path + "/old") == Data([1, 2, 3]))
    }

    @Test func parentIsAFile() throws {
        let folder = try DataTests.ScratchFolder("checkpoints")
        try folder.write([9], to: "plain")
        let path = folder.path + "/plain/model.safetensors"
        let error = #expect(throws: CheckpointError.self) { try Self.sample.write(path: path) }
        #expect(error?.description == "\(path): cannot create a temporary file in \(folder.path)/plain: Not a directory")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["plain"])
        #expect(FileManager.default.contents(atPath: folder.path + "/plain") == Data([9]))
    }

    @Test(.enabled(if: ReadOnlyFolder.isPossible))
    func failedWriteKeepsOldFile() throws {
        let folder = try DataTests.ScratchFolder("checkpoints")
        let path = folder.path + "/model.safetensors"
        let old = SafeTensorsFile(tensors: [.init(name: "old", shape: [1], values: [1])])
        try old.write(path: path)
        try ReadOnlyFolder.lock(folder.path)
        defer { ReadOnlyFolder.unlock(folder.path) }
        let error = #expect(throws: CheckpointError.self) { try Self.sample.write(path: path) }
        #expect(error?.description.hasPrefix("\(path): cannot create a temporary file in \(folder.path): ") == true)
        #expect(try SafeTensorsFile.read(path: path) == old)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["model.safetensors"])
    }

    // MARK: Helpers

    /// A safetensors file from a header text (not padded) and a data buffer.
    static func file(header: String, buffer: [UInt8]) -> [UInt8] {
        let json = Array(header.utf8)
        var n = UInt64(json.count).littleEndian
        return withUnsafeBytes(of: &n) { Array($0) } + json + buffer
    }

    static func headerLength(_ bytes: [UInt8]) -> Int {
        (0..<8).reduce(0) { $0 | Int(bytes[$1]) << (8 * $1) }
    }

    func expectDecodeError(_ bytes: [UInt8], says problem: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let error = #expect(throws: CheckpointError.self, sourceLocation: sourceLocation) {
            try SafeTensorsFile.decode(bytes, path: Self.path)
        }
        #expect(error?.file == Self.path, sourceLocation: sourceLocation)
        #expect(error?.description.hasPrefix("\(Self.path): \(problem)") == true,
                "\(error.map(String.init(describing:)) ?? "no error")", sourceLocation: sourceLocation)
    }
}

/// Makes a folder unwritable. Root ignores permission bits, so for root the immutable
/// attribute (chattr +i) is used instead, where the file system and container allow it.
enum ReadOnlyFolder {
    static let isPossible: Bool = {
        guard let folder = try? DataTests.ScratchFolder("probe") else { return false }
        guard (try? lock(folder.path)) != nil else { return false }
        defer { unlock(folder.path) }
        return !FileManager.default.createFile(atPath: folder.path + "/x", contents: Data())
    }()

    static func lock(_ path: String) throws {
        if geteuid() != 0 {
            try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: path)
        } else {
            guard chattr("+i", path) else { throw CocoaError(.fileWriteNoPermission) }
        }
    }

    static func unlock(_ path: String) {
        if geteuid() != 0 {
            try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        } else {
            _ = chattr("-i", path)
        }
    }

    private static func chattr(_ flag: String, _ path: String) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/chattr")
        process.arguments = [flag, path]
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}
