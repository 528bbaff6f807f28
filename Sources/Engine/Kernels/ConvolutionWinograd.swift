internal import AVX512Kernels
import Foundation

// 3×3 stride-1 convolutions by Winograd's F(2×2, 3×3) (AVX512Kernels/WinogradTransforms.swift)
// with the AVX-512 GEMM: 16 GEMMs of tiles × C by C × O per block of output tiles instead
// of one of pixels × 9C by 9C × O, 2.25 times fewer multiplies, the transforms being
// additions. The weights are transformed and packed once per pass; the output is cut into
// chunks of whole tile rows (two output rows each), and each worker transforms a chunk's
// input tiles into its own buffer (reading x in place, the border tiles through a small
// zero-padded copy), runs the 16 GEMMs and transforms the products back into y, then runs
// the epilogue on those rows while they are in cache.
//
// The backward data pass of such a convolution is again one (ConvolutionInPlace.swift), so
// it runs this way too; the weight gradient runs by F(3×3, 2×2) (at the end of this file).

extension ConvKernels {
    /// Environment variable that turns Winograd off (`0`), to measure it against the direct GEMM.
    static let winogradVariable = "OICSR_WINOGRAD"

    static let winogradConfigured = ProcessInfo.processInfo.environment[winogradVariable] != "0"

    /// Tests run both paths on one task without touching the process-wide choice.
    @TaskLocal static var winogradOverride: Bool?

    /// Whether g runs by Winograd: a 3×3 kernel, stride 1, no dilation, one group, padding
    /// at most 2, with the AVX-512 GEMM; at least 16 channels each way, below which channels
    /// rounded up to a register are mostly padding; and at least `winogradMinimumTiles`
    /// output tiles, below which transforming the filters (16 values per filter pair) and
    /// handing out the work cost more than the multiplies saved (batch 1).
    static func runsByWinograd(_ g: ConvGeometry) -> Bool {
        (winogradOverride ?? winogradConfigured) && GEMM.implementation == .avx512
            && g.kernelHeight == 3 && g.kernelWidth == 3 && g.stride == 1 && g.dilation == 1 && g.groups == 1
            && g.padding <= 2 && g.inChannels >= 16 && g.outChannels >= 16
            && g.batch * ((g.outHeight + 1) / 2) * ((g.outWidth + 1) / 2) >= winogradMinimumTiles
    }

    /// Fewest output tiles worth the transforms: a few chunks.
    static let winogradMinimumTiles = 256

    /// Output tiles a worker transforms at a time: the transformed input and the products,
    /// 16·tiles·(C + O) floats, stay in its L2 cache for channels up to a few hundred.
    static let winogradTiles = 48

    /// Tile rows per chunk, and tiles per chunk.
    static func winogradChunk(_ g: ConvGeometry) -> (rows: Int, tiles: Int) {
        let wide = (g.outWidth + 1) / 2
        let rows = max(1, winogradTiles / wide)
        return (rows, rows * wide)
    }

    /// Channels rounded up to whole registers: the transformed tiles and the products carry
    /// zeros past C and O, so every transform reads and writes whole registers.
    static func roundedChannels(_ n: Int) -> Int { (n + 15) / 16 * 16 }

    /// Floats of the packed transformed filters, one GEMM operand per position.
    static func winogradFilterCount(_ g: ConvGeometry) -> Int {
        WinogradTransforms.positions * GEMM.packedCount(k: roundedChannels(g.inChannels), n: g.outChannels)
    }

    /// Floats of one part's transformed input tiles and border staging.
    static func winogradInputCount(_ g: ConvGeometry) -> Int {
        (WinogradTransforms.positions * winogradChunk(g).tiles + 16) * roundedChannels(g.inChannels)
    }

    /// Scratch of `forwardByWinograd` with `workers` parts: the filters, and per part the
    /// transformed tiles (and a tile's staging) and their products.
    static func winogradScratchCount(_ g: ConvGeometry, workers: Int) -> Int {
        winogradFilterCount(g)
            + workers * (winogradInputCount(g) + WinogradTransforms.positions * winogradChunk(g).tiles * roundedChannels(g.outChannels))
    }

