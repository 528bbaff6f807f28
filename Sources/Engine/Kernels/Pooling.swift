// Pooling over NHWC activations: x (N, H, W, C) → y (N, P, Q, C).

/// Sizes of one pooling window sweep.
public struct PoolGeometry: Equatable, Sendable {
    public var batch, height, width, channels: Int
    public var kernel, stride, padding: Int
    /// Round the output size up (PyTorch's `ceil_mode`): a last, partial window is kept when
    /// it starts inside the input or its left padding.
    public var ceilMode = false
    /// Average pooling divides by the window including its padding (PyTorch's
    /// `count_include_pad`, the default) or by the input pixels it covers only.
    public var countPadding = true

    public var outHeight: Int { Self.outputSize(height, kernel: kernel, stride: stride, padding: padding, ceil: ceilMode) }
    public var outWidth: Int { Self.outputSize(width, kernel: kernel, stride: stride, padding: padding, ceil: ceilMode) }

    /// PyTorch's pooling_output_shape: ⌊(L + 2p − k)/s⌋ + 1, or with `ceil` ⌈(L + 2p − k)/s⌉ + 1
    /// less one when that last window would start at or past L + p, beyond the input and its
    /// left padding. Zero or less when the kernel does not fit.
    public static func outputSize(_ length: Int, kernel: Int, stride: Int, padding: Int, ceil: Bool) -> Int {
        let span = length + 2 * padding - kernel + (ceil ? stride - 1 : 0)
        // Floor division, so a kernel larger than the padded input gives no output.
        var size = (span >= 0 ? span / stride : -((-span + stride - 1) / stride)) + 1
        if ceil && size > 0 && (size - 1) * stride >= length + padding { size -= 1 }
        return size
    }

    /// Input rows (or columns) of window `index` along a side of `length`, clipped to the
    /// input, and the divisor's share of that side: the window clipped to the padded bounds
    /// (counting padding) or to the input (not), as PyTorch's avg_pool2d.
    @inline(__always)
    func window(_ index: Int, length: Int) -> (range: Range<Int>, divisor: Int) {
        let start = index * stride - padding
        let paddedEnd = min(start + kernel, length + padding)
        let range = max(start, 0)..<max(min(paddedEnd, length), max(start, 0))
        return (range, countPadding ? paddedEnd - start : range.count)
    }
}

enum PoolKernels {
    /// Max pooling; `argmax` receives, per output element, the flat index into x of the
    /// winner (the first maximum, as PyTorch), which is all the backward pass needs; −1 (and
    /// −∞ in y) for a window that covers no input.
    static func maxForward(_ g: PoolGeometry, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
                           argmax: UnsafeMutablePointer<Int32>) {
        let (p, q, c) = (g.outHeight, g.outWidth, g.channels)
        Parallel.forRanges(g.batch * p, costPerItem: q * c * g.kernel * g.kernel) { range in
            for np in range {
                let n = np / p, rows = g.window(np % p, length: g.height).range
                for ox in 0..<q {
                    let columns = g.window(ox, length: g.width).range
                    let out = y + (np * q + ox) * c, winner = argmax + (np * q + ox) * c
                    @inline(__always) func at(_ iy: Int, _ ix: Int) -> Int { ((n * g.height + iy) * g.width + ix) * c }
                    // Eight channels at a time over the whole window, the running maximum in a
                    // register; a lane's result depends on the inputs alone, so the last vector
                    // of a row may overlap the one before it. Strictly greater keeps the first
                    // maximum, as PyTorch.
                    forEachLaneOfRow(0..<c, vector: { j, _ in
                        var best = Lanes(repeating: -.infinity), index = SIMD8<Int32>(repeating: -1)
                        for iy in rows {
                            for ix in columns {
                                let v = x.lanes(at(iy, ix) + j), better = v .> best
                                best = best.replacing(with: v, where: better)
                                index = index.replacing(with: SIMD8(repeating: Int32(truncatingIfNeeded: at(iy, ix) + j)) &+ SIMD8(0, 1, 2, 3, 4, 5, 6, 7),
                                                        where: better)
                            }
                        }
                        out.store(best, j)
                        UnsafeMutableRawPointer(winner + j).storeBytes(of: index, as: SIMD8<Int32>.self)
                    }, scalar: { j in
                        var best = -Float.infinity, index: Int32 = -1
                        for iy in rows {
                            for ix in columns where x[at(iy, ix) + j] > best {
                                best = x[at(iy, ix) + j]
                                index = Int32(truncatingIfNeeded: at(iy, ix) + j)
                            }
                        }
                        out[j] = best
                        winner[j] = index
                    })
                }
            }
        }
    }

