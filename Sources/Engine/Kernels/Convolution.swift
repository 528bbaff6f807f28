// Convolution as im2row + GEMM (Caffe's im2col, transposed for NHWC), one GEMM per group.
//
// Shapes: x (N, H, W, C) input; y (N, P, Q, O) output, P×Q the output size; G groups of
// Cg = C/G input and Og = O/G output channels; w (O, KH, KW, Cg) weights; for each group,
// rows (N·P·Q, KH·KW·Cg), one row per output pixel, laid out in the weight's (ky, kx, c)
// order so each kernel tap copies one contiguous run of Cg floats. Group g reads input
// channels g·Cg ..< (g+1)·Cg and writes output channels g·Og ..< (g+1)·Og (PyTorch's groups).
// A depthwise convolution (G = C = O) goes to DepthwiseKernels instead: its GEMMs would be
// one column wide.
//
// Work is cut into chunks of output rows, and each worker gathers its own chunk and runs a
// single-threaded GEMM on it. That keeps both cores busy through the gather as well as the
// multiply, where handing each GEMM to BLAS's own threads left one core spinning while the
// other gathered.

/// Sizes of one convolution.
public struct ConvGeometry: Equatable, Sendable {
    public var batch, height, width, inChannels, outChannels: Int
    public var kernelHeight, kernelWidth, stride, padding: Int
    /// Distance between kernel taps, in input pixels (PyTorch's `dilation`).
    public var dilation = 1
    /// Channel groups; must divide both channel counts (PyTorch's `groups`).
    public var groups = 1

    /// PyTorch's ⌊(H + 2p − d(k−1) − 1)/s⌋ + 1.
    public var outHeight: Int { (height + 2 * padding - dilation * (kernelHeight - 1) - 1) / stride + 1 }
    public var outWidth: Int { (width + 2 * padding - dilation * (kernelWidth - 1) - 1) / stride + 1 }
    public var inPerGroup: Int { inChannels / groups }
    public var outPerGroup: Int { outChannels / groups }
    /// Length of one im2row row of one group: the inner dimension of its GEMM, and the length
    /// of one filter.
    public var rowLength: Int { kernelHeight * kernelWidth * inPerGroup }
    /// Floats in the weight tensor (O, KH, KW, Cg).
    public var weightCount: Int { outChannels * rowLength }
    var taps: Int { kernelHeight * kernelWidth }
    var pixels: Int { outHeight * outWidth }
    /// A 1×1, stride-1, unpadded convolution reads its input as the row matrix directly.
    var isPointwise: Bool { kernelHeight == 1 && kernelWidth == 1 && stride == 1 && padding == 0 }
    /// One filter per channel (MobileNet's depthwise convolution).
    var isDepthwise: Bool { groups == inChannels && groups == outChannels }
}

enum ConvKernels {
    /// Largest im2row chunk, in floats, that one worker gathers at a time (1 MiB): big
    /// enough for GEMMs near peak, small enough to stay in cache on its way to the GEMM.
    static let chunkBudget = 1 << 18

    /// Scratch needed by `forward` and `backward` with `workers` parts, in floats.
    static func scratchCount(_ g: ConvGeometry, workers: Int) -> Int {
        g.isDepthwise ? DepthwiseKernels.scratchCount(g, workers: workers) : scratchCountByGEMM(g, workers: workers)
    }

    /// y = conv(x, w) + bias; `kept` as in `forwardByGEMM`.
    static func forward(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                        bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
                        scratch: UnsafeMutablePointer<Float>, workers: Int, kept: KeptFilters? = nil) {
        if g.isDepthwise {
            DepthwiseKernels.forward(g, x: x, w: w, bias: bias, y: y, scratch: scratch, workers: workers)
        } else {
            forwardByGEMM(g, x: x, w: w, bias: bias, y: y, scratch: scratch, workers: workers, kept: kept)
        }
    }

