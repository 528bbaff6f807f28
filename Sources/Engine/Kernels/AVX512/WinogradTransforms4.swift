// The transforms of Winograd's minimal filtering F(4×4, 3×3) (Lavin & Gray, CVPR 2016), over
// NHWC data, 16 channels per register (a row's last eight or fewer in half of one). A 3×3
// correlation of a 6×6 input tile d gives a 4×4 output tile y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A,
// with the interpolation points 0, ±1, ±2, ∞:
//
//   Bᵀ = | 4  0 −5  0  1  0 |     G = |  ¼     0     0  |     Aᵀ = | 1  1  1  1  1  0 |
//        | 0 −4 −4  1  1  0 |         | −⅙    −⅙    −⅙  |          | 0  1 −1  2 −2  0 |
//        | 0  4 −4 −1  1  0 |         | −⅙     ⅙    −⅙  |          | 0  1  1  4  4  0 |
//        | 0 −2 −1  2  1  0 |         | 1/24  1/12   ⅙  |          | 0  1 −1  8 −8  1 |
//        | 0  2 −1 −2  1  0 |         | 1/24 −1/12   ⅙  |
//        | 0  4  0 −5  0  1 |         |  0     0     1  |
//
// 36 products per tile and channel pair replace 144 multiplies (4×, against F(2×2, 3×3)'s
// 2.25×), and each output pixel carries 36/16 transformed values instead of 16/4, so the
// transforms move fewer bytes too. The price is rounding: the coefficients reach 8 and the
// filter's ⅙ and 1/24 are inexact, so the result differs from the direct sum by some
// hundred ulps of the largest term (ConvolutionTests measures and bounds it).

public enum WinogradTransforms4 {
    /// Positions of a transformed tile (6×6).
    public static let positions = 36

