internal import CBLAS

// The one place the engine calls OpenBLAS. Matrices are row-major.

enum BLAS {
    /// The engine splits work across cores itself (one GEMM per worker), so BLAS runs each
    /// call on the calling thread; set once, on first use.
    private static let singleThreaded: Void = openblas_set_num_threads(1)

    /// C = alpha · op(A) · op(B) + beta · C, with op(A) m×k and op(B) k×n (row-major).
    @inline(__always)
    static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        _ = singleThreaded
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Threads OpenBLAS uses inside one GEMM.
    static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(newValue)) }
    }
}

/// Public face of the BLAS settings and peak measurement, for benchmarks.
public enum MatrixMultiply {
    /// C = A·B for row-major A (m×k), B (k×n), C (m×n), on `threads` BLAS threads.
    public static func multiply(_ a: Tensor, _ b: Tensor, into c: Tensor, m: Int, n: Int, k: Int, threads: Int) {
        precondition(a.count >= m * k && b.count >= k * n && c.count >= m * n)
        BLAS.threads = threads
        defer { BLAS.threads = 1 }
        BLAS.gemm(transposeA: false, transposeB: false, m: m, n: n, k: k,
                  a: a.storage, lda: k, b: b.storage, ldb: n, beta: 0, c: c.storage, ldc: n)
    }
}
