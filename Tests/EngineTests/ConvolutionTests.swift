import Testing
import TestSupport
@testable import Engine

// Grouped, dilated and depthwise convolutions: the fast kernels (im2row + GEMM per group, the
// direct depthwise loops) against the naive direct convolution, forward and backward, for
// every worker count.

/// One convolution to check; `groups` 0 stands for depthwise (groups = in = out).
struct ConvCase: Sendable, CustomStringConvertible {
    var kernel, stride, padding, dilation, groups: Int
    var bias: Bool
    var batch = 3, height, width, inChannels, outChannels: Int

    var geometry: ConvGeometry {
        ConvGeometry(batch: batch, height: height, width: width, inChannels: inChannels, outChannels: outChannels,
                     kernelHeight: kernel, kernelWidth: kernel, stride: stride, padding: padding,
                     dilation: dilation, groups: groups)
    }
    var description: String {
        "k\(kernel) s\(stride) p\(padding) d\(dilation) g\(groups) bias \(bias) \(inChannels)→\(outChannels) \(height)x\(width)"
    }

    /// Kernels 1/3/5/7 × strides 1/2 × dilations 1/2 × groups 1/2/4/depthwise, with paddings
    /// 0–3, bias on and off, and odd sizes taking turns; then the pointwise (1×1, stride 1,
    /// unpadded) path, which reads x as its row matrix, for every kind of group.
    static let all: [ConvCase] = {
        var cases: [ConvCase] = []
        var i = 0
        for kernel in [1, 3, 5, 7] { for stride in [1, 2] { for dilation in [1, 2] { for kind in [1, 2, 4, 0] {
            let padding = i % 4
            // Depthwise with 27 channels runs the 16-, 8- and 1-wide loops; with 5, only the last.
            let (inChannels, outChannels, groups) = switch kind {
            case 1: (5, 6, 1)
            case 2: (6, 4, 2)
            case 4: (8, 12, 4)
            default: i % 2 == 0 ? (27, 27, 27) : (5, 5, 5)
            }
            let reach = dilation * (kernel - 1) + 1 - 2 * padding
            let height = max(5 + 2 * (i % 3), reach | 1), width = max(9 - 2 * (i % 2), reach | 1)
            cases.append(ConvCase(kernel: kernel, stride: stride, padding: padding, dilation: dilation, groups: groups,
                                  bias: i % 3 != 0, height: height, width: width, inChannels: inChannels, outChannels: outChannels))
            i += 1
        } } } }
        for (inChannels, outChannels, groups) in [(5, 6, 1), (6, 4, 2), (8, 12, 4), (11, 11, 11)] {
            cases.append(ConvCase(kernel: 1, stride: 1, padding: 0, dilation: 1, groups: groups, bias: groups % 2 == 0,
                                  height: 5, width: 7, inChannels: inChannels, outChannels: outChannels))
        }
        return cases
    }()
}

@Suite("Grouped, dilated and depthwise convolution against the naive one")
struct ConvolutionTests {
    /// Which kernels to run: the dispatching entry points, or the GEMM path even for a
    /// depthwise convolution (groups GEMMs one column wide).
    enum Path: Sendable {
        case dispatched, byGEMM

        func scratchCount(_ g: ConvGeometry, workers: Int) -> Int {
            self == .dispatched ? ConvKernels.scratchCount(g, workers: workers) : ConvKernels.scratchCountByGEMM(g, workers: workers)
        }

        func forward(_ g: ConvGeometry, x: Tensor, w: Tensor, bias: Tensor?, y: Tensor, scratch: Tensor, workers: Int) {
            if self == .dispatched {
                ConvKernels.forward(g, x: x.storage, w: w.storage, bias: bias?.storage, y: y.storage, scratch: scratch.storage, workers: workers)
            } else {
                ConvKernels.forwardByGEMM(g, x: x.storage, w: w.storage, bias: bias?.storage, y: y.storage, scratch: scratch.storage, workers: workers)
            }
        }

        func backward(_ g: ConvGeometry, x: Tensor, w: Tensor, dy: Tensor, dw: Tensor, dbias: Tensor?, dx: Tensor?,
                      scratch: Tensor, workers: Int) {
            if self == .dispatched {
                ConvKernels.backward(g, x: x.storage, w: w.storage, dy: dy.storage, dw: dw.storage, dbias: dbias?.storage,
                                     dx: dx?.storage, scratch: scratch.storage, workers: workers)
            } else {
                ConvKernels.backwardByGEMM(g, x: x.storage, w: w.storage, dy: dy.storage, dw: dw.storage, dbias: dbias?.storage,
                                           dx: dx?.storage, scratch: scratch.storage, workers: workers)
            }
        }
    }

