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