    /// Accumulates dw (and dbias) and, when dx is given, dx, from dy; without `accumulate`,
    /// dx is written instead (its contents on entry do not matter).
    static func backward(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                         dy: UnsafePointer<Float>, dw: UnsafeMutablePointer<Float>,
                         dbias: UnsafeMutablePointer<Float>?, dx: UnsafeMutablePointer<Float>?,
                         scratch: UnsafeMutablePointer<Float>, workers: Int, accumulate: Bool = true) {
        if g.isDepthwise {
            if !accumulate, let dx { dx.update(repeating: 0, count: g.batch * g.height * g.width * g.inChannels) }
            DepthwiseKernels.backward(g, x: x, w: w, dy: dy, dw: dw, dbias: dbias, dx: dx, scratch: scratch, workers: workers)
        } else {
            backwardByGEMM(g, x: x, w: w, dy: dy, dw: dw, dbias: dbias, dx: dx, scratch: scratch, workers: workers,
                           accumulate: accumulate)
        }
    }

    /// The kernel a forward pass of g runs; `forwardByGEMM` dispatches on it.
    enum ForwardKernel: Equatable {
        case depthwise, weightsByRows, winograd(WinogradTile), inPlace, rows
    }

    /// Two passes whose geometries differ only in batch and that run the same kernel give
    /// every image the same output, bit for bit: each output is the same sum in the same order
    /// whatever the other images (a GEMM's rows are independent, and so are Winograd's tiles).
    static func forwardKernel(_ g: ConvGeometry) -> ForwardKernel {
        if g.isDepthwise { return .depthwise }
        if multipliesWeightsByRows(g) { return .weightsByRows }
        guard runsInPlace(g) else { return .rows }
        return runsByWinograd(g) ? .winograd(winogradTile(g)) : .inPlace
    }

    // MARK: - im2row + GEMM

    /// Output rows per forward chunk: within the budget, and at most an even share of the
    /// batch's rows so every worker has work even for one image.
    static func rowsPerChunk(_ g: ConvGeometry, workers: Int) -> Int {
        let total = g.batch * g.pixels
        return max(1, min(chunkBudget / g.rowLength, (total + workers - 1) / workers))
    }

    /// Whole images per backward chunk (so workers scatter into disjoint parts of dx).
    static func imagesPerChunk(_ g: ConvGeometry, workers: Int) -> Int {
        max(1, min(chunkBudget / (g.rowLength * g.pixels), (g.batch + workers - 1) / workers))
    }

    /// Floats of one part's row chunk, forward or backward, and its GEMM's packing scratch.
    static func chunkScratch(_ g: ConvGeometry, workers: Int) -> Int {
        max(rowsPerChunk(g, workers: workers), imagesPerChunk(g, workers: workers) * g.pixels) * g.rowLength
            + GEMM.scratchCount(n: max(g.outPerGroup, g.rowLength))
    }

    /// Where a part's GEMM packing scratch starts within its chunk scratch.
    static func packOffset(_ g: ConvGeometry, workers: Int) -> Int {
        chunkScratch(g, workers: workers) - GEMM.scratchCount(n: max(g.outPerGroup, g.rowLength))
    }

    /// One row chunk and one private weight gradient per part, and
    /// what the in-place passes need (ConvolutionInPlace.swift).
    static func scratchCountByGEMM(_ g: ConvGeometry, workers: Int) -> Int {
        let passes = inPlaceOffset(g, workers: workers) + inPlaceScratchCount(g, workers: workers)
        return multipliesWeightsByRows(g) ? max(passes, weightsByRowsCount(g, workers: workers)) : passes
    }

    /// Where the in-place passes' scratch starts.
    static func inPlaceOffset(_ g: ConvGeometry, workers: Int) -> Int {
        workers * chunkScratch(g, workers: workers) + workers * g.weightCount
    }

