// Stride-1 convolutions that read their input in place instead of through im2row (with the
// AVX-512 GEMM, which takes A at any row stride).
//
// Shapes as in Convolution.swift. The input is copied once into a zero-padded buffer xp
// (N, H + 2p, W + 2p, C). For output pixel (oy, ox) and kernel row ky, the KW·C values the
// filter reads are xp[oy + ky, ox ..< ox + KW, :], one contiguous run, KH runs a padded row
// (W + 2p)·C apart. The GEMM's register tiles take each of their 12 pixels' rows by pointer
// and k in KH runs (AVX512GEMM.multiplyGathered) against the packed weights (KH·KW·C × O):
// no im2row copy (KH·KW times the input), one padded copy instead. This is Dukhan's
// indirect convolution (2019) with the padding made real.
//
// The backward data pass of a stride-1 convolution is itself one (Caffe's deconvolution):
// dx = conv(dy, w′) with w′[c, ky, kx, o] = w[o, KH−1−ky, KW−1−kx, c] (the filters flipped
// and their channels swapped) and padding KH−1−p; it runs the same way, writing dx directly,
// where im2row needs a scatter-add of KH·KW rows into a zeroed dx.

extension ConvKernels {
    /// Whether g runs in place: stride 1, no dilation, one group, not pointwise (which reads
    /// x directly anyway), and the AVX-512 GEMM.
    static func runsInPlace(_ g: ConvGeometry) -> Bool {
        g.stride == 1 && g.dilation == 1 && g.groups == 1 && !g.isPointwise && GEMM.implementation == .avx512
    }

    /// Whether g's backward data pass runs in place, as the convolution of dy by the flipped
    /// filters: a square kernel and padding at most KH − 1.
    static func backpropagatesInPlace(_ g: ConvGeometry) -> Bool {
        runsInPlace(g) && g.kernelHeight == g.kernelWidth && g.padding <= g.kernelHeight - 1
    }

    /// The convolution whose forward pass is g's backward data pass: dy (N, P, Q, O) in,
    /// dx (N, H, W, C) out.
    static func transposed(_ g: ConvGeometry) -> ConvGeometry {
        ConvGeometry(batch: g.batch, height: g.outHeight, width: g.outWidth, inChannels: g.outChannels,
                     outChannels: g.inChannels, kernelHeight: g.kernelHeight, kernelWidth: g.kernelWidth,
                     stride: 1, padding: g.kernelHeight - 1 - g.padding)
    }

    /// Floats of the padded input and the packed weights of `forwardInPlace`.
    static func inPlaceForwardCount(_ g: ConvGeometry) -> Int {
        g.batch * (g.height + 2 * g.padding) * (g.width + 2 * g.padding) * g.inChannels
            + GEMM.packedCount(k: g.rowLength, n: g.outChannels)
    }

    /// Scratch of `forwardStrideOne(g)`.
    static func strideOneForwardCount(_ g: ConvGeometry, workers: Int) -> Int {
        runsByWinograd(g) ? winogradScratchCount(g, workers: workers) : inPlaceForwardCount(g)
    }

    /// Scratch of the in-place passes of g, forward and backward (0 when g runs by im2row):
    /// the backward data pass keeps the flipped filters first, then its forward pass's scratch.
    static func inPlaceScratchCount(_ g: ConvGeometry, workers: Int) -> Int {
        guard runsInPlace(g) else { return 0 }
        var count = strideOneForwardCount(g, workers: workers)
        if backpropagatesInPlace(g) { count = max(count, g.weightCount + strideOneForwardCount(transposed(g), workers: workers)) }
        if runsByWinograd(g) { count = max(count, winogradGradientScratchCount(g, workers: workers)) }
        return count
    }

    /// The forward pass of a convolution that runs in place: by Winograd where it runs
    /// (ConvolutionWinograd.swift), else over the padded input by gathered rows.
    static func forwardStrideOne(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                                 bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, accumulate: Bool,
                                 scratch: UnsafeMutablePointer<Float>, workers: Int, kept: KeptFilters? = nil,
                                 epilogue: (Range<Int>) -> Void) {
        if runsByWinograd(g) {
            forwardByWinograd(g, x: x, w: w, bias: bias, y: y, accumulate: accumulate, scratch: scratch, workers: workers,
                              kept: kept, epilogue: epilogue)
        } else {
            forwardInPlace(g, x: x, w: w, bias: bias, y: y, accumulate: accumulate, scratch: scratch, workers: workers, epilogue: epilogue)
        }
    }

