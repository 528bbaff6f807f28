internal import AVX512Kernels
import Foundation

// 3×3 stride-1 convolutions by Winograd's minimal filtering with the AVX-512 GEMM: per block
// of output tiles, one GEMM of tiles × C by C × O per position of the transformed tile
// instead of one of pixels × 9C by 9C × O; the transforms are a few additions (and, for
// 4×4 tiles, multiplies by small constants) per value.
// F(4×4, 3×3) (AVX512Kernels/WinogradTransforms4.swift) does 4 times fewer multiplies and
// moves 36/16 transformed values per output pixel; F(2×2, 3×3) (WinogradTransforms.swift)
// 2.25 times fewer, 16/4 per pixel, and wastes less on maps too small for 4×4 tiles, so each
// convolution takes the one with fewer positions to multiply. The weights are transformed
// and packed once per pass; the output is cut into chunks of whole tile rows, and each
// worker transforms a chunk's input tiles into its own buffer (reading x in place), runs the
// GEMMs and transforms the products back into y, then runs the epilogue on those rows while
// they are in cache.
//
// The backward data pass of such a convolution is again one (ConvolutionInPlace.swift), so
// it runs this way too; the weight gradient runs by F(3×3, 4×4) or F(3×3, 2×2), over the
// tiles the forward pass takes (at the end of this file).

extension ConvKernels {
    /// Environment variable that chooses the Winograd tiles: `0` none (the direct GEMM), `2`
    /// F(2×2, 3×3) only, else the smaller work of F(2×2, 3×3) and F(4×4, 3×3) per layer.
    static let winogradVariable = "OICSR_WINOGRAD"

    static let winogradConfigured = ProcessInfo.processInfo.environment[winogradVariable] ?? ""

    /// Tests run each path on one task without touching the process-wide choice.
    @TaskLocal static var winogradOverride: String?

    static var winogradSetting: String { winogradOverride ?? winogradConfigured }

    /// A Winograd tile: F(out×out, 3×3) reads (out + 2)² input pixels per out² outputs.
    enum WinogradTile: Sendable {
        case twoByTwo, fourByFour

        var output: Int { self == .twoByTwo ? 2 : 4 }
        var positions: Int { self == .twoByTwo ? WinogradTransforms.positions : WinogradTransforms4.positions }

        /// Output tiles a worker transforms at a time: the transformed input and the products,
        /// positions·tiles·(C + O) floats, stay in its L2 cache for channels up to a few hundred.
        var chunkTiles: Int { self == .twoByTwo ? 48 : 24 }

        func tiles(_ g: ConvGeometry) -> (high: Int, wide: Int) {
            ((g.outHeight + output - 1) / output, (g.outWidth + output - 1) / output)
        }
    }

    /// Whether g runs by Winograd: a 3×3 kernel, stride 1, no dilation, one group, padding
    /// at most 2, with the AVX-512 GEMM; at least 8 channels each way (8 run in half a
    /// register through the transforms; fewer would leave the GEMM's 16-column panels mostly
    /// padding); and at least `winogradMinimumTiles`
    /// 2×2 output tiles, below which transforming the filters (16 values per filter pair) and
    /// handing out the work cost more than the multiplies saved (batch 1).
    static func runsByWinograd(_ g: ConvGeometry) -> Bool {
        winogradSetting != "0" && GEMM.implementation == .avx512
            && g.kernelHeight == 3 && g.kernelWidth == 3 && g.stride == 1 && g.dilation == 1 && g.groups == 1
            && g.padding <= 2 && g.inChannels >= 8 && g.outChannels >= 8
            && g.batch * ((g.outHeight + 1) / 2) * ((g.outWidth + 1) / 2) >= winogradMinimumTiles
    }

    /// Fewest output tiles worth the transforms: a few chunks.
    static let winogradMinimumTiles = 256

    /// The tile g's forward pass uses: the one with fewer positions to multiply over the map
    /// (4×4 tiles on a 2×2 map multiply 36 positions where 2×2 tiles multiply 16).
    static func winogradTile(_ g: ConvGeometry) -> WinogradTile {
        guard winogradSetting != "2" else { return .twoByTwo }
        func work(_ tile: WinogradTile) -> Int { let (high, wide) = tile.tiles(g); return high * wide * tile.positions }
        return work(.fourByFour) < work(.twoByTwo) ? .fourByFour : .twoByTwo
    }

