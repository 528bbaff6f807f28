// Convolution as im2row + one GEMM per chunk of images (Caffe's im2col, transposed for NHWC).
//
// Shapes: x (N, H, W, C) input; y (N, P, Q, O) output, P×Q the output size;
// w (O, KH, KW, C) weights; rows (N·P·Q, KH·KW·C), one row per output pixel, laid out in
// the weight's (ky, kx, c) order so each kernel tap copies one contiguous run of C floats.

/// Sizes of one convolution.
public struct ConvGeometry: Equatable, Sendable {
    public var batch, height, width, inChannels, outChannels: Int
    public var kernelHeight, kernelWidth, stride, padding: Int

    public var outHeight: Int { (height + 2 * padding - kernelHeight) / stride + 1 }
    public var outWidth: Int { (width + 2 * padding - kernelWidth) / stride + 1 }
    /// Length of one im2row row: the inner dimension of the GEMM.
    public var rowLength: Int { kernelHeight * kernelWidth * inChannels }
    /// A 1×1, stride-1, unpadded convolution reads its input as the row matrix directly.
    var isPointwise: Bool { kernelHeight == 1 && kernelWidth == 1 && stride == 1 && padding == 0 }
}

enum ConvKernels {
    /// Largest im2row buffer, in floats, that one chunk of images may use (16 MiB): big enough
    /// for GEMMs near peak, small enough to stay friendly to the caches and memory.
    static let rowBudget = 4 << 20

    /// Images per chunk so that a chunk's rows fit the budget.
    static func imagesPerChunk(_ g: ConvGeometry) -> Int {
        let perImage = g.outHeight * g.outWidth * g.rowLength
        return max(1, min(g.batch, rowBudget / max(perImage, 1)))
    }

    /// Scratch size needed by `forward`/`backward`, in floats.
    static func scratchCount(_ g: ConvGeometry) -> Int {
        g.isPointwise ? 0 : imagesPerChunk(g) * g.outHeight * g.outWidth * g.rowLength
    }

    /// Gathers images `first..<first+count` of x into rows (zeros where the kernel hangs
    /// over the padding).
    static func im2row(_ g: ConvGeometry, x: UnsafePointer<Float>, first: Int, count: Int,
                       rows: UnsafeMutablePointer<Float>) {
        let (p, q, c, k) = (g.outHeight, g.outWidth, g.inChannels, g.rowLength)
        Parallel.forRanges(count * p, costPerItem: q * k) { range in
            for np in range {
                let n = first + np / p, oy = np % p
                let image = x + n * g.height * g.width * c
                var row = rows + np * q * k
                for ox in 0..<q {
                    for ky in 0..<g.kernelHeight {
                        let iy = oy * g.stride - g.padding + ky
                        for kx in 0..<g.kernelWidth {
                            let ix = ox * g.stride - g.padding + kx
                            if iy >= 0 && iy < g.height && ix >= 0 && ix < g.width {
                                row.update(from: image + (iy * g.width + ix) * c, count: c)
                            } else {
                                row.update(repeating: 0, count: c)
                            }
                            row += c
                        }
                    }
                }
            }
        }
    }

    /// Adds rows back into dx for images `first..<first+count` (the adjoint of im2row).
    /// Parallel over images, so workers never write the same element.
    static func row2imAdd(_ g: ConvGeometry, rows: UnsafePointer<Float>, first: Int, count: Int,
                          dx: UnsafeMutablePointer<Float>) {
        let (p, q, c, k) = (g.outHeight, g.outWidth, g.inChannels, g.rowLength)
        Parallel.forRanges(count, costPerItem: p * q * k) { range in
            for i in range {
                let image = dx + (first + i) * g.height * g.width * c
                var row = rows + i * p * q * k
                for oy in 0..<p {
                    for ox in 0..<q {
                        for ky in 0..<g.kernelHeight {
                            let iy = oy * g.stride - g.padding + ky
                            for kx in 0..<g.kernelWidth {
                                let ix = ox * g.stride - g.padding + kx
                                if iy >= 0 && iy < g.height && ix >= 0 && ix < g.width {
                                    let target = image + (iy * g.width + ix) * c
                                    for j in 0..<c { target[j] += row[j] }
                                }
                                row += c
                            }
                        }
                    }
                }
            }
        }
    }

