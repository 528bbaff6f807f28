// BatchNorm over NHWC activations, viewed as a matrix x (M, C) with M = N·H·W.
// PyTorch's conventions (docs/design.md §3): eps 1e-5, running-average momentum 0.1, and the
// unbiased variance in the running estimate.

enum BatchNormKernels {
    /// Scratch needed by the reductions with `workers` parts, in doubles.
    static func partialsCount(channels: Int, workers: Int) -> Int { workers * 2 * channels }

    /// For every channel c: sumA[c] = Σ_r a(r,c) and sumB[c] = Σ_r b(r,c), where
    /// a = x - shift and b = (x - shift)² (statistics), or a = dy and b = dy·xhat (backward).
    /// Rows are summed in float in short blocks and the blocks in double, so sums over
    /// hundreds of thousands of rows keep their precision. Each of at most `workers` parts
    /// sums its rows into its own slot of `partials`; the slots are added in part order.
    static func pairedSums(rows: Int, channels: Int, workers: Int, partials: UnsafeMutablePointer<Double>,
                           sumA: UnsafeMutablePointer<Double>, sumB: UnsafeMutablePointer<Double>,
                           row: (Int, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> Void) {
        let c = channels
        let parts = Parallel.forFixedParts(rows, parts: workers, costPerItem: c) { part, range in
            let pa = partials + part * 2 * c, pb = pa + c
            pa.update(repeating: 0, count: 2 * c)
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * c) { block in
                let ba = block.baseAddress!, bb = ba + c
                var r = range.lowerBound
                while r < range.upperBound {
                    ba.update(repeating: 0, count: 2 * c)
                    let end = min(r + 64, range.upperBound)
                    for i in r..<end { row(i, ba, bb) }
                    for j in 0..<c { pa[j] += Double(ba[j]); pb[j] += Double(bb[j]) }
                    r = end
                }
            }
        }
        sumA.update(repeating: 0, count: c)
        sumB.update(repeating: 0, count: c)
        for part in 0..<parts {
            let pa = partials + part * 2 * c, pb = pa + c
            for j in 0..<c { sumA[j] += pa[j]; sumB[j] += pb[j] }
        }
    }

    /// Training-mode forward: batch statistics, xhat saved for the backward pass, running
    /// statistics updated. `mean`/`invStd` receive the batch statistics.
    static func forwardTraining(
        x: UnsafePointer<Float>, rows: Int, channels c: Int,
        gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, eps: Float, momentum: Float,
        runningMean: UnsafeMutablePointer<Float>, runningVar: UnsafeMutablePointer<Float>,
        mean: UnsafeMutablePointer<Float>, invStd: UnsafeMutablePointer<Float>,
        xhat: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>,
        workers: Int, partials: UnsafeMutablePointer<Double>, sums: UnsafeMutablePointer<Double>
    ) {
        let sumA = sums, sumB = sums + c
        // Pass 1: mean. Pass 2: variance about the mean (two passes for stability).
        pairedSums(rows: rows, channels: c, workers: workers, partials: partials, sumA: sumA, sumB: sumB) { r, a, _ in
            let xr = x + r * c
            forEachLaneOfRow(0..<c, vector: { j, fresh in a.store(a.lanes(j) + xr.lanes(j), j, fresh: fresh) }, scalar: { a[$0] += xr[$0] })
        }
        for j in 0..<c { mean[j] = Float(sumA[j] / Double(rows)) }
        pairedSums(rows: rows, channels: c, workers: workers, partials: partials, sumA: sumA, sumB: sumB) { r, _, b in
            let xr = x + r * c
            forEachLaneOfRow(0..<c, vector: { j, fresh in
                let d = xr.lanes(j) - mean.lanes(j)
                b.store(b.lanes(j) + d * d, j, fresh: fresh)
            }, scalar: { j in
                let d = xr[j] - mean[j]
                b[j] += d * d
            })
        }
        for j in 0..<c {
            let variance = sumB[j] / Double(rows)
            invStd[j] = Float(1 / (variance + Double(eps)).squareRoot())
            let unbiased = rows > 1 ? variance * Double(rows) / Double(rows - 1) : variance
            runningMean[j] = (1 - momentum) * runningMean[j] + momentum * mean[j]
            runningVar[j] = (1 - momentum) * runningVar[j] + momentum * Float(unbiased)
        }
        normalize(x: x, rows: rows, channels: c, mean: mean, invStd: invStd, gamma: gamma, beta: beta, xhat: xhat, y: y)
    }

