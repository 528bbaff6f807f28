// The training loop: forward, loss, backward, regularizer, SGD step; and evaluation.

/// A penalty added to the loss during training. The pruning regularizers (GL, OICSR-GL,
/// L1-BN) plug in here; plain weight decay lives in SGD. A regularizer acts either through
/// its (sub)gradient, before the step, or as a proximal operator, after it.
public protocol Regularizer: AnyObject {
    /// Adds the penalty's (sub)gradient to the model's parameter gradients, if it has one
    /// to add; returns the penalty.
    func addGradient(to model: Model) -> Float
    /// Runs after every SGD step taken with `learningRate`.
    func afterStep(learningRate: Float)
}

extension Regularizer {
    public func afterStep(learningRate: Float) {}
}

public struct TrainingConfiguration: Equatable, Sendable {
    public var epochs = 2
    public var batchSize = 128
    public var learningRate: Float = 0.05
    public var schedule = LearningRateSchedule.cosine
    public var momentum: Float = 0.9
    public var weightDecay: Float = 5e-4
    public var seed: UInt64 = 1

    public init() {}
}

/// What one optimizer step saw.
public struct StepResult: Sendable {
    public var loss: Float
    public var penalty: Float
    public var correct: Int
    public var count: Int
}

public final class Trainer {
    public let model: Model
    public let configuration: TrainingConfiguration
    public let optimizer: SGD
    public var regularizer: (any Regularizer)?
    /// Optimizer steps taken so far (drives the learning-rate schedule).
    public var step = 0
    private let logitsGradient = Tensor(shape: [0])

    public init(model: Model, configuration: TrainingConfiguration, regularizer: (any Regularizer)? = nil) {
        self.model = model
        self.configuration = configuration
        self.regularizer = regularizer
        self.optimizer = SGD(parameters: model.parameters, momentum: configuration.momentum,
                             weightDecay: configuration.weightDecay)
    }

    public func learningRate(stepsPerEpoch: Int) -> Float {
        configuration.schedule.rate(base: configuration.learningRate, step: step,
                                    totalSteps: stepsPerEpoch * configuration.epochs, stepsPerEpoch: stepsPerEpoch)
    }

    /// One SGD step on a batch of images (N, H, W, C).
    @discardableResult
    public func trainStep(images: Tensor, labels: [Int32], stepsPerEpoch: Int) -> StepResult {
        let logits = model.forward(images, training: true)
        let loss = CrossEntropy.loss(logits: logits, labels: labels, gradient: logitsGradient)
        let correct = zip(CrossEntropy.predictions(logits), labels).filter { $0 == Int($1) }.count
        model.zeroGradients()
        model.backward(logitsGradient: logitsGradient)
        let penalty = regularizer?.addGradient(to: model) ?? 0
        let rate = learningRate(stepsPerEpoch: stepsPerEpoch)
        optimizer.step(learningRate: rate)
        regularizer?.afterStep(learningRate: rate)
        step += 1
        return StepResult(loss: loss, penalty: penalty, correct: correct, count: logits.shape[0])
    }
}

/// Test-set metrics.
public struct Evaluation: Codable, Equatable, Sendable {
    public var top1: Double
    public var loss: Double
    public var perClassAccuracy: [Double]
    public var count: Int
}

public enum Evaluator {
    /// Evaluates in eval mode (running BatchNorm statistics). `progress` receives the share
    /// done and returns false to cancel, in which case nil is returned.
    public static func evaluate(_ model: Model, dataset: Dataset, normalization: Normalization, batchSize: Int = 256,
                                progress: (Double) -> Bool = { _ in true }) -> Evaluation? {
        let loader = BatchLoader(dataset: dataset, batchSize: batchSize, shuffle: false, augmentation: .none,
                                 normalization: normalization, seed: 0)
        loader.startEpoch(0)
        let images = Tensor(shape: [0])
        var labels: [Int32] = []
        var lossSum: Double = 0
        var hits = [Int](repeating: 0, count: dataset.classes), totals = hits
        for b in 0..<loader.batchesPerEpoch {
            loader.loadBatch(b, into: images, labels: &labels)
            let logits = model.forward(images, training: false)
            lossSum += Double(CrossEntropy.loss(logits: logits, labels: labels)) * Double(labels.count)
            for (prediction, label) in zip(CrossEntropy.predictions(logits), labels) {
                totals[Int(label)] += 1
                if prediction == Int(label) { hits[Int(label)] += 1 }
            }
            if !progress(Double(b + 1) / Double(loader.batchesPerEpoch)) { return nil }
        }
        let count = totals.reduce(0, +)
        return Evaluation(top1: Double(hits.reduce(0, +)) / Double(max(count, 1)), loss: lossSum / Double(max(count, 1)),
                          perClassAccuracy: zip(hits, totals).map { $1 == 0 ? 0 : Double($0) / Double($1) }, count: count)
    }
}
