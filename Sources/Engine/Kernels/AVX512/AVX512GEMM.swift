// Single-precision GEMM with AVX-512 (16 floats per register), for the convolution GEMMs:
// C (m×n) = A (m×k) · B (k×n), or C += that. This module is compiled for AVX-512
// (Package.swift), and the engine calls it only on a processor that has it (GEMM.swift).
//
// Why not OpenBLAS: the machine's OpenBLAS is pinned to its AVX2 kernels
// (OPENBLAS_CORETYPE=Haswell), half the width the processor has. The shapes here are
// narrow (n = 16…128 output channels, k = 9…576), where OpenBLAS also spends a tenth of its
// time packing both operands.
//
// Method (the BLIS/GotoBLAS loop nest, reduced): B is packed per block of k (≤ `kBlock`
// rows) into panels of 16 columns, zero-padded; A is read in place, any strides, so the
// caller never transposes or packs it (im2row rows, a gradient read transposed); C is
// computed in register tiles of up to 12 rows × 32 columns (Tiles.swift), each k step one
// broadcast of A per row and one or two loads of B. Columns past n are computed on zero
// padding in a local tile and not stored.

typealias V = SIMD16<Float>

@inline(__always) func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }

@inline(__always) func put(_ v: V, _ p: UnsafeMutablePointer<Float>, _ accumulate: Bool) { putVector(v, p, accumulate) }

/// Half a register: the Winograd transforms run the last channels of a row in one when at
/// most eight remain past a multiple of 16 (a pruned layer's 8 or 40 channels).
typealias H = SIMD8<Float>

/// `load` and `put` for vectors of either width.
@inline(__always) func loadVector<W: SIMD>(_ p: UnsafePointer<Float>, as _: W.Type = W.self) -> W where W.Scalar == Float {
    UnsafeRawPointer(p).loadUnaligned(as: W.self)
}

@inline(__always) func putVector<W: SIMD>(_ v: W, _ p: UnsafeMutablePointer<Float>, _ accumulate: Bool) where W.Scalar == Float {
    let raw = UnsafeMutableRawPointer(p)
    raw.storeBytes(of: accumulate ? v + raw.loadUnaligned(as: W.self) : v, as: W.self)
}

public enum AVX512GEMM {
    /// Rows of B packed at a time: a 32-column pair of panels of a block is 32 KiB, in L1
    /// beside the tile's rows of A.
    public static let kBlock = 256
    static let tileRows = 12

    /// Floats of packing scratch `multiply` needs for `n` columns.
    public static func packCount(n: Int) -> Int { kBlock * (n + 15) / 16 * 16 }

