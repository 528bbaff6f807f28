import Testing
import TestSupport
@testable import Engine

// The fast kernels against naive loops written straight from the definitions (NHWC).

@Suite("Kernels against naive loops")
struct KernelTests {
    static func naiveConv(_ g: ConvGeometry, x: Tensor, w: Tensor, bias: Tensor?) -> [Float] {
        Naive.convForward(g, x: x, w: w, bias: bias)
    }

    @Test("convolution forward", arguments: [(3, 1, 1), (3, 2, 1), (1, 1, 0), (1, 2, 0), (5, 1, 2), (3, 3, 0)], workerCounts)
    func convolution(_ sizes: (kernel: Int, stride: Int, padding: Int), workers: Int) {
        let (kernel, stride, padding) = sizes
        // Batch large enough that the forward pass runs in several chunks.
        var g = ConvGeometry(batch: 5, height: 9, width: 7, inChannels: 6, outChannels: 5,
                             kernelHeight: kernel, kernelWidth: kernel, stride: stride, padding: padding)
        let x = Fixtures.random([g.batch, g.height, g.width, g.inChannels], seed: 1)
        let w = Fixtures.random([g.outChannels, kernel, kernel, g.inChannels], seed: 2)
        let bias = Fixtures.random([g.outChannels], seed: 3)
        let y = Tensor(shape: [g.batch, g.outHeight, g.outWidth, g.outChannels])
        let scratch = Tensor(shape: [ConvKernels.scratchCount(g, workers: workers)])
        ConvKernels.forward(g, x: x.storage, w: w.storage, bias: bias.storage, y: y.storage, scratch: scratch.storage,
                            workers: workers)
        let expected = Self.naiveConv(g, x: x, w: w, bias: bias)
        for i in 0..<expected.count where abs(expected[i] - y[i]) > 1e-4 * max(1, abs(expected[i])) {
            Issue.record("conv k\(kernel) s\(stride) p\(padding): y[\(i)] = \(y[i]), naive \(expected[i])")
            return
        }
        g.batch = 0
    }

    @Test func convolutionChunking() {
        // More images than one chunk holds: every chunk must land at its own offset, for
        // every worker count (the naive result, the slow part, is computed once).
        let g = ConvGeometry(batch: 40, height: 28, width: 28, inChannels: 32, outChannels: 3,
                             kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1)
        let x = Fixtures.random([g.batch, 28, 28, 32], seed: 4)
        let w = Fixtures.random([3, 3, 3, 32], seed: 5)
        let expected = Self.naiveConv(g, x: x, w: w, bias: nil)
        for workers in workerCounts {
            #expect(ConvKernels.imagesPerChunk(g, workers: workers) < g.batch)
            let y = Tensor(shape: [g.batch, 28, 28, 3])
            let scratch = Tensor(shape: [ConvKernels.scratchCount(g, workers: workers)])
            ConvKernels.forward(g, x: x.storage, w: w.storage, bias: nil, y: y.storage, scratch: scratch.storage, workers: workers)
            let worst = (0..<expected.count).map { abs(expected[$0] - y[$0]) }.max()!
            #expect(worst < 1e-3, "workers \(workers)")
        }
    }

    /// Several chunks over several parts, each part but the first with its own weight
    /// gradient, must add up to what one image at a time gives, whatever the worker count:
    /// the parts whose private gradients are summed are fixed before any worker starts. The
    /// direct kernels' chunks, so Winograd (which the batch would take, and one image not)
    /// is off.
    @Test(arguments: workerCounts)
    func chunkedBackwardEqualsPerImageBackward(workers: Int) {
        ConvKernels.$winogradOverride.withValue("0") { chunkedBackward(workers: workers) }
    }

    func chunkedBackward(workers: Int) {
        let g = ConvGeometry(batch: 12, height: 28, width: 28, inChannels: 32, outChannels: 8,
                             kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1)
        #expect(ConvKernels.imagesPerChunk(g, workers: workers) < g.batch)
        let x = Fixtures.random([12, 28, 28, 32], seed: 7), w = Fixtures.random([8, 3, 3, 32], seed: 8)
        let dy = Fixtures.random([12, 28, 28, 8], seed: 9)
        let dw = Tensor(shape: [8 * 288]), dx = Tensor(shape: [12 * 28 * 28 * 32])
        let scratch = Tensor(shape: [ConvKernels.scratchCount(g, workers: workers)])
        ConvKernels.backward(g, x: x.storage, w: w.storage, dy: dy.storage, dw: dw.storage, dbias: nil, dx: dx.storage,
                             scratch: scratch.storage, workers: workers)
        var single = g
        single.batch = 1
        let dwSum = Tensor(shape: [8 * 288]), dxSingle = Tensor(shape: [12 * 28 * 28 * 32])
        let scratchSingle = Tensor(shape: [ConvKernels.scratchCount(single, workers: 1)])
        for n in 0..<12 {
            ConvKernels.backward(single, x: x.storage + n * 28 * 28 * 32, w: w.storage, dy: dy.storage + n * 28 * 28 * 8,
                                 dw: dwSum.storage, dbias: nil, dx: dxSingle.storage + n * 28 * 28 * 32,
                                 scratch: scratchSingle.storage, workers: 1)
        }
        let dwError = (0..<dw.count).map { abs(dw[$0] - dwSum[$0]) / max(1, abs(dwSum[$0])) }.max()!
        #expect(dwError < 1e-4)
        #expect(dx.values == dxSingle.values)
    }

    @Test("max and average pooling", arguments: [(2, 2, 0), (3, 2, 1), (3, 1, 1)])
    func pooling(kernel: Int, stride: Int, padding: Int) {
        // Eleven channels: the 8-wide vector path and the scalar tail both run.
        let c = 11
        var g = PoolGeometry(batch: 3, height: 7, width: 6, channels: c, kernel: kernel, stride: stride, padding: padding)
        let x = Fixtures.random([3, 7, 6, c], seed: 6)
        let count = 3 * g.outHeight * g.outWidth * c
        let maxY = Tensor(shape: [count]), avgY = Tensor(shape: [count])
        let argmax = UnsafeMutablePointer<Int32>.allocate(capacity: count)
        defer { argmax.deallocate() }
        PoolKernels.maxForward(g, x: x.storage, y: maxY.storage, argmax: argmax)
        PoolKernels.averageForward(g, x: x.storage, y: avgY.storage)
        for n in 0..<3 { for oy in 0..<g.outHeight { for ox in 0..<g.outWidth { for channel in 0..<c {
            var peak = -Float.infinity, sum: Float = 0
            for ky in 0..<kernel { for kx in 0..<kernel {
                let iy = oy * stride - padding + ky, ix = ox * stride - padding + kx
                guard iy >= 0, iy < 7, ix >= 0, ix < 6 else { continue }
                let v = x[((n * 7 + iy) * 6 + ix) * c + channel]
                peak = max(peak, v); sum += v
            } }
            let i = ((n * g.outHeight + oy) * g.outWidth + ox) * c + channel
            #expect(maxY[i] == peak, "max[\(i)]")
            #expect(abs(avgY[i] - sum / Float(kernel * kernel)) < 1e-5, "avg[\(i)]")
            #expect(x[Int(argmax[i])] == peak, "argmax[\(i)]")
        } } } }
        g.batch = 0
    }
}
