// Re-estimating BatchNorm running statistics: after channels are removed, the statistics
// of the layers downstream no longer describe their inputs. A few forward passes over
// training images (no gradient step) measure them again — a cheap repair before, or
// instead of, fine-tuning.

extension Model {
    /// Replaces every BatchNorm's running mean and variance with their averages over the
    /// first `examples` images of `dataset` (shuffled with `seed`), in batches of `batchSize`.
    /// `progress` gets the share done and returns false to cancel (statistics are then
    /// restored). Returns false if cancelled.
    @discardableResult
    public func reestimateBatchNormStatistics(dataset: Dataset, normalization: Normalization, examples: Int = 2000,
                                              batchSize: Int = 200, seed: UInt64 = 1,
                                              progress: (Double) -> Bool = { _ in true }) -> Bool {
        let batchNorms = nodes.compactMap { $0.op as? BatchNorm2dOp }
        let saved = batchNorms.map { ($0.runningMean.values, $0.runningVar.values) }
        let subset = dataset.subset(first: min(examples, dataset.count))
        let loader = BatchLoader(dataset: subset, batchSize: batchSize, shuffle: true, augmentation: .none,
                                 normalization: normalization, seed: seed)
        loader.startEpoch(0)
        let images = Tensor(shape: [0])
        var labels: [Int32] = []
        defer { for bn in batchNorms { bn.momentum = bn.configuredMomentum } }
        for b in 0..<loader.batchesPerEpoch {
            for bn in batchNorms { bn.momentum = 1 / Float(b + 1) }
            loader.loadBatch(b, into: images, labels: &labels)
            forward(images, training: true)
            if !progress(Double(b + 1) / Double(loader.batchesPerEpoch)) {
                for (bn, (mean, variance)) in zip(batchNorms, saved) {
                    bn.runningMean.copy(from: mean)
                    bn.runningVar.copy(from: variance)
                }
                return false
            }
        }
        return true
    }
}
