// Convolution as im2row + GEMM (Caffe's im2col, transposed for NHWC).
//
// Shapes: x (N, H, W, C) input; y (N, P, Q, O) output, P×Q the output size;
// w (O, KH, KW, C) weights; rows (N·P·Q, KH·KW·C), one row per output pixel, laid out in
// the weight's (ky, kx, c) order so each kernel tap copies one contiguous run of C floats.
//
// Work is cut into chunks of output rows, and each worker gathers its own chunk and runs a
// single-threaded GEMM on it. That keeps both cores busy through the gather as well as the
// multiply, where handing each GEMM to BLAS's own threads left one core spinning while the
// other gathered.

/// Sizes of one convolution.
public struct ConvGeometry: Equatable, Sendable {
    public var batch, height, width, inChannels, outChannels: Int
    public var kernelHeight, kernelWidth, stride, padding: Int

    public var outHeight: Int { (height + 2 * padding - kernelHeight) / stride + 1 }
    public var outWidth: Int { (width + 2 * padding - kernelWidth) / stride + 1 }
    /// Length of one im2row row: the inner dimension of the GEMM.
    public var rowLength: Int { kernelHeight * kernelWidth * inChannels }
    var pixels: Int { outHeight * outWidth }
    /// A 1×1, stride-1, unpadded convolution reads its input as the row matrix directly.
    var isPointwise: Bool { kernelHeight == 1 && kernelWidth == 1 && stride == 1 && padding == 0 }
}

enum ConvKernels {
    /// Largest im2row chunk, in floats, that one worker gathers at a time (1 MiB): big
    /// enough for GEMMs near peak, small enough to stay in cache on its way to the GEMM.
    static let chunkBudget = 1 << 18

    /// Output rows per forward chunk: within the budget, and at most an even share of the
    /// batch's rows so every worker has work even for one image.
    static func rowsPerChunk(_ g: ConvGeometry) -> Int {
        let total = g.batch * g.pixels
        return max(1, min(chunkBudget / g.rowLength, (total + Parallel.workers - 1) / Parallel.workers))
    }

    /// Whole images per backward chunk (so workers scatter into disjoint parts of dx).
    static func imagesPerChunk(_ g: ConvGeometry) -> Int {
        max(1, min(chunkBudget / (g.rowLength * g.pixels), (g.batch + Parallel.workers - 1) / Parallel.workers))
    }

    /// Scratch needed by `forward` and `backward`, in floats: one row chunk per worker, and
    /// a private weight gradient for every worker but the first.
    static func scratchCount(_ g: ConvGeometry) -> Int {
        let chunkRows = max(rowsPerChunk(g), imagesPerChunk(g) * g.pixels)
        return Parallel.workers * chunkRows * g.rowLength + (Parallel.workers - 1) * g.outChannels * g.rowLength
    }

