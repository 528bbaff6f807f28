import Testing
import TestSupport
@testable import Engine

@Suite("Training")
struct TrainingTests {
    /// A two-class problem a small CNN separates: class 1 images are bright in the left half,
    /// class 0 in the right half, both under noise.
    static func halves(count: Int, seed: UInt64) -> Dataset {
        var generator = SeededGenerator(seed: seed)
        var images = [UInt8](repeating: 0, count: count * 8 * 8)
        var labels = [Int32](repeating: 0, count: count)
        for n in 0..<count {
            let label = Int32(n % 2)
            labels[n] = label
            for y in 0..<8 { for x in 0..<8 {
                let bright = (x < 4) == (label == 1)
                let base: Float = bright ? 150 : 70
                images[n * 64 + y * 8 + x] = UInt8(max(0, min(255, base + generator.nextUniform(-60, 60))))
            } }
        }
        return Dataset(name: "halves", channels: 1, height: 8, width: 8, classes: 2,
                       classNames: ["right", "left"], images: images, labels: labels)
    }

    static let tinyArchitecture = Architecture(name: "tiny", input: [1, 8, 8], classes: 2, layers: [
        LayerSpec(name: "conv1", kind: .conv2d, outChannels: 4, kernel: 3, padding: 1),
        LayerSpec(name: "bn1", kind: .batchnorm), LayerSpec(name: "relu1", kind: .relu),
        LayerSpec(name: "pool1", kind: .maxpool, kernel: 2),
        LayerSpec(name: "conv2", kind: .conv2d, outChannels: 4, kernel: 3, padding: 1),
        LayerSpec(name: "bn2", kind: .batchnorm), LayerSpec(name: "relu2", kind: .relu),
        LayerSpec(name: "flatten", kind: .flatten), LayerSpec(name: "fc", kind: .linear, outChannels: 2),
    ])

    static func train(steps: Int, seed: UInt64) throws -> (Model, Dataset, Normalization) {
        let data = halves(count: 512, seed: 7)
        let normalization = Normalization.fit(data)
        let model = try Model(architecture: tinyArchitecture, seed: seed)
        var configuration = TrainingConfiguration()
        configuration.learningRate = 0.05
        configuration.batchSize = 32
        configuration.epochs = (steps + 15) / 16
        configuration.seed = seed
        let trainer = Trainer(model: model, configuration: configuration)
        let loader = BatchLoader(dataset: data, batchSize: 32, shuffle: true, augmentation: .none,
                                 normalization: normalization, seed: seed)
        let images = Tensor(shape: [0])
        var labels: [Int32] = []
        while trainer.step < steps {
            let epoch = trainer.step / loader.batchesPerEpoch
            loader.startEpoch(epoch)
            loader.loadBatch(trainer.step % loader.batchesPerEpoch, into: images, labels: &labels)
            trainer.trainStep(images: images, labels: labels, stepsPerEpoch: loader.batchesPerEpoch)
        }
        return (model, data, normalization)
    }

    @Test func sameSeedSameWeights() throws {
        let (a, _, _) = try Self.train(steps: 12, seed: 3)
        let (b, _, _) = try Self.train(steps: 12, seed: 3)
        let (c, _, _) = try Self.train(steps: 12, seed: 4)
        for (p, q) in zip(a.parameters, b.parameters) {
            #expect(p.value.values == q.value.values, "\(p.name) differs between two runs with one seed")
        }
        for (p, q) in zip(a.buffers, b.buffers) {
            #expect(p.tensor.values == q.tensor.values, "\(p.name) differs between two runs with one seed")
        }
        #expect(a.parameters[0].value.values != c.parameters[0].value.values, "another seed gives other weights")
    }

    @Test func learnsASeparableProblem() throws {
        let (model, _, normalization) = try Self.train(steps: 300, seed: 1)
        let test = Self.halves(count: 200, seed: 99)
        let evaluation = try #require(Evaluator.evaluate(model, dataset: test, normalization: normalization))
        #expect(evaluation.top1 >= 0.98, "top-1 \(evaluation.top1) on held-out examples")
        #expect(evaluation.loss < 0.1)
    }

    @Test func cosineAndStepSchedules() {
        #expect(LearningRateSchedule.cosine.rate(base: 0.1, step: 0, totalSteps: 100, stepsPerEpoch: 10) == 0.1)
        #expect(abs(LearningRateSchedule.cosine.rate(base: 0.1, step: 50, totalSteps: 100, stepsPerEpoch: 10) - 0.05) < 1e-6)
        #expect(LearningRateSchedule.cosine.rate(base: 0.1, step: 100, totalSteps: 100, stepsPerEpoch: 10) < 1e-8)
        let step = LearningRateSchedule.step(milestones: [2, 4], factor: 0.1)
        #expect(step.rate(base: 1, step: 19, totalSteps: 100, stepsPerEpoch: 10) == 1)
        #expect(abs(step.rate(base: 1, step: 20, totalSteps: 100, stepsPerEpoch: 10) - 0.1) < 1e-7)
        #expect(abs(step.rate(base: 1, step: 45, totalSteps: 100, stepsPerEpoch: 10) - 0.01) < 1e-8)
    }

    @Test func sgdMatchesPyTorchUpdate() {
        // Two steps of torch.optim.SGD(lr=0.1, momentum=0.9, weight_decay=0.01) by hand.
        let parameter = Parameter(name: "w", shape: [1], role: .perChannel)
        parameter.value[0] = 1
        let sgd = SGD(parameters: [parameter], momentum: 0.9, weightDecay: 0.01)
        parameter.gradient[0] = 0.5
        sgd.step(learningRate: 0.1)   // v = 0.51, w = 0.949
        #expect(abs(parameter.value[0] - 0.949) < 1e-6)
        sgd.step(learningRate: 0.1)   // v = 0.9·0.51 + 0.5 + 0.00949 = 0.96849, w = 0.852151
        #expect(abs(parameter.value[0] - 0.852151) < 1e-6)
    }
}