    /// Forward, and backward with and without dx, against the naive loops. Gradients are added
    /// onto nonzero tensors, as the kernels' contract says.
    static func check(_ c: ConvCase, workers: Int, path: Path, tolerance: Float = 1e-4,
                      sourceLocation: SourceLocation = #_sourceLocation) {
        let g = c.geometry
        let seed = UInt64(c.kernel * 1000 + c.stride * 100 + c.padding * 10 + c.dilation + c.groups * 7919)
        let x = Fixtures.random([g.batch, g.height, g.width, g.inChannels], seed: seed)
        let w = Fixtures.random([g.outChannels, g.kernelHeight, g.kernelWidth, g.inPerGroup], seed: seed + 1)
        let bias = c.bias ? Fixtures.random([g.outChannels], seed: seed + 2) : nil
        let dy = Fixtures.random([g.batch, g.outHeight, g.outWidth, g.outChannels], seed: seed + 3)
        let y = Tensor(shape: dy.shape)
        let scratch = Tensor(shape: [path.scratchCount(g, workers: workers)])
        let label = "\(c) workers \(workers)"

        path.forward(g, x: x, w: w, bias: bias, y: y, scratch: scratch, workers: workers)
        if let message = firstMismatch("\(label): y", y.values, Naive.convForward(g, x: x, w: w, bias: bias), tolerance: tolerance) {
            Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
        }

        let expected = Naive.convBackward(g, x: x, w: w, dy: dy)
        let start = Fixtures.random(w.shape, seed: seed + 4), startX = Fixtures.random(x.shape, seed: seed + 5)
        let dw = start.clone(), dx = startX.clone(), dbias = Tensor(shape: [g.outChannels])
        dbias.fill(0.5)
        path.backward(g, x: x, w: w, dy: dy, dw: dw, dbias: dbias, dx: dx, scratch: scratch, workers: workers)
        let mismatches = [
            firstMismatch("\(label): dw", dw.values, zip(start.values, expected.dw).map(+), tolerance: tolerance),
            firstMismatch("\(label): dx", dx.values, zip(startX.values, expected.dx).map(+), tolerance: tolerance),
            firstMismatch("\(label): dbias", dbias.values, expected.dbias.map { $0 + 0.5 }),
        ]
        // Without dx: the weight gradient alone.
        let dwOnly = start.clone()
        path.backward(g, x: x, w: w, dy: dy, dw: dwOnly, dbias: nil, dx: nil, scratch: scratch, workers: workers)
        for case let message? in mismatches + [firstMismatch("\(label): dw without dx", dwOnly.values, dw.values, tolerance: 1e-5)] {
            Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
        }
    }

    @Test("fast kernels equal the naive convolution", arguments: workerCounts)
    func fastEqualsNaive(workers: Int) {
        withWorkers(workers) {
            for c in ConvCase.all { Self.check(c, workers: workers, path: .dispatched) }
        }
    }

    @Test("depthwise also through grouped GEMMs", arguments: workerCounts)
    func depthwiseByGEMM(workers: Int) {
        withWorkers(workers) {
            for c in ConvCase.all where c.geometry.isDepthwise { Self.check(c, workers: workers, path: .byGEMM) }
        }
    }

    /// More rows than one chunk holds, in groups and dilated: every chunk lands at its own
    /// offset and each part's private weight gradient is counted once.
    @Test("grouped chunks", arguments: workerCounts)
    func groupedChunks(workers: Int) {
        let c = ConvCase(kernel: 5, stride: 1, padding: 3, dilation: 2, groups: 2, bias: true,
                         batch: 8, height: 12, width: 12, inChannels: 32, outChannels: 16)
        #expect(ConvKernels.rowsPerChunk(c.geometry, workers: 1) < c.batch * c.geometry.pixels)
        withWorkers(workers) { Self.check(c, workers: workers, path: .dispatched) }
    }

    /// A depthwise map large enough that forward and backward run in several parts.
    @Test("depthwise in parts", arguments: workerCounts)
    func depthwiseInParts(workers: Int) {
        let c = ConvCase(kernel: 3, stride: 2, padding: 1, dilation: 1, groups: 40, bias: true,
                         batch: 4, height: 17, width: 15, inChannels: 40, outChannels: 40)
        withWorkers(workers) { Self.check(c, workers: workers, path: .dispatched) }
    }

