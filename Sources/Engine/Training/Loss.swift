/// Mean softmax cross-entropy over a batch.
public enum CrossEntropy {
    /// Loss of logits (N, K) against labels; writes d(loss)/d(logits) into `gradient`
    /// (reshaped to the logits' shape) when given.
    public static func loss(logits: Tensor, labels: [Int32], gradient: Tensor? = nil) -> Float {
        let (batch, classes) = (logits.shape[0], logits.shape[1])
        precondition(labels.count >= batch)
        gradient?.reshape(logits.shape)
        return labels.withUnsafeBufferPointer { labels in
            LossKernels.softmaxCrossEntropy(logits: logits.storage, labels: labels.baseAddress!, batch: batch,
                                            classes: classes, dlogits: gradient?.storage)
        }
    }

    /// Index of the largest logit of each row of logits (N, K).
    public static func predictions(_ logits: Tensor) -> [Int] {
        let (batch, classes) = (logits.shape[0], logits.shape[1])
        return (0..<batch).map { n in
            var best = 0
            for j in 1..<classes where logits.storage[n * classes + j] > logits.storage[n * classes + best] { best = j }
            return best
        }
    }
}
