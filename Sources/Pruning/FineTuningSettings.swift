import Engine

/// Fine-tuning after each round.
public struct FineTuningSettings: Equatable, Sendable {
    public var epochs: Int
    public var learningRate: Float
    public var seed: UInt64

    public init(epochs: Int, learningRate: Float = 0.01, seed: UInt64 = 1) {
        self.epochs = epochs; self.learningRate = learningRate; self.seed = seed
    }

    /// Cosine from `learningRate` over `epochs`, the trainer's defaults otherwise.
    public var configuration: TrainingConfiguration {
        var configuration = TrainingConfiguration()
        configuration.epochs = epochs
        configuration.learningRate = learningRate
        configuration.schedule = .cosine
        configuration.seed = seed
        return configuration
    }
}
