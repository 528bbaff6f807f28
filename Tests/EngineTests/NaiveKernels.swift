import TestSupport
@testable import Engine

// Oracles written straight from the definitions, one loop per index, NHWC: nothing shared
// with the fast kernels but the shapes.

enum Naive {
    /// y[n,oy,ox,o] = b[o] + Σ_{ky,kx,c} w[o,ky,kx,c]·x[n, oy·s − p + ky·d, ox·s − p + kx·d, g·Cg + c],
    /// g = o / Og the output's group.
    static func convForward(_ g: ConvGeometry, x: Tensor, w: Tensor, bias: Tensor?) -> [Float] {
        var y = [Float](repeating: 0, count: g.batch * g.outHeight * g.outWidth * g.outChannels)
        for n in 0..<g.batch { for oy in 0..<g.outHeight { for ox in 0..<g.outWidth { for o in 0..<g.outChannels {
            var sum: Float = bias?[o] ?? 0
            let group = o / g.outPerGroup
            for ky in 0..<g.kernelHeight { for kx in 0..<g.kernelWidth {
                let iy = oy * g.stride - g.padding + ky * g.dilation, ix = ox * g.stride - g.padding + kx * g.dilation
                guard iy >= 0, iy < g.height, ix >= 0, ix < g.width else { continue }
                for c in 0..<g.inPerGroup {
                    sum += w[((o * g.kernelHeight + ky) * g.kernelWidth + kx) * g.inPerGroup + c]
                        * x[((n * g.height + iy) * g.width + ix) * g.inChannels + group * g.inPerGroup + c]
                }
            } }
            y[((n * g.outHeight + oy) * g.outWidth + ox) * g.outChannels + o] = sum
        } } } }
        return y
    }

    /// The adjoint of `convForward`: dx, dw and dbias for output gradient dy (fresh, not added).
    static func convBackward(_ g: ConvGeometry, x: Tensor, w: Tensor, dy: Tensor) -> (dx: [Float], dw: [Float], dbias: [Float]) {
        var dx = [Float](repeating: 0, count: x.count), dw = [Float](repeating: 0, count: w.count)
        var dbias = [Float](repeating: 0, count: g.outChannels)
        for n in 0..<g.batch { for oy in 0..<g.outHeight { for ox in 0..<g.outWidth { for o in 0..<g.outChannels {
            let gradient = dy[((n * g.outHeight + oy) * g.outWidth + ox) * g.outChannels + o]
            dbias[o] += gradient
            let group = o / g.outPerGroup
            for ky in 0..<g.kernelHeight { for kx in 0..<g.kernelWidth {
                let iy = oy * g.stride - g.padding + ky * g.dilation, ix = ox * g.stride - g.padding + kx * g.dilation
                guard iy >= 0, iy < g.height, ix >= 0, ix < g.width else { continue }
                for c in 0..<g.inPerGroup {
                    let wi = ((o * g.kernelHeight + ky) * g.kernelWidth + kx) * g.inPerGroup + c
                    let xi = ((n * g.height + iy) * g.width + ix) * g.inChannels + group * g.inPerGroup + c
                    dw[wi] += gradient * x[xi]
                    dx[xi] += gradient * w[wi]
                }
            } }
        } } } }
        return (dx, dw, dbias)
    }

    /// PyTorch's avg_pool2d and max_pool2d loops (aten/src/ATen/native/cpu/AvgPoolKernel.cpp,
    /// MaxPoolKernel.cpp) transcribed for one channel-last map: the window starts at
    /// o·s − p, the divisor is the window clipped to the padded bounds (count_include_pad)
    /// or to the input.
    static func pool(_ g: PoolGeometry, x: Tensor, average: Bool) -> [Float] {
        let (p, q, c) = (g.outHeight, g.outWidth, g.channels)
        var y = [Float](repeating: 0, count: g.batch * p * q * c)
        for n in 0..<g.batch { for oy in 0..<p { for ox in 0..<q { for channel in 0..<c {
            var hstart = oy * g.stride - g.padding, wstart = ox * g.stride - g.padding
            var hend = min(hstart + g.kernel, g.height + g.padding), wend = min(wstart + g.kernel, g.width + g.padding)
            let poolSize = (hend - hstart) * (wend - wstart)
            hstart = max(hstart, 0); wstart = max(wstart, 0)
            hend = min(hend, g.height); wend = min(wend, g.width)
            var sum: Float = 0, peak = -Float.infinity
            for iy in hstart..<max(hend, hstart) { for ix in wstart..<max(wend, wstart) {
                let v = x[((n * g.height + iy) * g.width + ix) * c + channel]
                sum += v
                if v > peak { peak = v }
            } }
            let divisor = g.countPadding ? poolSize : (hend - hstart) * (wend - wstart)
            y[((n * p + oy) * q + ox) * c + channel] = average ? sum / Float(divisor) : peak
        } } } }
        return y
    }

    /// Mean over bins ⌊iL/n⌋ ..< ⌈(i+1)L/n⌉ (PyTorch's adaptive_avg_pool2d).
    static func adaptiveAverage(x: Tensor, batch: Int, height: Int, width: Int, channels c: Int, outHeight p: Int, outWidth q: Int) -> [Float] {
        func start(_ i: Int, _ n: Int, _ l: Int) -> Int { Int((Double(i * l) / Double(n)).rounded(.down)) }
        func end(_ i: Int, _ n: Int, _ l: Int) -> Int { Int((Double((i + 1) * l) / Double(n)).rounded(.up)) }
        var y = [Float](repeating: 0, count: batch * p * q * c)
        for n in 0..<batch { for oy in 0..<p { for ox in 0..<q { for channel in 0..<c {
            var sum: Float = 0
            let (y0, y1, x0, x1) = (start(oy, p, height), end(oy, p, height), start(ox, q, width), end(ox, q, width))
            for iy in y0..<y1 { for ix in x0..<x1 { sum += x[((n * height + iy) * width + ix) * c + channel] } }
            y[((n * p + oy) * q + ox) * c + channel] = sum / Float((y1 - y0) * (x1 - x0))
        } } } }
        return y
    }
}

/// The first element where `actual` and `expected` differ by more than `tolerance` (relative,
/// floored at 1), as a message naming the tensor, the element and both values.
func firstMismatch(_ name: String, _ actual: [Float], _ expected: [Float], tolerance: Float = 1e-4) -> String? {
    guard actual.count == expected.count else { return "\(name): \(actual.count) elements, expected \(expected.count)" }
    for i in 0..<expected.count where !(abs(actual[i] - expected[i]) <= tolerance * max(1, abs(expected[i]))) {
        return "\(name)[\(i)] = \(actual[i]), expected \(expected[i])"
    }
    return nil
}
