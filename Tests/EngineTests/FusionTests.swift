import Testing
import TestSupport
@testable import Engine

/// The fused plans (ModelPlan) against the layer-by-layer one: the same logits, running
/// statistics and gradients, to float rounding, for every chain shape the reference models
/// have (BatchNorm + ReLU; BatchNorm + residual + ReLU, the residual an identity or a
/// projection; BatchNorm alone) and with 1, the machine's and 8 worker parts.
@Suite("Fused layer chains against layer by layer")
struct FusionTests {
    static func models(seed: UInt64) throws -> [(String, Model, Model)] {
        let resnet = BuiltInModel.resnet20.architecture(input: [2, 8, 8], classes: 3)
        let convnet = BuiltInModel.convnetS.architecture(input: [1, 12, 12], classes: 4, widths: [4, 8, 8, 16, 16])
        return try [resnet, convnet, TrainingTests.tinyArchitecture].map { architecture in
            let fused = try Model(architecture: architecture, seed: seed), layered = try Model(architecture: architecture, seed: seed)
            layered.fusesLayers = false
            return (architecture.name, fused, layered)
        }
    }

    /// |a − b| ≤ 1e-4 · max(1, |b|) elementwise: the fused chain computes BatchNorm as
    /// x·(γ·invStd) + (β − mean·γ·invStd) with statistics from one pass, the layers as
    /// γ·(x − mean)·invStd + β from two; both round differently at about 1e-6 relative, and
    /// gradients through a few layers of that stay well inside 1e-4.
    static func expectClose(_ a: Tensor, _ b: Tensor, _ label: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.shape == b.shape, "\(label): shapes \(a.shape) and \(b.shape)", sourceLocation: sourceLocation)
        guard a.shape == b.shape else { return }
        for i in 0..<a.count where abs(a[i] - b[i]) > 1e-4 * max(1, abs(b[i])) {
            Issue.record("\(label)[\(i)]: fused \(a[i]), layer by layer \(b[i])", sourceLocation: sourceLocation)
            return
        }
    }

    /// Every BatchNorm of the reference models heads a chain, and in inference every
    /// convolution runs its BatchNorm (and what follows) as its epilogue.
    @Test func chainsOfTheReferenceModels() throws {
        for (model, chains, withReLU, withResidual) in [(BuiltInModel.convnetS, 5, 5, 0), (.resnet20, 21, 19, 9), (.resnet56, 57, 55, 27)] {
            let m = try Model(architecture: model.architecture(), seed: 1)
            for plan in [m.trainingPlan, m.inferencePlan] {
                let found = plan.steps.compactMap { step -> ModelPlan.Chain? in
                    if case .chain(let chain) = step.work { return chain } else { return nil }
                }
                #expect(found.count == chains, "\(model.rawValue) \(plan.kind): \(found.count) chains")
                #expect(found.filter { $0.relu != nil }.count == withReLU, "\(model.rawValue) \(plan.kind): chains ending in ReLU")
                #expect(found.filter { $0.add != nil }.count == withResidual, "\(model.rawValue) \(plan.kind): chains with a residual")
                #expect(found.allSatisfy { ($0.convolution != nil) == (plan.kind == .inference) },
                        "\(model.rawValue) \(plan.kind): convolutions in chains")
            }
            #expect(m.layerPlan.steps.count == m.graph.layers.count)
        }
    }

    @Test(arguments: workerCounts)
    func training(workers: Int) throws {
        try withWorkers(workers) {
            for (name, fused, layered) in try Self.models(seed: 4) {
                let input = fused.architecture.inputShape
                let images = Fixtures.random([5, input.height, input.width, input.channels], seed: 8)
                let labels = (0..<5).map { Int32($0 % fused.classes) }
                for step in 0..<2 {
                    var logits: [Tensor] = []
                    for model in [fused, layered] {
                        let gradient = Tensor(shape: [0])
                        let out = model.forward(images, training: true)
                        _ = CrossEntropy.loss(logits: out, labels: labels, gradient: gradient)
                        logits.append(out.clone())
                        model.zeroGradients()
                        model.backward(logitsGradient: gradient)
                    }
                    Self.expectClose(logits[0], logits[1], "\(name) step \(step) logits")
                    for (p, q) in zip(fused.parameters, layered.parameters) {
                        Self.expectClose(p.gradient, q.gradient, "\(name) step \(step) gradient of \(p.name)")
                    }
                    for (p, q) in zip(fused.buffers, layered.buffers) {
                        Self.expectClose(p.tensor, q.tensor, "\(name) step \(step) \(p.name)")
                    }
                }
            }
        }
    }

    @Test(arguments: workerCounts)
    func inference(workers: Int) throws {
        try withWorkers(workers) {
            for (name, fused, layered) in try Self.models(seed: 5) {
                let input = fused.architecture.inputShape
                // Running statistics away from their initial 0 and 1, as after training.
                let warm = Fixtures.random([6, input.height, input.width, input.channels], seed: 9, scale: 2)
                for model in [fused, layered] { for _ in 0..<3 { model.forward(warm, training: true) } }
                for batch in [1, 7] {
                    let images = Fixtures.random([batch, input.height, input.width, input.channels], seed: 10)
                    Self.expectClose(fused.forward(images, training: false).clone(), layered.forward(images, training: false),
                                     "\(name) batch \(batch) logits")
                }
                // A backward pass after an inference pass sees what the layers would have kept.
                let images = Fixtures.random([3, input.height, input.width, input.channels], seed: 11)
                let labels = (0..<3).map { Int32($0 % fused.classes) }
                for model in [fused, layered] {
                    let gradient = Tensor(shape: [0])
                    _ = CrossEntropy.loss(logits: model.forward(images, training: false), labels: labels, gradient: gradient)
                    model.zeroGradients()
                    model.backward(logitsGradient: gradient)
                }
                for (p, q) in zip(fused.parameters, layered.parameters) {
                    Self.expectClose(p.gradient, q.gradient, "\(name) eval-mode gradient of \(p.name)")
                }
            }
        }
    }

    /// Activation gradients are written by their first consumer, not zero-filled and added
    /// into: a second backward pass over the same batch gives exactly the first's gradients.
    @Test func repeatedBackwardPasses() throws {
        for (name, fused, layered) in try Self.models(seed: 6) {
            for model in [fused, layered] {
                let input = model.architecture.inputShape
                let images = Fixtures.random([4, input.height, input.width, input.channels], seed: 12)
                let gradient = Tensor(shape: [0])
                _ = CrossEntropy.loss(logits: model.forward(images, training: true), labels: [0, 1, 0, 1], gradient: gradient)
                var first: [[Float]] = []
                for pass in 0..<2 {
                    model.zeroGradients()
                    model.backward(logitsGradient: gradient)
                    let values = model.parameters.map(\.gradient.values)
                    if pass == 0 { first = values } else {
                        #expect(values == first, "\(name) (fused: \(model.fusesLayers)): a second backward pass differs")
                    }
                }
            }
        }
    }
}
