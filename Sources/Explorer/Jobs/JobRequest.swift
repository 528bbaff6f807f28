import Canvas
import Engine
import Pruning

/// Long work the state machine asks for; the session supplies the models and data. Work on
/// a pruned model names it (`PrunedModel.id`).
public enum JobRequest: Equatable, Sendable {
    /// Train the default model and cache it.
    case trainDefault
    /// Build the physically smaller model of `plan`, chosen under `settings`, as model `model`.
    case prune(plan: PruningPlan, settings: SelectionSettings, removedShare: Double, model: Int)
    /// Test-set accuracy and measured speed of the dense model, a pruned one, or both.
    case evaluate(dense: Bool, pruned: Int?)
    /// Re-estimate a pruned model's BatchNorm statistics, then evaluate it.
    case reestimateBatchNorm(model: Int)
    /// One epoch of SGD on a pruned model, then evaluate it.
    case fineTune(model: Int)
    /// Write a pruned model next to the source checkpoint.
    case save(PruningFacts, model: Int)
    /// Measure what `SensitivityRequest` lacks, reporting the table as it fills.
    case sensitivity(SensitivityRequest)
    /// Prune copies of the dense model to `target` by every ranking of `criteria` (each
    /// normalisation) and find the one that keeps the most top-1 on the last training images.
    case calibrate(target: Double, settings: SelectionSettings, criteria: [ImportanceCriterion])

    public var kind: JobKind {
        switch self {
        case .trainDefault: .train
        case .prune: .prune
        case .evaluate: .evaluate
        case .reestimateBatchNorm: .reestimate
        case .fineTune: .fineTune
        case .save: .save
        case .sensitivity: .sensitivity
        case .calibrate: .calibrate
        }
    }

    /// The pruned model the job works on or makes.
    public var model: Int? {
        switch self {
        case .prune(_, _, _, let model), .reestimateBatchNorm(let model), .fineTune(let model), .save(_, let model): model
        case .evaluate(_, let pruned): pruned
        case .trainDefault, .sensitivity, .calibrate: nil
        }
    }
}