    /// V = Bᵀ d B for the tiles of tile rows r0 ..< r0 + count of an NHWC input x (height ×
    /// width × c per image, zero padding `pad` around it): tile row r is image r / tilesHigh
    /// at input rows 4(r % tilesHigh) − pad ..< +6, and tile t of the run (row-major,
    /// `tilesWide` per row) writes V[ξ][t, :] at v + ξ·positionStride + t·c8, c8 = c rounded
    /// up to 8 (`WinogradTransforms.tileChannels`), zeros past c. Pixels outside the image are
    /// read from `zeros` (c8 zeros), so a border tile costs what an inner one does, without a
    /// copy or a branch per pixel; `end` is the end of x.
    public static func inputTiles(x: UnsafePointer<Float>, height: Int, width: Int, channels c: Int, pad: Int,
                                  tilesHigh: Int, tilesWide: Int, rows r0: Int, count: Int,
                                  v: UnsafeMutablePointer<Float>, positionStride: Int, zeros: UnsafePointer<Float>,
                                  end: UnsafePointer<Float>) {
        let c8 = WinogradTransforms.tileChannels(c), whole = c / 16 * 16, rest = c - whole
        let keptOf16 = SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) .< Int32(rest)
        let keptOf8 = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7) .< Int32(rest)
        withUnsafeTemporaryAllocation(of: V.self, capacity: positions) { rows in
            let dB = rows.baseAddress!
            WinogradTransforms.forEachTile(x: x, height: height, width: width, channels: c, pad: pad, side: 6, tilesHigh: tilesHigh,
                                           tilesWide: tilesWide, rows: r0, count: count, zeros: zeros) { pixel, tile in
                let target = v + tile * c8
                var c0 = 0
                while c0 < whole {
                    transformTile(pixel, c0, dB: dB, target: target + c0, positionStride: positionStride) { load($0) }
                    c0 += 16
                }
                // The channels past the last whole register, in a whole or a half register:
                // its width of floats read and the lanes past c zeroed, where they lie within
                // x (or the zeros); at x's very end, one by one.
                if rest > 8 {
                    transformTile(pixel, c0, dB: dB, target: target + c0, positionStride: positionStride) { p in
                        p + 16 <= end || (p >= zeros && p < zeros + c8)
                            ? V().replacing(with: load(p), where: keptOf16) : WinogradTransforms.read(p, rest, as: V.self)
                    }
                } else if rest > 0 {
                    // dB's room for 36 registers holds 36 halves.
                    dB.withMemoryRebound(to: H.self, capacity: positions) { half in
                        transformTile(pixel, c0, dB: half, target: target + c0, positionStride: positionStride) { p in
                            p + 8 <= end || (p >= zeros && p < zeros + c8)
                                ? H().replacing(with: loadVector(p), where: keptOf8) : WinogradTransforms.read(p, rest, as: H.self)
                        }
                    }
                }
            }
        }
    }

    /// Bᵀ d B of a vector of channels from c0 of one tile, pixel (i, j) at pixel[6i + j] + c0
    /// read by `read`, through dB (36 vectors' room), into target[ξ·positionStride].
    @inline(__always)
    static func transformTile<W: SIMD>(_ pixel: UnsafePointer<UnsafePointer<Float>>, _ c0: Int, dB: UnsafeMutablePointer<W>,
                                       target: UnsafeMutablePointer<Float>, positionStride: Int,
                                       read: (UnsafePointer<Float>) -> W) where W.Scalar == Float {
        // d B, row by row; then Bᵀ down each column.
        for i in 0..<6 {
            @inline(__always) func at(_ j: Int) -> W { read(pixel[6 * i + j] + c0) }
            let t = transform(at(0), at(1), at(2), at(3), at(4), at(5))
            dB[6 * i] = t.0; dB[6 * i + 1] = t.1; dB[6 * i + 2] = t.2
            dB[6 * i + 3] = t.3; dB[6 * i + 4] = t.4; dB[6 * i + 5] = t.5
        }
        for k in 0..<6 {
            let t = transform(dB[k], dB[6 + k], dB[12 + k], dB[18 + k], dB[24 + k], dB[30 + k])
            @inline(__always) func put(_ x: W, _ i: Int) { putVector(x, target + (6 * i + k) * positionStride, false) }
            put(t.0, 0); put(t.1, 1); put(t.2, 2); put(t.3, 3); put(t.4, 4); put(t.5, 5)
        }
    }

    /// Bᵀ applied to six values: (4d0 − 5d2 + d4, (d4 − 4d2) ± (d3 − 4d1), (d4 − d2) ± 2(d3 − d1), 4d1 − 5d3 + d5).
    @inline(__always)
    static func transform<W: SIMD>(_ d0: W, _ d1: W, _ d2: W, _ d3: W, _ d4: W, _ d5: W) -> (W, W, W, W, W, W) where W.Scalar == Float {
        let four = W(repeating: 4), five = W(repeating: 5), two = W(repeating: 2)
        let a = d4 - four * d2, b = d3 - four * d1
        let e = d4 - d2, f = two * (d3 - d1)
        return (four * d0 - five * d2 + d4, a + b, a - b, e + f, e - f, four * d1 - five * d3 + d5)
    }

    /// y = Aᵀ M A for the tiles `inputTiles` numbered: M[ξ][t, :] at m + ξ·positionStride +
    /// t·o16 (o16: o rounded up to 16); y (NHWC, outHeight × outWidth × o per image) written,
    /// or added to with `accumulate`, where the tile lies inside it, plus `bias` when given.
    /// At most eight channels past a multiple of 16 are transformed in half a register.
    public static func outputTiles(m: UnsafePointer<Float>, positionStride: Int, y: UnsafeMutablePointer<Float>,
                                   outHeight p: Int, outWidth q: Int, channels o: Int, tilesHigh: Int, tilesWide: Int,
                                   rows r0: Int, count: Int, bias: UnsafePointer<Float>?, accumulate: Bool) {
        let o16 = (o + 15) / 16 * 16
        withUnsafeTemporaryAllocation(of: V.self, capacity: 24) { columns in
            for r in r0..<(r0 + count) {
                let n = r / tilesHigh, oy0 = 4 * (r % tilesHigh)
                let rowsInside = min(4, p - oy0)
                for tx in 0..<tilesWide {
                    let ox0 = 4 * tx, tile = (r - r0) * tilesWide + tx
                    let columnsInside = min(4, q - ox0)
                    let corner = y + ((n * p + oy0) * q + ox0) * o
                    /// The tile's channels o0 ..< o0 + lanes, in vectors of W, through aM (24 vectors' room).
                    @inline(__always) func channels<W: SIMD>(_ o0: Int, _ lanes: Int, aM: UnsafeMutablePointer<W>) where W.Scalar == Float {
                        let b = bias.map { WinogradTransforms.read($0 + o0, lanes, as: W.self) } ?? W()
                        let base = m + tile * o16 + o0
                        // Aᵀ M, column by column into four rows; then each row times A.
                        for k in 0..<6 {
                            @inline(__always) func at(_ i: Int) -> W { loadVector(base + (6 * i + k) * positionStride) }
                            let s = outputTransform(at(0), at(1), at(2), at(3), at(4), at(5))
                            aM[k] = s.0; aM[6 + k] = s.1; aM[12 + k] = s.2; aM[18 + k] = s.3
                        }
                        for i in 0..<rowsInside {
                            let row = aM + 6 * i
                            let s = outputTransform(row[0], row[1], row[2], row[3], row[4], row[5])
                            let pixel = corner + i * q * o + o0
                            if lanes == W.scalarCount && columnsInside == 4 {
                                putVector(s.0 + b, pixel, accumulate); putVector(s.1 + b, pixel + o, accumulate)
                                putVector(s.2 + b, pixel + 2 * o, accumulate); putVector(s.3 + b, pixel + 3 * o, accumulate)
                            } else {
                                @inline(__always) func emit(_ x: W, _ j: Int) {
                                    guard j < columnsInside else { return }
                                    if lanes == W.scalarCount { putVector(x + b, pixel + j * o, accumulate) } else {
                                        WinogradTransforms.store(x + b, pixel + j * o, lanes, accumulate)
                                    }
                                }
                                emit(s.0, 0); emit(s.1, 1); emit(s.2, 2); emit(s.3, 3)
                            }
                        }
                    }
                    var o0 = 0
                    while o0 < o {
                        let lanes = min(16, o - o0)
                        if lanes > 8 {
                            channels(o0, lanes, aM: columns.baseAddress!)
                        } else {
                            // The room for 24 registers holds 24 halves.
                            columns.baseAddress!.withMemoryRebound(to: H.self, capacity: 24) { channels(o0, lanes, aM: $0) }
                        }
                        o0 += 16
                    }
                }
            }
        }
    }

    /// Aᵀ applied to six values: (m0 + p + r, q + 2s, p + 4r, q + 8s + m5), p, q = m1 ± m2, r, s = m3 ± m4.
    @inline(__always)
    static func outputTransform<W: SIMD>(_ m0: W, _ m1: W, _ m2: W, _ m3: W, _ m4: W, _ m5: W) -> (W, W, W, W) where W.Scalar == Float {
        let p = m1 + m2, q = m1 - m2, r = m3 + m4, s = m3 - m4
        return (m0 + p + r, q + W(repeating: 2) * s, p + W(repeating: 4) * r, q + W(repeating: 8) * s + m5)
    }

    /// U = G g Gᵀ for the filters of `lanes` (at most 16) consecutive input channels of one
    /// output channel, each 3×3 taps, tap (ky, kx) of lane l at g + (3·ky + kx)·`tapStride` + l;
    /// U[ξ] of lane l to u[ξ·`positionStride` + l·`laneStride`]. The lanes run in one register
    /// (the transform's ⅙ and 1/24 are multiplies by rounded constants, as accurate as the
    /// sums they scale).
    public static func filters(_ g: UnsafePointer<Float>, tapStride: Int, lanes: Int,
                               u: UnsafeMutablePointer<Float>, positionStride: Int, laneStride: Int) {
        @inline(__always) func tap(_ ky: Int, _ kx: Int) -> V { WinogradTransforms.read(g + (3 * ky + kx) * tapStride, lanes, as: V.self) }
        let quarter = V(repeating: 1.0 / 4), sixth = V(repeating: 1.0 / 6), twelfth = V(repeating: 1.0 / 12)
        let twentyFourth = V(repeating: 1.0 / 24)
        @inline(__always) func apply(_ a: V, _ b: V, _ c: V) -> (V, V, V, V, V, V) {
            let ends = a * twentyFourth + c * sixth, middle = b * twelfth
            return (a * quarter, -(a + b + c) * sixth, (b - a - c) * sixth, ends + middle, ends - middle, c)
        }
        // G g: six rows of three, one column kx at a time; then each row times Gᵀ.
        let c0 = apply(tap(0, 0), tap(1, 0), tap(2, 0))
        let c1 = apply(tap(0, 1), tap(1, 1), tap(2, 1))
        let c2 = apply(tap(0, 2), tap(1, 2), tap(2, 2))
        @inline(__always) func row(_ i: Int, _ a: V, _ b: V, _ c: V) {
            let t = apply(a, b, c)
            @inline(__always) func put(_ x: V, _ j: Int) {
                let target = u + (6 * i + j) * positionStride
                for l in 0..<lanes { target[l * laneStride] = x[l] }
            }
            put(t.0, 0); put(t.1, 1); put(t.2, 2); put(t.3, 3); put(t.4, 4); put(t.5, 5)
        }
        row(0, c0.0, c1.0, c2.0); row(1, c0.1, c1.1, c2.1); row(2, c0.2, c1.2, c2.2)
        row(3, c0.3, c1.3, c2.3); row(4, c0.4, c1.4, c2.4); row(5, c0.5, c1.5, c2.5)
    }
}

