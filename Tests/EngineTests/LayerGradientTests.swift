import Testing
import TestSupport
@testable import Engine

@Suite("Layer gradients by finite differences")
struct LayerGradientTests {
    let check = GradientCheck()

    @Test("Conv2d", arguments: [
        (kernel: 1, stride: 1, padding: 0, bias: false),
        (kernel: 1, stride: 2, padding: 0, bias: true),
        (kernel: 3, stride: 1, padding: 1, bias: false),
        (kernel: 3, stride: 1, padding: 0, bias: true),
        (kernel: 3, stride: 2, padding: 1, bias: true),
        (kernel: 3, stride: 2, padding: 0, bias: false),
    ], workerCounts)
    func conv(_ c: (kernel: Int, stride: Int, padding: Int, bias: Bool), workers: Int) {
        let (kernel, stride, padding, bias) = c
        let input = FeatureShape.map(6, 5, 3)
        let op = Conv2dOp(name: "conv", input: input, outChannels: 4, kernel: kernel, stride: stride, padding: padding, bias: bias)
        op.weight.value.copy(from: Fixtures.random(op.weight.value.shape, seed: 1))
        op.bias?.value.copy(from: Fixtures.random([4], seed: 2))
        let x = Fixtures.random([2, 6, 5, 3], seed: 3)
        withWorkers(workers) {
            check.check(op, inputs: [x], batch: 2, training: true,
                        label: "conv k\(kernel) s\(stride) p\(padding) bias \(bias) workers \(workers)")
        }
    }

    /// Ten channels: a row is one 8-wide vector and a last one that overlaps it by six lanes
    /// (`forEachLaneOfRow`); four channels (TrainingTests' tiny model) run element by element.
    @Test("BatchNorm2d", arguments: [true, false])
    func batchNorm(training: Bool) {
        let op = BatchNorm2dOp(name: "bn", input: .map(3, 3, 10))
        op.scale.value.copy(from: Fixtures.random([10], seed: 20, scale: 1.5).values)
        op.shift.value.copy(from: Fixtures.random([10], seed: 21, scale: 0.3).values)
        op.runningMean.copy(from: Fixtures.random([10], seed: 22, scale: 0.3).values)
        op.runningVar.copy(from: Fixtures.random([10], seed: 23, scale: 0.5).values.map { $0 + 1 })
        let x = Fixtures.random([3, 3, 3, 10], seed: 4, scale: 2)
        check.check(op, inputs: [x], batch: 3, training: training, label: "batchnorm training \(training)")
    }

    @Test func relu() {
        check.check(ReLUOp(input: .map(4, 4, 3)), inputs: [Fixtures.kinkFree([2, 4, 4, 3], seed: 5)], batch: 2, training: true, label: "relu")
    }

    @Test("MaxPool2d", arguments: [(kernel: 2, stride: 2, padding: 0), (kernel: 3, stride: 2, padding: 1), (kernel: 3, stride: 1, padding: 0)])
    func maxPool(kernel: Int, stride: Int, padding: Int) {
        let op = MaxPoolOp(input: .map(6, 5, 11), kernel: kernel, stride: stride, padding: padding)
        check.check(op, inputs: [Fixtures.kinkFree([2, 6, 5, 11], seed: 6)], batch: 2, training: true, label: "maxpool k\(kernel) s\(stride) p\(padding)")
    }

    @Test("AvgPool2d", arguments: [(kernel: 2, stride: 2, padding: 0), (kernel: 3, stride: 2, padding: 1)])
    func averagePool(kernel: Int, stride: Int, padding: Int) {
        let op = AvgPoolOp(input: .map(6, 5, 3), kernel: kernel, stride: stride, padding: padding)
        check.check(op, inputs: [Fixtures.random([2, 6, 5, 3], seed: 7)], batch: 2, training: true, label: "avgpool k\(kernel) s\(stride) p\(padding)")
    }