    /// Tile rows per chunk, and tiles per chunk.
    static func winogradChunk(_ g: ConvGeometry, _ tile: WinogradTile) -> (rows: Int, tiles: Int) {
        let wide = tile.tiles(g).wide
        let rows = max(1, tile.chunkTiles / wide)
        return (rows, rows * wide)
    }

    /// Channels rounded up to whole registers: the products (the GEMM's panels of 16 columns)
    /// and the weight gradient's transformed dy carry zeros past O, so every transform reads
    /// and writes whole registers.
    static func roundedChannels(_ n: Int) -> Int { (n + 15) / 16 * 16 }

    /// Channels of a transformed input tile: C rounded up to 8, zeros past C; a row that ends
    /// at most eight channels past a multiple of 16 ends in half a register (8 channels cost
    /// 8, not 16; 40 cost 40, not 48).
    static func tileChannels(_ c: Int) -> Int { WinogradTransforms.tileChannels(c) }

    /// Floats of the packed transformed filters, one GEMM operand per position. Their inner
    /// dimension is C itself: the GEMM reads the transformed tiles' first C lanes of each
    /// C16, so a pruned layer's zero lanes cost no multiplies (a 38-channel layer would
    /// otherwise multiply 48).
    static func winogradFilterCount(_ g: ConvGeometry, _ tile: WinogradTile) -> Int {
        tile.positions * GEMM.packedCount(k: g.inChannels, n: g.outChannels)
    }

    /// Floats of one part's transformed input tiles, and a pixel of zeros that stands for
    /// the pixels outside the input.
    static func winogradInputCount(_ g: ConvGeometry, _ tile: WinogradTile) -> Int {
        (tile.positions * winogradChunk(g, tile).tiles + 1) * tileChannels(g.inChannels)
    }

    /// Scratch of `forwardByWinograd` with `workers` parts: the filters, and per part the
    /// transformed tiles (and a pixel of zeros) and their products.
    static func winogradScratchCount(_ g: ConvGeometry, workers: Int) -> Int {
        let tile = winogradTile(g)
        return winogradFilterCount(g, tile)
            + workers * (winogradInputCount(g, tile) + tile.positions * winogradChunk(g, tile).tiles * roundedChannels(g.outChannels))
    }

    /// Transformed filters a caller keeps across forward passes of the same weights and tile
    /// (`winogradFilterCount` floats): an inference pass in slices transforms them for its
    /// first slice and reuses them for the others. `ready`: they hold w's already.
    struct KeptFilters {
        let storage: UnsafeMutablePointer<Float>
        let ready: Bool
    }