    /// y = conv(x, w) + bias.
    static func forward(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                        bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
                        scratch: UnsafeMutablePointer<Float>) {
        let pixels = g.outHeight * g.outWidth
        let chunk = imagesPerChunk(g)
        var first = 0
        while first < g.batch {
            let count = min(chunk, g.batch - first)
            let rows: UnsafePointer<Float>
            if g.isPointwise {
                rows = x + first * pixels * g.inChannels
            } else {
                im2row(g, x: x, first: first, count: count, rows: scratch)
                rows = UnsafePointer(scratch)
            }
            BLAS.gemm(transposeA: false, transposeB: true, m: count * pixels, n: g.outChannels,
                      k: g.rowLength, a: rows, lda: g.rowLength, b: w, ldb: g.rowLength,
                      beta: 0, c: y + first * pixels * g.outChannels, ldc: g.outChannels)
            first += count
        }
        if let bias { addBias(y, bias, rows: g.batch * pixels, channels: g.outChannels) }
    }

    /// Accumulates dw (and dbias) and, when dx is given, dx, from dy.
    static func backward(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                         dy: UnsafePointer<Float>, dw: UnsafeMutablePointer<Float>,
                         dbias: UnsafeMutablePointer<Float>?, dx: UnsafeMutablePointer<Float>?,
                         scratch: UnsafeMutablePointer<Float>) {
        let pixels = g.outHeight * g.outWidth
        let chunk = imagesPerChunk(g)
        var first = 0
        while first < g.batch {
            let count = min(chunk, g.batch - first)
            let m = count * pixels
            let dyChunk = dy + first * pixels * g.outChannels
            // dW (O×K) += dYᵀ (O×M) · rows (M×K)
            let rows: UnsafePointer<Float>
            if g.isPointwise {
                rows = x + first * pixels * g.inChannels
            } else {
                im2row(g, x: x, first: first, count: count, rows: scratch)
                rows = UnsafePointer(scratch)
            }
            BLAS.gemm(transposeA: true, transposeB: false, m: g.outChannels, n: g.rowLength, k: m,
                      a: dyChunk, lda: g.outChannels, b: rows, ldb: g.rowLength,
                      beta: 1, c: dw, ldc: g.rowLength)
            if let dx {
                // dRows (M×K) = dY (M×O) · W (O×K), then scattered back onto dx.
                if g.isPointwise {
                    BLAS.gemm(transposeA: false, transposeB: false, m: m, n: g.rowLength, k: g.outChannels,
                              a: dyChunk, lda: g.outChannels, b: w, ldb: g.rowLength,
                              beta: 1, c: dx + first * pixels * g.inChannels, ldc: g.rowLength)
                } else {
                    BLAS.gemm(transposeA: false, transposeB: false, m: m, n: g.rowLength, k: g.outChannels,
                              a: dyChunk, lda: g.outChannels, b: w, ldb: g.rowLength,
                              beta: 0, c: scratch, ldc: g.rowLength)
                    row2imAdd(g, rows: scratch, first: first, count: count, dx: dx)
                }
            }
            first += count
        }
        if let dbias { sumRows(dy, into: dbias, rows: g.batch * pixels, channels: g.outChannels) }
    }

    /// y[r, c] += bias[c] for every row r.
    static func addBias(_ y: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>, rows: Int, channels: Int) {
        Parallel.forRanges(rows, costPerItem: channels) { range in
            for r in range {
                let row = y + r * channels
                for c in 0..<channels { row[c] += bias[c] }
            }
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
