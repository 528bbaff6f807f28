// Pooling over NHWC activations: x (N, H, W, C) → y (N, P, Q, C).

/// Sizes of one pooling window sweep.
public struct PoolGeometry: Equatable, Sendable {
    public var batch, height, width, channels: Int
    public var kernel, stride, padding: Int
    public var outHeight: Int { (height + 2 * padding - kernel) / stride + 1 }
    public var outWidth: Int { (width + 2 * padding - kernel) / stride + 1 }
}

enum PoolKernels {
    /// Max pooling; `argmax` receives, per output element, the flat index into x of the
    /// winner (the first maximum, as PyTorch), which is all the backward pass needs.
    static func maxForward(_ g: PoolGeometry, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
                           argmax: UnsafeMutablePointer<Int32>) {
        let (p, q, c) = (g.outHeight, g.outWidth, g.channels)
        Parallel.forRanges(g.batch * p, costPerItem: q * c * g.kernel * g.kernel) { range in
            for np in range {
                let n = np / p, oy = np % p
                let y0 = max(0, oy * g.stride - g.padding), y1 = min(g.height, oy * g.stride - g.padding + g.kernel)
                for ox in 0..<q {
                    let x0 = max(0, ox * g.stride - g.padding), x1 = min(g.width, ox * g.stride - g.padding + g.kernel)
                    let out = y + (np * q + ox) * c, winner = argmax + (np * q + ox) * c
                    out.update(repeating: -.infinity, count: c)
                    winner.update(repeating: -1, count: c)
                    for iy in y0..<y1 {
                        for ix in x0..<x1 {
                            let at = ((n * g.height + iy) * g.width + ix) * c
                            let source = x + at
                            // Strictly greater keeps the first maximum, as PyTorch.
                            forEachLane(0..<c, vector: { j in
                                let v = source.lanes(j), better = v .> out.lanes(j)
                                out.store(out.lanes(j).replacing(with: v, where: better), j)
                                let indices = SIMD8<Int32>(repeating: Int32(truncatingIfNeeded: at + j)) &+ SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7)
                                let current = UnsafeRawPointer(winner + j).loadUnaligned(as: SIMD8<Int32>.self)
                                UnsafeMutableRawPointer(winner + j).storeBytes(
                                    of: current.replacing(with: indices, where: better), as: SIMD8<Int32>.self)
                            }, scalar: { j in
                                if source[j] > out[j] {
                                    out[j] = source[j]
                                    winner[j] = Int32(truncatingIfNeeded: at + j)
                                }
                            })
                        }
                    }
                }
            }
        }
    }

    /// dx[argmax[i]] += dy[i]. Parallel over images: winners never cross images.
    static func maxBackward(_ g: PoolGeometry, dy: UnsafePointer<Float>, argmax: UnsafePointer<Int32>,
                            dx: UnsafeMutablePointer<Float>) {
        let perImage = g.outHeight * g.outWidth * g.channels
        Parallel.forRanges(g.batch, costPerItem: perImage) { range in
            for i in (range.lowerBound * perImage)..<(range.upperBound * perImage) where argmax[i] >= 0 {
                dx[Int(argmax[i])] += dy[i]
            }
        }
    }

    /// Average pooling; padding counts towards the divisor (PyTorch's count_include_pad).
    static func averageForward(_ g: PoolGeometry, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        let (p, q, c) = (g.outHeight, g.outWidth, g.channels)
        let scale = 1 / Float(g.kernel * g.kernel)
        Parallel.forRanges(g.batch * p, costPerItem: q * c * g.kernel * g.kernel) { range in
            for np in range {
                let n = np / p, oy = np % p
                for ox in 0..<q {
                    let out = y + (np * q + ox) * c
                    out.update(repeating: 0, count: c)
                    forEachTap(g, n: n, oy: oy, ox: ox) { at in
                        for j in 0..<c { out[j] += x[at + j] }
                    }
                    for j in 0..<c { out[j] *= scale }
                }
            }
        }
    }

    static func averageBackward(_ g: PoolGeometry, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>) {
        let (p, q, c) = (g.outHeight, g.outWidth, g.channels)
        let scale = 1 / Float(g.kernel * g.kernel)
        Parallel.forRanges(g.batch, costPerItem: p * q * c * g.kernel * g.kernel) { range in
            for n in range {
                for oy in 0..<p {
                    for ox in 0..<q {
                        let grad = dy + ((n * p + oy) * q + ox) * c
                        forEachTap(g, n: n, oy: oy, ox: ox) { at in
                            for j in 0..<c { dx[at + j] += grad[j] * scale }
                        }
                    }
                }
            }
        }
    }

    /// Calls `body` with the offset into x of every in-bounds tap of one window.
    @inline(__always)
    private static func forEachTap(_ g: PoolGeometry, n: Int, oy: Int, ox: Int, _ body: (Int) -> Void) {
        for ky in 0..<g.kernel {
            let iy = oy * g.stride - g.padding + ky
            guard iy >= 0 && iy < g.height else { continue }
            for kx in 0..<g.kernel {
                let ix = ox * g.stride - g.padding + kx
                guard ix >= 0 && ix < g.width else { continue }
                body(((n * g.height + iy) * g.width + ix) * g.channels)
            }
        }
    }

    /// y (N, C) = mean over H·W of x (N, H·W, C).
    static func globalAverageForward(x: UnsafePointer<Float>, batch: Int, pixels: Int, channels c: Int,
                                     y: UnsafeMutablePointer<Float>) {
        let scale = 1 / Float(pixels)
        Parallel.forRanges(batch, costPerItem: pixels * c) { range in
            for n in range {
                let out = y + n * c
                out.update(repeating: 0, count: c)
                for s in 0..<pixels {
                    let row = x + (n * pixels + s) * c
                    for j in 0..<c { out[j] += row[j] }
                }
                for j in 0..<c { out[j] *= scale }
            }
        }
    }

    static func globalAverageBackward(dy: UnsafePointer<Float>, batch: Int, pixels: Int, channels c: Int,
                                      dx: UnsafeMutablePointer<Float>) {
        let scale = 1 / Float(pixels)
        Parallel.forRanges(batch, costPerItem: pixels * c) { range in
            for n in range {
                let grad = dy + n * c
                for s in 0..<pixels {
                    let row = dx + (n * pixels + s) * c
                    for j in 0..<c { row[j] += grad[j] * scale }
                }
            }
        }
    }
}
