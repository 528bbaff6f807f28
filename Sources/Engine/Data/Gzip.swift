internal import CZlib

// Reading data files that may be gzip'd (the Debian Fashion-MNIST package ships
// `*-ubyte.gz`). This is the only file that calls zlib.
//
// Format: RFC 1952. A gzip file is a series of members, each a header, a deflate stream
// (RFC 1951) and a trailer holding the CRC-32 and the uncompressed size modulo 2^32 (ISIZE).
// zlib parses header and trailer itself when `windowBits` is 15 + 16, and checks the CRC.

enum Gzip {
    /// The two bytes every gzip member starts with (RFC 1952 §2.3.1: ID1, ID2).
    static let magic: (UInt8, UInt8) = (0x1f, 0x8b)

    /// The contents of the file at `path`, decompressed if it starts with the gzip magic
    /// and returned as is otherwise.
    static func contents(ofFile path: String) throws -> [UInt8] {
        let raw: [UInt8]
        do {
            raw = try AtomicFile.read(path: path)
        } catch let error as FileIOError {
            throw DataError(file: path, problem: error.problem)
        }
        guard isGzip(raw) else { return raw }
        return try raw.withUnsafeBytes { try decompress($0, path: path) }
    }

    static func isGzip(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == magic.0 && bytes[1] == magic.1
    }

    /// Inflates a whole gzip file (all its members). `path` only names the file in errors.
    static func decompress(_ input: UnsafeRawBufferPointer, path: String) throws -> [UInt8] {
        guard !input.isEmpty else { throw DataError(file: path, problem: "truncated gzip stream: the file is empty") }
        var stream = z_stream()
        // 15 = the largest deflate window; +16 = expect a gzip header and trailer.
        guard inflateInit2_(&stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DataError(file: path, problem: "cannot initialise zlib")
        }
        defer { inflateEnd(&stream) }

        var output = GrowableBytes(capacity: sizeHint(input))
        defer { output.deallocate() }
        let base = UnsafeMutablePointer(mutating: input.baseAddress!.assumingMemoryBound(to: UInt8.self))
        var consumed = 0

        while true {
            if output.count == output.capacity { output.grow() }
            // avail_in and avail_out are 32-bit: feed at most 1 GiB at a time.
            let inChunk = min(input.count - consumed, 1 << 30)
            let outRoom = min(output.capacity - output.count, 1 << 30)
            stream.next_in = base + consumed
            stream.avail_in = UInt32(inChunk)
            stream.next_out = output.base + output.count
            stream.avail_out = UInt32(outRoom)

            let status = inflate(&stream, Z_NO_FLUSH)
            consumed += inChunk - Int(stream.avail_in)
            output.count += outRoom - Int(stream.avail_out)

            switch status {
            case Z_STREAM_END:
                let rest = UnsafeRawBufferPointer(rebasing: input[consumed...])
                if rest.isEmpty || rest.allSatisfy({ $0 == 0 }) {
                    // Zero padding after the last member is tolerated, as gzip(1) does.
                    return output.array()
                }
                guard rest.count >= 2, rest[0] == magic.0, rest[1] == magic.1 else {
                    throw DataError(file: path, problem: "corrupt gzip stream: \(rest.count) unexpected bytes after the end of the compressed data")
                }
                inflateReset(&stream)  // the next member
            case Z_OK, Z_BUF_ERROR:
                // inflate stops when the input is used up or the output is full. Input used up
                // with room to spare and no end of stream means the file was cut short.
                if consumed == input.count && stream.avail_out > 0 {
                    throw DataError(file: path, problem: "truncated gzip stream: the compressed data ends early (\(input.count) bytes read, \(output.count) bytes decompressed)")
                }
            case Z_DATA_ERROR, Z_NEED_DICT, Z_STREAM_ERROR:
                let reason = stream.msg.map { String(cString: $0) } ?? "invalid deflate data"
                throw DataError(file: path, problem: "corrupt gzip stream: \(reason) (at compressed byte \(consumed))")
            case Z_MEM_ERROR:
                throw DataError(file: path, problem: "out of memory while decompressing")
            default:
                throw DataError(file: path, problem: "zlib error \(status) while decompressing")
            }
        }
    }

    /// Compresses `bytes` into a single-member gzip file (used to write test fixtures).
    static func compress(_ bytes: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        let status = deflateInit2_(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                                   Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        precondition(status == Z_OK, "deflateInit2 failed: \(status)")
        defer { deflateEnd(&stream) }
        // One call with a bound-sized output buffer (deflateBound) finishes the stream.
        let bound = Int(deflateBound(&stream, uLong(bytes.count))) + 32
        var output = [UInt8](repeating: 0, count: bound)
        var input = bytes
        input.withUnsafeMutableBufferPointer { inp in
            output.withUnsafeMutableBufferPointer { out in
                stream.next_in = inp.baseAddress
                stream.avail_in = UInt32(inp.count)
                stream.next_out = out.baseAddress
                stream.avail_out = UInt32(out.count)
                let result = deflate(&stream, Z_FINISH)
                precondition(result == Z_STREAM_END, "deflate did not finish: \(result)")
            }
        }
        output.removeLast(Int(stream.avail_out))
        return output
    }

    /// The expected decompressed size: the last member's ISIZE (RFC 1952 §2.3.1), exact for
    /// the usual single-member file; kept within deflate's maximum ratio of about 1032:1 so
    /// that a corrupt trailer cannot ask for an absurd buffer.
    private static func sizeHint(_ input: UnsafeRawBufferPointer) -> Int {
        guard input.count >= 18 else { return 1 << 16 }
        let n = input.count
        let isize = Int(input[n - 4]) | Int(input[n - 3]) << 8 | Int(input[n - 2]) << 16 | Int(input[n - 1]) << 24
        return max(1 << 16, min(isize, n * 1032))
    }
}

/// A byte buffer that doubles when full; the bytes are copied into an array once at the end.
/// Raw memory keeps the growth free of per-byte work in unoptimised builds.
private struct GrowableBytes {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var capacity: Int
    var count = 0

    init(capacity: Int) {
        self.capacity = capacity
        self.base = .allocate(capacity: capacity)
    }

    mutating func grow() {
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2)
        bigger.moveInitialize(from: base, count: count)
        base.deallocate()
        base = bigger
        capacity *= 2
    }

    func array() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 { buffer.baseAddress!.initialize(from: base, count: count) }
            initialized = count
        }
    }

    func deallocate() { base.deallocate() }
}
