import Testing
import TestSupport
@testable import Engine

/// The convolutions' GEMM (AVX-512 where the processor has it, OpenBLAS else) against a
/// double-precision loop, over shapes that cross every edge of the kernel: tiles of 12 rows,
/// panels of 16 and 32 columns, blocks of 256 of k, strided and transposed operands.
@Suite("GEMM against the naive product")
struct GEMMTests {
    static let implementations = GEMM.processorHasAVX512 ? GEMM.Implementation.allCases : [.openblas]

    @Test(arguments: implementations)
    func products(implementation: GEMM.Implementation) {
        GEMM.$override.withValue(implementation) {
            for (m, n, k) in [(1, 1, 1), (5, 7, 9), (12, 16, 27), (13, 17, 144), (30, 33, 64), (25, 50, 300), (3, 128, 576), (16, 144, 700)] {
                for (transposeA, transposeB, accumulate) in [(false, true, false), (true, false, true), (false, false, true), (false, false, false)] {
                    check(m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB, accumulate: accumulate,
                          label: "\(implementation) \(m)x\(n)x\(k) tA=\(transposeA) tB=\(transposeB) acc=\(accumulate)")
                }
            }
        }
    }

    /// The weights packed whole for the in-place convolutions, by the workers in parts, are
    /// laid out exactly as one packing of every panel: B's element (kk, j) at panel j/16,
    /// row kk, lane j%16, zero past n. 100 columns (a partial last panel) and k = 600 are
    /// enough work to be split.
    @Test(.enabled(if: GEMM.processorHasAVX512, "AVX-512 only"), arguments: [false, true])
    func packingInPartsLaysOutEveryPanel(transposed: Bool) {
        let (k, n) = (600, 100)
        let ldb = (transposed ? k : n) + 3
        let b = Fixtures.random([(transposed ? n : k) * ldb], seed: 4)
        let packed = Tensor(shape: [GEMM.packedCount(k: k, n: n)])
        packed.fill(.nan)
        GEMM.pack(b.storage, ldb: ldb, transposed: transposed, k: k, n: n, into: packed.storage)
        var mismatches = 0
        for panel in 0..<(n + 15) / 16 {
            for kk in 0..<k {
                for lane in 0..<16 {
                    let j = panel * 16 + lane
                    let expected: Float = j < n ? (transposed ? b[j * ldb + kk] : b[kk * ldb + j]) : 0
                    if packed[(panel * k + kk) * 16 + lane] != expected { mismatches += 1 }
                }
            }
        }
        #expect(mismatches == 0, "transposed=\(transposed): \(mismatches) packed elements out of place")
    }

    /// Row-major operands with leading dimensions larger than their rows, as the convolutions
    /// pass them (a column block of x, of y, of dx).
    private func check(m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, accumulate: Bool, label: String) {
        let lda = (transposeA ? m : k) + 3, ldb = (transposeB ? k : n) + 2, ldc = n + 5
        let a = Fixtures.random([(transposeA ? k : m) * lda], seed: 1)
        let b = Fixtures.random([(transposeB ? n : k) * ldb], seed: 2)
        let c = Fixtures.random([m * ldc], seed: 3)
        let before = c.values
        let scratch = Tensor(shape: [GEMM.scratchCount(n: n)])
        GEMM.multiply(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a: a.storage, lda: lda,
                      b: b.storage, ldb: ldb, accumulate: accumulate, c: c.storage, ldc: ldc, scratch: scratch.storage)
        var worst: (excess: Double, i: Int, j: Int, got: Float, expected: Double) = (0, 0, 0, 0, 0)
        for i in 0..<m {
            for j in 0..<n {
                var sum = accumulate ? Double(before[i * ldc + j]) : 0, magnitude = abs(sum)
                for p in 0..<k {
                    let x = Double(transposeA ? a[p * lda + i] : a[i * lda + p])
                    let y = Double(transposeB ? b[j * ldb + p] : b[p * ldb + j])
                    sum += x * y
                    magnitude += abs(x * y)
                }
                // Float summation of k + 1 terms in any order errs by at most (k + 1)·u·Σ|terms|
                // (Higham, Accuracy and Stability of Numerical Algorithms, §3.1), u = 2⁻²⁴.
                let bound = Double(k + 1) * 0x1p-24 * magnitude + 1e-30
                let error = abs(Double(c[i * ldc + j]) - sum)
                if error / bound > worst.excess { worst = (error / bound, i, j, c[i * ldc + j], sum) }
            }
        }
        #expect(worst.excess <= 1, "\(label): C[\(worst.i), \(worst.j)] = \(worst.got), expected \(worst.expected)")
        // Padding columns past n and rows' tails are never written.
        for i in 0..<m { for j in n..<ldc { #expect(c[i * ldc + j] == before[i * ldc + j], "\(label): wrote C[\(i), \(j)] past n") } }
    }
}