// The weight gradient by F(3×3, 4×4): a 4×4 tile of dy correlated with the 6×6 input tile
// under it gives that tile's share of the 3×3 filter gradient,
//
//   dW_tile = A′ᵀ [(G′ dy G′ᵀ) ⊙ (Bᵀ d B)] A′,
//
//   G′ = |  ¼     0     0     0  |     A′ᵀ = | 1  1  1  1  1  0 |
//        | −⅙    −⅙    −⅙    −⅙  |           | 0  1 −1  2 −2  0 |
//        | −⅙     ⅙    −⅙     ⅙  |           | 0  1  1  4  4  1 |
//        | 1/24  1/12   ⅙     ⅓  |
//        | 1/24 −1/12   ⅙    −⅓  |
//        |  0     0     0     1  |
//
// with the same points 0, ±1, ±2, ∞ as the forward pass, whose Bᵀ is then exactly the one
// above: the weight gradient reuses `inputTiles`. The sum over tiles is taken before A′: per
// position ξ, Σ_t V_t[ξ][c]·U′_t[ξ][o] is one GEMM (C × tiles by tiles × O), and A′ is
// applied once per filter pair at the end.

extension WinogradTransforms4 {
    /// U′ = G′ g G′ᵀ for the 4×4 tiles g of a zero-padded dy (height × width × channels per
    /// image, both multiples of 4, channels a multiple of 16), numbered as `inputTiles`
    /// numbers them.
    public static func gradientOutputTiles(padded: UnsafePointer<Float>, height: Int, width: Int, channels o: Int,
                                           tilesHigh: Int, tilesWide: Int, rows r0: Int, count: Int,
                                           u: UnsafeMutablePointer<Float>, positionStride: Int) {
        let rowStride = width * o
        let quarter = V(repeating: 1.0 / 4), sixth = V(repeating: 1.0 / 6), twelfth = V(repeating: 1.0 / 12)
        let twentyFourth = V(repeating: 1.0 / 24), third = V(repeating: 1.0 / 3)
        /// G′ applied to four values.
        @inline(__always) func apply(_ g0: V, _ g1: V, _ g2: V, _ g3: V) -> (V, V, V, V, V, V) {
            let evens = g0 * twentyFourth + g2 * sixth, odds = g1 * twelfth + g3 * third
            return (g0 * quarter, -(g0 + g1 + g2 + g3) * sixth, (g1 + g3 - g0 - g2) * sixth, evens + odds, evens - odds, g3)
        }
        withUnsafeTemporaryAllocation(of: V.self, capacity: 24) { columns in
            let gG = columns.baseAddress!
            for r in r0..<(r0 + count) {
                let top = padded + ((r / tilesHigh) * height + 4 * (r % tilesHigh)) * rowStride
                for tx in 0..<tilesWide {
                    let corner = top + 4 * tx * o
                    let target = u + ((r - r0) * tilesWide + tx) * o
                    var o0 = 0
                    while o0 < o {
                        // G′ g down each of the four columns; then each of the six rows times G′ᵀ.
                        for j in 0..<4 {
                            @inline(__always) func at(_ i: Int) -> V { load(corner + i * rowStride + j * o + o0) }
                            let t = apply(at(0), at(1), at(2), at(3))
                            gG[j] = t.0; gG[4 + j] = t.1; gG[8 + j] = t.2; gG[12 + j] = t.3; gG[16 + j] = t.4; gG[20 + j] = t.5
                        }
                        for i in 0..<6 {
                            let t = apply(gG[4 * i], gG[4 * i + 1], gG[4 * i + 2], gG[4 * i + 3])
                            @inline(__always) func put(_ x: V, _ j: Int) {
                                UnsafeMutableRawPointer(target + o0 + (6 * i + j) * positionStride).storeBytes(of: x, as: V.self)
                            }
                            put(t.0, 0); put(t.1, 1); put(t.2, 2); put(t.3, 3); put(t.4, 4); put(t.5, 5)
                        }
                        o0 += 16
                    }
                }
            }
        }
    }

