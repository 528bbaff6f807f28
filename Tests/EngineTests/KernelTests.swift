import Testing
import TestSupport
@testable import Engine

// The fast kernels against naive loops written straight from the definitions (NHWC).

@Suite("Kernels against naive loops")
struct KernelTests {
    /// Direct convolution: y[n,oy,ox,o] = Σ w[o,ky,kx,c]·x[n,iy,ix,c] + b[o].
    static func naiveConv(_ g: ConvGeometry, x: Tensor, w: Tensor, bias: Tensor?) -> [Float] {
        var y = [Float](repeating: 0, count: g.batch * g.outHeight * g.outWidth * g.outChannels)
        for n in 0..<g.batch { for oy in 0..<g.outHeight { for ox in 0..<g.outWidth { for o in 0..<g.outChannels {
            var sum: Float = bias?[o] ?? 0
            for ky in 0..<g.kernelHeight { for kx in 0..<g.kernelWidth {
                let iy = oy * g.stride - g.padding + ky, ix = ox * g.stride - g.padding + kx
                guard iy >= 0, iy < g.height, ix >= 0, ix < g.width else { continue }
                for c in 0..<g.inChannels {
                    sum += w[((o * g.kernelHeight + ky) * g.kernelWidth + kx) * g.inChannels + c]
                        * x[((n * g.height + iy) * g.width + ix) * g.inChannels + c]
                }
            } }
            y[((n * g.outHeight + oy) * g.outWidth + ox) * g.outChannels + o] = sum
        } } } }
        return y
    }

    @Test("convolution forward", arguments: [(3, 1, 1), (3, 2, 1), (1, 1, 0), (1, 2, 0), (5, 1, 2), (3, 3, 0)])
    func convolution(kernel: Int, stride: Int, padding: Int) {
        // Batch large enough that the forward pass runs in several chunks.
        var g = ConvGeometry(batch: 5, height: 9, width: 7, inChannels: 6, outChannels: 5,
                             kernelHeight: kernel, kernelWidth: kernel, stride: stride, padding: padding)
        let x = Fixtures.random([g.batch, g.height, g.width, g.inChannels], seed: 1)
        let w = Fixtures.random([g.outChannels, kernel, kernel, g.inChannels], seed: 2)
        let bias = Fixtures.random([g.outChannels], seed: 3)
        let y = Tensor(shape: [g.batch, g.outHeight, g.outWidth, g.outChannels])
        let scratch = Tensor(shape: [ConvKernels.scratchCount(g)])
        ConvKernels.forward(g, x: x.storage, w: w.storage, bias: bias.storage, y: y.storage, scratch: scratch.storage)
        let expected = Self.naiveConv(g, x: x, w: w, bias: bias)
        for i in 0..<expected.count where abs(expected[i] - y[i]) > 1e-4 * max(1, abs(expected[i])) {
            Issue.record("conv k\(kernel) s\(stride) p\(padding): y[\(i)] = \(y[i]), naive \(expected[i])")
            return
        }
        g.batch = 0
    }

    @Test func convolutionChunking() {
        // More images than one chunk holds: every chunk must land at its own offset.
        let g = ConvGeometry(batch: 40, height: 28, width: 28, inChannels: 32, outChannels: 3,
                             kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1)
        #expect(ConvKernels.imagesPerChunk(g) < g.batch)
        let x = Fixtures.random([g.batch, 28, 28, 32], seed: 4)
        let w = Fixtures.random([3, 3, 3, 32], seed: 5)
        let y = Tensor(shape: [g.batch, 28, 28, 3])
        let scratch = Tensor(shape: [ConvKernels.scratchCount(g)])
        ConvKernels.forward(g, x: x.storage, w: w.storage, bias: nil, y: y.storage, scratch: scratch.storage)
        let expected = Self.naiveConv(g, x: x, w: w, bias: nil)
        let worst = (0..<expected.count).map { abs(expected[$0] - y[$0]) }.max()!
        #expect(worst < 1e-3)
    }

    @Test func chunkedBackwardEqualsPerImageBackward() {
        // Several chunks over two workers, each with its own weight gradient, must add up to
        // what one image at a time gives.
        let g = ConvGeometry(batch: 12, height: 28, width: 28, inChannels: 32, outChannels: 8,
                             kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1)
        #expect(ConvKernels.imagesPerChunk(g) < g.batch)
        let x = Fixtures.random([12, 28, 28, 32], seed: 7), w = Fixtures.random([8, 3, 3, 32], seed: 8)
        let dy = Fixtures.random([12, 28, 28, 8], seed: 9)
        let dw = Tensor(shape: [8 * 288]), dx = Tensor(shape: [12 * 28 * 28 * 32])
        let scratch = Tensor(shape: [ConvKernels.scratchCount(g)])
        ConvKernels.backward(g, x: x.storage, w: w.storage, dy: dy.storage, dw: dw.storage, dbias: nil, dx: dx.storage, scratch: scratch.storage)
        var single = g
        single.batch = 1
        let dwSum = Tensor(shape: [8 * 288]), dxSingle = Tensor(shape: [12 * 28 * 28 * 32])
        let scratchSingle = Tensor(shape: [ConvKernels.scratchCount(single)])
        for n in 0..<12 {
            ConvKernels.backward(single, x: x.storage + n * 28 * 28 * 32, w: w.storage, dy: dy.storage + n * 28 * 28 * 8,
                                 dw: dwSum.storage, dbias: nil, dx: dxSingle.storage + n * 28 * 28 * 32, scratch: scratchSingle.storage)
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
