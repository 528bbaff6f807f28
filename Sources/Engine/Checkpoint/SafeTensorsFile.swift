import Foundation

// The safetensors format (https://github.com/huggingface/safetensors, README "Format"):
//
//   8 bytes      N, the header size, unsigned 64-bit little-endian
//   N bytes      a UTF-8 JSON object: {"__metadata__": {string: string},
//                  "<name>": {"dtype": "F32", "shape": [d0, d1, …], "data_offsets": [begin, end]}, …}
//                may be padded with trailing spaces
//   rest         the byte buffer; offsets are relative to its start, tensors are row-major
//                little-endian, and together they cover the buffer exactly, without gaps or
//                overlaps (the spec forbids both, to rule out polyglot files)
//
// Values are copied in bulk; the element bytes are taken as they lie in memory, which is
// right because the engine only runs on little-endian hosts (x86-64, arm64):
#if !_endian(little)
#error("SafeTensors reads and writes raw little-endian floats: big-endian hosts are not supported")
#endif

/// The contents of a safetensors file: float tensors by name, and string metadata.
public struct SafeTensorsFile: Sendable, Equatable {
    /// Tensors in file order (by data offset when read; the buffer follows this order when
    /// written).
    public var tensors: [NamedArray]
    /// The `__metadata__` object: free-form strings (JSON documents, numbers as text).
    public var metadata: [String: String]

    /// One tensor: a row-major float array of `shape`.
    public struct NamedArray: Sendable, Equatable {
        public var name: String
        public var shape: [Int]
        /// product(shape) values, row-major.
        public var values: [Float]

        public init(name: String, shape: [Int], values: [Float]) {
            self.name = name
            self.shape = shape
            self.values = values
        }
    }

    public init(tensors: [NamedArray] = [], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// The tensor called `name`, if any.
    public subscript(name: String) -> NamedArray? {
        tensors.first { $0.name == name }
    }

    /// Element types accepted when reading. Everything becomes Float: F64 and the integer
    /// types appear in files written by PyTorch (e.g. BatchNorm's `num_batches_tracked`, I64),
    /// U8 in exported data sets (pixels), all of them exact in Float at the sizes they hold.
    enum DType: String {
        case f32 = "F32", f64 = "F64", i32 = "I32", i64 = "I64", u8 = "U8"

        var size: Int {
            switch self {
            case .u8: 1
            case .f32, .i32: 4
            case .f64, .i64: 8
            }
        }
    }

    // MARK: Reading

    /// The largest header accepted: the reference implementation's limit (MAX_HEADER_SIZE,
    /// 100 MB). Checked before the header is read.
    public static let maximumHeaderBytes = 100_000_000
    /// The largest checkpoint accepted, 4 GiB: far above any CNN this tool trains (resnet56
    /// is 3.4 MB), and refused before anything is read.
    public static let maximumFileBytes = 1 << 32

    /// Reads and validates the file at `path`, which must be a regular file of at most
    /// `maximumFileBytes`. The header is read and checked against the file's size first, then
    /// each tensor is read into its own array: nothing is allocated for a size the file does
    /// not hold, and the file is never held in memory whole.
    public static func read(path: String) throws -> SafeTensorsFile {
        do {
            let file = try RegularFile(path: path, maximumBytes: maximumFileBytes)
            return try decode(FileBytes(file: file), path: path)
        } catch let error as FileIOError {
            throw CheckpointError(file: path, problem: error.problem)
        }
    }

    /// Decodes and validates the bytes of a safetensors file. `path` only names the file in
    /// errors. Nothing in the bytes can make this crash: every length, offset and shape is
    /// checked against the data before it is used.
    public static func decode(_ bytes: [UInt8], path: String) throws -> SafeTensorsFile {
        try decode(MemoryBytes(bytes: bytes), path: path)
    }

    private static func decode(_ source: any ByteSource, path: String) throws -> SafeTensorsFile {
        func fail(_ problem: String) -> CheckpointError { CheckpointError(file: path, problem: problem) }

        guard source.count >= 8 else {
            throw fail("truncated: \(source.count) bytes, too short for the 8-byte header length")
        }
        var headerLength: UInt64 = 0
        for (i, byte) in try source.bytes(0 ..< 8).enumerated() { headerLength |= UInt64(byte) << (8 * UInt64(i)) }
        guard headerLength <= UInt64(maximumHeaderBytes) else {
            throw fail("header length \(headerLength) is more than the \(maximumHeaderBytes) bytes accepted")
        }
        guard headerLength <= UInt64(source.count - 8) else {
            throw fail("header length \(headerLength) runs past the end of the file (\(source.count) bytes, so at most \(source.count - 8))")
        }
        let bufferStart = 8 + Int(headerLength)
        let headerBytes = try source.bytes(8 ..< bufferStart)

        // The format's header is a UTF-8 JSON object; Foundation would also take UTF-16 and
        // UTF-32, which the key scan below does not read.
        guard headerBytes.first == UInt8(ascii: "{") else {
            throw fail("header is not a JSON object (it must start with '{')")
        }
        guard !headerBytes.contains(0) else {
            throw fail("header is not UTF-8 JSON (it holds a NUL byte)")
        }
        guard String(validating: headerBytes, as: UTF8.self) != nil else {
            throw fail("header is not valid UTF-8")
        }
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(headerBytes))
        } catch {
            throw fail("header is not valid JSON (\(jsonReason(error)))")
        }
        guard let header = json as? [String: Any] else {
            throw fail("header is not a JSON object")
        }
        // JSONSerialization keeps one of two equal keys, so duplicates are looked for in the text.
        let keys = topLevelKeys(headerBytes)
        var seen = Set<String>()
        for key in keys where !seen.insert(key).inserted {
            throw fail(key == "__metadata__" ? "duplicate __metadata__ entry" : "duplicate tensor name '\(key)'")
        }

