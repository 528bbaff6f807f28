import Foundation
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
        // Widths past a multiple of 8 (10, 22, 13): rows of channels end in an overlapping vector.
        let convnet = BuiltInModel.convnetS.architecture(input: [1, 12, 12], classes: 4, widths: [4, 10, 8, 22, 13])
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

    /// A MobileNetV3 block: squeeze-excitation by 1×1 convolutions on a 1×1 map, its gate
    /// multiplying the map it was pooled from, then a classifier of two linear layers.
    static let mobile = """
        {"name": "stem", "kind": "conv2d", "out": 8, "kernel": 3, "stride": 2, "padding": 1},
        {"name": "stem.bn", "kind": "batchnorm"}, {"name": "stem.act", "kind": "hardswish"},
        {"name": "dw", "kind": "conv2d", "out": 8, "kernel": 3, "padding": 1, "groups": 8},
        {"name": "dw.bn", "kind": "batchnorm"}, {"name": "dw.act", "kind": "relu"},
        {"name": "se.pool", "kind": "adaptiveavgpool", "size": [1, 1]},
        {"name": "se.fc1", "kind": "conv2d", "out": 6, "kernel": 1, "bias": true}, {"name": "se.act", "kind": "relu"},
        {"name": "se.fc2", "kind": "conv2d", "out": 8, "kernel": 1, "bias": true}, {"name": "se.gate", "kind": "hardsigmoid"},
        {"name": "se.mul", "kind": "mul", "inputs": ["dw.act", "se.gate"]},
        {"name": "add", "kind": "add", "inputs": ["se.mul", "stem.act"]},
        {"name": "pool", "kind": "adaptiveavgpool", "size": [2, 2]}, {"name": "flat", "kind": "flatten"},
        {"name": "fc1", "kind": "linear", "out": 12}, {"name": "fc1.act", "kind": "hardswish"},
        {"name": "fc2", "kind": "linear", "out": 5}
        """

    /// An inference pass in slices gives the whole batch's logits bit for bit, and a backward
    /// pass after it the whole batch's gradients, on the small models, a squeeze-excitation
    /// block and convnet-s at 28×28, with slices that take every step up to the classifier,
    /// slices that stop earlier, and none (the block in slices of 1 or 2 images: its 1×1
    /// convolutions on one pixel would multiply the weights by the rows, its residual reads
    /// the stem, and the stem's weights outweigh one image's activations).
    @Test(arguments: workerCounts)
    func inferenceInSlices(workers: Int) throws {
        let small = try Self.models(seed: 7)
        let full = BuiltInModel.convnetS.architecture(widths: [16, 16, 24, 32, 40])
        let json = #"{"name": "m", "input": [3, 12, 12], "classes": 5, "layers": [\#(Self.mobile)]}"#
        let mobile = try Architecture.parse(Data(json.utf8), source: "m.json")
        // (name, model, batch, slice sizes, and whether each runs any step in slices)
        let cases: [(String, Model, Int, [Int: Bool])] = [
            (small[0].0, small[0].1, 10, [5: true, 3: true]), (small[1].0, small[1].1, 9, [2: true, 5: true]),
            (small[2].0, small[2].1, 9, [4: true]), ("mobile", try Model(architecture: mobile, seed: 7), 9, [3: true, 2: false]),
            ("convnet-s 28x28", try Model(architecture: full, seed: 7), 40, [20: true, 12: true]),
        ]
        withWorkers(workers) {
            for (name, model, batch, sliceSizes) in cases {
                let input = model.architecture.inputShape
                let warm = Fixtures.random([6, input.height, input.width, input.channels], seed: 9, scale: 2)
                for _ in 0..<3 { model.forward(warm, training: true) }
                let images = Fixtures.random([batch, input.height, input.width, input.channels], seed: 13)
                let labels = (0..<batch).map { Int32($0 % model.classes) }
                func pass(sliceImages: Int) -> (logits: [Float], gradients: [[Float]]) {
                    model.inferenceSliceImages = sliceImages
                    let gradient = Tensor(shape: [0])
                    let output = model.forward(images, training: false), logits = output.values
                    _ = CrossEntropy.loss(logits: output, labels: labels, gradient: gradient)
                    model.zeroGradients()
                    model.backward(logitsGradient: gradient)
                    return (logits, model.parameters.map(\.gradient.values))
                }
                let reference = pass(sliceImages: batch)
                for (sliceImages, slices) in sliceSizes {
                    model.inferenceSliceImages = sliceImages
                    #expect((model.slicing(batch) != nil) == slices, "\(name): slices of \(sliceImages)")
                    let sliced = pass(sliceImages: sliceImages)
                    #expect(sliced.logits == reference.logits, "\(name): logits in slices of \(sliceImages)")
                    #expect(sliced.gradients == reference.gradients, "\(name): gradients after slices of \(sliceImages)")
                }
            }
        }
    }

    /// At batch 256 the reference models run every step up to the classifier in slices (7
    /// of 36 or 37 images for convnet-s, 5 of 51 or 52 for the ResNets at 28×28). Slices of
    /// 12 images stop before convnet-s's last layer, which runs by Winograd only from 16
    /// images (256 tiles of 2×2 on 7×7 maps), and so do slices of 16, where it would run the
    /// same kernel but its weights, read again for every slice, would outweigh a slice's
    /// activations.
    @Test func slicesOfTheReferenceModels() throws {
        for model in BuiltInModel.allCases {
            let m = try Model(architecture: model.architecture(), seed: 1)
            let slicing = try #require(m.slicing(256), "\(model.rawValue)")
            #expect(slicing.slices == (model == .convnetS ? 7 : 5) && slicing.steps == m.largestSlicedSteps, "\(model.rawValue): \(slicing)")
            #expect(m.largestSlicedSteps == m.inferencePlan.steps.count - 1, "\(model.rawValue): all but the classifier")
        }
        let convnet = try Model(architecture: BuiltInModel.convnetS.architecture(), seed: 1)
        guard GEMM.implementation == .avx512 else { return }  // Winograd needs the AVX-512 GEMM
        let lastLayer = try #require(convnet.inferencePlan.steps.firstIndex { $0.last == convnet.graph.layers.firstIndex { $0.spec.name == "relu5" } })
        for sliceImages in [12, 16] {
            convnet.inferenceSliceImages = sliceImages
            #expect(convnet.slicing(256)?.steps == lastLayer, "slices of \(sliceImages): up to conv5")
        }
    }

    /// An inference pass in slices transforms Winograd's filters for its first slice and
    /// reuses them for the others, and only there: once the weights change (a training step,
    /// a load), the next pass in slices transforms them again and matches a whole-batch pass.
    @Test(arguments: workerCounts)
    func keptFiltersFollowTheWeights(workers: Int) throws {
        guard GEMM.implementation == .avx512 else { return }  // Winograd needs the AVX-512 GEMM
        let model = try Model(architecture: BuiltInModel.convnetS.architecture(widths: [16, 16, 24, 32, 40]), seed: 7)
        let images = Fixtures.random([40, 28, 28, 1], seed: 13)
        let conv2 = try #require(model.parameters.first { $0.name == "conv2.weight" })
        withWorkers(workers) {
            for round in 0..<3 {
                model.inferenceSliceImages = 12
                #expect(model.slicing(40) != nil)
                let sliced = model.forward(images, training: false).values
                model.inferenceSliceImages = 40
                let whole = model.forward(images, training: false).values
                #expect(sliced == whole, "round \(round): a pass in slices against the whole batch")
                for i in 0..<conv2.value.count { conv2.value.storage[i] *= -1.5 }
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
