// The transforms of Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray, CVPR 2016), over
// NHWC data, 16 channels per register (a row's last eight or fewer in half of one). A 3×3
// correlation of a 4×4 input tile d gives a 2×2 output tile y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A,
// with
//
//   Bᵀ = | 1  0 −1  0 |     G = | 1    0    0  |     Aᵀ = | 1  1  1  0 |
//        | 0  1  1  0 |         | ½    ½    ½  |          | 0  1 −1 −1 |
//        | 0 −1  1  0 |         | ½   −½    ½  |
//        | 0  1  0 −1 |         | 0    0    1  |
//
// so the 16 products per tile and channel pair replace 36 multiplies; summed over input
// channels, each of the 16 positions ξ is one GEMM (tiles × C by C × O), and the transforms
// are additions only. The coefficients are 0, ±1 and ±½, so the transforms add little
// rounding (larger tiles, F(4×4, 3×3), bring coefficients up to 8 and error with them).

public enum WinogradTransforms {
    /// Positions of a transformed tile (4×4).
    public static let positions = 16

    /// V = Bᵀ d B for the tiles of tile rows r0 ..< r0 + count of an NHWC input x (height ×
    /// width × c per image, zero padding `pad` around it): tile row r is image r / tilesHigh
    /// at input rows 2(r % tilesHigh) − pad ..< +4, and tile t of the run (row-major,
    /// `tilesWide` per row) writes V[ξ][t, :] at v + ξ·positionStride + t·c8, c8 = c rounded
    /// up to 8 (`tileChannels`), zeros past c. Pixels outside the image are read from `zeros`
    /// (c8 zeros), so a border tile costs what an inner one does, without a copy or a branch
    /// per pixel.
    public static func inputTiles(x: UnsafePointer<Float>, height: Int, width: Int, channels c: Int, pad: Int,
                                  tilesHigh: Int, tilesWide: Int, rows r0: Int, count: Int,
                                  v: UnsafeMutablePointer<Float>, positionStride: Int, zeros: UnsafePointer<Float>) {
        let c8 = tileChannels(c), whole = c / 16 * 16, rest = c - whole
        forEachTile(x: x, height: height, width: width, channels: c, pad: pad, side: 4, tilesHigh: tilesHigh,
                    tilesWide: tilesWide, rows: r0, count: count, zeros: zeros) { pixel, tile in
            let target = v + tile * c8
            var c0 = 0
            while c0 < whole {
                transformTile(pixel, c0, v: target + c0, positionStride: positionStride) { load($0) }
                c0 += 16
            }
            if rest > 8 {
                transformTile(pixel, c0, v: target + c0, positionStride: positionStride) { read($0, rest, as: V.self) }
            } else if rest > 0 {
                transformTile(pixel, c0, v: target + c0, positionStride: positionStride) { read($0, rest, as: H.self) }
            }
        }
    }

    /// Channels of a transformed tile: c rounded up to 8, so a row that ends at most eight
    /// channels past a multiple of 16 ends in half a register.
    public static func tileChannels(_ c: Int) -> Int { (c + 7) / 8 * 8 }

