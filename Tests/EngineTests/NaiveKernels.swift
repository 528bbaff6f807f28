import TestSupport
@testable import Engine

// Oracles written straight from the definitions, one loop per index, NHWC: nothing shared
// with the fast kernels but the shapes.

enum Naive {
    /// y[n,oy,ox,o] = b[o] + Σ_{ky,kx,c} w[o,ky,kx,c]·x[n, oy·s − p + ky·d, ox·s − p + kx·d, g·Cg + c],
    /// g = o / Og the output's group. (Sizes are copied into locals: tests run unoptimised.)
    static func convForward(_ g: ConvGeometry, x: Tensor, w: Tensor, bias: Tensor?) -> [Float] {
        let (xs, ws, bs) = (x.values, w.values, bias?.values)
        let (h, wd, c, o, cg, og) = (g.height, g.width, g.inChannels, g.outChannels, g.inPerGroup, g.outPerGroup)
        let (kh, kw, s, p, d, oh, ow) = (g.kernelHeight, g.kernelWidth, g.stride, g.padding, g.dilation, g.outHeight, g.outWidth)
        var y = [Float](repeating: 0, count: g.batch * oh * ow * o)
        for n in 0..<g.batch { for oy in 0..<oh { for ox in 0..<ow { for out in 0..<o {
            var sum: Float = bs?[out] ?? 0
            let group = out / og
            for ky in 0..<kh { for kx in 0..<kw {
                let iy = oy * s - p + ky * d, ix = ox * s - p + kx * d
                guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
                let wi = ((out * kh + ky) * kw + kx) * cg, xi = ((n * h + iy) * wd + ix) * c + group * cg
                for j in 0..<cg { sum += ws[wi + j] * xs[xi + j] }
            } }
            y[((n * oh + oy) * ow + ox) * o + out] = sum
        } } } }
        return y
    }

    /// The adjoint of `convForward`: dx, dw and dbias for output gradient dy (fresh, not added).
    static func convBackward(_ g: ConvGeometry, x: Tensor, w: Tensor, dy: Tensor) -> (dx: [Float], dw: [Float], dbias: [Float]) {
        let (xs, ws, dys) = (x.values, w.values, dy.values)
        let (h, wd, c, o, cg, og) = (g.height, g.width, g.inChannels, g.outChannels, g.inPerGroup, g.outPerGroup)
        let (kh, kw, s, p, d, oh, ow) = (g.kernelHeight, g.kernelWidth, g.stride, g.padding, g.dilation, g.outHeight, g.outWidth)
        var dx = [Float](repeating: 0, count: x.count), dw = [Float](repeating: 0, count: w.count)
        var dbias = [Float](repeating: 0, count: o)
        for n in 0..<g.batch { for oy in 0..<oh { for ox in 0..<ow { for out in 0..<o {
            let gradient = dys[((n * oh + oy) * ow + ox) * o + out]
            dbias[out] += gradient
            let group = out / og
            for ky in 0..<kh { for kx in 0..<kw {
                let iy = oy * s - p + ky * d, ix = ox * s - p + kx * d
                guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
                let wi = ((out * kh + ky) * kw + kx) * cg, xi = ((n * h + iy) * wd + ix) * c + group * cg
                for j in 0..<cg {
                    dw[wi + j] += gradient * xs[xi + j]
                    dx[xi + j] += gradient * ws[wi + j]
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
