import Engine

/// The states of the model a schedule evaluates, each once.
public enum PruningStage: String, Sendable, CaseIterable {
    case asPruned = "as pruned"
    case afterBatchNormReestimation = "after BN re-estimation"
    case afterFineTuning = "after fine-tuning"
}