    /// For each tile of tile rows r0 ..< r0 + count (numbered from 0 in row-major order,
    /// `tilesWide` per row), its side × side input pixels by pointer, row-major: tile row r is
    /// image r / tilesHigh at input rows (side − 2)(r % tilesHigh) − pad ..< + side, columns
    /// likewise; a pixel outside the image points at `zeros`.
    @inline(__always)
    static func forEachTile(x: UnsafePointer<Float>, height: Int, width: Int, channels c: Int, pad: Int, side: Int,
                            tilesHigh: Int, tilesWide: Int, rows r0: Int, count: Int, zeros: UnsafePointer<Float>,
                            _ body: (UnsafePointer<UnsafePointer<Float>>, Int) -> Void) {
        let step = side - 2
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: side * side) { pixels in
            let pixel = pixels.baseAddress!
            for r in r0..<(r0 + count) {
                let image = x + (r / tilesHigh) * height * width * c, iy0 = step * (r % tilesHigh) - pad
                for tx in 0..<tilesWide {
                    let ix0 = step * tx - pad
                    for i in 0..<side {
                        for j in 0..<side {
                            let iy = iy0 + i, ix = ix0 + j
                            pixel[side * i + j] = iy >= 0 && iy < height && ix >= 0 && ix < width ? image + (iy * width + ix) * c : zeros
                        }
                    }
                    body(UnsafePointer(pixel), (r - r0) * tilesWide + tx)
                }
            }
        }
    }

    /// V = Bᵀ d B of a vector of channels from c0 of one tile, pixel (i, j) at pixel[4i + j] +
    /// c0 read by `read`, into v[ξ·positionStride].
    @inline(__always)
    static func transformTile<W: SIMD>(_ pixel: UnsafePointer<UnsafePointer<Float>>, _ c0: Int, v: UnsafeMutablePointer<Float>,
                                       positionStride: Int, read: (UnsafePointer<Float>) -> W) where W.Scalar == Float {
        @inline(__always) func row(_ i: Int) -> (W, W, W, W) {
            rowTransform(read(pixel[4 * i] + c0), read(pixel[4 * i + 1] + c0), read(pixel[4 * i + 2] + c0), read(pixel[4 * i + 3] + c0))
        }
        transform(row(0), row(1), row(2), row(3), v: v, positionStride: positionStride)
    }

    /// y = Aᵀ M A for the tiles `inputTiles` numbered: M[ξ][t, :] at m + ξ·positionStride +
    /// t·o16 (o16: o rounded up to 16); y (NHWC, outHeight × outWidth × o per image) written,
    /// or added to with `accumulate`, where the tile lies inside it, plus `bias` when given.
    /// At most eight channels past a multiple of 16 are transformed in half a register.
    public static func outputTiles(m: UnsafePointer<Float>, positionStride: Int, y: UnsafeMutablePointer<Float>,
                                   outHeight p: Int, outWidth q: Int, channels o: Int, tilesHigh: Int, tilesWide: Int,
                                   rows r0: Int, count: Int, bias: UnsafePointer<Float>?, accumulate: Bool) {
        let o16 = (o + 15) / 16 * 16
        for r in r0..<(r0 + count) {
            let n = r / tilesHigh, oy0 = 2 * (r % tilesHigh)
            let bothRows = oy0 + 1 < p
            for tx in 0..<tilesWide {
                let ox0 = 2 * tx, tile = (r - r0) * tilesWide + tx
                let top = y + ((n * p + oy0) * q + ox0) * o, bottom = top + q * o
                let columns = min(2, q - ox0)
                /// The tile's channels o0 ..< o0 + lanes, in vectors of W.
                @inline(__always) func channels<W: SIMD>(_ o0: Int, _ lanes: Int, as _: W.Type) where W.Scalar == Float {
                    let (y00, y01, y10, y11) = outputTransform(m + tile * o16 + o0, positionStride: positionStride,
                                                               bias: bias.map { read($0 + o0, lanes, as: W.self) } ?? W())
                    if lanes == W.scalarCount && columns == 2 && bothRows {
                        putVector(y00, top + o0, accumulate); putVector(y01, top + o + o0, accumulate)
                        putVector(y10, bottom + o0, accumulate); putVector(y11, bottom + o + o0, accumulate)
                    } else {
                        store(y00, top + o0, lanes, accumulate)
                        if columns == 2 { store(y01, top + o + o0, lanes, accumulate) }
                        if bothRows {
                            store(y10, bottom + o0, lanes, accumulate)
                            if columns == 2 { store(y11, bottom + o + o0, lanes, accumulate) }
                        }
                    }
                }
                var o0 = 0
                while o0 < o {
                    let lanes = min(16, o - o0)
                    if lanes > 8 { channels(o0, lanes, as: V.self) } else { channels(o0, lanes, as: H.self) }
                    o0 += 16
                }
            }
        }
    }

    /// The 2×2 outputs (y00, y01, y10, y11) of one tile's products m[ξ] at m + ξ·positionStride.
    @inline(__always)
    static func outputTransform<W: SIMD>(_ m: UnsafePointer<Float>, positionStride: Int, bias: W) -> (W, W, W, W) where W.Scalar == Float {
        @inline(__always) func at(_ xi: Int) -> W { loadVector(m + xi * positionStride) }
        // Aᵀ m: two rows of four; then each row times A.
        let s00 = at(0) + at(4) + at(8), s01 = at(1) + at(5) + at(9), s02 = at(2) + at(6) + at(10), s03 = at(3) + at(7) + at(11)
        let s10 = at(4) - at(8) - at(12), s11 = at(5) - at(9) - at(13), s12 = at(6) - at(10) - at(14), s13 = at(7) - at(11) - at(15)
        return (s00 + s01 + s02 + bias, s01 - s02 - s03 + bias, s10 + s11 + s12 + bias, s11 - s12 - s13 + bias)
    }

    /// One row of d times B: (d0 − d2, d1 + d2, d2 − d1, d1 − d3).
    @inline(__always)
    static func rowTransform<W: SIMD>(_ d0: W, _ d1: W, _ d2: W, _ d3: W) -> (W, W, W, W) where W.Scalar == Float {
        (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
    }

    /// Bᵀ applied across the rows r_i = (d B)_i, written out.
    @inline(__always)
    static func transform<W: SIMD>(_ r0: (W, W, W, W), _ r1: (W, W, W, W), _ r2: (W, W, W, W), _ r3: (W, W, W, W),
                                   v: UnsafeMutablePointer<Float>, positionStride: Int) where W.Scalar == Float {
        @inline(__always) func put(_ x: W, _ xi: Int) { putVector(x, v + xi * positionStride, false) }
        put(r0.0 - r2.0, 0); put(r0.1 - r2.1, 1); put(r0.2 - r2.2, 2); put(r0.3 - r2.3, 3)
        put(r1.0 + r2.0, 4); put(r1.1 + r2.1, 5); put(r1.2 + r2.2, 6); put(r1.3 + r2.3, 7)
        put(r2.0 - r1.0, 8); put(r2.1 - r1.1, 9); put(r2.2 - r1.2, 10); put(r2.3 - r1.3, 11)
        put(r1.0 - r3.0, 12); put(r1.1 - r3.1, 13); put(r1.2 - r3.2, 14); put(r1.3 - r3.3, 15)
    }

    /// U = G g Gᵀ for one filter of 3×3 taps, g[ky][kx] at g + (3·ky + kx)·`tapStride`,
    /// U[ξ] to u[ξ·`positionStride`]. Scalar: the weights are transformed once per pass.
    public static func filter(_ g: UnsafePointer<Float>, tapStride: Int, u: UnsafeMutablePointer<Float>, positionStride: Int) {
        @inline(__always) func tap(_ ky: Int, _ kx: Int) -> Float { g[(3 * ky + kx) * tapStride] }
        // G g, one row of three per i, then each row times Gᵀ.
        for i in 0..<4 {
            func t(_ kx: Int) -> Float {
                switch i {
                case 0: return tap(0, kx)
                case 1: return 0.5 * (tap(0, kx) + tap(1, kx) + tap(2, kx))
                case 2: return 0.5 * (tap(0, kx) - tap(1, kx) + tap(2, kx))
                default: return tap(2, kx)
                }
            }
            let (a, b, c) = (t(0), t(1), t(2))
            u[(4 * i) * positionStride] = a
            u[(4 * i + 1) * positionStride] = 0.5 * (a + b + c)
            u[(4 * i + 2) * positionStride] = 0.5 * (a - b + c)
            u[(4 * i + 3) * positionStride] = c
        }
    }

    /// The first `count` floats at p, the rest zero.
    @inline(__always)
    static func read<W: SIMD>(_ p: UnsafePointer<Float>, _ count: Int, as _: W.Type) -> W where W.Scalar == Float {
        if count == W.scalarCount { return loadVector(p) }
        var v = W()
        for i in 0..<count { v[i] = p[i] }
        return v
    }

    /// The first `count` lanes of v stored (added, with `accumulate`) at p.
    @inline(__always)
    static func store<W: SIMD>(_ v: W, _ p: UnsafeMutablePointer<Float>, _ count: Int, _ accumulate: Bool) where W.Scalar == Float {
        for i in 0..<count { p[i] = accumulate ? p[i] + v[i] : v[i] }
    }
}

