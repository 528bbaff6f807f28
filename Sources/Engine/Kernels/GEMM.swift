internal import AVX512Kernels
import Foundation

// The GEMM of the convolutions: the AVX-512 kernel (AVX512Kernels) where the processor has
// AVX-512, else OpenBLAS. Row-major, alpha 1, beta 0 or 1, as the convolutions use it.

enum GEMM {
    enum Implementation: String, Sendable, CaseIterable {
        case avx512, openblas
    }

    /// Environment variable choosing the implementation: `openblas` forces OpenBLAS (to
    /// compare the two); `avx512` is the default where the processor has AVX-512.
    static let environmentVariable = "OICSR_GEMM"

    /// Whether this processor runs AVX-512 code: the F, BW, DQ and VL extensions the kernel
    /// module is compiled for, as the kernel reports them (Linux lists a flag only when it
    /// also saves the registers on context switches).
    static let processorHasAVX512: Bool = {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return false }
        let flags = Set(line.split(separator: " ").map(String.init))
        return ["avx512f", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains)
    }()

    /// The implementation in use for this process, chosen once.
    static let configured: Implementation = {
        let asked = ProcessInfo.processInfo.environment[environmentVariable].flatMap(Implementation.init(rawValue:))
        return asked == .openblas || !processorHasAVX512 ? .openblas : .avx512
    }()

    /// Tests run both implementations on one task without touching the process-wide choice.
    @TaskLocal static var override: Implementation?

    /// The implementation for a call starting now.
    static var implementation: Implementation {
        let chosen = override ?? configured
        return chosen == .avx512 && processorHasAVX512 ? .avx512 : .openblas
    }

    /// Floats of scratch one call needs for `n` columns of C (packing, for the AVX-512 kernel).
    static func scratchCount(n: Int) -> Int { AVX512GEMM.packCount(n: n) }

    /// Floats of B packed whole for `packedMultiply` (AVX-512 only).
    static func packedCount(k: Int, n: Int) -> Int { AVX512GEMM.packedCount(k: k, n: n) }

    /// Packs B (k×n; stored n×k when `transposed`) whole for `packedMultiply` (AVX-512 only).
    /// The panels of 16 columns are independent, so the workers pack them in parts: at batch 1
    /// the weights of a deep layer are far more data than its input, and packing them on one
    /// thread was the larger share of the layer's time.
    static func pack(_ b: UnsafePointer<Float>, ldb: Int, transposed: Bool, k: Int, n: Int, into packed: UnsafeMutablePointer<Float>) {
        Parallel.forRanges((n + 15) / 16, costPerItem: 16 * k) { panels in
            let j0 = panels.lowerBound * 16, columns = min(n, panels.upperBound * 16) - j0
            AVX512GEMM.pack(transposed ? b + j0 * ldb : b + j0, ldb: ldb, transposed: transposed, k: k, n: columns,
                            into: packed + j0 * k)
        }
    }

    /// C (m×n) (+)= A · B[k0 ..< k0 + k, :] with B packed by `pack` (`packedK` rows), A[i, kk]
    /// at a[i·rowStride + kk] (AVX-512 only).
    @inline(__always)
    static func packedMultiply(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, rowStride: Int,
                               packed: UnsafePointer<Float>, packedK: Int, k0: Int,
                               c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        AVX512GEMM.multiplyPacked(m: m, n: n, k: k, a: a, rowStride: rowStride, columnStride: 1, packed: packed,
                                  packedK: packedK, k0: k0, c: c, ldc: ldc, accumulate: accumulate)
    }

    /// Rows of A and C given by pointer, k in segments (AVX512GEMM.multiplyGathered; AVX-512 only).
    static let gatheredRows = 12

    @inline(__always)
    static func gatheredMultiply(rows: Int, n: Int, span: Int, segments: Int, segmentStride: Int,
                                 a: UnsafePointer<UnsafePointer<Float>>, packed: UnsafePointer<Float>, packedK: Int,
                                 c: UnsafePointer<UnsafeMutablePointer<Float>>, accumulate: Bool) {
        AVX512GEMM.multiplyGathered(rows: rows, n: n, span: span, segments: segments, segmentStride: segmentStride, a: a,
                                    packed: packed, packedK: packedK, k0: 0, c: c, accumulate: accumulate)
    }

    /// C (m×n) = op(A)·op(B), or C += that when `accumulate`; op(A) is m×k (A stored k×m
    /// when `transposeA`), op(B) k×n (B stored n×k when `transposeB`). `scratch` holds
    /// `scratchCount(n:)` floats.
    @inline(__always)
    static func multiply(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                         a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                         accumulate: Bool, c: UnsafeMutablePointer<Float>, ldc: Int,
                         scratch: UnsafeMutablePointer<Float>) {
        switch implementation {
        case .avx512:
            AVX512GEMM.multiply(m: m, n: n, k: k, a: a, rowStride: transposeA ? 1 : lda, columnStride: transposeA ? lda : 1,
                                b: b, ldb: ldb, transposeB: transposeB, c: c, ldc: ldc, accumulate: accumulate, pack: scratch)
        case .openblas:
            BLAS.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb,
                      beta: accumulate ? 1 : 0, c: c, ldc: ldc)
        }
    }
}