    /// y = conv(x, w) + bias (y += that when `accumulate`), then `epilogue(rows)` on each
    /// chunk of y's rows once written. `scratch` holds `winogradScratchCount(g, workers:)`.
    static func forwardByWinograd(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                                  bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, accumulate: Bool,
                                  scratch: UnsafeMutablePointer<Float>, workers: Int, epilogue: (Range<Int>) -> Void) {
        let (o, p, q) = (g.outChannels, g.outHeight, g.outWidth)
        let (c16, o16) = (roundedChannels(g.inChannels), roundedChannels(o))
        let positions = WinogradTransforms.positions
        let tilesHigh = (p + 1) / 2, tilesWide = (q + 1) / 2
        let filterStride = GEMM.packedCount(k: c16, n: o)
        let filters = scratch
        packTransformedFilters(g, w: w, into: filters)
        let chunkTiles = winogradChunk(g).tiles
        let partScratch = winogradInputCount(g) + positions * chunkTiles * o16
        let parts = scratch + winogradFilterCount(g)
        Parallel.forFixedParts(g.batch * tilesHigh, parts: workers, costPerItem: tilesWide * positions * c16 * o) { part, tileRows in
            let v = parts + part * partScratch, staging = v + positions * chunkTiles * c16, m = v + winogradInputCount(g)
            forEachChunk(g, x: x, tileRows: tileRows, v: v, staging: staging) { r0, r1, tiles in
                // M[ξ] (tiles × O) = V[ξ] (tiles × C) · U[ξ] (C × O), zeros past O.
                for xi in 0..<positions {
                    GEMM.packedMultiply(m: tiles, n: o16, k: c16, a: v + xi * chunkTiles * c16, rowStride: c16,
                                        packed: filters + xi * filterStride, packedK: c16, k0: 0,
                                        c: m + xi * chunkTiles * o16, ldc: o16, accumulate: false)
                }
                // y = Aᵀ M A, tile by tile.
                WinogradTransforms.outputTiles(m: m, positionStride: chunkTiles * o16, y: y, outHeight: p, outWidth: q, channels: o,
                                               tilesHigh: tilesHigh, tilesWide: tilesWide, rows: r0, count: r1 - r0,
                                               bias: bias, accumulate: accumulate)
                // Tile rows r0 ..< r1 wrote whole output rows, one run of y's pixels.
                func firstPixel(_ r: Int) -> Int { ((r / tilesHigh) * p + min(2 * (r % tilesHigh), p)) * q }
                let last = r1 - 1
                let end = ((last / tilesHigh) * p + min(2 * (last % tilesHigh) + 2, p)) * q
                epilogue(firstPixel(r0)..<end)
            }
        }
    }

    /// Walks `tileRows` in chunks of `winogradChunk(g).rows` tile rows: each chunk's input
    /// tiles transformed into v (V[ξ] at v + ξ·tiles per chunk·C16), then `body(r0, r1, tiles)`
    /// with the chunk's tile rows r0 ..< r1 and its tile count.
    static func forEachChunk(_ g: ConvGeometry, x: UnsafePointer<Float>, tileRows: Range<Int>, v: UnsafeMutablePointer<Float>,
                             staging: UnsafeMutablePointer<Float>, _ body: (_ r0: Int, _ r1: Int, _ tiles: Int) -> Void) {
        let (chunkRows, chunkTiles) = winogradChunk(g)
        let tilesHigh = (g.outHeight + 1) / 2, tilesWide = (g.outWidth + 1) / 2
        var r0 = tileRows.lowerBound
        while r0 < tileRows.upperBound {
            let r1 = min(r0 + chunkRows, tileRows.upperBound)
            // V[ξ] (tiles × C) = (Bᵀ d B)[ξ] for every tile of the chunk.
            WinogradTransforms.inputTiles(x: x, height: g.height, width: g.width, channels: g.inChannels, pad: g.padding,
                                          tilesHigh: tilesHigh, tilesWide: tilesWide, rows: r0, count: r1 - r0,
                                          v: v, positionStride: chunkTiles * roundedChannels(g.inChannels), staging: staging)
            body(r0, r1, (r1 - r0) * tilesWide)
            r0 = r1
        }
    }

    /// U[ξ] = (G g Gᵀ)[ξ] for every filter pair (o, c) of w (O, 3, 3, C), each position packed
    /// as the GEMM's B operand (C rounded up × O, panels of 16 output channels, zero past C and O).
    static func packTransformedFilters(_ g: ConvGeometry, w: UnsafePointer<Float>, into packed: UnsafeMutablePointer<Float>) {
        let (c, o, c16) = (g.inChannels, g.outChannels, roundedChannels(g.inChannels))
        let positions = WinogradTransforms.positions, stride = GEMM.packedCount(k: c16, n: o)
        let panels = (o + 15) / 16
        Parallel.forRanges(panels, costPerItem: 16 * c * 9 * positions) { panelRange in
            for panel in panelRange {
                let columns = min(16, o - panel * 16)
                if columns < 16 || c < c16 {
                    for xi in 0..<positions { (packed + xi * stride + panel * c16 * 16).update(repeating: 0, count: c16 * 16) }
                }
                withUnsafeTemporaryAllocation(of: Float.self, capacity: positions) { u in
                    for j in 0..<columns {
                        let oc = panel * 16 + j
                        for ci in 0..<c {
                            WinogradTransforms.filter(w + oc * 9 * c + ci, tapStride: c, u: u.baseAddress!, positionStride: 1)
                            let target = packed + panel * c16 * 16 + ci * 16 + j
                            for xi in 0..<positions { target[xi * stride] = u[xi] }
                        }
                    }
                }
            }
        }
    }
}

