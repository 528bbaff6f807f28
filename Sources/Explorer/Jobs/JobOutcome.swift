import Canvas
import Engine
import Pruning

/// What a finished job hands the state machine (model weights stay with the session).
public enum JobOutcome: Sendable {
    /// The default model is trained, cached and analysed.
    case trained(analysis: ModelAnalysis, model: ModelDescription, evaluation: EvaluationSummary)
    /// Pruned model `model` exists; its MACs (per image) and parameters.
    case pruned(model: Int, macs: Int, parameters: Int)
    case evaluated(dense: EvaluationSummary?, denseSpeed: SpeedSummary?,
                   pruned: EvaluationSummary?, prunedSpeed: SpeedSummary?, model: Int?)
    case reestimated(model: Int, EvaluationSummary)
    case fineTuned(model: Int, EvaluationSummary)
    case saved(model: Int, path: String)
    case sensitivity(SensitivityTable)
    /// The ranking, and whether surgery compensates, that kept the most on `examples`
    /// calibration images at `target`, among `scores`.
    case calibrated(Ranking, compensates: Bool, scores: [CalibrationScore], examples: Int, target: Double)
}