    /// y = conv(x, w) + bias (y += that when `accumulate`), then `epilogue(rows)` on each
    /// chunk of y's rows once written. `scratch` holds `winogradScratchCount(g, workers:)`;
    /// the transformed filters go there, or into `kept`.
    static func forwardByWinograd(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                                  bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, accumulate: Bool,
                                  scratch: UnsafeMutablePointer<Float>, workers: Int, kept: KeptFilters? = nil,
                                  epilogue: (Range<Int>) -> Void) {
        let tile = winogradTile(g)
        let (o, p, q) = (g.outChannels, g.outHeight, g.outWidth)
        let (c8, o16) = (tileChannels(g.inChannels), roundedChannels(o))
        let positions = tile.positions
        let (tilesHigh, tilesWide) = tile.tiles(g)
        let filterStride = GEMM.packedCount(k: g.inChannels, n: o)
        let filters = kept?.storage ?? scratch
        if kept?.ready != true { packTransformedFilters(g, tile, w: w, into: filters) }
        let chunkTiles = winogradChunk(g, tile).tiles
        let partScratch = winogradInputCount(g, tile) + positions * chunkTiles * o16
        let parts = scratch + winogradFilterCount(g, tile)
        Parallel.forFixedParts(g.batch * tilesHigh, parts: workers, costPerItem: tilesWide * positions * c8 * o) { part, tileRows in
            let v = parts + part * partScratch, zeros = v + positions * chunkTiles * c8, m = v + winogradInputCount(g, tile)
            forEachChunk(g, tile, x: x, tileRows: tileRows, v: v, zeros: zeros) { r0, r1, tiles in
                // M[ξ] (tiles × O) = V[ξ] (tiles × C) · U[ξ] (C × O), zeros past O.
                for xi in 0..<positions {
                    GEMM.packedMultiply(m: tiles, n: o16, k: g.inChannels, a: v + xi * chunkTiles * c8, rowStride: c8,
                                        packed: filters + xi * filterStride, packedK: g.inChannels, k0: 0,
                                        c: m + xi * chunkTiles * o16, ldc: o16, accumulate: false)
                }
                // y = Aᵀ M A, tile by tile.
                if tile == .twoByTwo {
                    WinogradTransforms.outputTiles(m: m, positionStride: chunkTiles * o16, y: y, outHeight: p, outWidth: q, channels: o,
                                                   tilesHigh: tilesHigh, tilesWide: tilesWide, rows: r0, count: r1 - r0,
                                                   bias: bias, accumulate: accumulate)
                } else {
                    WinogradTransforms4.outputTiles(m: m, positionStride: chunkTiles * o16, y: y, outHeight: p, outWidth: q, channels: o,
                                                    tilesHigh: tilesHigh, tilesWide: tilesWide, rows: r0, count: r1 - r0,
                                                    bias: bias, accumulate: accumulate)
                }
                // Tile rows r0 ..< r1 wrote whole output rows, one run of y's pixels.
                func firstPixel(_ r: Int) -> Int { ((r / tilesHigh) * p + min(tile.output * (r % tilesHigh), p)) * q }
                let last = r1 - 1
                let end = ((last / tilesHigh) * p + min(tile.output * (last % tilesHigh + 1), p)) * q
                epilogue(firstPixel(r0)..<end)
            }
        }
    }

    /// Walks `tileRows` in chunks of `winogradChunk(g, tile).rows` tile rows: each chunk's
    /// input tiles transformed into v (V[ξ] at v + ξ·tiles per chunk·C8), then
    /// `body(r0, r1, tiles)` with the chunk's tile rows r0 ..< r1 and its tile count.
    static func forEachChunk(_ g: ConvGeometry, _ tile: WinogradTile, x: UnsafePointer<Float>, tileRows: Range<Int>,
                             v: UnsafeMutablePointer<Float>, zeros: UnsafeMutablePointer<Float>,
                             _ body: (_ r0: Int, _ r1: Int, _ tiles: Int) -> Void) {
        let (chunkRows, chunkTiles) = winogradChunk(g, tile)
        let (tilesHigh, tilesWide) = tile.tiles(g)
        let positionStride = chunkTiles * tileChannels(g.inChannels)
        zeros.update(repeating: 0, count: tileChannels(g.inChannels))
        var r0 = tileRows.lowerBound
        while r0 < tileRows.upperBound {
            let r1 = min(r0 + chunkRows, tileRows.upperBound)
            // V[ξ] (tiles × C) = (Bᵀ d B)[ξ] for every tile of the chunk.
            if tile == .twoByTwo {
                WinogradTransforms.inputTiles(x: x, height: g.height, width: g.width, channels: g.inChannels, pad: g.padding,
                                              tilesHigh: tilesHigh, tilesWide: tilesWide, rows: r0, count: r1 - r0,
                                              v: v, positionStride: positionStride, zeros: zeros)
            } else {
                WinogradTransforms4.inputTiles(x: x, height: g.height, width: g.width, channels: g.inChannels, pad: g.padding,
                                               tilesHigh: tilesHigh, tilesWide: tilesWide, rows: r0, count: r1 - r0,
                                               v: v, positionStride: positionStride, zeros: zeros,
                                               end: x + g.batch * g.height * g.width * g.inChannels)
            }
            body(r0, r1, (r1 - r0) * tilesWide)
            r0 = r1
        }
    }