    /// Gathers output rows `rows` (row r = image r / P·Q, pixel r % P·Q) of x's channels of
    /// `group` into `out`, with zeros where the kernel hangs over the padding.
    static func im2row(_ g: ConvGeometry, x: UnsafePointer<Float>, rows: Range<Int>, group: Int,
                       into out: UnsafeMutablePointer<Float>) {
        let (p, q, c, cg) = (g.outHeight, g.outWidth, g.inChannels, g.inPerGroup)
        let kernelRow = g.kernelWidth * cg
        // Where the kernel row lies inside the image, its pixels' channels are one run of x
        // (one group, no dilation): copied whole. A first layer's run is a few floats, so
        // runs are copied by a loop, not a call; and a row's image and pixel are counted
        // along, not divided out per row.
        let runs = cg == c && g.dilation == 1
        @inline(__always) func copy(_ source: UnsafePointer<Float>, _ target: UnsafeMutablePointer<Float>, _ count: Int) {
            if count < 16 {
                for j in 0..<count { target[j] = source[j] }
            } else {
                target.update(from: source, count: count)
            }
        }
        var (n, oy, ox) = (rows.lowerBound / g.pixels, (rows.lowerBound % g.pixels) / q, rows.lowerBound % q)
        var row = out
        for _ in rows {
            let image = x + n * g.height * g.width * c + group * cg
            let x0 = ox * g.stride - g.padding
            let inside = runs && x0 >= 0 && x0 + g.kernelWidth <= g.width
            for ky in 0..<g.kernelHeight {
                let iy = oy * g.stride - g.padding + ky * g.dilation
                if iy < 0 || iy >= g.height {
                    row.update(repeating: 0, count: kernelRow)
                } else if inside {
                    copy(image + (iy * g.width + x0) * c, row, kernelRow)
                } else {
                    let line = image + iy * g.width * c
                    for kx in 0..<g.kernelWidth {
                        let ix = x0 + kx * g.dilation
                        if ix >= 0 && ix < g.width {
                            copy(line + ix * c, row + kx * cg, cg)
                        } else {
                            (row + kx * cg).update(repeating: 0, count: cg)
                        }
                    }
                }
                row += kernelRow
            }
            ox += 1
            if ox == q {
                ox = 0
                oy += 1
                if oy == p { (oy, n) = (0, n + 1) }
            }
        }
    }

    /// Adds the rows of images `images` back into dx's channels of `group` (the adjoint of im2row).
    static func row2imAdd(_ g: ConvGeometry, rows: UnsafePointer<Float>, images: Range<Int>, group: Int,
                          dx: UnsafeMutablePointer<Float>) {
        let (p, q, c, cg) = (g.outHeight, g.outWidth, g.inChannels, g.inPerGroup)
        var row = rows
        for n in images {
            let image = dx + n * g.height * g.width * c + group * cg
            for oy in 0..<p {
                for ox in 0..<q {
                    for ky in 0..<g.kernelHeight {
                        let iy = oy * g.stride - g.padding + ky * g.dilation
                        for kx in 0..<g.kernelWidth {
                            let ix = ox * g.stride - g.padding + kx * g.dilation
                            if iy >= 0 && iy < g.height && ix >= 0 && ix < g.width {
                                let target = image + (iy * g.width + ix) * c, source = row
                                forEachLane(0..<cg, vector: { j in target.store(target.lanes(j) + source.lanes(j), j) },
                                            scalar: { j in target[j] += source[j] })
                            }
                            row += cg
                        }
                    }
                }
            }
        }
    }

