// The binary versions of CIFAR-10 and CIFAR-100 (https://www.cs.toronto.edu/~kriz/cifar.html,
// "Binary version"). A file is a plain sequence of fixed-size records:
//   CIFAR-10:  <1 label byte 0…9> <3072 pixel bytes>                     (3073 bytes)
//   CIFAR-100: <1 coarse label 0…19> <1 fine label 0…99> <3072 pixel bytes> (3074 bytes)
// The 3072 pixel bytes are the 32x32 image channel by channel (1024 red, then green, then
// blue), each channel row-major. The engine is NHWC, so records are transposed to HWC.

enum CIFAR {
    static let side = 32
    static let channels = 3
    static let pixelBytes = side * side * channels

    /// The layout of one record.
    enum Variant {
        case cifar10, cifar100

        var recordBytes: Int { labelBytes + CIFAR.pixelBytes }
        var labelBytes: Int { self == .cifar10 ? 1 : 2 }
        var classes: Int { self == .cifar10 ? 10 : 100 }
    }

    /// Records of one file: `labels` (N) and `pixels` (N × 32 × 32 × 3, HWC).
    struct Records {
        var labels: [Int32] = []
        var pixels: [UInt8] = []
    }

    /// Parses a whole file of `variant` records.
    /// For CIFAR-100 the fine label (100 classes) is kept; the coarse one is only checked.
    static func records(_ bytes: [UInt8], variant: Variant, path: String) throws -> Records {
        let size = variant.recordBytes
        guard !bytes.isEmpty else {
            throw DataError(file: path, problem: "empty file: expected records of \(size) bytes")
        }
        guard bytes.count % size == 0 else {
            throw DataError(file: path, problem: "truncated: \(bytes.count) bytes is not a whole number of \(size)-byte records (\(bytes.count / size) records and \(bytes.count % size) bytes left over)")
        }
        let n = bytes.count / size

        var labels = [Int32]()
        labels.reserveCapacity(n)
        for r in 0..<n {
            let offset = r * size
            if variant == .cifar100 && bytes[offset] >= 20 {
                throw DataError(file: path, problem: "coarse label \(bytes[offset]) of record \(r) is out of range: expected 0...19")
            }
            let label = bytes[offset + variant.labelBytes - 1]
            guard Int(label) < variant.classes else {
                let kind = variant == .cifar100 ? "fine label" : "label"
                throw DataError(file: path, problem: "\(kind) \(label) of record \(r) is out of range: expected 0...\(variant.classes - 1)")
            }
            labels.append(Int32(label))
        }

        let pixels = [UInt8](unsafeUninitializedCapacity: n * pixelBytes) { buffer, initialized in
            bytes.withUnsafeBufferPointer { source in
                for r in 0..<n {
                    transposeCHWtoHWC(source.baseAddress! + r * size + variant.labelBytes,
                                      buffer.baseAddress! + r * pixelBytes)
                }
            }
            initialized = n * pixelBytes
        }
        return Records(labels: labels, pixels: pixels)
    }

    /// One 3 × 32 × 32 image to 32 × 32 × 3.
    private static func transposeCHWtoHWC(_ chw: UnsafePointer<UInt8>, _ hwc: UnsafeMutablePointer<UInt8>) {
        let plane = side * side
        for p in 0..<plane {
            hwc[3 * p] = chw[p]
            hwc[3 * p + 1] = chw[plane + p]
            hwc[3 * p + 2] = chw[2 * plane + p]
        }
    }
}
