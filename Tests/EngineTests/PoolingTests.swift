import Testing
import TestSupport
@testable import Engine

// Pooling with PyTorch's ceil_mode and count_include_pad, and adaptive average pooling:
// sizes and values worked out by hand from PyTorch's rules, and the kernels against
// transcriptions of PyTorch's loops.

@Suite("Pooling: ceil mode, padding in the divisor, adaptive bins")
struct PoolingTests {
    @Test func outputSizes() {
        func size(_ l: Int, _ k: Int, _ s: Int, _ p: Int, ceil: Bool) -> Int {
            PoolGeometry.outputSize(l, kernel: k, stride: s, padding: p, ceil: ceil)
        }
        // GoogLeNet's max pools: 112 → 56 with ceil (55 without).
        #expect(size(112, 3, 2, 0, ceil: true) == 56)
        #expect(size(112, 3, 2, 0, ceil: false) == 55)
        #expect(size(6, 3, 2, 0, ceil: true) == 3)
        #expect(size(6, 3, 2, 0, ceil: false) == 2)
        // Rounding up would add a window starting at 6 = L + p, past the input and its left
        // padding, so PyTorch drops it: 5 with k2 s2 p1 stays 3 (likewise 3 → 2).
        #expect(size(5, 2, 2, 1, ceil: true) == 3)
        #expect(size(3, 2, 2, 1, ceil: true) == 2)
        #expect(size(4, 3, 2, 1, ceil: true) == 3)
        #expect(size(4, 3, 2, 1, ceil: false) == 2)
        // A kernel larger than the padded input gives no output.
        #expect(size(2, 5, 1, 1, ceil: false) <= 0)
        #expect(size(2, 5, 1, 1, ceil: true) <= 0)
    }

    /// nn.AvgPool2d(3, 2, 1, ceil_mode=True) and MaxPool2d on arange(1, 17).view(1, 1, 4, 4):
    /// 3×3 outputs whose last row and column are windows [3, 5) that cover one input row
    /// (column) and one of padding, so with count_include_pad the divisor is 2, not 3.
    @Test func ceilModeValuesByHand() {
        let x = Tensor(shape: [1, 4, 4, 1], values: (1...16).map(Float.init))
        var g = PoolGeometry(batch: 1, height: 4, width: 4, channels: 1, kernel: 3, stride: 2, padding: 1, ceilMode: true)
        #expect(g.outHeight == 3 && g.outWidth == 3)
        let y = Tensor(shape: [1, 3, 3, 1])
        PoolKernels.averageForward(g, x: x.storage, y: y.storage)
        let includingPadding: [Float] = [14 / 9, 30 / 9, 12 / 6, 57 / 9, 99 / 9, 36 / 6, 27 / 6, 45 / 6, 16 / 4]
        #expect(firstMismatch("avg count_include_pad", y.values, includingPadding, tolerance: 1e-6) == nil)
        g.countPadding = false
        PoolKernels.averageForward(g, x: x.storage, y: y.storage)
        #expect(firstMismatch("avg", y.values, [3.5, 5, 6, 9.5, 11, 12, 13.5, 15, 16], tolerance: 1e-6) == nil)
        let argmax = UnsafeMutablePointer<Int32>.allocate(capacity: 9)
        defer { argmax.deallocate() }
        PoolKernels.maxForward(g, x: x.storage, y: y.storage, argmax: argmax)
        #expect(y.values == [6, 8, 8, 14, 16, 16, 14, 16, 16])
    }

    /// nn.AdaptiveAvgPool2d((3, 2)) on arange(35).view(1, 1, 5, 7): rows bins [0,2) [1,4) [3,5),
    /// column bins [0,4) [3,7); each mean is 7·(mean row) + (mean column).
    @Test func adaptiveValuesByHand() {
        let x = Tensor(shape: [1, 5, 7, 1], values: (0..<35).map(Float.init))
        let y = Tensor(shape: [1, 3, 2, 1])
        PoolKernels.adaptiveAverageForward(x: x.storage, batch: 1, height: 5, width: 7, channels: 1, outHeight: 3, outWidth: 2, y: y.storage)
        #expect(firstMismatch("adaptive", y.values, [5, 8, 15.5, 18.5, 26, 29], tolerance: 1e-6) == nil)
        #expect(PoolKernels.adaptiveBin(1, of: 3, length: 5) == 1..<4)
        #expect(PoolKernels.adaptiveBin(6, of: 7, length: 3) == 2..<3)
    }

    /// Max and average pooling against PyTorch's loops for kernels 1–3, strides 1–3,
    /// paddings up to kernel/2, both rounding modes and both divisors, eleven channels (the
    /// 8-wide path and the scalar tail) on odd sizes.
    @Test(arguments: [false, true])
    func againstPyTorchLoops(ceilMode: Bool) {
        let c = 11
        for kernel in 1...3 { for stride in 1...3 { for padding in 0...(kernel / 2) { for countPadding in [true, false] {
            var g = PoolGeometry(batch: 2, height: 7, width: 5, channels: c, kernel: kernel, stride: stride, padding: padding,
                                 ceilMode: ceilMode, countPadding: countPadding)
            let label = "k\(kernel) s\(stride) p\(padding) ceil \(ceilMode) count_pad \(countPadding)"
            let x = Fixtures.random([2, 7, 5, c], seed: UInt64(kernel * 100 + stride * 10 + padding))
            let y = Tensor(shape: [2, g.outHeight, g.outWidth, c])
            let argmax = UnsafeMutablePointer<Int32>.allocate(capacity: y.count)
            defer { argmax.deallocate() }
            PoolKernels.averageForward(g, x: x.storage, y: y.storage)
            if let message = firstMismatch("\(label): avg", y.values, Naive.pool(g, x: x, average: true), tolerance: 1e-5) {
                Issue.record(Comment(rawValue: message))
            }
            PoolKernels.maxForward(g, x: x.storage, y: y.storage, argmax: argmax)
            if let message = firstMismatch("\(label): max", y.values, Naive.pool(g, x: x, average: false), tolerance: 0) {
                Issue.record(Comment(rawValue: message))
            }
            for i in 0..<y.count where x[Int(argmax[i])] != y[i] {
                Issue.record("\(label): argmax[\(i)] points at \(x[Int(argmax[i])]), the max is \(y[i])")
                break
            }
            g.batch = 0
        } } } }
    }

    @Test func adaptiveAgainstNaive() {
        let c = 9
        for (h, w, p, q) in [(7, 5, 3, 2), (5, 5, 5, 5), (6, 9, 1, 1), (3, 4, 7, 6), (11, 13, 4, 3)] {
            let x = Fixtures.random([2, h, w, c], seed: UInt64(h * 10 + w))
            let y = Tensor(shape: [2, p, q, c])
            PoolKernels.adaptiveAverageForward(x: x.storage, batch: 2, height: h, width: w, channels: c, outHeight: p, outWidth: q, y: y.storage)
            let expected = Naive.adaptiveAverage(x: x, batch: 2, height: h, width: w, channels: c, outHeight: p, outWidth: q)
            #expect(firstMismatch("adaptive \(h)x\(w) → \(p)x\(q)", y.values, expected, tolerance: 1e-5) == nil)
        }
    }
}
