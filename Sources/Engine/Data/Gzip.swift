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
    /// Deflate's best ratio: a 258-byte match costs at least 2 bits, about 1032:1 (zlib's
    /// "technical details"). A gzip file cannot decompress to more than this many bytes per
    /// compressed byte, whatever its header claims.
    static let maximumRatio = 1032

    /// What a format's header says about the size of the whole content: from the first
    /// `headerBytes` bytes of the decompressed content, `total` gives the size it must have
    /// (or throws when the header is not valid).
    struct DeclaredSize {
        var headerBytes: Int
        var total: ([UInt8]) throws -> Int
    }

    /// The contents of the regular file at `path`, decompressed if it starts with the gzip magic
    /// and returned as is otherwise; either way at most `maximumBytes`. With `declaredSize`, a
    /// gzip'd file is inflated only up to the size its header declares: one that holds more
    /// (a gzip bomb) stops with an error there.
    static func contents(ofFile path: String, maximumBytes: Int, declaredSize: DeclaredSize? = nil) throws -> [UInt8] {
        let raw: [UInt8]
        do {
            raw = try AtomicFile.read(path: path, maximumBytes: maximumBytes)
        } catch let error as FileIOError {
            throw DataError(file: path, problem: error.problem)
        }
        return try contents(of: raw, path: path, maximumBytes: maximumBytes, declaredSize: declaredSize)
    }

    /// `contents(ofFile:…)` for bytes already in memory. `path` only names the file in errors.
    static func contents(of raw: [UInt8], path: String, maximumBytes: Int, declaredSize: DeclaredSize? = nil) throws -> [UInt8] {
        guard isGzip(raw) else {
            guard raw.count <= maximumBytes else {
                throw DataError(file: path, problem: "is \(raw.count) bytes, more than the \(maximumBytes) accepted")
            }
            return raw
        }
        return try raw.withUnsafeBytes { try decompress($0, path: path, maximumBytes: maximumBytes, declaredSize: declaredSize) }
    }

    static func isGzip(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == magic.0 && bytes[1] == magic.1
    }

    /// Inflates a whole gzip file (all its members), to at most `maximumBytes`, and with
    /// `declaredSize` to at most what the content's header declares. `path` only names the
    /// file in errors.
    static func decompress(_ input: UnsafeRawBufferPointer, path: String, maximumBytes: Int = .max,
                           declaredSize: DeclaredSize? = nil) throws -> [UInt8] {
        func fail(_ problem: String) -> DataError { DataError(file: path, problem: problem) }
        guard !input.isEmpty else { throw fail("truncated gzip stream: the file is empty") }
        var stream = z_stream()
        // 15 = the largest deflate window; +16 = expect a gzip header and trailer.
        guard inflateInit2_(&stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw fail("cannot initialise zlib")
        }
        defer { inflateEnd(&stream) }

        // The output never grows past `limit`: first what the compressed size allows, then
        // what the header declares once it has been inflated.
        let (ratioBound, overflow) = input.count.multipliedReportingOverflow(by: maximumRatio)
        var limit = min(maximumBytes, overflow ? .max : ratioBound)
        var awaitingHeader = declaredSize != nil
        var output = GrowableBytes(capacity: min(limit, max(1 << 16, sizeHint(input))))
        defer { output.deallocate() }
        var probe: UInt8 = 0
        let base = UnsafeMutablePointer(mutating: input.baseAddress!.assumingMemoryBound(to: UInt8.self))
        var consumed = 0

        while true {
            if awaitingHeader, let declaredSize, output.count >= declaredSize.headerBytes {
                awaitingHeader = false
                let total = try declaredSize.total(output.prefix(declaredSize.headerBytes))
                guard total <= maximumBytes else {
                    throw fail("the header declares \(total) bytes of data, more than the \(maximumBytes) accepted")
                }
                guard total <= limit else {
                    throw fail("the header declares \(total) bytes of data, more than a gzip file of \(input.count) bytes can hold (at most \(limit))")
                }
                limit = total
                output.reserve(limit)
            }
            // Where the next inflate writes: the output buffer while there is room below the
            // limit (only up to the header's end while it is awaited), else a one-byte probe
            // that must stay empty.
            let end = awaitingHeader ? min(declaredSize!.headerBytes, limit) : limit
            if output.count == output.capacity && output.count < end { output.reserve(min(end, output.capacity * 2)) }
            let probing = output.count >= end
            // avail_in and avail_out are 32-bit: feed at most 1 GiB at a time.
            let inChunk = min(input.count - consumed, 1 << 30)
            let outRoom = probing ? 1 : min(min(output.capacity, end) - output.count, 1 << 30)
            stream.next_in = base + consumed
            stream.avail_in = UInt32(inChunk)
            let status = withUnsafeMutablePointer(to: &probe) { probePointer in
                stream.next_out = probing ? probePointer : output.base + output.count
                stream.avail_out = UInt32(outRoom)
                return inflate(&stream, Z_NO_FLUSH)
            }
            consumed += inChunk - Int(stream.avail_in)
            let produced = outRoom - Int(stream.avail_out)
            if probing && produced > 0 {
                throw fail(awaitingHeader || declaredSize == nil
                    ? "decompresses to more than the \(limit) bytes accepted (stopped there)"
                    : "decompresses to more than the \(limit) bytes its header declares (stopped there)")
            }
            if !probing { output.count += produced }

            switch status {
            case Z_STREAM_END:
                let rest = UnsafeRawBufferPointer(rebasing: input[consumed...])
                if rest.isEmpty || rest.allSatisfy({ $0 == 0 }) {
                    // Zero padding after the last member is tolerated, as gzip(1) does.
                    return output.array()
                }
                guard rest.count >= 2, rest[0] == magic.0, rest[1] == magic.1 else {
                    throw fail("corrupt gzip stream: \(rest.count) unexpected bytes after the end of the compressed data")
                }
                inflateReset(&stream)  // the next member
            case Z_OK, Z_BUF_ERROR:
                // inflate stops when the input is used up or the output is full. Input used up
                // with room to spare and no end of stream means the file was cut short.
                if consumed == input.count && stream.avail_out > 0 {
                    throw fail("truncated gzip stream: the compressed data ends early (\(input.count) bytes read, \(output.count) bytes decompressed)")
                }
            case Z_DATA_ERROR, Z_NEED_DICT, Z_STREAM_ERROR:
                let reason = stream.msg.map { String(cString: $0) } ?? "invalid deflate data"
                throw fail("corrupt gzip stream: \(reason) (at compressed byte \(consumed))")
            case Z_MEM_ERROR:
                throw fail("out of memory while decompressing")
            default:
                throw fail("zlib error \(status) while decompressing")
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
    /// the usual single-member file. Only a first guess: the caller caps it.
    private static func sizeHint(_ input: UnsafeRawBufferPointer) -> Int {
        guard input.count >= 18 else { return 1 << 16 }
        let n = input.count
        return Int(input[n - 4]) | Int(input[n - 3]) << 8 | Int(input[n - 2]) << 16 | Int(input[n - 1]) << 24
    }
}

/// A byte buffer grown on request; the bytes are copied into an array once at the end.
/// Raw memory keeps the growth free of per-byte work in unoptimised builds.
private struct GrowableBytes {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var capacity: Int
    var count = 0

    init(capacity: Int) {
        self.capacity = capacity
        self.base = .allocate(capacity: max(capacity, 1))
    }

    /// Makes the capacity exactly `newCapacity` (not below `count`).
    mutating func reserve(_ newCapacity: Int) {
        guard newCapacity != capacity, newCapacity >= count else { return }
        let resized = UnsafeMutablePointer<UInt8>.allocate(capacity: max(newCapacity, 1))
        resized.moveInitialize(from: base, count: count)
        base.deallocate()
        base = resized
        capacity = newCapacity
    }

    func prefix(_ n: Int) -> [UInt8] { Array(UnsafeBufferPointer(start: base, count: min(n, count))) }

    func array() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 { buffer.baseAddress!.initialize(from: base, count: count) }
            initialized = count
        }
    }

    func deallocate() { base.deallocate() }
}
