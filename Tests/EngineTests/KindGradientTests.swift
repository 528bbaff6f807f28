import Testing
import TestSupport
@testable import Engine

// Finite-difference checks of the layer kinds of torchvision's classic CNNs, each with one,
// the machine's and eight worker parts.

/// A layer that draws from its own generator in training.
protocol RandomOperation: Operation {
    var generator: SeededGenerator { get set }
}
extension DropoutOp: RandomOperation {}
extension StochasticDepthOp: RandomOperation {}

/// Replays the same draws on every forward pass, so finite differences see one function of
/// the input rather than a new mask each time.
final class Replayed: Operation {
    let op: any RandomOperation
    let start: SeededGenerator
    init(_ op: any RandomOperation) { self.op = op; start = op.generator }
    var outputShape: FeatureShape { op.outputShape }

    func forward(_ inputs: [Tensor], _ output: Tensor, batch: Int, training: Bool) {
        op.generator = start
        op.forward(inputs, output, batch: batch, training: training)
    }

    func backward(_ inputs: [Tensor], _ output: Tensor, _ outputGradient: Tensor, _ inputGradients: [Tensor?], batch: Int) {
        op.backward(inputs, output, outputGradient, inputGradients, batch: batch)
    }
}

@Suite("New layer kinds: gradients by finite differences")
struct KindGradientTests {
    let check = GradientCheck()

    /// Values at least 0.15 apart and 0.075 from every kink of the activations (0, ±3, 6).
    static func awayFromKinks(_ shape: [Int], seed: UInt64) -> Tensor {
        let t = Fixtures.kinkFree(shape, seed: seed)
        t.copy(from: t.values.map { $0 * 3 })
        return t
    }

    @Test("Conv2d with groups and dilation", arguments: workerCounts)
    func groupedConv(workers: Int) {
        let cases: [(kernel: Int, stride: Int, padding: Int, dilation: Int, groups: Int, out: Int, bias: Bool)] = [
            (3, 1, 2, 2, 2, 4, true), (3, 2, 1, 1, 3, 6, false), (1, 1, 0, 1, 3, 3, true),
            (3, 1, 1, 1, 6, 6, true), (5, 2, 2, 1, 6, 6, false), (3, 1, 2, 2, 6, 6, true)]
        withWorkers(workers) {
            for c in cases {
                let op = Conv2dOp(name: "conv", input: .map(7, 6, 6), outChannels: c.out, kernel: c.kernel, stride: c.stride,
                                  padding: c.padding, dilation: c.dilation, groups: c.groups, bias: c.bias)
                op.weight.value.copy(from: Fixtures.random(op.weight.value.shape, seed: 1))
                op.bias?.value.copy(from: Fixtures.random([c.out], seed: 2))
                check.check(op, inputs: [Fixtures.random([2, 7, 6, 6], seed: 3)], batch: 2, training: true,
                            label: "conv k\(c.kernel) s\(c.stride) p\(c.padding) d\(c.dilation) g\(c.groups) workers \(workers)")
            }
        }
    }

    @Test func groupedConvShapes() {
        let op = Conv2dOp(name: "conv", input: .map(8, 8, 12), outChannels: 6, kernel: 3, stride: 1, padding: 2,
                          dilation: 2, groups: 3, bias: true)
        #expect(op.weight.value.shape == [6, 3, 3, 4])
        #expect(op.weight.role == .convolutionWeight(out: 6, kernelHeight: 3, kernelWidth: 3, in: 4))
        #expect(op.outputShape == .map(8, 8, 6))
    }

    @Test("BatchNorm2d", arguments: workerCounts)
    func batchNorm(workers: Int) {
        withWorkers(workers) {
            let op = BatchNorm2dOp(name: "bn", input: .map(5, 5, 10))
            op.scale.value.copy(from: Fixtures.random([10], seed: 20, scale: 1.5).values)
            check.check(op, inputs: [Fixtures.random([3, 5, 5, 10], seed: 4, scale: 2)], batch: 3, training: true,
                        label: "batchnorm workers \(workers)")
        }
    }

