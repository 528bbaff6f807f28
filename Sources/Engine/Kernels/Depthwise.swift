// Depthwise convolution (groups = C = O: one KH×KW filter per channel, MobileNet's and
// EfficientNet's) as direct loops over NHWC, eight channels per vector. As grouped GEMMs it
// would be C multiplies one column wide, each behind a gather of single floats.
//
// Shapes: x (N, H, W, C) input; y (N, P, Q, C) output; w (C, KH, KW) filters (the (O, KH, KW, 1)
// weight); wT (KH·KW, C) the same filters tap-major, so one tap of eight channels is one load.
// Channels are innermost everywhere, so every loop below runs over channels last and every
// load is contiguous; the kernel taps that fall inside the image are listed once per pixel.

enum DepthwiseKernels {
    /// Scratch in floats: wT, then for each part a private weight and bias gradient (KH·KW·C + C).
    static func scratchCount(_ g: ConvGeometry, workers: Int) -> Int {
        let filters = g.taps * g.inChannels
        return filters + workers * (filters + g.inChannels)
    }

    /// y = depthwise(x, w) + bias. Parallel over output rows.
    static func forward(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                        bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
                        scratch: UnsafeMutablePointer<Float>, workers: Int) {
        let (c, p, q, taps) = (g.inChannels, g.outHeight, g.outWidth, g.taps)
        let wT = scratch
        transposeFilters(g, w: w, into: wT)
        Parallel.forFixedParts(g.batch * p, parts: workers, costPerItem: q * c * taps) { _, rows in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * taps) { list in
                let tapAt = list.baseAddress!, sourceAt = tapAt + taps
                for row in rows {
                    let n = row / p, oy = row % p
                    for ox in 0..<q {
                        // The taps of this window that land inside the image.
                        var terms = 0
                        for ky in 0..<g.kernelHeight {
                            let iy = oy * g.stride - g.padding + ky * g.dilation
                            guard iy >= 0 && iy < g.height else { continue }
                            for kx in 0..<g.kernelWidth {
                                let ix = ox * g.stride - g.padding + kx * g.dilation
                                guard ix >= 0 && ix < g.width else { continue }
                                tapAt[terms] = (ky * g.kernelWidth + kx) * c
                                sourceAt[terms] = ((n * g.height + iy) * g.width + ix) * c
                                terms += 1
                            }
                        }
                        sumOfProducts(channels: c, terms: terms, aAt: tapAt, a: UnsafePointer(wT), bAt: sourceAt, b: x,
                                      initial: bias, out: y + (row * q + ox) * c)
                    }
                }
            }
        }
    }

    /// Accumulates dw, dbias and, when given, dx.
    static func backward(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                         dy: UnsafePointer<Float>, dw: UnsafeMutablePointer<Float>,
                         dbias: UnsafeMutablePointer<Float>?, dx: UnsafeMutablePointer<Float>?,
                         scratch: UnsafeMutablePointer<Float>, workers: Int) {
        let (c, taps) = (g.inChannels, g.taps)
        let wT = scratch
        if let dx {
            transposeFilters(g, w: w, into: wT)
            inputGradient(g, wT: UnsafePointer(wT), dy: dy, dx: dx, workers: workers)
        }
        // Each part sums its rows' weight and bias gradients privately, tap-major; the parts
        // are then added into dw (channel-major) in part order, so the sum does not depend on
        // which thread ran which part.
        let filters = taps * c, perPart = filters + c
        let privates = scratch + filters
        let parts = Parallel.forFixedParts(g.batch * g.outHeight, parts: workers, costPerItem: g.outWidth * c * (taps + 1)) { part, rows in
            let gradient = privates + part * perPart
            gradient.update(repeating: 0, count: perPart)
            weightGradient(g, x: x, dy: dy, rows: rows, dwT: gradient, dbias: gradient + filters)
        }
        for part in 0..<parts {
            let gradient = privates + part * perPart
            for channel in 0..<c {
                for tap in 0..<taps { dw[channel * taps + tap] += gradient[tap * c + channel] }
            }
            if let dbias {
                let partBias = gradient + filters
                forEachLane(0..<c, vector: { j in dbias.store(dbias.lanes(j) + partBias.lanes(j), j) },
                            scalar: { j in dbias[j] += partBias[j] })
            }
        }
    }

    /// dx[n, iy, ix, c] += Σ w[c, ky, kx] · dy[n, oy, ox, c] over the outputs whose window put
    /// tap (ky, kx) on (iy, ix). Gathered per input pixel rather than scattered per output, so
    /// workers own disjoint input rows and the sum stays in registers.
    static func inputGradient(_ g: ConvGeometry, wT: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                              dx: UnsafeMutablePointer<Float>, workers: Int) {
        let (c, p, q, taps, kh, kw) = (g.inChannels, g.outHeight, g.outWidth, g.taps, g.kernelHeight, g.kernelWidth)
        // Output (oy, ox) reads input (iy, ix) through tap (ky, kx) when oy·s − pad + ky·d = iy,
        // likewise along x. Which (kx, ox) reach each input column is the same on every row,
        // so it is listed once per part: the divisions stay out of the pixel loop.
        func reach(_ i: Int, _ k: Int, outputs: Int) -> Int? {
            let t = i + g.padding - k * g.dilation
            return t >= 0 && t % g.stride == 0 && t / g.stride < outputs ? t / g.stride : nil
        }
        Parallel.forFixedParts(g.batch * g.height, parts: workers, costPerItem: g.width * c * taps) { _, rows in
            let scratchInts = 2 * taps + 2 * kh + g.width * (2 * kw + 1)
            withUnsafeTemporaryAllocation(of: Int.self, capacity: scratchInts) { buffer in
                let tapAt = buffer.baseAddress!, sourceAt = tapAt + taps
                let rowTaps = sourceAt + taps, rowOutputs = rowTaps + kh
                let columnCounts = rowOutputs + kh, columnTaps = columnCounts + g.width, columnOutputs = columnTaps + g.width * kw
                for ix in 0..<g.width {
                    var count = 0
                    for kx in 0..<kw {
                        guard let ox = reach(ix, kx, outputs: q) else { continue }
                        columnTaps[ix * kw + count] = kx
                        columnOutputs[ix * kw + count] = ox
                        count += 1
                    }
                    columnCounts[ix] = count
                }
                for row in rows {
                    let n = row / g.height, iy = row % g.height
                    var rowCount = 0
                    for ky in 0..<kh {
                        guard let oy = reach(iy, ky, outputs: p) else { continue }
                        rowTaps[rowCount] = ky
                        rowOutputs[rowCount] = oy
                        rowCount += 1
                    }
                    guard rowCount > 0 else { continue }
                    for ix in 0..<g.width {
                        var terms = 0
                        for i in 0..<rowCount {
                            let tapRow = rowTaps[i] * kw, outputRow = (n * p + rowOutputs[i]) * q
                            for j in 0..<columnCounts[ix] {
                                tapAt[terms] = (tapRow + columnTaps[ix * kw + j]) * c
                                sourceAt[terms] = (outputRow + columnOutputs[ix * kw + j]) * c
                                terms += 1
                            }
                        }
                        guard terms > 0 else { continue }
                        let target = dx + (row * g.width + ix) * c
                        sumOfProducts(channels: c, terms: terms, aAt: tapAt, a: wT, bAt: sourceAt, b: dy,
                                      initial: UnsafePointer(target), out: target)
                    }
                }
            }
        }
    }

    /// dwT[ky, kx, c] += Σ dy[n, oy, ox, c] · x[n, iy, ix, c] and dbias[c] += Σ dy[n, oy, ox, c]
    /// over output rows `rows` (row = n·P + oy). For each row and tap the sum runs along the
    /// row's valid columns in registers, then lands in memory once.
    static func weightGradient(_ g: ConvGeometry, x: UnsafePointer<Float>, dy: UnsafePointer<Float>, rows: Range<Int>,
                               dwT: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>) {
        let (c, p, q, s) = (g.inChannels, g.outHeight, g.outWidth, g.stride)
        for row in rows {
            let n = row / p, oy = row % p
            let dyRow = dy + row * q * c
            sumColumns(channels: c, count: q, a: dyRow, aStride: c, b: nil, bStride: 0, into: dbias)
            for ky in 0..<g.kernelHeight {
                let iy = oy * s - g.padding + ky * g.dilation
                guard iy >= 0 && iy < g.height else { continue }
                for kx in 0..<g.kernelWidth {
                    // Columns ox with 0 ≤ ox·s − pad + kx·d < W.
                    let shift = kx * g.dilation - g.padding
                    let first = shift >= 0 ? 0 : (-shift + s - 1) / s
                    let last = g.width - 1 - shift < 0 ? -1 : min(q - 1, (g.width - 1 - shift) / s)
                    guard last >= first else { continue }
                    let xStart = x + ((n * g.height + iy) * g.width + first * s + shift) * c
                    sumColumns(channels: c, count: last - first + 1, a: dyRow + first * c, aStride: c,
                               b: xStart, bStride: s * c, into: dwT + (ky * g.kernelWidth + kx) * c)
                }
            }
        }
    }

    /// wT[t, c] = w[c, t].
    static func transposeFilters(_ g: ConvGeometry, w: UnsafePointer<Float>, into wT: UnsafeMutablePointer<Float>) {
        let (c, taps) = (g.inChannels, g.taps)
        for channel in 0..<c {
            for tap in 0..<taps { wT[tap * c + channel] = w[channel * taps + tap] }
        }
    }

    /// out[j] = initial[j] + Σ_i a[aAt[i] + j] · b[bAt[i] + j] for j in 0..<channels (initial 0
    /// when nil). Sixteen channels at a time in two independent sums, so consecutive
    /// multiply-adds do not wait on each other, then eight, then one.
    @inline(__always)
    static func sumOfProducts(channels: Int, terms: Int, aAt: UnsafePointer<Int>, a: UnsafePointer<Float>,
                              bAt: UnsafePointer<Int>, b: UnsafePointer<Float>,
                              initial: UnsafePointer<Float>?, out: UnsafeMutablePointer<Float>) {
        var j = 0
        while j + 2 * laneCount <= channels {
            var s0 = initial?.lanes(j) ?? Lanes(), s1 = initial?.lanes(j + laneCount) ?? Lanes()
            for i in 0..<terms {
                let ai = a + aAt[i] + j, bi = b + bAt[i] + j
                s0 += ai.lanes(0) * bi.lanes(0)
                s1 += ai.lanes(laneCount) * bi.lanes(laneCount)
            }
            out.store(s0, j)
            out.store(s1, j + laneCount)
            j += 2 * laneCount
        }
        if j + laneCount <= channels {
            var s0 = initial?.lanes(j) ?? Lanes()
            for i in 0..<terms { s0 += a.lanes(aAt[i] + j) * b.lanes(bAt[i] + j) }
            out.store(s0, j)
            j += laneCount
        }
        while j < channels {
            var s0 = initial?[j] ?? 0
            for i in 0..<terms { s0 += a[aAt[i] + j] * b[bAt[i] + j] }
            out[j] = s0
            j += 1
        }
    }

    /// into[j] += Σ_{i < count} a[i·aStride + j] · b[i·bStride + j] (b taken as 1 when nil), for
    /// j in 0..<channels: a column sum down `count` rows, sixteen channels at a time.
    @inline(__always)
    static func sumColumns(channels: Int, count: Int, a: UnsafePointer<Float>, aStride: Int,
                           b: UnsafePointer<Float>?, bStride: Int, into: UnsafeMutablePointer<Float>) {
        var j = 0
        while j + 2 * laneCount <= channels {
            var s0 = Lanes(), s1 = Lanes()
            if let b {
                for i in 0..<count {
                    let ai = a + i * aStride + j, bi = b + i * bStride + j
                    s0 += ai.lanes(0) * bi.lanes(0)
                    s1 += ai.lanes(laneCount) * bi.lanes(laneCount)
                }
            } else {
                for i in 0..<count {
                    let ai = a + i * aStride + j
                    s0 += ai.lanes(0)
                    s1 += ai.lanes(laneCount)
                }
            }
            into.store(into.lanes(j) + s0, j)
            into.store(into.lanes(j + laneCount) + s1, j + laneCount)
            j += 2 * laneCount
        }
        if j + laneCount <= channels {
            var s0 = Lanes()
            for i in 0..<count { s0 += a.lanes(i * aStride + j) * (b?.lanes(i * bStride + j) ?? Lanes(repeating: 1)) }
            into.store(into.lanes(j) + s0, j)
            j += laneCount
        }
        while j < channels {
            var s0: Float = 0
            for i in 0..<count { s0 += a[i * aStride + j] * (b?[i * bStride + j] ?? 1) }
            into[j] += s0
            j += 1
        }
    }
}
