// The training loop: forward, loss, backward, regularizer, SGD step.

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