    @Test("MaxPool2d in ceil mode", arguments: [(kernel: 3, stride: 2, padding: 0), (kernel: 2, stride: 2, padding: 1), (kernel: 3, stride: 2, padding: 1)])
    func maxPoolCeil(kernel: Int, stride: Int, padding: Int) {
        let op = MaxPoolOp(input: .map(6, 5, 11), kernel: kernel, stride: stride, padding: padding, ceilMode: true)
        check.check(op, inputs: [Fixtures.kinkFree([2, 6, 5, 11], seed: 6)], batch: 2, training: true,
                    label: "maxpool ceil k\(kernel) s\(stride) p\(padding)")
    }

    @Test("AvgPool2d, ceil mode and padding in the divisor", arguments: [true, false], [true, false])
    func averagePool(ceilMode: Bool, countPadding: Bool) {
        for (kernel, stride, padding) in [(3, 2, 1), (2, 2, 1), (3, 1, 1)] {
            let op = AvgPoolOp(input: .map(6, 5, 11), kernel: kernel, stride: stride, padding: padding,
                               ceilMode: ceilMode, countPadding: countPadding)
            check.check(op, inputs: [Fixtures.random([2, 6, 5, 11], seed: 7)], batch: 2, training: true,
                        label: "avgpool k\(kernel) s\(stride) p\(padding) ceil \(ceilMode) count_pad \(countPadding)")
        }
    }

    @Test("AdaptiveAvgPool2d", arguments: [(3, 2), (1, 1), (7, 5), (4, 4)])
    func adaptivePool(outHeight: Int, outWidth: Int) {
        let op = AdaptiveAvgPoolOp(input: .map(7, 5, 11), outHeight: outHeight, outWidth: outWidth)
        #expect(op.outputShape == .map(outHeight, outWidth, 11))
        check.check(op, inputs: [Fixtures.random([2, 7, 5, 11], seed: 8)], batch: 2, training: true,
                    label: "adaptive \(outHeight)x\(outWidth)")
    }

    /// 2·4·4·5 = 160 elements, with 13 per example (vector body and scalar tail) for a flat
    /// input; inputs spread over ±12 so every piece of each function is crossed.
    @Test("activations", arguments: ActivationFunction.allCases)
    func activation(function: ActivationFunction) {
        check.check(ActivationOp(function, input: .map(4, 4, 5)), inputs: [Self.awayFromKinks([2, 4, 4, 5], seed: 9)],
                    batch: 2, training: true, label: "\(function) map")
        check.check(ActivationOp(function, input: .vector(13)), inputs: [Self.awayFromKinks([3, 13], seed: 10)],
                    batch: 3, training: true, label: "\(function) vector")
    }

    @Test("Dropout and StochasticDepth in training, with the draws replayed", arguments: workerCounts)
    func randomLayers(workers: Int) {
        withWorkers(workers) {
            check.check(Replayed(DropoutOp(input: .vector(37), p: 0.3, seed: 5)), inputs: [Fixtures.random([4, 37], seed: 11)],
                        batch: 4, training: true, label: "dropout")
            check.check(Replayed(StochasticDepthOp(input: .map(3, 3, 4), p: 0.4, seed: 6)),
                        inputs: [Fixtures.random([6, 3, 3, 4], seed: 12)], batch: 6, training: true, label: "stochastic depth")
            check.check(DropoutOp(input: .vector(37), p: 0.3, seed: 5), inputs: [Fixtures.random([4, 37], seed: 11)],
                        batch: 4, training: false, label: "dropout in evaluation")
        }
    }

    @Test func concat() {
        let shapes: [FeatureShape] = [.map(3, 2, 5), .map(3, 2, 1), .map(3, 2, 11)]
        let inputs = shapes.enumerated().map { Fixtures.random($0.element.batchShape(2), seed: UInt64(13 + $0.offset)) }
        let op = ConcatOp(inputs: shapes)
        #expect(op.outputShape == .map(3, 2, 17))
        check.check(op, inputs: inputs, batch: 2, training: true, label: "concat")
    }

    @Test("Mul by a gate", arguments: [FeatureShape.map(1, 1, 11), .vector(11), .map(3, 4, 11)])
    func mul(gate: FeatureShape) {
        let inputs = [Fixtures.random([2, 3, 4, 11], seed: 16), Fixtures.random(gate.batchShape(2), seed: 17)]
        check.check(MulOp(input: .map(3, 4, 11), gate: gate), inputs: inputs, batch: 2, training: true, label: "mul by \(gate)")
    }
}