    /// Eval-mode forward with the running statistics; fills mean/invStd from them so the
    /// backward pass (used when fine-tuning with frozen statistics, and by gradient checks)
    /// has what it needs.
    static func forwardEval(
        x: UnsafePointer<Float>, rows: Int, channels c: Int,
        gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, eps: Float,
        runningMean: UnsafePointer<Float>, runningVar: UnsafePointer<Float>,
        mean: UnsafeMutablePointer<Float>, invStd: UnsafeMutablePointer<Float>,
        xhat: UnsafeMutablePointer<Float>?, y: UnsafeMutablePointer<Float>
    ) {
        for j in 0..<c {
            mean[j] = runningMean[j]
            invStd[j] = 1 / (runningVar[j] + eps).squareRoot()
        }
        normalize(x: x, rows: rows, channels: c, mean: mean, invStd: invStd, gamma: gamma, beta: beta, xhat: xhat, y: y)
    }

    static func normalize(
        x: UnsafePointer<Float>, rows: Int, channels c: Int,
        mean: UnsafePointer<Float>, invStd: UnsafePointer<Float>,
        gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
        xhat: UnsafeMutablePointer<Float>?, y: UnsafeMutablePointer<Float>
    ) {
        Parallel.forRanges(rows, costPerItem: c) { range in
            for r in range {
                let xr = x + r * c, yr = y + r * c
                if let xhat {
                    let hr = xhat + r * c
                    forEachLaneOfRow(0..<c, vector: { j, fresh in
                        let h = (xr.lanes(j) - mean.lanes(j)) * invStd.lanes(j)
                        hr.store(h, j, fresh: fresh)
                        yr.store(gamma.lanes(j) * h + beta.lanes(j), j, fresh: fresh)
                    }, scalar: { j in
                        let h = (xr[j] - mean[j]) * invStd[j]
                        hr[j] = h
                        yr[j] = gamma[j] * h + beta[j]
                    })
                } else {
                    forEachLaneOfRow(0..<c, vector: { j, fresh in
                        yr.store(gamma.lanes(j) * (xr.lanes(j) - mean.lanes(j)) * invStd.lanes(j) + beta.lanes(j), j, fresh: fresh)
                    }, scalar: { j in
                        yr[j] = gamma[j] * (xr[j] - mean[j]) * invStd[j] + beta[j]
                    })
                }
            }
        }
    }