    /// The forward pass as one GEMM per chunk and group; also the path the depthwise kernel
    /// is compared against.
    /// `epilogue(rows)` runs on each chunk's output rows once they are written, on the same
    /// worker (for BatchNorm, residual and ReLU applied while the chunk is in cache).
    /// `kept`: where a Winograd pass keeps its transformed filters (`KeptFilters`); the other
    /// kernels ignore it.
    static func forwardByGEMM(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                              bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
                              scratch: UnsafeMutablePointer<Float>, workers: Int, kept: KeptFilters? = nil,
                              epilogue: (Range<Int>) -> Void = { _ in }) {
        switch forwardKernel(g) {
        case .weightsByRows:
            return forwardWeightsByRows(g, x: x, w: w, bias: bias, y: y, scratch: scratch, workers: workers, epilogue: epilogue)
        case .winograd, .inPlace:
            return forwardStrideOne(g, x: x, w: w, bias: bias, y: y, accumulate: false,
                                    scratch: scratch + inPlaceOffset(g, workers: workers), workers: workers, kept: kept,
                                    epilogue: epilogue)
        case .depthwise, .rows:
            break  // here a depthwise convolution runs as grouped GEMMs: its kernel's oracle
        }
        let (k, o, c, og, cg) = (g.rowLength, g.outChannels, g.inChannels, g.outPerGroup, g.inPerGroup)
        let total = g.batch * g.pixels, chunkRows = rowsPerChunk(g, workers: workers)
        let chunks = (total + chunkRows - 1) / chunkRows
        let partScratch = chunkScratch(g, workers: workers), packAt = packOffset(g, workers: workers)
        Parallel.forFixedParts(chunks, parts: workers, costPerItem: chunkRows * k * o) { part, range in
            let local = scratch + part * partScratch, pack = local + packAt
            for chunk in range {
                let first = chunk * chunkRows, count = min(chunkRows, total - first)
                for group in 0..<g.groups {
                    // A pointwise convolution's rows are x itself, the group's channels a column block.
                    let rows: UnsafePointer<Float>, lda: Int
                    if g.isPointwise {
                        (rows, lda) = (x + first * c + group * cg, c)
                    } else {
                        im2row(g, x: x, rows: first..<(first + count), group: group, into: local)
                        (rows, lda) = (UnsafePointer(local), k)
                    }
                    GEMM.multiply(transposeA: false, transposeB: true, m: count, n: og, k: k, a: rows, lda: lda,
                                  b: w + group * og * k, ldb: k, accumulate: false, c: y + first * o + group * og, ldc: o,
                                  scratch: pack)
                }
                if let bias { addBias(y + first * o, bias, rows: count, channels: o) }
                epilogue(first..<(first + count))
            }
        }
    }

    // MARK: Few pixels: the weights as A

    /// Whether g's forward pass multiplies the weights by the pixels' rows, yᵀ = W·rowsᵀ,
    /// instead of the rows by the weights: when the pass has at most a quarter as many output
    /// pixels as filters (batch 1 deep in a network), where packing the weights as the GEMM's
    /// B operand, once per pass, would move more memory than the multiply itself. The AVX-512
    /// GEMM reads A in place at any stride, so the weights are read once, as they are stored,
    /// and only the few rows are packed. (With more pixels the weights are few and packing
    /// them is cheap, and the usual order keeps the GEMM's wide side on the pixels.)
    static func multipliesWeightsByRows(_ g: ConvGeometry) -> Bool {
        g.groups == 1 && GEMM.implementation == .avx512 && 4 * g.batch * g.pixels <= g.outChannels
    }

    /// Scratch of `forwardWeightsByRows`: the rows (none when x is its own row matrix), yᵀ,
    /// and each part's packing of the rows.
    static func weightsByRowsCount(_ g: ConvGeometry, workers: Int) -> Int {
        let total = g.batch * g.pixels
        return (g.isPointwise ? 0 : total * g.rowLength) + g.outChannels * total + workers * GEMM.scratchCount(n: total)
    }

    /// y = conv(x, w) + bias as yᵀ (O × pixels) = W (O × K) · rowsᵀ (K × pixels), the filters
    /// split among the workers, then y written from yᵀ and `epilogue` run on all of it.
    static func forwardWeightsByRows(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                                     bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
                                     scratch: UnsafeMutablePointer<Float>, workers: Int, epilogue: (Range<Int>) -> Void) {
        let (k, o, total) = (g.rowLength, g.outChannels, g.batch * g.pixels)
        let rows: UnsafePointer<Float>
        var next = scratch
        if g.isPointwise {
            rows = x
        } else {
            im2row(g, x: x, rows: 0..<total, group: 0, into: next)
            rows = UnsafePointer(next)
            next += total * k
        }
        let transposed = next, packs = transposed + o * total
        Parallel.forFixedParts(o, parts: workers, costPerItem: k * total) { part, filters in
            GEMM.multiply(transposeA: false, transposeB: true, m: filters.count, n: total, k: k,
                          a: w + filters.lowerBound * k, lda: k, b: rows, ldb: k, accumulate: false,
                          c: transposed + filters.lowerBound * total, ldc: total, scratch: packs + part * GEMM.scratchCount(n: total))
        }
        for pixel in 0..<total {
            let row = y + pixel * o
            for oc in 0..<o { row[oc] = transposed[oc * total + pixel] + (bias?[oc] ?? 0) }
        }
        epilogue(0..<total)
    }