    /// U[ξ] = (G g Gᵀ)[ξ] for every filter pair (o, c) of w (O, 3, 3, C), each position packed
    /// as the GEMM's B operand (C × O, panels of 16 output channels, zero past O).
    static func packTransformedFilters(_ g: ConvGeometry, _ tile: WinogradTile, w: UnsafePointer<Float>, into packed: UnsafeMutablePointer<Float>) {
        let (c, o) = (g.inChannels, g.outChannels)
        let positions = tile.positions, filterStride = GEMM.packedCount(k: c, n: o)
        let panels = (o + 15) / 16
        Parallel.forRanges(panels, costPerItem: 16 * c * 9 * positions) { panelRange in
            for panel in panelRange {
                let columns = min(16, o - panel * 16)
                if columns < 16 {
                    for xi in 0..<positions { (packed + xi * filterStride + panel * c * 16).update(repeating: 0, count: c * 16) }
                }
                for j in 0..<columns {
                    let oc = panel * 16 + j
                    if tile == .twoByTwo {
                        withUnsafeTemporaryAllocation(of: Float.self, capacity: positions) { u in
                            for ci in 0..<c {
                                WinogradTransforms.filter(w + oc * 9 * c + ci, tapStride: c, u: u.baseAddress!, positionStride: 1)
                                let target = packed + panel * c * 16 + ci * 16 + j
                                for xi in 0..<positions { target[xi * filterStride] = u[xi] }
                            }
                        }
                    } else {
                        // Sixteen input channels at a time, straight into their packed places.
                        for ci in stride(from: 0, to: c, by: 16) {
                            WinogradTransforms4.filters(w + oc * 9 * c + ci, tapStride: c, lanes: min(16, c - ci),
                                                        u: packed + panel * c * 16 + ci * 16 + j, positionStride: filterStride, laneStride: 16)
                        }
                    }
                }
            }
        }
    }
}

// MARK: - The weight gradient by F(3×3, 4×4) or F(3×3, 2×2)

extension ConvKernels {
    /// Scratch of `weightGradientByWinograd`: dy padded to whole tiles, and per part the
    /// transformed tiles of x and dy, the summed products and the GEMM's packing.
    static func winogradGradientScratchCount(_ g: ConvGeometry, workers: Int) -> Int {
        let tile = winogradTile(g)
        let (c16, o16) = (roundedChannels(g.inChannels), roundedChannels(g.outChannels))
        return paddedGradientCount(g, tile)
            + workers * (winogradInputCount(g, tile) + tile.positions * winogradChunk(g, tile).tiles * o16
                         + tile.positions * c16 * o16 + GEMM.scratchCount(n: o16))
    }

    /// Floats of dy copied with zeros past its last whole tile and past channel O; none when
    /// it has whole tiles and whole registers already, and the weight gradient reads it in
    /// place (a copy of dy per layer and step, saved).
    static func paddedGradientCount(_ g: ConvGeometry, _ tile: WinogradTile) -> Int {
        let (tilesHigh, tilesWide) = tile.tiles(g)
        let (paddedHeight, paddedWidth, o16) = (tile.output * tilesHigh, tile.output * tilesWide, roundedChannels(g.outChannels))
        let whole = paddedHeight == g.outHeight && paddedWidth == g.outWidth && o16 == g.outChannels
        return whole ? 0 : g.batch * paddedHeight * paddedWidth * o16
    }

