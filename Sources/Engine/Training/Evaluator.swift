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