        var metadata: [String: String] = [:]
        if let raw = header["__metadata__"] {
            guard let object = raw as? [String: Any] else { throw fail("__metadata__ is not a JSON object") }
            for (key, value) in object {
                guard let string = value as? String else {
                    throw fail("__metadata__ entry '\(key)' is not a string (the format allows strings only)")
                }
                metadata[key] = string
            }
        }

        struct Entry { var name: String; var dtype: DType; var shape: [Int]; var begin: Int; var end: Int }
        var entries: [Entry] = []
        let bufferLength = source.count - bufferStart
        for (name, raw) in header where name != "__metadata__" {
            guard let info = raw as? [String: Any] else { throw fail("tensor '\(name)': entry is not a JSON object") }
            guard let dtypeValue = info["dtype"] else { throw fail("tensor '\(name)': missing dtype") }
            guard let shapeValue = info["shape"] else { throw fail("tensor '\(name)': missing shape") }
            guard let offsetsValue = info["data_offsets"] else { throw fail("tensor '\(name)': missing data_offsets") }
            guard let dtypeName = dtypeValue as? String else { throw fail("tensor '\(name)': dtype is not a string") }
            guard let dtype = DType(rawValue: dtypeName) else {
                throw fail("tensor '\(name)': unsupported dtype '\(dtypeName)' (supported: F32, F64, I32, I64, U8)")
            }
            guard let shape = naturals(shapeValue) else {
                throw fail("tensor '\(name)': shape is not a list of non-negative integers")
            }
            guard let offsets = naturals(offsetsValue), offsets.count == 2 else {
                throw fail("tensor '\(name)': data_offsets is not a pair of non-negative integers [begin, end]")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin <= end else {
                throw fail("tensor '\(name)': data_offsets [\(begin), \(end)] end before they begin")
            }
            guard end <= bufferLength else {
                throw fail("tensor '\(name)': data_offsets [\(begin), \(end)] run past the end of the data buffer (\(bufferLength) bytes)")
            }
            var elements = 1
            for d in shape {
                let (product, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow else { throw fail("tensor '\(name)': shape \(shape) is too large") }
                elements = product
            }
            let (needed, overflow) = elements.multipliedReportingOverflow(by: dtype.size)
            guard !overflow, end - begin == needed else {
                throw fail("tensor '\(name)': data_offsets [\(begin), \(end)] hold \(end - begin) bytes but shape \(shape) of \(dtypeName) needs \(elements) × \(dtype.size) bytes")
            }
            entries.append(Entry(name: name, dtype: dtype, shape: shape, begin: begin, end: end))
        }

        // Coverage: sorted by offset, each tensor must start where the previous one ended
        // and the last must end at the end of the file. Name breaks ties between empty tensors.
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var position = 0
        var previous = "the start of the data buffer"
        for entry in entries {
            if entry.begin < position {
                throw fail("tensor '\(entry.name)': data_offsets [\(entry.begin), \(entry.end)] overlap \(previous), which ends at \(position)")
            }
            if entry.begin > position {
                throw fail("tensor '\(entry.name)': gap of \(entry.begin - position) bytes in the data buffer before it (after \(previous), at \(position))")
            }
            position = entry.end
            previous = "tensor '\(entry.name)'"
        }
        guard position == bufferLength else {
            throw fail("the data buffer has \(bufferLength) bytes but the tensors cover \(position): \(bufferLength - position) bytes unaccounted for")
        }

        // Every size is now known to lie within the file: each array is at most the file's size.
        let tensors = try entries.map { entry in
            NamedArray(name: entry.name, shape: entry.shape,
                       values: try floats(source, at: bufferStart + entry.begin, count: (entry.end - entry.begin) / entry.dtype.size,
                                          dtype: entry.dtype))
        }
        return SafeTensorsFile(tensors: tensors, metadata: metadata)
    }

    /// `count` little-endian `dtype` elements at byte `offset` of `source`, as Float. F32 is
    /// read straight into the array; other types through a small buffer.
    private static func floats(_ source: any ByteSource, at offset: Int, count: Int, dtype: DType) throws -> [Float] {
        var failure: (any Error)?
        let values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = 0
            do {
                if dtype == .f32 {
                    if count > 0 { try source.read(at: offset, into: UnsafeMutableRawBufferPointer(buffer)) }
                } else {
                    let piece = 1 << 13
                    var scratch = [UInt8](repeating: 0, count: piece * dtype.size)
                    var done = 0
                    while done < count {
                        let n = min(piece, count - done)
                        try scratch.withUnsafeMutableBytes { raw in
                            let data = UnsafeMutableRawBufferPointer(rebasing: raw[0 ..< n * dtype.size])
                            try source.read(at: offset + done * dtype.size, into: data)
                            convert(UnsafeRawBufferPointer(data), dtype: dtype, into: buffer.baseAddress! + done)
                        }
                        done += n
                    }
                }
                initialized = count
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        return values
    }

    /// The elements of `data` (little-endian `dtype`) as Float, into `output`.
    private static func convert(_ data: UnsafeRawBufferPointer, dtype: DType, into output: UnsafeMutablePointer<Float>) {
        let n = data.count / dtype.size
        switch dtype {
        case .f32:
            for i in 0..<n { output[i] = data.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) }
        case .u8:
            for i in 0..<n { output[i] = Float(data[i]) }
        case .f64:
            for i in 0..<n { output[i] = Float(data.loadUnaligned(fromByteOffset: 8 * i, as: Double.self)) }
        case .i32:
            for i in 0..<n { output[i] = Float(data.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)) }
        case .i64:
            for i in 0..<n { output[i] = Float(data.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)) }
        }
    }

    /// `value` as [Int] if it is a JSON array of non-negative integers.
    private static func naturals(_ value: Any) -> [Int]? {
        guard let array = value as? [Any] else { return nil }
        var result: [Int] = []
        for element in array {
            guard let number = element as? NSNumber else { return nil }
            let double = number.doubleValue
            guard double >= 0, double == double.rounded(), double < 0x1p53 else { return nil }
            result.append(number.intValue)
        }
        return result
    }

    private static func jsonReason(_ error: Error) -> String {
        let info = (error as NSError).userInfo
        return (info["NSDebugDescription"] as? String) ?? error.localizedDescription
    }

    /// The keys of the top-level object of `json`, in text order. Assumes `json` is valid UTF-8
    /// JSON (JSONSerialization accepted it): only strings and nesting need tracking. Stays
    /// within the bytes whatever they hold.
    private static func topLevelKeys(_ json: [UInt8]) -> [String] {
        let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
        var keys: [String] = []
        var depth = 0
        var expectingKey = false
        var i = 0
        while i < json.count {
            let byte = json[i]
            if byte == quote {
                let start = i
                i += 1
                while i < json.count && json[i] != quote { i += json[i] == backslash ? 2 : 1 }
                guard i < json.count else { break }
                if depth == 1 && expectingKey {
                    keys.append(decodeJSONString(Array(json[start ... i])))
                    expectingKey = false
                }
            } else if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") {
                depth += 1
                expectingKey = depth == 1
            } else if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") {
                depth -= 1
            } else if byte == UInt8(ascii: ",") && depth == 1 {
                expectingKey = true
            }
            i += 1
        }
        return keys
    }

    /// A JSON string literal (with its quotes) decoded, escapes included.
    private static func decodeJSONString(_ literal: [UInt8]) -> String {
        if !literal.contains(UInt8(ascii: "\\")) {
            return String(decoding: literal.dropFirst().dropLast(), as: UTF8.self)
        }
        let value = try? JSONSerialization.jsonObject(with: Data(literal), options: .fragmentsAllowed)
        return value as? String ?? String(decoding: literal, as: UTF8.self)
    }

    // MARK: Writing

    /// The file's bytes: F32 tensors, in the order of `tensors`; header keys sorted
    /// (`__metadata__` first, then tensor names), so equal contents give equal bytes.
    /// Names must be unique and each tensor's value count must match its shape.
    public func encode() -> [UInt8] {
        var offsets: [String: (Int, Int)] = [:]
        var position = 0
        for tensor in tensors {
            precondition(tensor.values.count == tensor.shape.reduce(1, *),
                         "tensor '\(tensor.name)': \(tensor.values.count) values for shape \(tensor.shape)")
            precondition(offsets[tensor.name] == nil, "duplicate tensor name '\(tensor.name)'")
            offsets[tensor.name] = (position, position + 4 * tensor.values.count)
            position += 4 * tensor.values.count
        }

        var json = "{"
        var fields: [String] = []
        if !metadata.isEmpty {
            let entries = metadata.keys.sorted().map { "\(Self.quoted($0)):\(Self.quoted(metadata[$0]!))" }
            fields.append("\"__metadata__\":{" + entries.joined(separator: ",") + "}")
        }
        for (name, shape) in tensors.map({ ($0.name, $0.shape) }).sorted(by: { $0.0 < $1.0 }) {
            let (begin, end) = offsets[name]!
            let shape = shape.map(String.init).joined(separator: ",")
            fields.append("\(Self.quoted(name)):{\"dtype\":\"F32\",\"shape\":[\(shape)],\"data_offsets\":[\(begin),\(end)]}")
        }
        json += fields.joined(separator: ",") + "}"
        // Pad with spaces so the buffer starts 8-byte aligned, as the reference writer does.
        var header = Array(json.utf8)
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))

        let total = 8 + header.count + position
        return [UInt8](unsafeUninitializedCapacity: total) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            raw.storeBytes(of: UInt64(header.count).littleEndian, as: UInt64.self)
            header.withUnsafeBytes { raw.baseAddress!.advanced(by: 8).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            var at = 8 + header.count
            for tensor in tensors {
                tensor.values.withUnsafeBytes { bytes in
                    if bytes.count > 0 { raw.baseAddress!.advanced(by: at).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
                    at += bytes.count
                }
            }
            initialized = total
        }
    }

    /// Writes the file atomically: after a failure the previous file at `path` is intact.
    /// Invalid contents (duplicate names, value counts not matching shapes) throw instead
    /// of writing.
    public func write(path: String) throws {
        var names = Set<String>()
        for tensor in tensors {
            guard names.insert(tensor.name).inserted else {
                throw CheckpointError(file: path, problem: "duplicate tensor name '\(tensor.name)'")
            }
            guard tensor.shape.allSatisfy({ $0 >= 0 }), tensor.values.count == tensor.shape.reduce(1, *) else {
                throw CheckpointError(file: path, problem: "tensor '\(tensor.name)': \(tensor.values.count) values for shape \(tensor.shape)")
            }
        }
        do {
            try AtomicFile.write(encode(), to: path)
        } catch let error as FileIOError {
            throw CheckpointError(file: path, problem: error.problem)
        }
    }

    /// `text` as a JSON string literal (RFC 8259 §7).
    private static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// Where a safetensors file's bytes come from: memory (`decode`) or an open file (`read`),
/// which is read piece by piece.
private protocol ByteSource {
    var count: Int { get }
    /// Fills `buffer` with the bytes at `offset`…, which lie within `count`.
    func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws
}

extension ByteSource {
    func bytes(_ range: Range<Int>) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: range.count)
        try bytes.withUnsafeMutableBytes { try read(at: range.lowerBound, into: $0) }
        return bytes
    }
}

private struct MemoryBytes: ByteSource {
    let bytes: [UInt8]
    var count: Int { bytes.count }

    func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws {
        bytes.withUnsafeBytes { source in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset ..< offset + buffer.count]))
        }
    }
}

private struct FileBytes: ByteSource {
    let file: RegularFile
    var count: Int { file.size }

    func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws {
        try file.read(at: offset, into: buffer)
    }
}
