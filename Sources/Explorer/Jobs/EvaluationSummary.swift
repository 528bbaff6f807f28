import Canvas
import Engine
import Pruning

/// Test-set figures of one model.
public struct EvaluationSummary: Equatable, Sendable {
    /// Top-1 accuracy, 0…1.
    public var top1: Double
    /// Mean cross-entropy.
    public var loss: Double
    /// Test images evaluated.
    public var count: Int

    public init(top1: Double, loss: Double, count: Int) {
        self.top1 = top1; self.loss = loss; self.count = count
    }

    public init(_ evaluation: Evaluation) {
        self.init(top1: evaluation.top1, loss: evaluation.loss, count: evaluation.count)
    }
}
