// The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/, "FILE
// FORMATS FOR THE MNIST DATABASE"): a 4-byte magic number — two zero bytes, a type code
// (0x08 = unsigned byte) and the number of dimensions — then one big-endian u32 per
// dimension, then the values in row-major order. Images are 0x00000803 (N × rows × cols),
// labels 0x00000801 (N). Pixels are 0 (background) … 255 (ink), one channel.

enum IDX {
    static let imagesMagic: UInt32 = 0x0000_0803
    static let labelsMagic: UInt32 = 0x0000_0801

    /// Images of an IDX file: `count` × `height` × `width` bytes, row-major.
    struct Images {
        var count: Int
        var height: Int
        var width: Int
        var pixels: [UInt8]
    }

    static let imagesKind = "images (unsigned bytes, 3 dimensions)"
    static let labelsKind = "labels (unsigned bytes, 1 dimension)"

    /// The size an images file declares in its header, which bounds its decompression.
    static func declaredImagesSize(path: String) -> Gzip.DeclaredSize {
        Gzip.DeclaredSize(headerBytes: 16) { try declaredBytes($0, magic: imagesMagic, kind: imagesKind, path: path) }
    }

    /// The size a labels file declares in its header, which bounds its decompression.
    static func declaredLabelsSize(path: String) -> Gzip.DeclaredSize {
        Gzip.DeclaredSize(headerBytes: 8) { try declaredBytes($0, magic: labelsMagic, kind: labelsKind, path: path) }
    }

    /// Parses an images file (magic 0x00000803). `path` only names the file in errors.
    static func images(_ bytes: [UInt8], path: String) throws -> Images {
        let dims = try header(bytes, magic: imagesMagic, kind: imagesKind, path: path)
        guard dims[1] > 0, dims[2] > 0 else {
            throw DataError(file: path, problem: "image size \(dims[1])x\(dims[2]) has a zero dimension")
        }
        let offset = 4 + 4 * dims.count
        let pixels = try payload(bytes, offset: offset, dims: dims, path: path)
        return Images(count: dims[0], height: dims[1], width: dims[2], pixels: pixels)
    }

    /// Parses a labels file (magic 0x00000801); every label must be below `classes`.
    static func labels(_ bytes: [UInt8], classes: Int, path: String) throws -> [Int32] {
        let dims = try header(bytes, magic: labelsMagic, kind: labelsKind, path: path)
        let values = try payload(bytes, offset: 8, dims: dims, path: path)
        var labels = [Int32]()
        labels.reserveCapacity(values.count)
        for (i, value) in values.enumerated() {
            guard Int(value) < classes else {
                throw DataError(file: path, problem: "label \(value) of example \(i) is out of range: expected 0...\(classes - 1)")
            }
            labels.append(Int32(value))
        }
        return labels
    }

    /// Checks the magic number and returns the dimensions it announces.
    private static func header(_ bytes: [UInt8], magic: UInt32, kind: String, path: String) throws -> [Int] {
        let expectedDims = Int(magic & 0xff)
        let headerSize = 4 + 4 * expectedDims
        guard bytes.count >= 4 else {
            throw DataError(file: path, problem: "truncated: expected an IDX header of \(headerSize) bytes, found \(bytes.count)")
        }
        let found = bigEndianU32(bytes, at: 0)
        guard found == magic else {
            var problem = "bad magic number \(hex(found)): expected \(hex(magic)) for IDX \(kind)"
            if found == imagesMagic || found == labelsMagic {
                problem += "; this is an IDX \(found == imagesMagic ? "images" : "labels") file"
            } else if bytes[0] == Gzip.magic.0 && bytes[1] == Gzip.magic.1 {
                problem += "; the file looks gzip'd but did not decompress"
            }
            throw DataError(file: path, problem: problem)
        }
        guard bytes.count >= headerSize else {
            throw DataError(file: path, problem: "truncated: expected an IDX header of \(headerSize) bytes, found \(bytes.count)")
        }
        return (0..<expectedDims).map { Int(bigEndianU32(bytes, at: 4 + 4 * $0)) }
    }

    /// The whole file's size as its header declares it: the header and the product of the
    /// dimensions. `bytes` holds at least the header.
    private static func declaredBytes(_ bytes: [UInt8], magic: UInt32, kind: String, path: String) throws -> Int {
        let dims = try header(bytes, magic: magic, kind: kind, path: path)
        return try declaredSize(offset: 4 + 4 * dims.count, dims: dims, path: path).total
    }

    /// The payload's byte count (the product of `dims`) and the file's (`offset` more).
    /// Dimensions are u32, so the product of three may overflow even 64 bits.
    private static func declaredSize(offset: Int, dims: [Int], path: String) throws -> (payload: Int, total: Int) {
        var count = 1
        for d in dims {
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else {
                throw DataError(file: path, problem: "dimensions \(dims) are too large")
            }
            count = product
        }
        let (total, overflow) = offset.addingReportingOverflow(count)
        guard !overflow else { throw DataError(file: path, problem: "dimensions \(dims) are too large") }
        return (count, total)
    }

    /// The values after the header, whose byte count must be exactly the product of `dims`.
    private static func payload(_ bytes: [UInt8], offset: Int, dims: [Int], path: String) throws -> [UInt8] {
        let (count, expected) = try declaredSize(offset: offset, dims: dims, path: path)
        guard bytes.count == expected else {
            let what = bytes.count < expected ? "truncated" : "\(bytes.count - expected) unexpected bytes after the data"
            throw DataError(file: path, problem: "\(what): expected \(expected) bytes for dimensions \(dims), found \(bytes.count)")
        }
        // One bulk copy: a per-byte loop would take seconds on 47 MB in an unoptimised build.
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            bytes.withUnsafeBufferPointer { source in
                if count > 0 { buffer.baseAddress!.initialize(from: source.baseAddress! + offset, count: count) }
            }
            initialized = count
        }
    }

    private static func bigEndianU32(_ bytes: [UInt8], at i: Int) -> UInt32 {
        UInt32(bytes[i]) << 24 | UInt32(bytes[i + 1]) << 16 | UInt32(bytes[i + 2]) << 8 | UInt32(bytes[i + 3])
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}