    @Test func globalAveragePool() {
        check.check(GlobalAvgPoolOp(input: .map(3, 4, 5)), inputs: [Fixtures.random([2, 3, 4, 5], seed: 8)], batch: 2, training: true, label: "gap")
    }

    @Test func flatten() {
        check.check(FlattenOp(input: .map(3, 2, 4)), inputs: [Fixtures.random([2, 3, 2, 4], seed: 9)], batch: 2, training: true, label: "flatten")
    }

    @Test("Linear", arguments: [true, false])
    func linear(bias: Bool) {
        let op = LinearOp(name: "fc", inFeatures: 7, outFeatures: 5, bias: bias)
        op.weight.value.copy(from: Fixtures.random([5, 7], seed: 10))
        check.check(op, inputs: [Fixtures.random([3, 7], seed: 11)], batch: 3, training: true, label: "linear bias \(bias)")
    }

    @Test func residualAdd() {
        let inputs = [Fixtures.random([2, 3, 3, 2], seed: 12), Fixtures.random([2, 3, 3, 2], seed: 13)]
        check.check(AddOp(input: .map(3, 3, 2)), inputs: inputs, batch: 2, training: true, label: "add")
    }

    @Test func softmaxCrossEntropy() {
        let logits = Fixtures.random([4, 6], seed: 14, scale: 3)
        let labels: [Int32] = [0, 5, 2, 2]
        let gradient = Tensor(shape: [4, 6])
        _ = CrossEntropy.loss(logits: logits, labels: labels, gradient: gradient)
        check.compare(name: "cross-entropy: logits", value: logits, analytic: gradient) {
            Double(CrossEntropy.loss(logits: logits, labels: labels))
        }
    }

    /// The whole graph of a small residual network, including a fork whose two gradients
    /// must be summed and a projection shortcut, against finite differences of the loss.
    /// With one part and with eight (the slowest test here, so not also the machine's count).
    @Test(arguments: [1, 8])
    func residualModelEndToEnd(workers: Int) throws {
        try withWorkers(workers) { try residualModelEndToEnd() }
    }

    private func residualModelEndToEnd() throws {
        var arch = BuiltInModel.resnet20.architecture(input: [2, 6, 6], classes: 3)
        // Keep one block per stage so the check stays quick.
        arch.layers.removeAll { $0.name.contains(".1.") || $0.name.contains(".2.") }
        for i in arch.layers.indices where arch.layers[i].name.hasSuffix(".0.conv1") {
            let stage = arch.layers[i].name.prefix(6)
            arch.layers[i].inputs = stage == "layer1" ? ["relu"] : ["layer\(Int(String(stage.last!))! - 1).0.relu2"]
        }
        for i in arch.layers.indices where arch.layers[i].name.hasSuffix("shortcut.0") {
            arch.layers[i].inputs = arch.layers.first { $0.name.hasSuffix(".0.conv1") && $0.name.prefix(6) == arch.layers[i].name.prefix(6) }!.inputs
        }
        for i in arch.layers.indices where arch.layers[i].name == "layer1.0.add" { arch.layers[i].inputs = ["layer1.0.bn2", "relu"] }
        let model = try Model(architecture: arch, seed: 3)
        let images = Fixtures.random([3, 6, 6, 2], seed: 15)
        let labels: [Int32] = [0, 2, 1]
        let gradient = Tensor(shape: [3, 3])
        func loss() -> Double { Double(CrossEntropy.loss(logits: model.forward(images, training: true), labels: labels)) }
        model.zeroGradients()
        _ = CrossEntropy.loss(logits: model.forward(images, training: true), labels: labels, gradient: gradient)
        model.backward(logitsGradient: gradient)
        // A smaller step than for single layers: deep in the graph a 1e-2 nudge of an early
        // weight can push some ReLU across zero, where the loss has a kink.
        let check = FiniteDifferences(step: 1e-3, tolerance: 2e-2, samplesPerTensor: 12)
        for parameter in model.parameters {
            check.compare(name: "resnet: \(parameter.name)", value: parameter.value, analytic: parameter.gradient, loss: loss)
        }
    }
}