// MARK: - The weight gradient by F(3×3, 2×2)

extension ConvKernels {
    /// Scratch of `weightGradientByWinograd`: dy padded to whole tiles, and per part the
    /// transformed tiles of x and dy, the 16 summed products and the GEMM's packing.
    static func winogradGradientScratchCount(_ g: ConvGeometry, workers: Int) -> Int {
        let (c16, o16) = (roundedChannels(g.inChannels), roundedChannels(g.outChannels))
        let tilesHigh = (g.outHeight + 1) / 2, tilesWide = (g.outWidth + 1) / 2
        let positions = WinogradTransforms.positions
        return g.batch * 4 * tilesHigh * tilesWide * o16
            + workers * (winogradInputCount(g) + positions * winogradChunk(g).tiles * o16 + positions * c16 * o16 + GEMM.scratchCount(n: o16))
    }

    /// dw += the weight gradient of g from x and dy, as Σ over 2×2 output tiles of
    /// A′ᵀ[(G′ dy G′ᵀ) ⊙ (B′ᵀ d B′)]A′ (AVX512Kernels/WinogradTransforms.swift; the input
    /// transformed as the forward pass transforms it, the signs moved to dy's), the sum over
    /// tiles taken per position as 16 GEMMs (C × tiles by tiles × O). Each part sums its own
    /// tiles; the parts are added in order, then A′ is applied per filter pair.
    static func weightGradientByWinograd(_ g: ConvGeometry, x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                         dw: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, workers: Int) {
        let (c, o, p, q) = (g.inChannels, g.outChannels, g.outHeight, g.outWidth)
        let (c16, o16) = (roundedChannels(c), roundedChannels(o))
        let positions = WinogradTransforms.positions
        let tilesHigh = (p + 1) / 2, tilesWide = (q + 1) / 2
        let paddedDY = scratch
        // dy as an unpadded "input" of its own, zeros past its odd edge and past channel O.
        let gradientShape = ConvGeometry(batch: g.batch, height: p, width: q, inChannels: o, outChannels: o,
                                         kernelHeight: 1, kernelWidth: 1, stride: 1, padding: 0)
        copyPadded(gradientShape, x: dy, into: paddedDY, bottom: 2 * tilesHigh - p, right: 2 * tilesWide - q, channels: o16)
        let chunkTiles = winogradChunk(g).tiles
        let sums = positions * c16 * o16
        let partScratch = winogradInputCount(g) + positions * chunkTiles * o16 + sums + GEMM.scratchCount(n: o16)
        let partsStart = paddedDY + g.batch * 4 * tilesHigh * tilesWide * o16
        let parts = Parallel.forFixedParts(g.batch * tilesHigh, parts: workers, costPerItem: tilesWide * positions * c16 * o16) { part, tileRows in
            let v = partsStart + part * partScratch, staging = v + positions * chunkTiles * c16
            let u = v + winogradInputCount(g), m = u + positions * chunkTiles * o16, pack = m + sums
            m.update(repeating: 0, count: sums)
            forEachChunk(g, x: x, tileRows: tileRows, v: v, staging: staging) { r0, r1, tiles in
                WinogradTransforms.gradientOutputTiles(padded: paddedDY, height: 2 * tilesHigh, width: 2 * tilesWide, channels: o16,
                                                       tilesHigh: tilesHigh, tilesWide: tilesWide, rows: r0, count: r1 - r0,
                                                       u: u, positionStride: chunkTiles * o16)
                // M[ξ] (C × O) += V′[ξ]ᵀ (C × tiles) · U′[ξ] (tiles × O).
                for xi in 0..<positions {
                    GEMM.multiply(transposeA: true, transposeB: false, m: c16, n: o16, k: tiles, a: v + xi * chunkTiles * c16, lda: c16,
                                  b: u + xi * chunkTiles * o16, ldb: o16, accumulate: true, c: m + xi * c16 * o16, ldc: o16,
                                  scratch: pack)
                }
            }
        }
        // The parts' sums, added in part order into the first part's.
        let total = partsStart + winogradInputCount(g) + positions * chunkTiles * o16
        for part in 1..<max(parts, 1) {
            let source = total + part * partScratch
            forEachLane(0..<sums, vector: { i in total.store(total.lanes(i) + source.lanes(i), i) },
                        scalar: { i in total[i] += source[i] })
        }
        Parallel.forRanges(o, costPerItem: c * positions) { outputs in
            for oc in outputs {
                for ci in 0..<c {
                    WinogradTransforms.filterGradient(total + ci * o16 + oc, positionStride: c16 * o16, into: dw + oc * 9 * c + ci, tapStride: c)
                }
            }
        }
    }
}