    /// The backward pass as GEMMs per chunk of whole images and group.
    static func backwardByGEMM(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                               dy: UnsafePointer<Float>, dw: UnsafeMutablePointer<Float>,
                               dbias: UnsafeMutablePointer<Float>?, dx: UnsafeMutablePointer<Float>?,
                               scratch: UnsafeMutablePointer<Float>, workers: Int, accumulate: Bool = true) {
        let (k, o, c, og, cg, pixels) = (g.rowLength, g.outChannels, g.inChannels, g.outPerGroup, g.inPerGroup, g.pixels)
        let imageCount = g.height * g.width * c
        // The data pass runs on its own after the weight pass when it can read dy in place.
        let dataInPlace = dx != nil && backpropagatesInPlace(g)
        if runsByWinograd(g) {
            // The weight gradient by Winograd (ConvolutionWinograd.swift), then the data pass
            // in place, which a 3×3 stride-1 convolution always allows (by Winograd too
            // where its own shape does).
            weightGradientByWinograd(g, x: x, dy: dy, dw: dw, scratch: scratch + inPlaceOffset(g, workers: workers), workers: workers)
            if let dbias { sumRows(dy, into: dbias, rows: g.batch * pixels, channels: o) }
            if let dx {
                backwardDataInPlace(g, w: w, dy: dy, dx: dx, accumulate: accumulate,
                                    scratch: scratch + inPlaceOffset(g, workers: workers), workers: workers)
            }
            return
        }
        let chunkImages = imagesPerChunk(g, workers: workers)
        let chunks = (g.batch + chunkImages - 1) / chunkImages
        let partScratch = chunkScratch(g, workers: workers), packAt = packOffset(g, workers: workers)
        let privateGradients = scratch + workers * partScratch
        // With the AVX-512 GEMM, dWᵀ (K×Og) = rowsᵀ · dY_g is computed instead of dW: its wide
        // side K goes down the register tiles' rows, its narrow one Og (16…128) across, and
        // the GEMM packs dY (Og wide) instead of the rows (K = KH·KW·Cg wide). Each part then
        // keeps a private dWᵀ, transposed into dw below.
        let transposedWeights = GEMM.implementation == .avx512
        // The split is fixed before any worker starts, so the parts whose private gradients
        // must be summed are known here and no worker writes anything shared.
        let parts = Parallel.forFixedParts(chunks, parts: workers, costPerItem: chunkImages * pixels * k * o) { part, range in
            let local = scratch + part * partScratch, pack = local + packAt
            // The first part adds into dw (unless transposed); the others into private buffers, summed below.
            let privateGradient = privateGradients + part * g.weightCount
            let gradient = part == 0 && !transposedWeights ? dw : privateGradient
            if gradient != dw { gradient.update(repeating: 0, count: g.weightCount) }
            for chunk in range {
                let images = (chunk * chunkImages)..<min((chunk + 1) * chunkImages, g.batch)
                let first = images.lowerBound * pixels, m = images.count * pixels
                // Written rather than added: the scatter below adds, so these images start at zero.
                if !accumulate && !g.isPointwise && !dataInPlace, let dx {
                    (dx + images.lowerBound * imageCount).update(repeating: 0, count: images.count * imageCount)
                }
                for group in 0..<g.groups {
                    let dyChunk = dy + first * o + group * og
                    let wGroup = w + group * og * k, dwGroup = gradient + group * og * k
                    let rows: UnsafePointer<Float>, lda: Int
                    if g.isPointwise {
                        (rows, lda) = (x + first * c + group * cg, c)
                    } else {
                        im2row(g, x: x, rows: first..<(first + m), group: group, into: local)
                        (rows, lda) = (UnsafePointer(local), k)
                    }
                    if transposedWeights {
                        // dW_gᵀ (K×Og) += rowsᵀ (K×M) · dY_g (M×Og)
                        GEMM.multiply(transposeA: true, transposeB: false, m: k, n: og, k: m, a: rows, lda: lda, b: dyChunk, ldb: o,
                                      accumulate: true, c: dwGroup, ldc: og, scratch: pack)
                    } else {
                        // dW_g (Og×K) += dY_gᵀ (Og×M) · rows (M×K)
                        GEMM.multiply(transposeA: true, transposeB: false, m: og, n: k, k: m, a: dyChunk, lda: o, b: rows, ldb: lda,
                                      accumulate: true, c: dwGroup, ldc: k, scratch: pack)
                    }
                    guard let dx, !dataInPlace else { continue }
                    // dRows (M×K) = dY_g (M×Og) · W_g (Og×K), scattered back onto dx.
                    if g.isPointwise {
                        GEMM.multiply(transposeA: false, transposeB: false, m: m, n: k, k: og, a: dyChunk, lda: o, b: wGroup, ldb: k,
                                      accumulate: accumulate, c: dx + first * c + group * cg, ldc: c, scratch: pack)
                    } else {
                        GEMM.multiply(transposeA: false, transposeB: false, m: m, n: k, k: og, a: dyChunk, lda: o, b: wGroup, ldb: k,
                                      accumulate: false, c: local, ldc: k, scratch: pack)
                        row2imAdd(g, rows: local, images: images, group: group, dx: dx)
                    }
                }
            }
        }
        if transposedWeights {
            // dw[group][oc][kk] += Σ_part dWᵀ[group][kk][oc], in part order; sixteen filters at
            // a time, so each row of dWᵀ they read is one cache line, by the workers in parts
            // (a deep layer's weights are megabytes).
            let blocksPerGroup = (og + 15) / 16
            Parallel.forRanges(g.groups * blocksPerGroup, costPerItem: 16 * k * parts) { blocks in
                for block in blocks {
                    let group = block / blocksPerGroup, first = (block % blocksPerGroup) * 16
                    let filters = first..<min(og, first + 16)
                    for part in 0..<parts {
                        let source = privateGradients + part * g.weightCount + group * og * k
                        for kk in 0..<k {
                            let row = source + kk * og
                            for oc in filters { dw[(group * og + oc) * k + kk] += row[oc] }
                        }
                    }
                }
            }
        } else if parts > 1 {
            for part in 1..<parts {
                let gradient = privateGradients + part * g.weightCount
                forEachLane(0..<g.weightCount, vector: { i in dw.store(dw.lanes(i) + gradient.lanes(i), i) },
                            scalar: { i in dw[i] += gradient[i] })
            }
        }
        if let dbias { sumRows(dy, into: dbias, rows: g.batch * pixels, channels: o) }
        if dataInPlace, let dx {
            backwardDataInPlace(g, w: w, dy: dy, dx: dx, accumulate: accumulate,
                                scratch: scratch + inPlaceOffset(g, workers: workers), workers: workers)
        }
    }

    /// y[r, c] += bias[c] for every row r.
    static func addBias(_ y: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>, rows: Int, channels: Int) {
        for r in 0..<rows {
            let row = y + r * channels
            for c in 0..<channels { row[c] += bias[c] }
        }
    }

    /// out[c] += Σ_r m[r, c].
    static func sumRows(_ m: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, rows: Int, channels: Int) {
        for r in 0..<rows {
            let row = m + r * channels
            for c in 0..<channels { out[c] += row[c] }
        }
    }
}