    /// dx[argmax[i]] += dy[i]; without `accumulate`, dx is zeroed first. Parallel over
    /// images: winners never cross images.
    static func maxBackward(_ g: PoolGeometry, dy: UnsafePointer<Float>, argmax: UnsafePointer<Int32>,
                            dx: UnsafeMutablePointer<Float>, accumulate: Bool = true) {
        let perImage = g.outHeight * g.outWidth * g.channels, inputPerImage = g.height * g.width * g.channels
        Parallel.forRanges(g.batch, costPerItem: perImage) { range in
            if !accumulate {
                (dx + range.lowerBound * inputPerImage).update(repeating: 0, count: range.count * inputPerImage)
            }
            for i in (range.lowerBound * perImage)..<(range.upperBound * perImage) where argmax[i] >= 0 {
                dx[Int(argmax[i])] += dy[i]
            }
        }
    }

    /// Average pooling, divided as `g.countPadding` says (see `PoolGeometry.window`).
    static func averageForward(_ g: PoolGeometry, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        let (p, q, c) = (g.outHeight, g.outWidth, g.channels)
        Parallel.forRanges(g.batch * p, costPerItem: q * c * g.kernel * g.kernel) { range in
            for np in range {
                let n = np / p, (rows, rowDivisor) = g.window(np % p, length: g.height)
                for ox in 0..<q {
                    let (columns, columnDivisor) = g.window(ox, length: g.width)
                    let scale = reciprocal(rowDivisor * columnDivisor)
                    let out = y + (np * q + ox) * c
                    forEachLane(0..<c, vector: { j in
                        var sum = Lanes()
                        for iy in rows {
                            for ix in columns { sum += x.lanes(((n * g.height + iy) * g.width + ix) * c + j) }
                        }
                        out.store(sum * scale, j)
                    }, scalar: { j in
                        var sum: Float = 0
                        for iy in rows {
                            for ix in columns { sum += x[((n * g.height + iy) * g.width + ix) * c + j] }
                        }
                        out[j] = sum * scale
                    })
                }
            }
        }
    }

    /// dx += each output's gradient over its window, divided as in the forward pass.
    /// Parallel over images: windows overlap within an image.
    static func averageBackward(_ g: PoolGeometry, dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>) {
        let (p, q, c) = (g.outHeight, g.outWidth, g.channels)
        Parallel.forRanges(g.batch, costPerItem: p * q * c * g.kernel * g.kernel) { range in
            for n in range {
                for oy in 0..<p {
                    let (rows, rowDivisor) = g.window(oy, length: g.height)
                    for ox in 0..<q {
                        let (columns, columnDivisor) = g.window(ox, length: g.width)
                        spread(dy + ((n * p + oy) * q + ox) * c, scale: reciprocal(rowDivisor * columnDivisor),
                               over: rows, columns, image: dx + n * g.height * g.width * c, width: g.width, channels: c)
                    }
                }
            }
        }
    }

    /// Bin i of n over a side of `length`: ⌊i·L/n⌋ ..< ⌈(i+1)·L/n⌉ (PyTorch's adaptive pooling).
    /// Bins cover the side, overlap when n does not divide L, and are never empty.
    @inline(__always)
    static func adaptiveBin(_ i: Int, of n: Int, length: Int) -> Range<Int> {
        (i * length / n)..<(((i + 1) * length + n - 1) / n)
    }