    /// y = conv(x, w) + bias (y += that when `accumulate`), then `epilogue(rows)` on each
    /// output image row's pixels (rows of y) once written. `scratch` holds `inPlaceForwardCount(g)`.
    static func forwardInPlace(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                               bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, accumulate: Bool,
                               scratch: UnsafeMutablePointer<Float>, workers: Int, epilogue: (Range<Int>) -> Void) {
        let (c, o, k, pad) = (g.inChannels, g.outChannels, g.rowLength, g.padding)
        let (hp, wp, p, q) = (g.height + 2 * pad, g.width + 2 * pad, g.outHeight, g.outWidth)
        let padded = scratch, packed = scratch + g.batch * hp * wp * c
        copyPadded(g, x: x, into: padded, bottom: pad, right: pad, channels: c)
        // B = wᵀ (K × O): w is stored (O, K).
        GEMM.pack(w, ldb: k, transposed: true, k: k, n: o, into: packed)
        let span = g.kernelWidth * c, tile = GEMM.gatheredRows
        // Output rows in chunks of about 256 pixels, so the epilogue finds them in cache.
        let rowsPerChunk = max(1, 256 / q)
        Parallel.forFixedParts(g.batch * p, parts: workers, costPerItem: q * k * o) { _, outputRows in
            withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: tile) { aRows in
                withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Float>.self, capacity: tile) { cRows in
                    var r0 = outputRows.lowerBound
                    while r0 < outputRows.upperBound {
                        let pixels = (r0 * q)..<(min(r0 + rowsPerChunk, outputRows.upperBound) * q)
                        var pixel = pixels.lowerBound
                        while pixel < pixels.upperBound {
                            let rows = min(tile, pixels.upperBound - pixel)
                            for i in 0..<rows {
                                let r = (pixel + i) / q, ox = (pixel + i) % q, n = r / p, oy = r % p
                                aRows[i] = UnsafePointer(padded + ((n * hp + oy) * wp + ox) * c)
                                cRows[i] = y + (pixel + i) * o
                            }
                            GEMM.gatheredMultiply(rows: rows, n: o, span: span, segments: g.kernelHeight, segmentStride: wp * c,
                                                  a: UnsafePointer(aRows.baseAddress!), packed: packed, packedK: k,
                                                  c: UnsafePointer(cRows.baseAddress!), accumulate: accumulate)
                            pixel += rows
                        }
                        if let bias { addBias(y + pixels.lowerBound * o, bias, rows: pixels.count, channels: o) }
                        epilogue(pixels)
                        r0 += rowsPerChunk
                    }
                }
            }
        }
    }

    /// Copies x (N, H, W, C) into `padded` (N, pad + H + bottom, pad + W + right, channels ≥ C),
    /// pad = g's padding: zeros around each image and past channel C, x's pixels inside.
    static func copyPadded(_ g: ConvGeometry, x: UnsafePointer<Float>, into padded: UnsafeMutablePointer<Float>,
                           bottom: Int, right: Int, channels: Int) {
        let (c, pad) = (g.inChannels, g.padding)
        let (hp, wp) = (pad + g.height + bottom, pad + g.width + right)
        Parallel.forRanges(g.batch, costPerItem: hp * wp * channels) { images in
            for n in images {
                let image = padded + n * hp * wp * channels
                image.update(repeating: 0, count: pad * wp * channels)
                for iy in 0..<g.height {
                    let row = image + (iy + pad) * wp * channels, source = x + (n * g.height + iy) * g.width * c
                    row.update(repeating: 0, count: pad * channels)
                    if channels == c {
                        (row + pad * c).update(from: source, count: g.width * c)
                    } else {
                        for ix in 0..<g.width {
                            let pixel = row + (pad + ix) * channels
                            pixel.update(from: source + ix * c, count: c)
                            (pixel + c).update(repeating: 0, count: channels - c)
                        }
                    }
                    (row + (pad + g.width) * channels).update(repeating: 0, count: right * channels)
                }
                (image + (pad + g.height) * wp * channels).update(repeating: 0, count: bottom * wp * channels)
            }
        }
    }

    /// dx (+)= the backward data pass of g, as the forward pass of `transposed(g)` over dy.
    /// `scratch` holds `inPlaceScratchCount(g, workers:)`.
    static func backwardDataInPlace(_ g: ConvGeometry, w: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                    dx: UnsafeMutablePointer<Float>, accumulate: Bool,
                                    scratch: UnsafeMutablePointer<Float>, workers: Int) {
        let t = transposed(g)
        let flipped = scratch
        let (kh, kw, c, o) = (g.kernelHeight, g.kernelWidth, g.inChannels, g.outChannels)
        // flipped[ci, ky, kx, oc] = w[oc, kh−1−ky, kw−1−kx, ci], sixteen input channels at a
        // time so each filter's run of them is one cache line, by the workers in parts (a
        // deep layer's weights are megabytes).
        Parallel.forRanges((c + 15) / 16, costPerItem: 16 * kh * kw * o) { blocks in
            for block in blocks {
                let channels = (block * 16)..<min(c, block * 16 + 16)
                for ky in 0..<kh {
                    for kx in 0..<kw {
                        let source = w + ((kh - 1 - ky) * kw + (kw - 1 - kx)) * c
                        for oc in 0..<o {
                            let filter = source + oc * g.rowLength
                            for ci in channels { flipped[((ci * kh + ky) * kw + kx) * o + oc] = filter[ci] }
                        }
                    }
                }
            }
        }
        forwardStrideOne(t, x: dy, w: flipped, bias: nil, y: dx, accumulate: accumulate, scratch: scratch + g.weightCount,
                         workers: workers, epilogue: { _ in })
    }
}