    /// C[i, j] = (accumulate ? C[i, j] : 0) + Σ_k A[i, k]·B[k, j] for i < m, j < n, where
    /// A[i, k] = a[i·rowStride + k·columnStride], B[k, j] = b[k·ldb + j] (or b[j·ldb + k] with
    /// `transposeB`), C[i, j] = c[i·ldc + j]. `pack` holds `packCount(n: n)` floats.
    public static func multiply(m: Int, n: Int, k: Int,
                                a: UnsafePointer<Float>, rowStride: Int, columnStride: Int,
                                b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
                                c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool,
                                pack: UnsafeMutablePointer<Float>) {
        guard m > 0 && n > 0 else { return }
        if k == 0 {
            if !accumulate { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
            return
        }
        var k0 = 0
        while k0 < k {
            let kc = min(kBlock, k - k0)
            packB(b + (transposeB ? k0 : k0 * ldb), ldb: ldb, transposed: transposeB, kc: kc, n: n, into: pack)
            run(m: m, n: n, kc: kc, a: a + k0 * columnStride, rowStride: rowStride, columnStride: columnStride,
                panels: pack, panelLength: kc, c: c, ldc: ldc, accumulate: accumulate || k0 > 0)
            k0 += kc
        }
    }

    /// Floats of B packed whole (`pack`) for k rows and n columns.
    public static func packedCount(k: Int, n: Int) -> Int { k * ((n + 15) / 16 * 16) }

    /// Packs all k rows of B (b[kk·ldb + j], or b[j·ldb + kk] when `transposed`) for
    /// `multiplyPacked`, which then reads any run of its rows.
    public static func pack(_ b: UnsafePointer<Float>, ldb: Int, transposed: Bool, k: Int, n: Int,
                            into packed: UnsafeMutablePointer<Float>) {
        packB(b, ldb: ldb, transposed: transposed, kc: k, n: n, into: packed)
    }

    /// C (+)= A · B[k0 ..< k0 + k, :], B packed whole by `pack` (`packedK` rows); A and C as in
    /// `multiply`. For convolutions that read their input in place: one call per kernel row,
    /// A a strided view of the (padded) input and B that kernel row's part of the weights.
    public static func multiplyPacked(m: Int, n: Int, k: Int,
                                      a: UnsafePointer<Float>, rowStride: Int, columnStride: Int,
                                      packed: UnsafePointer<Float>, packedK: Int, k0: Int,
                                      c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        guard m > 0 && n > 0 && k > 0 else { return }
        run(m: m, n: n, kc: k, a: a, rowStride: rowStride, columnStride: columnStride,
            panels: packed + k0 * 16, panelLength: packedK, c: c, ldc: ldc, accumulate: accumulate)
    }

    /// One tile of `rows` (≤ 12) rows of C whose rows of A and C lie anywhere: C row i (+)=
    /// Σ A_i[kk]·B[k0 + kk, :], k running over `segments` runs of `span`, A_i's run s at
    /// a[i] + s·segmentStride, B's rows one run after another (packed whole by `pack`,
    /// `packedK` rows). For convolutions over a padded input: row i an output pixel, run s a
    /// kernel row; the accumulators stay in registers across kernel rows.
    public static func multiplyGathered(rows: Int, n: Int, span: Int, segments: Int, segmentStride: Int,
                                        a: UnsafePointer<UnsafePointer<Float>>, packed: UnsafePointer<Float>, packedK: Int,
                                        k0: Int, c: UnsafePointer<UnsafeMutablePointer<Float>>, accumulate: Bool) {
        precondition(rows >= 1 && rows <= tileRows, "a gathered tile has 1 to \(tileRows) rows, found \(rows)")
        let panels = (n + 15) / 16
        var p = 0
        while p < panels {
            let width = p + 1 < panels ? 32 : 16
            let b0 = packed + p * packedK * 16 + k0 * 16, b1 = width == 32 ? b0 + packedK * 16 : b0
            let columns = min(width, n - p * 16)
            if columns == width {
                withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Float>.self, capacity: tileRows) { shifted in
                    for i in 0..<rows { shifted[i] = c[i] + p * 16 }
                    gathered(rows: rows, width: width, span, segments, segmentStride, a, b0, b1,
                             UnsafePointer(shifted.baseAddress!), accumulate)
                }
            } else {
                // The last panel runs past n: compute into a local tile, store what fits.
                withUnsafeTemporaryAllocation(of: Float.self, capacity: tileRows * 32) { local in
                    withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Float>.self, capacity: tileRows) { localRows in
                        for i in 0..<rows { localRows[i] = local.baseAddress! + i * 32 }
                        gathered(rows: rows, width: width, span, segments, segmentStride, a, b0, b1,
                                 UnsafePointer(localRows.baseAddress!), false)
                        for i in 0..<rows {
                            let target = c[i] + p * 16, source = local.baseAddress! + i * 32
                            if accumulate {
                                for j in 0..<columns { target[j] += source[j] }
                            } else {
                                target.update(from: source, count: columns)
                            }
                        }
                    }
                }
            }
            p += width / 16
        }
    }

    /// The tiles over C for kc steps of k; panel p of B starts at panels + p·panelLength·16.
    @inline(__always)
    static func run(m: Int, n: Int, kc: Int, a: UnsafePointer<Float>, rowStride: Int, columnStride: Int,
                    panels base: UnsafePointer<Float>, panelLength: Int,
                    c: UnsafeMutablePointer<Float>, ldc: Int, accumulate adding: Bool) {
        let panels = (n + 15) / 16
        var i0 = 0
        while i0 < m {
            let rows = min(tileRows, m - i0)
            let aTile = a + i0 * rowStride
            var p = 0
            while p < panels {
                let width = p + 1 < panels ? 32 : 16
                let b0 = base + p * panelLength * 16, b1 = width == 32 ? b0 + panelLength * 16 : b0
                let columns = min(width, n - p * 16)
                let cTile = c + i0 * ldc + p * 16
                if columns == width {
                    tile(rows: rows, width: width, kc, aTile, rowStride, columnStride, b0, b1, cTile, ldc, adding)
                } else {
                    // The last panel runs past n: compute into a local tile, store what fits.
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: tileRows * 32) { local in
                        let t = local.baseAddress!
                        tile(rows: rows, width: width, kc, aTile, rowStride, columnStride, b0, b1, t, 32, false)
                        for i in 0..<rows {
                            let target = cTile + i * ldc, source = t + i * 32
                            if adding {
                                for j in 0..<columns { target[j] += source[j] }
                            } else {
                                target.update(from: source, count: columns)
                            }
                        }
                    }
                }
                p += width / 16
            }
            i0 += rows
        }
    }

    /// Panels of 16 columns of B's rows 0..<kc: pack[p·kc·16 + kk·16 + jj] = B[kk, 16p + jj],
    /// zero past column n.
    static func packB(_ b: UnsafePointer<Float>, ldb: Int, transposed: Bool, kc: Int, n: Int,
                      into pack: UnsafeMutablePointer<Float>) {
        let panels = (n + 15) / 16
        for p in 0..<panels {
            let panel = pack + p * kc * 16, j0 = p * 16, columns = min(16, n - j0)
            if transposed {
                // Row kk of the panel gathers element kk of 16 rows of b: the panel is written
                // in order (one pass over its cache lines, not 16) while 16 rows stream in. A
                // whole panel goes 16 rows of k at a time through a transpose in registers
                // (a weight matrix packed for batch 1 took a sixth of the pass element by
                // element); a partial one, and the last rows of k, element by element.
                if columns < 16 { panel.update(repeating: 0, count: kc * 16) }
                withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: 16) { sources in
                    for jj in 0..<columns { sources[jj] = b + (j0 + jj) * ldb }
                    var kk = 0
                    if columns == 16 {
                        while kk + 16 <= kc {
                            transpose16(UnsafePointer(sources.baseAddress!), kk, into: panel + kk * 16)
                            kk += 16
                        }
                    }
                    while kk < kc {
                        let target = panel + kk * 16
                        for jj in 0..<columns { target[jj] = sources[jj][kk] }
                        kk += 1
                    }
                }
            } else {
                for kk in 0..<kc {
                    let target = panel + kk * 16, source = b + kk * ldb + j0
                    if columns == 16 {
                        UnsafeMutableRawPointer(target).storeBytes(of: load(source), as: V.self)
                    } else {
                        target.update(from: source, count: columns)
                        (target + columns).update(repeating: 0, count: 16 - columns)
                    }
                }
            }
        }
    }
}