// The weight gradient by F(3×3, 2×2): a 2×2 tile of dy correlated with the 4×4 input tile
// under it gives that tile's share of the 3×3 filter gradient,
//
//   dW_tile = A′ᵀ [(G′ dy G′ᵀ) ⊙ (B′ᵀ d B′)] A′,
//
//   B′ᵀ = | 1  0 −1  0 |     G′ = | 1   0 |     A′ᵀ = | 1  1  1  0 |
//         | 0  1  1  0 |          | ½   ½ |           | 0  1 −1  0 |
//         | 0 −1  1  0 |          | ½  −½ |           | 0  1  1  1 |
//         | 0 −1  0  1 |          | 0   1 |
//
// B′ᵀ is Bᵀ above with its last row negated, B′ᵀ = S Bᵀ with S = diag(1, 1, 1, −1), so
// B′ᵀ d B′ = S (Bᵀ d B) S: the forward pass's input transform with some signs flipped. The
// flips are moved to the other factor (S G′ instead of G′, its last row negated), so the
// weight gradient reuses `inputTiles`. The sum over tiles is taken before A′: per position ξ,
// Σ_t V_t[ξ][c]·U_t[ξ][o] is one GEMM (C × tiles by tiles × O), and A′ is applied once per
// filter pair at the end.