    /// Accumulates dgamma, dbeta and dx. In training mode the batch statistics depend on x,
    /// which adds the two mean terms of the standard BatchNorm gradient.
    static func backward(
        dy: UnsafePointer<Float>, xhat: UnsafePointer<Float>, rows: Int, channels c: Int,
        gamma: UnsafePointer<Float>, invStd: UnsafePointer<Float>, training: Bool,
        dgamma: UnsafeMutablePointer<Float>, dbeta: UnsafeMutablePointer<Float>,
        dx: UnsafeMutablePointer<Float>?,
        workers: Int, partials: UnsafeMutablePointer<Double>, sums: UnsafeMutablePointer<Double>,
        coefficients: UnsafeMutablePointer<Float>, accumulate: Bool = true
    ) {
        let sumDy = sums, sumDyXhat = sums + c
        pairedSums(rows: rows, channels: c, workers: workers, partials: partials, sumA: sumDy, sumB: sumDyXhat) { r, a, b in
            let g = dy + r * c, h = xhat + r * c
            forEachLaneOfRow(0..<c, vector: { j, fresh in
                a.store(a.lanes(j) + g.lanes(j), j, fresh: fresh)
                b.store(b.lanes(j) + g.lanes(j) * h.lanes(j), j, fresh: fresh)
            }, scalar: { j in
                a[j] += g[j]
                b[j] += g[j] * h[j]
            })
        }
        addParameterGradients(sumDy: sumDy, sumDyXhat: sumDyXhat, channels: c, dgamma: dgamma, dbeta: dbeta)
        guard let dx else { return }
        // dx = scale·dy - shift - slope·xhat, with per-channel coefficients.
        let (scale, shift, slope) = inputGradientCoefficients(sumDy: sumDy, sumDyXhat: sumDyXhat, rows: rows, channels: c, gamma: gamma,
                                                              invStd: invStd, training: training, coefficients: coefficients)
        Parallel.forRanges(rows, costPerItem: c) { range in
            for r in range {
                let g = dy + r * c, h = xhat + r * c, d = dx + r * c
                if accumulate {
                    forEachLaneOfRow(0..<c, vector: { j, fresh in
                        d.store(d.lanes(j) + scale.lanes(j) * g.lanes(j) - shift.lanes(j) - slope.lanes(j) * h.lanes(j), j, fresh: fresh)
                    }, scalar: { j in
                        d[j] += scale[j] * g[j] - shift[j] - slope[j] * h[j]
                    })
                } else {
                    forEachLaneOfRow(0..<c, vector: { j, fresh in
                        d.store(scale.lanes(j) * g.lanes(j) - shift.lanes(j) - slope.lanes(j) * h.lanes(j), j, fresh: fresh)
                    }, scalar: { j in
                        d[j] = scale[j] * g[j] - shift[j] - slope[j] * h[j]
                    })
                }
            }
        }
    }

    // MARK: - BatchNorm chains: BatchNorm, then optionally a residual sum and a ReLU, in one pass

    /// Training-mode statistics in one pass over x: per channel the sums of d = x − K and d²,
    /// K being x's first row, then mean = K + Σd/n and variance = Σd²/n − (Σd/n)². K is a
    /// sample of the channel's values, so |mean − K| is a few standard deviations and the
    /// subtraction costs a few of a double's 53 bits (the sums are doubles over blocks of 64
    /// float rows). Updates the running statistics as `forwardTraining` does.
    static func statistics(
        x: UnsafePointer<Float>, rows: Int, channels c: Int, eps: Float, momentum: Float,
        runningMean: UnsafeMutablePointer<Float>, runningVar: UnsafeMutablePointer<Float>,
        mean: UnsafeMutablePointer<Float>, invStd: UnsafeMutablePointer<Float>,
        workers: Int, partials: UnsafeMutablePointer<Double>, sums: UnsafeMutablePointer<Double>
    ) {
        let sumA = sums, sumB = sums + c, shift = x
        pairedSums(rows: rows, channels: c, workers: workers, partials: partials, sumA: sumA, sumB: sumB) { r, a, b in
            let xr = x + r * c
            forEachLaneOfRow(0..<c, vector: { j, fresh in
                let d = xr.lanes(j) - shift.lanes(j)
                a.store(a.lanes(j) + d, j, fresh: fresh)
                b.store(b.lanes(j) + d * d, j, fresh: fresh)
            }, scalar: { j in
                let d = xr[j] - shift[j]
                a[j] += d
                b[j] += d * d
            })
        }
        for j in 0..<c {
            let offset = sumA[j] / Double(rows)
            let variance = max(sumB[j] / Double(rows) - offset * offset, 0)
            mean[j] = Float(Double(shift[j]) + offset)
            invStd[j] = Float(1 / (variance + Double(eps)).squareRoot())
            let unbiased = rows > 1 ? variance * Double(rows) / Double(rows - 1) : variance
            runningMean[j] = (1 - momentum) * runningMean[j] + momentum * mean[j]
            runningVar[j] = (1 - momentum) * runningVar[j] + momentum * Float(unbiased)
        }
    }

    /// The affine map BatchNorm applies once its statistics are fixed: y = x·scale + shift,
    /// scale = γ·invStd, shift = β − mean·scale; `coefficients` receives scale then shift.
    static func affine(gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, mean: UnsafePointer<Float>,
                       invStd: UnsafePointer<Float>, channels c: Int, coefficients: UnsafeMutablePointer<Float>) {
        for j in 0..<c {
            coefficients[j] = gamma[j] * invStd[j]
            coefficients[c + j] = beta[j] - mean[j] * coefficients[j]
        }
    }

