// Kernels that combine or scale activations: channel concatenation, the channel gate of
// squeeze-excitation, elementwise products and per-example scales.
//
// Shapes: maps are (N, S, C) with S = H·W pixels; a gate is (N, C), one value per example
// and channel; a concatenation writes rows of `stride` channels, one input at a time.

enum CombineKernels {
    /// y[r, offset ..< offset + width] = x[r, 0 ..< width] for every row r, y's rows being
    /// `stride` floats long.
    static func copyChannels(_ x: UnsafePointer<Float>, rows: Int, width: Int,
                             into y: UnsafeMutablePointer<Float>, stride: Int, offset: Int) {
        Parallel.forRanges(rows, costPerItem: width) { range in
            for r in range { (y + r * stride + offset).update(from: x + r * width, count: width) }
        }
    }

    /// dx[r, :] += dy[r, offset ..< offset + width] for every row r (the adjoint of copyChannels).
    static func addChannels(_ dy: UnsafePointer<Float>, stride: Int, offset: Int, rows: Int, width: Int,
                            into dx: UnsafeMutablePointer<Float>) {
        Parallel.forRanges(rows, costPerItem: width) { range in
            for r in range {
                let source = dy + r * stride + offset, target = dx + r * width
                forEachLane(0..<width, vector: { j in target.store(target.lanes(j) + source.lanes(j), j) },
                            scalar: { j in target[j] += source[j] })
            }
        }
    }

    /// y[n, s, c] = x[n, s, c] · gate[n, c].
    static func gateForward(x: UnsafePointer<Float>, gate: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
                            batch: Int, pixels: Int, channels c: Int) {
        Parallel.forRanges(batch * pixels, costPerItem: c) { range in
            for r in range {
                let g = gate + (r / pixels) * c, source = x + r * c, target = y + r * c
                forEachLane(0..<c, vector: { j in target.store(source.lanes(j) * g.lanes(j), j) },
                            scalar: { j in target[j] = source[j] * g[j] })
            }
        }
    }

    /// dx[n, s, c] += dy[n, s, c] · gate[n, c] and dgate[n, c] += Σ_s dy[n, s, c] · x[n, s, c],
    /// each when given. Parallel over examples, so every worker owns its rows of dgate.
    static func gateBackward(x: UnsafePointer<Float>, gate: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                             dx: UnsafeMutablePointer<Float>?, dgate: UnsafeMutablePointer<Float>?,
                             batch: Int, pixels: Int, channels c: Int) {
        Parallel.forRanges(batch, costPerItem: pixels * c * 2) { range in
            for n in range {
                let g = gate + n * c
                for s in 0..<pixels {
                    let r = n * pixels + s, gradient = dy + r * c
                    if let dx {
                        let target = dx + r * c
                        forEachLane(0..<c, vector: { j in target.store(target.lanes(j) + gradient.lanes(j) * g.lanes(j), j) },
                                    scalar: { j in target[j] += gradient[j] * g[j] })
                    }
                    if let dgate {
                        let source = x + r * c, target = dgate + n * c
                        forEachLane(0..<c, vector: { j in target.store(target.lanes(j) + gradient.lanes(j) * source.lanes(j), j) },
                                    scalar: { j in target[j] += gradient[j] * source[j] })
                    }
                }
            }
        }
    }

    /// y = a · b, elementwise.
    static func multiply(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forRanges(count) { range in
            forEachLane(range, vector: { i in y.store(a.lanes(i) * b.lanes(i), i) }, scalar: { i in y[i] = a[i] * b[i] })
        }
    }

    /// dx += dy · b, elementwise.
    static func multiplyAccumulate(_ dy: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>,
                                   count: Int) {
        Parallel.forRanges(count) { range in
            forEachLane(range, vector: { i in dx.store(dx.lanes(i) + dy.lanes(i) * b.lanes(i), i) },
                        scalar: { i in dx[i] += dy[i] * b[i] })
        }
    }

    /// y[n, :] = x[n, :] · scales[n] over examples of `perExample` floats.
    static func scaleExamples(_ x: UnsafePointer<Float>, scales: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>,
                              batch: Int, perExample: Int) {
        Parallel.forRanges(batch, costPerItem: perExample) { range in
            for n in range {
                let scale = scales[n], source = x + n * perExample, target = y + n * perExample
                forEachLane(0..<perExample, vector: { i in target.store(source.lanes(i) * scale, i) },
                            scalar: { i in target[i] = source[i] * scale })
            }
        }
    }

    /// dx[n, :] += dy[n, :] · scales[n].
    static func scaleExamplesAccumulate(_ dy: UnsafePointer<Float>, scales: UnsafePointer<Float>,
                                        into dx: UnsafeMutablePointer<Float>, batch: Int, perExample: Int) {
        Parallel.forRanges(batch, costPerItem: perExample) { range in
            for n in range {
                let scale = scales[n], source = dy + n * perExample, target = dx + n * perExample
                forEachLane(0..<perExample, vector: { i in target.store(target.lanes(i) + source.lanes(i) * scale, i) },
                            scalar: { i in target[i] += source[i] * scale })
            }
        }
    }
}