extension WinogradTransforms {
    /// U′ = (S G′) g (S G′)ᵀ for the 2×2 tiles g of a zero-padded dy (height × width ×
    /// channels per image, both even, channels a multiple of 16), numbered as `inputTiles`
    /// numbers them.
    public static func gradientOutputTiles(padded: UnsafePointer<Float>, height: Int, width: Int, channels o: Int,
                                           tilesHigh: Int, tilesWide: Int, rows r0: Int, count: Int,
                                           u: UnsafeMutablePointer<Float>, positionStride: Int) {
        let rowStride = width * o
        for r in r0..<(r0 + count) {
            let top = padded + ((r / tilesHigh) * height + 2 * (r % tilesHigh)) * rowStride
            for tx in 0..<tilesWide {
                let a = top + 2 * tx * o, b = a + rowStride
                let target = u + ((r - r0) * tilesWide + tx) * o
                var o0 = 0
                while o0 < o {
                    let (g00, g01, g10, g11) = (load(a + o0), load(a + o + o0), load(b + o0), load(b + o + o0))
                    // S G′ g: rows (g0, ½(g0 + g1), ½(g0 − g1), −g1) of two columns; then each row
                    // (x, y) times (S G′)ᵀ: (x, ½(x + y), ½(x − y), −y).
                    let half = V(repeating: 0.5)
                    @inline(__always) func put(_ i: Int, _ x: V, _ y: V) {
                        let base = target + o0 + 4 * i * positionStride
                        UnsafeMutableRawPointer(base).storeBytes(of: x, as: V.self)
                        UnsafeMutableRawPointer(base + positionStride).storeBytes(of: (x + y) * half, as: V.self)
                        UnsafeMutableRawPointer(base + 2 * positionStride).storeBytes(of: (x - y) * half, as: V.self)
                        UnsafeMutableRawPointer(base + 3 * positionStride).storeBytes(of: -y, as: V.self)
                    }
                    put(0, g00, g01)
                    put(1, (g00 + g10) * half, (g01 + g11) * half)
                    put(2, (g00 - g10) * half, (g01 - g11) * half)
                    put(3, -g10, -g11)
                    o0 += 16
                }
            }
        }
    }

    /// The 3×3 filter gradient A′ᵀ m A′ of one filter pair from its 16 summed products m[ξ]
    /// at m + ξ·`positionStride`, added to g[(3·ky + kx)·`tapStride`]. Scalar: once per pass.
    public static func filterGradient(_ m: UnsafePointer<Float>, positionStride: Int, into g: UnsafeMutablePointer<Float>, tapStride: Int) {
        @inline(__always) func at(_ i: Int, _ j: Int) -> Float { m[(4 * i + j) * positionStride] }
        // A′ᵀ m, one column j at a time into three rows s0, s1, s2; then each row times A′.
        @inline(__always) func column(_ j: Int) -> (Float, Float, Float) {
            (at(0, j) + at(1, j) + at(2, j), at(1, j) - at(2, j), at(1, j) + at(2, j) + at(3, j))
        }
        let c0 = column(0), c1 = column(1), c2 = column(2), c3 = column(3)
        @inline(__always) func add(_ i: Int, _ x0: Float, _ x1: Float, _ x2: Float, _ x3: Float) {
            g[(3 * i) * tapStride] += x0 + x1 + x2
            g[(3 * i + 1) * tapStride] += x1 - x2
            g[(3 * i + 2) * tapStride] += x1 + x2 + x3
        }
        add(0, c0.0, c1.0, c2.0, c3.0)
        add(1, c0.1, c1.1, c2.1, c3.1)
        add(2, c0.2, c1.2, c2.2, c3.2)
    }
}