    /// y = act(x·scale + shift [+ residual]) over `rows` rows of c channels, act being ReLU or
    /// the identity. y may be x (the convolution epilogue runs in place).
    @inline(__always)
    static func affineRows(_ rows: Range<Int>, x: UnsafePointer<Float>, channels c: Int, scale: UnsafePointer<Float>,
                           shift: UnsafePointer<Float>, residual: UnsafePointer<Float>?, relu: Bool,
                           y: UnsafeMutablePointer<Float>) {
        @inline(__always) func sweep(_ f: (Lanes, Int, Int) -> Lanes) {
            for r in rows {
                let xr = x + r * c, yr = y + r * c, base = r * c
                @inline(__always) func value(_ j: Int) -> Lanes { f(xr.lanes(j) * scale.lanes(j) + shift.lanes(j), base, j) }
                guard c > laneCount && c % laneCount != 0 else {
                    forEachLane(0..<c, vector: { j in yr.store(value(j), j) },
                                scalar: { j in yr[j] = f(Lanes(repeating: xr[j] * scale[j] + shift[j]), base, j)[0] })
                    continue
                }
                // The row's last eight values as one vector that overlaps the one before it,
                // not element by element: computed first, while x is as it came (y may be x),
                // and stored last, writing the overlapped lanes' values again.
                let last = c - laneCount, tail = value(last)
                var j = 0
                while j + laneCount <= c { yr.store(value(j), j); j += laneCount }
                yr.store(tail, last)
            }
        }
        // The scalar tail reads the residual as a splat of its one value (lanesOrSplat).
        switch (residual, relu) {
        case (nil, false): sweep { v, _, _ in v }
        case (nil, true): sweep { v, _, _ in v.replacing(with: 0, where: v .< 0) }
        case (let r?, false): sweep { v, base, j in v + lanesOrSplat(r, base, j, c) }
        case (let r?, true):
            sweep { v, base, j in
                let s = v + lanesOrSplat(r, base, j, c)
                return s.replacing(with: 0, where: s .< 0)
            }
        }
    }

    /// Eight values of p from base + j when they lie within the row of c, else p[base + j] in every lane.
    @inline(__always)
    private static func lanesOrSplat(_ p: UnsafePointer<Float>, _ base: Int, _ j: Int, _ c: Int) -> Lanes {
        j + laneCount <= c ? p.lanes(base + j) : Lanes(repeating: p[base + j])
    }

    /// Training- or eval-mode backward of a chain y = act(γ·xhat + β [+ residual]), act being
    /// ReLU or the identity, from x (xhat = (x − mean)·invStd is recomputed, not stored):
    /// dγ += Σ dy·xhat and dβ += Σ dy, from the reduced per-channel sums.
    private static func addParameterGradients(sumDy: UnsafePointer<Double>, sumDyXhat: UnsafePointer<Double>, channels c: Int,
                                              dgamma: UnsafeMutablePointer<Float>, dbeta: UnsafeMutablePointer<Float>) {
        for j in 0..<c {
            dgamma[j] += Float(sumDyXhat[j])
            dbeta[j] += Float(sumDy[j])
        }
    }

    /// The per-channel coefficients of dx = scale·dy − shift − slope·xhat, written into
    /// `coefficients` (scale, shift, slope, `c` each). In eval mode the statistics are
    /// constants, so only the scale remains.
    private static func inputGradientCoefficients(
        sumDy: UnsafePointer<Double>, sumDyXhat: UnsafePointer<Double>, rows: Int, channels c: Int,
        gamma: UnsafePointer<Float>, invStd: UnsafePointer<Float>, training: Bool, coefficients: UnsafeMutablePointer<Float>
    ) -> (scale: UnsafeMutablePointer<Float>, shift: UnsafeMutablePointer<Float>, slope: UnsafeMutablePointer<Float>) {
        let scale = coefficients, shift = coefficients + c, slope = coefficients + 2 * c
        for j in 0..<c {
            scale[j] = gamma[j] * invStd[j]
            shift[j] = training ? scale[j] * Float(sumDy[j] / Double(rows)) : 0
            slope[j] = training ? scale[j] * Float(sumDyXhat[j] / Double(rows)) : 0
        }
        return (scale, shift, slope)
    }