// MARK: - A 16×16 transpose in registers

/// target[16·j + i] = rows[i][k0 + j] for i, j < 16: sixteen loads, four rounds of sixteen
/// two-register shuffles (pairs of floats, pairs of pairs, then 128-bit quarters twice), and
/// sixteen stores, where element by element takes a load and a store per float.
@inline(__always)
func transpose16(_ rows: UnsafePointer<UnsafePointer<Float>>, _ k0: Int, into target: UnsafeMutablePointer<Float>) {
    // Inline arrays: the registers' values stay on the stack at worst, never on the heap (a
    // temporary allocation of this size is a malloc).
    var r = InlineArray<16, V>(repeating: V()), t = InlineArray<16, V>(repeating: V())
    for i in 0..<16 { r[i] = load(rows[i] + k0) }
    // Floats of row pairs interleaved: t[2p], t[2p + 1] hold rows 2p, 2p + 1.
    for p in 0..<8 {
        let (a, b) = (r[2 * p], r[2 * p + 1])
        t[2 * p] = V(a[0], b[0], a[1], b[1], a[4], b[4], a[5], b[5], a[8], b[8], a[9], b[9], a[12], b[12], a[13], b[13])
        t[2 * p + 1] = V(a[2], b[2], a[3], b[3], a[6], b[6], a[7], b[7], a[10], b[10], a[11], b[11], a[14], b[14], a[15], b[15])
    }
    // Pairs of floats interleaved: each 128-bit quarter now holds one column of four rows.
    for q in 0..<4 {
        for h in 0..<2 {
            let (a, b) = (t[4 * q + h], t[4 * q + h + 2])
            r[4 * q + 2 * h] = V(a[0], a[1], b[0], b[1], a[4], a[5], b[4], b[5], a[8], a[9], b[8], b[9], a[12], a[13], b[12], b[13])
            r[4 * q + 2 * h + 1] = V(a[2], a[3], b[2], b[3], a[6], a[7], b[6], b[7], a[10], a[11], b[10], b[11], a[14], a[15], b[14], b[15])
        }
    }
    // Quarters: (a₀, a₂, b₀, b₂) and (a₁, a₃, b₁, b₃), twice.
    @inline(__always) func evenQuarters(_ a: V, _ b: V) -> V {
        V(a[0], a[1], a[2], a[3], a[8], a[9], a[10], a[11], b[0], b[1], b[2], b[3], b[8], b[9], b[10], b[11])
    }
    @inline(__always) func oddQuarters(_ a: V, _ b: V) -> V {
        V(a[4], a[5], a[6], a[7], a[12], a[13], a[14], a[15], b[4], b[5], b[6], b[7], b[12], b[13], b[14], b[15])
    }
    for i in 0..<4 {
        t[i] = evenQuarters(r[i], r[i + 4]); t[i + 4] = oddQuarters(r[i], r[i + 4])
        t[i + 8] = evenQuarters(r[i + 8], r[i + 12]); t[i + 12] = oddQuarters(r[i + 8], r[i + 12])
    }
    for i in 0..<8 {
        r[i] = evenQuarters(t[i], t[i + 8]); r[i + 8] = oddQuarters(t[i], t[i + 8])
    }
    for j in 0..<16 { UnsafeMutableRawPointer(target + 16 * j).storeBytes(of: r[j], as: V.self) }
}