    /// The 3×3 filter gradients A′ᵀ m A′ of `lanes` (at most 16) filter pairs of one input
    /// channel and consecutive output channels, from their 36 summed products, sixteen in a
    /// register at m + ξ·`positionStride` (whole registers: the sums are zero past the last
    /// output channel); lane l's tap (ky, kx) added to g[l·`laneStride` + (3·ky + kx)·`tapStride`].
    public static func filterGradients(_ m: UnsafePointer<Float>, positionStride: Int, lanes: Int,
                                       into g: UnsafeMutablePointer<Float>, tapStride: Int, laneStride: Int) {
        @inline(__always) func at(_ i: Int, _ j: Int) -> V { load(m + (6 * i + j) * positionStride) }
        /// A′ᵀ applied to six values.
        @inline(__always) func apply(_ m0: V, _ m1: V, _ m2: V, _ m3: V, _ m4: V, _ m5: V) -> (V, V, V) {
            let p = m1 + m2, q = m1 - m2, r = m3 + m4, s = m3 - m4
            return (m0 + p + r, q + V(repeating: 2) * s, p + V(repeating: 4) * r + m5)
        }
        // A′ᵀ m, one column j at a time into three rows; then each row times A′.
        @inline(__always) func column(_ j: Int) -> (V, V, V) { apply(at(0, j), at(1, j), at(2, j), at(3, j), at(4, j), at(5, j)) }
        let c0 = column(0), c1 = column(1), c2 = column(2), c3 = column(3), c4 = column(4), c5 = column(5)
        @inline(__always) func add(_ i: Int, _ x0: V, _ x1: V, _ x2: V, _ x3: V, _ x4: V, _ x5: V) {
            let t = apply(x0, x1, x2, x3, x4, x5)
            @inline(__always) func scatter(_ x: V, _ tap: Int) {
                let target = g + tap * tapStride
                for l in 0..<lanes { target[l * laneStride] += x[l] }
            }
            scatter(t.0, 3 * i); scatter(t.1, 3 * i + 1); scatter(t.2, 3 * i + 2)
        }
        add(0, c0.0, c1.0, c2.0, c3.0, c4.0, c5.0)
        add(1, c0.1, c1.1, c2.1, c3.1, c4.1, c5.1)
        add(2, c0.2, c1.2, c2.2, c3.2, c4.2, c5.2)
    }
}