    /// g = dy where y > 0 (all of dy without ReLU); the residual's gradient is g; BatchNorm's
    /// as in `backward`. Pass 1 sums g and g·xhat and writes the residual gradient; pass 2
    /// writes dx. Gradients are added into, or written when their `accumulate` is false.
    static func backwardChain(
        dy: UnsafePointer<Float>, y: UnsafePointer<Float>, x: UnsafePointer<Float>, rows: Int, channels c: Int,
        mean: UnsafePointer<Float>, invStd: UnsafePointer<Float>, gamma: UnsafePointer<Float>, training: Bool, relu: Bool,
        dgamma: UnsafeMutablePointer<Float>, dbeta: UnsafeMutablePointer<Float>,
        dx: UnsafeMutablePointer<Float>?, accumulateDx: Bool,
        dresidual: UnsafeMutablePointer<Float>?, accumulateResidual: Bool,
        workers: Int, partials: UnsafeMutablePointer<Double>, sums: UnsafeMutablePointer<Double>,
        coefficients: UnsafeMutablePointer<Float>
    ) {
        @inline(__always) func gradient(_ r: Int, _ j: Int) -> Lanes {
            let g = (dy + r * c).lanes(j)
            return relu ? g.replacing(with: 0, where: (y + r * c).lanes(j) .<= 0) : g
        }
        @inline(__always) func gradient1(_ r: Int, _ j: Int) -> Float { relu && y[r * c + j] <= 0 ? 0 : dy[r * c + j] }
        let sumDy = sums, sumDyXhat = sums + c
        pairedSums(rows: rows, channels: c, workers: workers, partials: partials, sumA: sumDy, sumB: sumDyXhat) { r, a, b in
            let xr = x + r * c
            let d = dresidual.map { $0 + r * c }
            forEachLaneOfRow(0..<c, vector: { j, fresh in
                let g = gradient(r, j), h = (xr.lanes(j) - mean.lanes(j)) * invStd.lanes(j)
                a.store(a.lanes(j) + g, j, fresh: fresh)
                b.store(b.lanes(j) + g * h, j, fresh: fresh)
                if let d { d.store(accumulateResidual ? d.lanes(j) + g : g, j, fresh: fresh) }
            }, scalar: { j in
                let g = gradient1(r, j), h = (xr[j] - mean[j]) * invStd[j]
                a[j] += g
                b[j] += g * h
                if let d { d[j] = accumulateResidual ? d[j] + g : g }
            })
        }
        addParameterGradients(sumDy: sumDy, sumDyXhat: sumDyXhat, channels: c, dgamma: dgamma, dbeta: dbeta)
        guard let dx else { return }
        // dx = scale·g − shift − slope·xhat, as in `backward`.
        let (scale, shift, slope) = inputGradientCoefficients(sumDy: sumDy, sumDyXhat: sumDyXhat, rows: rows, channels: c, gamma: gamma,
                                                              invStd: invStd, training: training, coefficients: coefficients)
        Parallel.forRanges(rows, costPerItem: c) { range in
            for r in range {
                let xr = x + r * c, d = dx + r * c
                forEachLaneOfRow(0..<c, vector: { j, fresh in
                    let h = (xr.lanes(j) - mean.lanes(j)) * invStd.lanes(j)
                    let v = scale.lanes(j) * gradient(r, j) - shift.lanes(j) - slope.lanes(j) * h
                    d.store(accumulateDx ? d.lanes(j) + v : v, j, fresh: fresh)
                }, scalar: { j in
                    let h = (xr[j] - mean[j]) * invStd[j]
                    let v = scale[j] * gradient1(r, j) - shift[j] - slope[j] * h
                    d[j] = accumulateDx ? d[j] + v : v
                })
            }
        }
    }
}
