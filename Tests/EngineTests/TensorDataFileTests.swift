import Foundation
import Testing
@testable import Engine

// The data file the PyTorch bridge exports: U8 images and I64 labels per split, class names
// in the metadata. Written here byte by byte, as `export-data` writes it.

@Suite("Data sets exported as one safetensors file")
struct TensorDataFileTests {
    /// A safetensors file of raw tensors (dtype, shape, little-endian bytes) and metadata.
    static func file(_ tensors: [(String, String, [Int], [UInt8])], metadata: [String: String]) -> [UInt8] {
        var header: [String: Any] = ["__metadata__": metadata]
        var offset = 0
        for (name, dtype, shape, bytes) in tensors {
            header[name] = ["dtype": dtype, "shape": shape, "data_offsets": [offset, offset + bytes.count]]
            offset += bytes.count
        }
        let json = try! JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        var result: [UInt8] = (0..<8).map { UInt8(truncatingIfNeeded: json.count >> (8 * $0)) }
        result += Array(json)
        for (_, _, _, bytes) in tensors { result += bytes }
        return result
    }

    static func int64(_ values: [Int]) -> [UInt8] { values.flatMap { v in (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } } }

    static func write(_ bytes: [UInt8]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("oicsr-data-\(UUID().uuidString).safetensors").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    static let names = #"["cat", "dog", "fox"]"#

    @Test func loadsBothSplits() throws {
        let train = (0..<(2 * 4 * 5 * 3)).map { UInt8($0 % 256) }, test = [UInt8](repeating: 200, count: 4 * 5 * 3)
        let path = try Self.write(Self.file([
            ("train.images", "U8", [2, 4, 5, 3], train), ("train.labels", "I64", [2], Self.int64([2, 0])),
            ("test.images", "U8", [1, 4, 5, 3], test), ("test.labels", "I64", [1], Self.int64([1])),
        ], metadata: ["oicsr.dataset": "pets", "oicsr.class_names": Self.names]))
        let splits = try DataSource.load(folder: path)
        #expect(splits.train.name == "pets" && splits.train.classNames == ["cat", "dog", "fox"] && splits.train.classes == 3)
        let shape: [Int] = [splits.train.height, splits.train.width, splits.train.channels]
        #expect(shape == [4, 5, 3])
        #expect(splits.train.images == train && splits.train.labels == [2, 0])
        #expect(splits.test.images == test && splits.test.labels == [1])
    }

    @Test func badFilesAreNamed() throws {
        let images = [UInt8](repeating: 1, count: 2 * 2 * 2 * 1)
        let cases: [([(String, String, [Int], [UInt8])], [String: String], String)] = [
            ([("train.images", "U8", [2, 2, 2, 1], images), ("train.labels", "I64", [2], Self.int64([0, 5])),
              ("test.images", "U8", [2, 2, 2, 1], images), ("test.labels", "I64", [2], Self.int64([0, 1]))],
             ["oicsr.class_names": Self.names], "'train.labels' holds 5.0 at example 1"),
            ([("train.images", "U8", [2, 2, 2, 1], images), ("train.labels", "I64", [2], Self.int64([0, 1]))],
             ["oicsr.class_names": Self.names], "'test.images' and 'test.labels' are needed"),
            ([("train.images", "U8", [2, 2, 2, 1], images), ("train.labels", "I64", [2], Self.int64([0, 1]))],
             [:], "'oicsr.class_names'"),
            ([("train.images", "U8", [2, 4, 1], images), ("train.labels", "I64", [2], Self.int64([0, 1])),
              ("test.images", "U8", [2, 2, 2, 1], images), ("test.labels", "I64", [2], Self.int64([0, 1]))],
             ["oicsr.class_names": Self.names], "must be (N, H, W, C)"),
        ]
        for (tensors, metadata, problem) in cases {
            let path = try Self.write(Self.file(tensors, metadata: metadata))
            do {
                _ = try DataSource.load(folder: path)
                Issue.record("accepted a file that should fail with \(problem)")
            } catch let error as DataError {
                #expect(error.file == path && error.problem.contains(problem), "\(error)")
            }
        }
    }
}