    /// Gathers output rows `rows` (row r = image r / P·Q, pixel r % P·Q) of x into `out`,
    /// with zeros where the kernel hangs over the padding.
    static func im2row(_ g: ConvGeometry, x: UnsafePointer<Float>, rows: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        let (q, c) = (g.outWidth, g.inChannels)
        var row = out
        for r in rows {
            let n = r / g.pixels, oy = (r % g.pixels) / q, ox = r % q
            let image = x + n * g.height * g.width * c
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

    /// Adds the rows of images `images` back into dx (the adjoint of im2row).
    static func row2imAdd(_ g: ConvGeometry, rows: UnsafePointer<Float>, images: Range<Int>, dx: UnsafeMutablePointer<Float>) {
        let (p, q, c) = (g.outHeight, g.outWidth, g.inChannels)
        var row = rows
        for n in images {
            let image = dx + n * g.height * g.width * c
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

    /// y = conv(x, w) + bias.
    static func forward(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                        bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
                        scratch: UnsafeMutablePointer<Float>) {
        let (k, o) = (g.rowLength, g.outChannels)
        let total = g.batch * g.pixels, chunkRows = rowsPerChunk(g)
        let chunks = (total + chunkRows - 1) / chunkRows
        let chunkScratch = max(chunkRows, imagesPerChunk(g) * g.pixels) * k
        Parallel.forParts(chunks, costPerItem: chunkRows * k * o) { part, range in
            let local = scratch + part * chunkScratch
            for chunk in range {
                let first = chunk * chunkRows, count = min(chunkRows, total - first)
                let rows: UnsafePointer<Float>
                if g.isPointwise {
                    rows = x + first * k
                } else {
                    im2row(g, x: x, rows: first..<(first + count), into: local)
                    rows = UnsafePointer(local)
                }
                BLAS.gemm(transposeA: false, transposeB: true, m: count, n: o, k: k, a: rows, lda: k, b: w, ldb: k,
                          beta: 0, c: y + first * o, ldc: o)
                if let bias { addBias(y + first * o, bias, rows: count, channels: o) }
            }
        }
    }

    /// Accumulates dw (and dbias) and, when dx is given, dx, from dy.
    static func backward(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                         dy: UnsafePointer<Float>, dw: UnsafeMutablePointer<Float>,
                         dbias: UnsafeMutablePointer<Float>?, dx: UnsafeMutablePointer<Float>?,
                         scratch: UnsafeMutablePointer<Float>) {
        let (k, o, pixels) = (g.rowLength, g.outChannels, g.pixels)
        let chunkImages = imagesPerChunk(g)
        let chunks = (g.batch + chunkImages - 1) / chunkImages
        let chunkScratch = max(rowsPerChunk(g), chunkImages * pixels) * k
        let privateGradients = scratch + Parallel.workers * chunkScratch
        var partsUsed = 1
        Parallel.forParts(chunks, costPerItem: chunkImages * pixels * k * o) { part, range in
            if part > 0 { partsUsed = max(partsUsed, part + 1) }
            let local = scratch + part * chunkScratch
            // The first worker adds into dw; the others into private buffers, summed below.
            let gradient = part == 0 ? dw : privateGradients + (part - 1) * o * k
            if part > 0 { gradient.update(repeating: 0, count: o * k) }
            for chunk in range {
                let images = (chunk * chunkImages)..<min((chunk + 1) * chunkImages, g.batch)
                let first = images.lowerBound * pixels, m = images.count * pixels
                let dyChunk = dy + first * o
                let rows: UnsafePointer<Float>
                if g.isPointwise {
                    rows = x + first * k
                } else {
                    im2row(g, x: x, rows: first..<(first + m), into: local)
                    rows = UnsafePointer(local)
                }
                // dW (O×K) += dYᵀ (O×M) · rows (M×K)
                BLAS.gemm(transposeA: true, transposeB: false, m: o, n: k, k: m, a: dyChunk, lda: o, b: rows, ldb: k,
                          beta: 1, c: gradient, ldc: k)
                guard let dx else { continue }
                // dRows (M×K) = dY (M×O) · W (O×K), scattered back onto dx.
                if g.isPointwise {
                    BLAS.gemm(transposeA: false, transposeB: false, m: m, n: k, k: o, a: dyChunk, lda: o, b: w, ldb: k,
                              beta: 1, c: dx + first * k, ldc: k)
                } else {
                    BLAS.gemm(transposeA: false, transposeB: false, m: m, n: k, k: o, a: dyChunk, lda: o, b: w, ldb: k,
                              beta: 0, c: local, ldc: k)
                    row2imAdd(g, rows: local, images: images, dx: dx)
                }
            }
        }
        for part in 1..<partsUsed {
            let gradient = privateGradients + (part - 1) * o * k
            for i in 0..<(o * k) { dw[i] += gradient[i] }
        }
        if let dbias { sumRows(dy, into: dbias, rows: g.batch * pixels, channels: o) }
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
