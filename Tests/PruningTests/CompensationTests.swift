import Foundation
import Testing
import Engine
import TestSupport
@testable import Pruning

@Suite("Compensation folds a removed channel's expected value into its readers")
struct CompensationTests {
    /// E[max(0, X)] and Var[max(0, X)] for X ~ N(m, v), by the trapezoid rule over ±12σ.
    static func quadrature(mean m: Double, variance v: Double) -> (mean: Double, variance: Double) {
        let s = v.squareRoot(), steps = 200_000
        let low = m - 12 * s, width = 24 * s / Double(steps)
        var first = 0.0, second = 0.0
        for i in 0...steps {
            let x = low + Double(i) * width
            let weight = (i == 0 || i == steps ? 0.5 : 1) * width * exp(-(x - m) * (x - m) / (2 * v)) / (2 * Double.pi * v).squareRoot()
            let y = max(x, 0)
            first += weight * y
            second += weight * y * y
        }
        return (first, second - first * first)
    }

    @Test func rectifiedMomentsAreTheRectifiedNormals() {
        let cases: [(Double, Double)] = [(0, 1), (0.7, 0.25), (-1.3, 0.5), (2.5, 4), (-4, 1), (0.2, 1e-4)]
        let moments = ChannelMoments(mean: cases.map(\.0), variance: cases.map(\.1)).rectified()
        for (c, (m, v)) in cases.enumerated() {
            let expected = Self.quadrature(mean: m, variance: v)
            #expect(abs(moments.mean[c] - expected.mean) < 1e-6, "mean of max(0, N(\(m), \(v)))")
            #expect(abs(moments.variance[c] - expected.variance) < 1e-6, "variance of max(0, N(\(m), \(v)))")
        }
        // No variance: max(0, mean) exactly; unknown stays unknown.
        let degenerate = ChannelMoments(mean: [0.7, -0.7, .nan], variance: [0, 0, .nan]).rectified()
        #expect(degenerate.mean[0] == 0.7 && degenerate.mean[1] == 0 && degenerate.variance[0] == 0)
        #expect(degenerate.mean[2].isNaN)
    }

    /// conv1 (3×3) → bn1 → relu → conv2 (1×1, no bias) → bn2 → relu → global pool → fc.
    static func architecture() -> Architecture {
        Architecture(name: "folds", input: [1, 10, 10], classes: 3, layers: [
            LayerSpec(name: "conv1", kind: .conv2d, outChannels: 4, kernel: 3, padding: 1),
            LayerSpec(name: "bn1", kind: .batchnorm), LayerSpec(name: "relu1", kind: .relu),
            LayerSpec(name: "conv2", kind: .conv2d, outChannels: 5, kernel: 1),
            LayerSpec(name: "bn2", kind: .batchnorm), LayerSpec(name: "relu2", kind: .relu),
            LayerSpec(name: "pool", kind: .globalavgpool),
            LayerSpec(name: "fc", kind: .linear, outChannels: 3),
        ])
    }

    /// Channels whose BatchNorm scale is zero are constants, max(0, β): removing them with
    /// compensation changes nothing where no padding is read (a 1×1 reader, a linear reader),
    /// whichever way the reader takes the constant (its BatchNorm's mean, its bias).
    @Test func constantChannelsAreFoldedExactly() throws {
        let model = try SurgeryTests.model(Self.architecture())
        func set(_ name: String, _ channel: Int, _ value: Float) { model.parameter(named: name)!.value[channel] = value }
        set("bn1.weight", 1, 0); set("bn1.bias", 1, 0.7)  // conv2 (no bias) takes it from bn2's mean
        set("bn1.weight", 3, 0); set("bn1.bias", 3, -0.4)  // max(0, -0.4) = 0: nothing to fold
        set("bn2.weight", 2, 0); set("bn2.bias", 2, 0.9)  // fc takes it in its bias
        let groups = try ChannelGroups(architecture: model.architecture)
        let plan = PruningPlan(widths: [4, 5], removed: [[1, 3], [2]])
        let before = model.parameters.map(\.value.values) + model.buffers.map(\.tensor.values)

        let images = Fixtures.random([6, 10, 10, 1], seed: 5)
        let dense = model.forward(images, training: false).values
        let compensated = try Surgery.prune(model, groups: groups, plan: plan, compensating: true).forward(images, training: false).values
        let plain = try Surgery.prune(model, groups: groups, plan: plan).forward(images, training: false).values
        let worst = zip(dense, compensated).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-4, "largest logit difference \(worst)")
        #expect(zip(dense, plain).map { abs($0 - $1) }.max()! > 1e-2, "without compensation the constants are lost")
        #expect(model.parameters.map(\.value.values) + model.buffers.map(\.tensor.values) == before, "the source is untouched")
    }

    /// What each kind does to the moments: a BatchNorm sets them, a ReLU rectifies them, a sum
    /// adds them, a pool keeps them, a flatten repeats them per feature, a convolution or a
    /// linear layer loses them.
    @Test func momentsFollowTheGraph() throws {
        let architecture = Architecture(name: "sum", input: [1, 6, 6], classes: 2, layers: [
            LayerSpec(name: "conv1", kind: .conv2d, outChannels: 3, kernel: 3, padding: 1),
            LayerSpec(name: "bn1", kind: .batchnorm), LayerSpec(name: "relu1", kind: .relu),
            LayerSpec(name: "conv2", kind: .conv2d, outChannels: 3, kernel: 3, padding: 1),
            LayerSpec(name: "bn2", kind: .batchnorm),
            LayerSpec(name: "add", kind: .add, inputs: ["bn2", "relu1"]), LayerSpec(name: "relu2", kind: .relu),
            LayerSpec(name: "pool", kind: .maxpool, kernel: 2), LayerSpec(name: "flatten", kind: .flatten),
            LayerSpec(name: "fc", kind: .linear, outChannels: 2),
        ])
        let model = try SurgeryTests.model(architecture)
        let moments = model.channelMoments()
        let index = { (name: String) in model.graph.layers.firstIndex { $0.name == name }! }
        let bn1 = ChannelMoments.normalized(scale: model.parameter(named: "bn1.weight")!.value.values,
                                            shift: model.parameter(named: "bn1.bias")!.value.values)
        let bn2 = ChannelMoments.normalized(scale: model.parameter(named: "bn2.weight")!.value.values,
                                            shift: model.parameter(named: "bn2.bias")!.value.values)
        #expect(moments[index("conv2")].mean.allSatisfy { $0.isNaN }, "a convolution's output is not known")
        #expect(moments[index("relu2")] == (bn2 + bn1.rectified()).rectified())
        #expect(moments[index("flatten")] == moments[index("relu2")].repeated(9), "each channel's nine features")
        #expect(moments[index("fc")].count == 2 && moments[index("fc")].mean.allSatisfy { $0.isNaN })
    }
}
