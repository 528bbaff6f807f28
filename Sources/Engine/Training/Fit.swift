// Epoch loop over a data set, with progress reports, cancellation between batches and a
// hook after each epoch (where the caller saves a checkpoint).

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
