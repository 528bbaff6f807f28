/// Where a training run is, reported after every batch.
public struct TrainingProgress: Sendable {
    public var epoch: Int          // 0-based
    public var epochs: Int
    public var batch: Int          // batches done in this epoch
    public var batches: Int
    /// Mean loss and accuracy over the batches of this epoch so far.
    public var loss: Double
    public var accuracy: Double
    public var penalty: Double
    public var learningRate: Float
    public var imagesPerSecond: Double
    /// Share of the whole run done, 0…1.
    public var share: Double { (Double(epoch) + Double(batch) / Double(max(batches, 1))) / Double(max(epochs, 1)) }
}