    /// Adaptive average pooling: y (N, P, Q, C) holds the mean of x (N, H, W, C) over each bin.
    static func adaptiveAverageForward(x: UnsafePointer<Float>, batch: Int, height: Int, width: Int, channels c: Int,
                                       outHeight p: Int, outWidth q: Int, y: UnsafeMutablePointer<Float>) {
        Parallel.forRanges(batch * p, costPerItem: q * c * ((height + p - 1) / p + 1) * ((width + q - 1) / q + 1)) { range in
            for np in range {
                let n = np / p, rows = adaptiveBin(np % p, of: p, length: height)
                for ox in 0..<q {
                    let columns = adaptiveBin(ox, of: q, length: width)
                    let scale = reciprocal(rows.count * columns.count)
                    let out = y + (np * q + ox) * c
                    forEachLane(0..<c, vector: { j in
                        var sum = Lanes()
                        for iy in rows {
                            for ix in columns { sum += x.lanes(((n * height + iy) * width + ix) * c + j) }
                        }
                        out.store(sum * scale, j)
                    }, scalar: { j in
                        var sum: Float = 0
                        for iy in rows {
                            for ix in columns { sum += x[((n * height + iy) * width + ix) * c + j] }
                        }
                        out[j] = sum * scale
                    })
                }
            }
        }
    }

    /// dx += dy of each bin divided by its size, over the bin. Parallel over images.
    static func adaptiveAverageBackward(dy: UnsafePointer<Float>, batch: Int, height: Int, width: Int, channels c: Int,
                                        outHeight p: Int, outWidth q: Int, dx: UnsafeMutablePointer<Float>) {
        Parallel.forRanges(batch, costPerItem: max(p * q, height * width) * c * 4) { range in
            for n in range {
                for oy in 0..<p {
                    let rows = adaptiveBin(oy, of: p, length: height)
                    for ox in 0..<q {
                        let columns = adaptiveBin(ox, of: q, length: width)
                        spread(dy + ((n * p + oy) * q + ox) * c, scale: reciprocal(rows.count * columns.count),
                               over: rows, columns, image: dx + n * height * width * c, width: width, channels: c)
                    }
                }
            }
        }
    }

    /// image[iy, ix, :] += gradient[:] · scale over the window `rows` × `columns`.
    @inline(__always)
    private static func spread(_ gradient: UnsafePointer<Float>, scale: Float, over rows: Range<Int>, _ columns: Range<Int>,
                               image: UnsafeMutablePointer<Float>, width: Int, channels c: Int) {
        for iy in rows {
            for ix in columns {
                let target = image + (iy * width + ix) * c
                forEachLane(0..<c, vector: { j in target.store(target.lanes(j) + gradient.lanes(j) * scale, j) },
                            scalar: { j in target[j] += gradient[j] * scale })
            }
        }
    }

    /// 1/count, and 0 for an empty window (which only a kernel that misses the input can give).
    @inline(__always)
    private static func reciprocal(_ count: Int) -> Float { count > 0 ? 1 / Float(count) : 0 }

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

    /// dx += dy / pixels over every pixel (dx = that, when not `accumulate`).
    static func globalAverageBackward(dy: UnsafePointer<Float>, batch: Int, pixels: Int, channels c: Int,
                                      dx: UnsafeMutablePointer<Float>, accumulate: Bool = true) {
        let scale = 1 / Float(pixels)
        Parallel.forRanges(batch, costPerItem: pixels * c) { range in
            for n in range {
                let grad = dy + n * c
                for s in 0..<pixels {
                    let row = dx + (n * pixels + s) * c
                    if accumulate {
                        for j in 0..<c { row[j] += grad[j] * scale }
                    } else {
                        for j in 0..<c { row[j] = grad[j] * scale }
                    }
                }
            }
        }
    }
}