    /// dw += the weight gradient of g from x and dy, as Σ over the output tiles the forward
    /// pass uses of A′ᵀ[(G′ dy G′ᵀ) ⊙ (B′ᵀ d B′)]A′, F(3×3, 4×4) or F(3×3, 2×2)
    /// (AVX512Kernels/WinogradTransforms4.swift, WinogradTransforms.swift; the input
    /// transformed as the forward pass transforms it), the sum over tiles taken per position
    /// as one GEMM each (C × tiles by tiles × O). Each part sums its own tiles; the parts are
    /// added in order, then A′ is applied per filter pair.
    static func weightGradientByWinograd(_ g: ConvGeometry, x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                         dw: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, workers: Int) {
        let tile = winogradTile(g)
        let (c, o, p, q) = (g.inChannels, g.outChannels, g.outHeight, g.outWidth)
        let (c8, c16, o16) = (tileChannels(c), roundedChannels(c), roundedChannels(o))
        let positions = tile.positions
        let (tilesHigh, tilesWide) = tile.tiles(g)
        let (paddedHeight, paddedWidth) = (tile.output * tilesHigh, tile.output * tilesWide)
        // dy as an unpadded "input" of its own, with whole tiles and registers.
        let copied = paddedGradientCount(g, tile)
        let paddedDY = copied == 0 ? dy : UnsafePointer(scratch)
        if copied > 0 {
            let gradientShape = ConvGeometry(batch: g.batch, height: p, width: q, inChannels: o, outChannels: o,
                                             kernelHeight: 1, kernelWidth: 1, stride: 1, padding: 0)
            copyPadded(gradientShape, x: dy, into: scratch, bottom: paddedHeight - p, right: paddedWidth - q, channels: o16)
        }
        let chunkTiles = winogradChunk(g, tile).tiles
        let sums = positions * c16 * o16
        let partScratch = winogradInputCount(g, tile) + positions * chunkTiles * o16 + sums + GEMM.scratchCount(n: o16)
        let partsStart = scratch + copied
        let parts = Parallel.forFixedParts(g.batch * tilesHigh, parts: workers, costPerItem: tilesWide * positions * c8 * o16) { part, tileRows in
            let v = partsStart + part * partScratch, zeros = v + positions * chunkTiles * c8
            let u = v + winogradInputCount(g, tile), m = u + positions * chunkTiles * o16, pack = m + sums
            m.update(repeating: 0, count: sums)
            forEachChunk(g, tile, x: x, tileRows: tileRows, v: v, zeros: zeros) { r0, r1, tiles in
                if tile == .twoByTwo {
                    WinogradTransforms.gradientOutputTiles(padded: paddedDY, height: paddedHeight, width: paddedWidth, channels: o16,
                                                           tilesHigh: tilesHigh, tilesWide: tilesWide, rows: r0, count: r1 - r0,
                                                           u: u, positionStride: chunkTiles * o16)
                } else {
                    WinogradTransforms4.gradientOutputTiles(padded: paddedDY, height: paddedHeight, width: paddedWidth, channels: o16,
                                                            tilesHigh: tilesHigh, tilesWide: tilesWide, rows: r0, count: r1 - r0,
                                                            u: u, positionStride: chunkTiles * o16)
                }
                // M[ξ] (C × O) += V′[ξ]ᵀ (C × tiles) · U′[ξ] (tiles × O).
                for xi in 0..<positions {
                    GEMM.multiply(transposeA: true, transposeB: false, m: c, n: o16, k: tiles, a: v + xi * chunkTiles * c8, lda: c8,
                                  b: u + xi * chunkTiles * o16, ldb: o16, accumulate: true, c: m + xi * c16 * o16, ldc: o16,
                                  scratch: pack)
                }
            }
        }
        // The parts' sums, added in part order into the first part's.
        let total = partsStart + winogradInputCount(g, tile) + positions * chunkTiles * o16
        for part in 1..<max(parts, 1) {
            let source = total + part * partScratch
            forEachLane(0..<sums, vector: { i in total.store(total.lanes(i) + source.lanes(i), i) },
                        scalar: { i in total[i] += source[i] })
        }
        if tile == .twoByTwo {
            Parallel.forRanges(o, costPerItem: c * positions) { outputs in
                for oc in outputs {
                    for ci in 0..<c {
                        WinogradTransforms.filterGradient(total + ci * o16 + oc, positionStride: c16 * o16, into: dw + oc * 9 * c + ci, tapStride: c)
                    }
                }
            }
        } else {
            // Sixteen output channels at a time: the sums of a position are o16 apart per input channel.
            Parallel.forRanges(o16 / 16, costPerItem: 16 * c * positions) { blocks in
                for block in blocks {
                    let oc0 = block * 16
                    for ci in 0..<c {
                        WinogradTransforms4.filterGradients(total + ci * o16 + oc0, positionStride: c16 * o16, lanes: min(16, o - oc0),
                                                            into: dw + oc0 * 9 * c + ci, tapStride: c, laneStride: 9 * c)
                    }
                }
            }
        }
    }
}
