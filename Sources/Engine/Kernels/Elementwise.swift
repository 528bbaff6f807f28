import Foundation

// Elementwise kernels, linear layers and the loss. Shapes as noted per function.

enum ElementwiseKernels {
    static func reluForward(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forRanges(count) { range in
            // A select: the standard library's pointwiseMax is not inlined and runs lane by lane.
            forEachLane(range, vector: { i in
                let v = x.lanes(i)
                y.store(v.replacing(with: 0, where: v .< 0), i)
            },
                        scalar: { y[$0] = max(x[$0], 0) })
        }
    }

    /// dx += dy where the output was positive (dx = that, when not `accumulate`).
    static func reluBackward(y: UnsafePointer<Float>, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int,
                             accumulate: Bool = true) {
        Parallel.forRanges(count) { range in
            if accumulate {
                forEachLane(range, vector: { i in
                    dx.store(dx.lanes(i) + dy.lanes(i).replacing(with: 0, where: y.lanes(i) .<= 0), i)
                }, scalar: { i in
                    if y[i] > 0 { dx[i] += dy[i] }
                })
            } else {
                forEachLane(range, vector: { i in
                    dx.store(dy.lanes(i).replacing(with: 0, where: y.lanes(i) .<= 0), i)
                }, scalar: { i in
                    dx[i] = y[i] > 0 ? dy[i] : 0
                })
            }
        }
    }

    /// y = max(a + b, 0): a residual sum and the ReLU after it, in one pass.
    static func addReLU(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forRanges(count) { range in
            forEachLane(range, vector: { i in
                let v = a.lanes(i) + b.lanes(i)
                y.store(v.replacing(with: 0, where: v .< 0), i)
            }, scalar: { i in y[i] = max(a[i] + b[i], 0) })
        }
    }

    static func add(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forRanges(count) { range in
            forEachLane(range, vector: { y.store(a.lanes($0) + b.lanes($0), $0) }, scalar: { y[$0] = a[$0] + b[$0] })
        }
    }

    /// dx = dy, or dx += dy when `accumulate`.
    static func pass(_ dy: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, count: Int, accumulate: Bool) {
        if accumulate { return self.accumulate(dy, into: dx, count: count) }
        Parallel.forRanges(count) { range in dx.advanced(by: range.lowerBound).update(from: dy + range.lowerBound, count: range.count) }
    }

    /// dx += dy.
    static func accumulate(_ dy: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forRanges(count) { range in
            forEachLane(range, vector: { dx.store(dx.lanes($0) + dy.lanes($0), $0) }, scalar: { dx[$0] += dy[$0] })
        }
    }

    /// NHWC (N, S, C) → PyTorch's flatten order (N, C·S), so linear weights after a flatten
    /// have PyTorch's column order; `inverse` accumulates the other way for the backward pass
    /// (or writes, when not `accumulate`).
    static func channelsFirst(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                              batch: Int, pixels: Int, channels: Int, inverse: Bool, accumulate: Bool = true) {
        let per = pixels * channels
        Parallel.forRanges(batch, costPerItem: per) { range in
            for n in range {
                let base = n * per
                for s in 0..<pixels {
                    for c in 0..<channels {
                        let nhwc = base + s * channels + c, nchw = base + c * pixels + s
                        if !inverse { y[nchw] = x[nhwc] } else if accumulate { y[nhwc] += x[nchw] } else { y[nhwc] = x[nchw] }
                    }
                }
            }
        }
    }
}

enum LinearKernels {
    /// y (N, O) = x (N, I) · wᵀ (I, O) + b.
    static func forward(x: UnsafePointer<Float>, w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                        y: UnsafeMutablePointer<Float>, batch: Int, inFeatures: Int, outFeatures: Int) {
        BLAS.gemm(transposeA: false, transposeB: true, m: batch, n: outFeatures, k: inFeatures,
                  a: x, lda: inFeatures, b: w, ldb: inFeatures, beta: 0, c: y, ldc: outFeatures)
        if let bias { ConvKernels.addBias(y, bias, rows: batch, channels: outFeatures) }
    }

    /// dw += dyᵀ·x, db += Σ dy, dx += dy·w (dx = dy·w when not `accumulate`).
    static func backward(x: UnsafePointer<Float>, w: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                         dw: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>?,
                         dx: UnsafeMutablePointer<Float>?, batch: Int, inFeatures: Int, outFeatures: Int,
                         accumulate: Bool = true) {
        BLAS.gemm(transposeA: true, transposeB: false, m: outFeatures, n: inFeatures, k: batch,
                  a: dy, lda: outFeatures, b: x, ldb: inFeatures, beta: 1, c: dw, ldc: inFeatures)
        if let dbias { ConvKernels.sumRows(dy, into: dbias, rows: batch, channels: outFeatures) }
        if let dx {
            BLAS.gemm(transposeA: false, transposeB: false, m: batch, n: inFeatures, k: outFeatures,
                      a: dy, lda: outFeatures, b: w, ldb: inFeatures, beta: accumulate ? 1 : 0, c: dx, ldc: inFeatures)
        }
    }
}

enum LossKernels {
    /// Mean softmax cross-entropy over the batch of logits (N, K); writes the gradient
    /// of the mean loss into dlogits (N, K) when given. Returns the loss.
    static func softmaxCrossEntropy(logits: UnsafePointer<Float>, labels: UnsafePointer<Int32>,
                                    batch: Int, classes k: Int, dlogits: UnsafeMutablePointer<Float>?) -> Float {
        var total: Double = 0
        for n in 0..<batch {
            let row = logits + n * k
            var peak = row[0]
            for j in 1..<k { peak = max(peak, row[j]) }
            var sum: Float = 0
            for j in 0..<k { sum += expf(row[j] - peak) }
            let label = Int(labels[n])
            let logSum = logf(sum) + peak
            total += Double(logSum - row[label])
            if let dlogits {
                let grad = dlogits + n * k
                for j in 0..<k {
                    grad[j] = (expf(row[j] - logSum) - (j == label ? 1 : 0)) / Float(batch)
                }
            }
        }
        return Float(total / Double(batch))
    }
}
