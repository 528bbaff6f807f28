// Epoch loop over a data set, with progress reports, cancellation between batches and a
// hook after each epoch (where the caller saves a checkpoint).

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

/// One finished epoch.
public struct EpochSummary: Codable, Sendable {
    public var epoch: Int
    /// Mean cross-entropy over the epoch's examples.
    public var loss: Double
    public var accuracy: Double
    /// Mean over the epoch's batches of the regularizer's penalty (λ·Σ‖g‖ or λ·Σ|γ|) at the
    /// weights each batch started from; 0 without a regularizer. The objective is loss + penalty
    /// (+ weight decay).
    public var penalty: Double
    public var seconds: Double
}

extension Trainer {
    /// Trains from `startEpoch` to the configured number of epochs. `progress` returns false
    /// to stop after the current batch; the epoch in progress is then abandoned (the last
    /// `epochFinished` checkpoint stays the latest). Returns true when all epochs finished.
    public func fit(train: Dataset, normalization: Normalization, augmentation: Augmentation, startEpoch: Int = 0,
                    progress: (TrainingProgress) -> Bool,
                    epochFinished: (EpochSummary) throws -> Void) rethrows -> Bool {
        let loader = BatchLoader(dataset: train, batchSize: configuration.batchSize, shuffle: true,
                                 augmentation: augmentation, normalization: normalization, seed: configuration.seed)
        let images = Tensor(shape: [0])
        var labels: [Int32] = []
        step = startEpoch * loader.batchesPerEpoch
        for epoch in startEpoch..<configuration.epochs {
            loader.startEpoch(epoch)
            let start = Benchmark.now()
            var lossSum = 0.0, penaltySum = 0.0, correct = 0, seen = 0
            for b in 0..<loader.batchesPerEpoch {
                loader.loadBatch(b, into: images, labels: &labels)
                let rate = learningRate(stepsPerEpoch: loader.batchesPerEpoch)
                let result = trainStep(images: images, labels: labels, stepsPerEpoch: loader.batchesPerEpoch)
                lossSum += Double(result.loss) * Double(result.count)
                penaltySum += Double(result.penalty)
                correct += result.correct
                seen += result.count
                let report = TrainingProgress(
                    epoch: epoch, epochs: configuration.epochs, batch: b + 1, batches: loader.batchesPerEpoch,
                    loss: lossSum / Double(seen), accuracy: Double(correct) / Double(seen),
                    penalty: penaltySum / Double(b + 1), learningRate: rate,
                    imagesPerSecond: Double(seen) / max(Benchmark.now() - start, 1e-9))
                if !progress(report) { return false }
            }
            try epochFinished(EpochSummary(epoch: epoch, loss: lossSum / Double(seen), accuracy: Double(correct) / Double(seen),
                                           penalty: penaltySum / Double(max(loader.batchesPerEpoch, 1)), seconds: Benchmark.now() - start))
        }
        return true
    }
}