    /// 3×3 stride-1 convolutions with at least 8 channels each way run by Winograd, forward,
    /// backward data and weight gradient, with 4×4 tiles or (`OICSR_WINOGRAD=2`, or on a map
    /// too small for them) 2×2 tiles: paddings 0–2, odd output sizes (a last tile partly
    /// outside), channel counts with a tail past 16 in half a register (24, 33, 20, 8: at most
    /// eight past a multiple of 16) and in a whole one (13, 12), several chunks of tiles, dy
    /// with whole tiles and registers (8×12, 32 channels), which the weight gradient reads in
    /// place, and without (copied, padded). The 2×2 tiles' coefficients are 0, ±1 and ±½, so
    /// they differ from the direct sum by rounding only (largest error on these cases 2e-5 of
    /// max(1, |value|), the direct GEMM's 1.9e-5), within the suite's tolerance for every fast
    /// kernel, 1e-4. The 4×4 tiles' coefficients reach 8 and their filter transforms' ⅙ and
    /// 1/24 are inexact, so rounding grows: their largest error here is 8.6e-5 (in dw and dx;
    /// y less; values up to 45), and they are held to 5e-4, about six times that, still far
    /// below what a wrong coefficient or a misplaced tile gives (errors of the order of the
    /// values).
    @Test("Winograd F(4x4, 3x3) and F(2x2, 3x3) equal the naive convolution", arguments: workerCounts)
    func winograd(workers: Int) {
        let cases = [
            ConvCase(kernel: 3, stride: 1, padding: 1, dilation: 1, groups: 1, bias: true, batch: 16, height: 7, width: 7, inChannels: 16, outChannels: 16),
            ConvCase(kernel: 3, stride: 1, padding: 0, dilation: 1, groups: 1, bias: false, batch: 13, height: 9, width: 12, inChannels: 24, outChannels: 33),
            ConvCase(kernel: 3, stride: 1, padding: 2, dilation: 1, groups: 1, bias: true, batch: 29, height: 5, width: 6, inChannels: 33, outChannels: 20),
            ConvCase(kernel: 3, stride: 1, padding: 1, dilation: 1, groups: 1, bias: false, batch: 6, height: 14, width: 14, inChannels: 32, outChannels: 16),
            ConvCase(kernel: 3, stride: 1, padding: 1, dilation: 1, groups: 1, bias: true, batch: 12, height: 11, width: 10, inChannels: 8, outChannels: 8),
            ConvCase(kernel: 3, stride: 1, padding: 1, dilation: 1, groups: 1, bias: false, batch: 12, height: 9, width: 9, inChannels: 13, outChannels: 12),
            ConvCase(kernel: 3, stride: 1, padding: 1, dilation: 1, groups: 1, bias: true, batch: 11, height: 8, width: 12, inChannels: 16, outChannels: 32),
        ]
        let usesAVX512 = GEMM.processorHasAVX512 && GEMM.implementation == .avx512
        for setting in ["", "2"] {
            ConvKernels.$winogradOverride.withValue(setting) {
                for c in cases {
                    if usesAVX512 {
                        #expect(ConvKernels.runsByWinograd(c.geometry), "\(c) runs by Winograd")
                        #expect(ConvKernels.runsByWinograd(ConvKernels.transposed(c.geometry)), "\(c): its backward data pass too")
                        #expect(ConvKernels.winogradTile(c.geometry) == (setting == "2" ? .twoByTwo : .fourByFour), "\(c) with '\(setting)'")
                    }
                    let tolerance: Float = ConvKernels.winogradTile(c.geometry) == .fourByFour ? 5e-4 : 1e-4
                    withWorkers(workers) { Self.check(c, workers: workers, path: .dispatched, tolerance: tolerance) }
                }
            }
        }
        // A 2×2 map: one 4×4 tile would multiply 36 positions where one 2×2 tile multiplies 16.
        let tiny = ConvCase(kernel: 3, stride: 1, padding: 0, dilation: 1, groups: 1, bias: true, batch: 256, height: 4, width: 4, inChannels: 16, outChannels: 17)
        #expect(ConvKernels.winogradTile(tiny.geometry) == .twoByTwo)
        if usesAVX512 { #expect(ConvKernels.runsByWinograd(tiny.geometry)) }
        withWorkers(workers) { Self.check(tiny, workers: workers, path: .dispatched) }
        // Turned off, the same shapes run by the direct kernels, against the same oracle.
        ConvKernels.$winogradOverride.withValue("0") {
            #expect(!ConvKernels.runsByWinograd(cases[0].geometry))
            withWorkers(workers) { Self.check(cases[0], workers: workers, path: .dispatched) }
        }
        let big = cases[3].geometry
        for tile in [ConvKernels.WinogradTile.twoByTwo, .fourByFour] {
            #expect(ConvKernels.winogradChunk(big, tile).tiles < big.batch * tile.tiles(big).high * tile.tiles(big).wide, "several chunks of \(tile)")
        }
        // Too few output tiles to pay for transforming the filters (15 images of 16 tiles): the direct path.
        var single = cases[0].geometry
        single.batch = 15
        #expect(!ConvKernels.runsByWinograd(single))
    }

    /// At most a quarter as many output pixels as filters (batch 1 deep in a network): the forward
    /// pass multiplies the weights by the rows (yᵀ = W·rowsᵀ), for a 3×3 stride-1, a strided
    /// and a pointwise convolution, with bias; the backward pass is the usual one.
    @Test("few pixels: the weights as A", arguments: workerCounts)
    func weightsByRows(workers: Int) {
        let cases = [
            ConvCase(kernel: 3, stride: 1, padding: 1, dilation: 1, groups: 1, bias: true, batch: 1, height: 3, width: 3, inChannels: 40, outChannels: 37),
            ConvCase(kernel: 3, stride: 2, padding: 1, dilation: 1, groups: 1, bias: false, batch: 2, height: 5, width: 4, inChannels: 24, outChannels: 50),
            ConvCase(kernel: 1, stride: 1, padding: 0, dilation: 1, groups: 1, bias: true, batch: 1, height: 2, width: 3, inChannels: 33, outChannels: 24),
        ]
        for c in cases {
            if GEMM.implementation == .avx512 { #expect(ConvKernels.multipliesWeightsByRows(c.geometry), "\(c)") }
            withWorkers(workers) { Self.check(c, workers: workers, path: .dispatched) }
        }
        // Grouped, or more than a quarter as many pixels as filters: the rows by the weights.
        #expect(!ConvKernels.multipliesWeightsByRows(ConvCase(kernel: 3, stride: 1, padding: 1, dilation: 1, groups: 2, bias: true, batch: 1,
                                                               height: 3, width: 3, inChannels: 40, outChannels: 40).geometry))
        #expect(!ConvKernels.multipliesWeightsByRows(ConvCase(kernel: 3, stride: 1, padding: 1, dilation: 1, groups: 1, bias: true, batch: 1,
                                                               height: 4, width: 4, inChannels: 16, outChannels: 63).geometry))
    }

    /// Same inputs, any worker count: the outputs and input gradients are the same to the bit
    /// (each element is computed whole by one part); weight gradients agree to rounding.
    @Test func resultsDoNotDependOnWorkers() {
        for c in [ConvCase(kernel: 3, stride: 1, padding: 1, dilation: 2, groups: 2, bias: true, batch: 6, height: 9, width: 9, inChannels: 8, outChannels: 8),
                  ConvCase(kernel: 5, stride: 2, padding: 2, dilation: 1, groups: 24, bias: true, batch: 6, height: 9, width: 9, inChannels: 24, outChannels: 24)] {
            let g = c.geometry
            let x = Fixtures.random([g.batch, g.height, g.width, g.inChannels], seed: 1)
            let w = Fixtures.random([g.outChannels, c.kernel, c.kernel, g.inPerGroup], seed: 2)
            let dy = Fixtures.random([g.batch, g.outHeight, g.outWidth, g.outChannels], seed: 3)
            var results: [[[Float]]] = []
            for workers in [1, 3, 8] {
                let y = Tensor(shape: dy.shape), dx = Tensor(shape: x.shape), dw = Tensor(shape: w.shape)
                let scratch = Tensor(shape: [ConvKernels.scratchCount(g, workers: workers)])
                ConvKernels.forward(g, x: x.storage, w: w.storage, bias: nil, y: y.storage, scratch: scratch.storage, workers: workers)
                ConvKernels.backward(g, x: x.storage, w: w.storage, dy: dy.storage, dw: dw.storage, dbias: nil, dx: dx.storage,
                                     scratch: scratch.storage, workers: workers)
                results.append([y.values, dx.values, dw.values])
            }
            for r in results.dropFirst() {
                #expect(r[0] == results[0][0], "\(c): y")
                #expect(r[1] == results[0][1], "\(c): dx")
                #expect(firstMismatch("\(c): dw", r[2], results[0][2], tolerance: 1e-5) == nil)
            }
        }
    }

    @Test func outputSizeFollowsPyTorch() {
        // ⌊(H + 2p − d(k−1) − 1)/s⌋ + 1: 224 with k3 s2 p1 → 112; dilation 2, p2 keeps 56;
        // k7 s2 p3 → 112 (the ResNet stem); 7 with k3 d3 p0 → 1.
        let sizes = [(224, 3, 2, 1, 1), (56, 3, 1, 2, 2), (224, 7, 2, 3, 1), (7, 3, 1, 0, 3)].map { h, k, s, p, d in
            ConvGeometry(batch: 1, height: h, width: h, inChannels: 1, outChannels: 1, kernelHeight: k, kernelWidth: k,
                         stride: s, padding: p, dilation: d).outHeight
        }
        #expect(sizes == [112, 56, 112, 1])
    }
}
