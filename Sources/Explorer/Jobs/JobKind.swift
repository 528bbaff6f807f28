import Canvas
import Engine
import Pruning

// The vocabulary of background jobs: what the state machine asks for, what a running job
// reports, and what it hands back. All plain values, so they cross threads freely.

/// The kinds of long work, one at a time.
public enum JobKind: String, Sendable, CaseIterable {
    case train, prune, evaluate, reestimate, fineTune, save, sensitivity, calibrate

    /// What the progress bar and messages call it.
    public var label: String {
        switch self {
        case .train: "training"
        case .prune: "pruning"
        case .evaluate: "evaluating"
        case .reestimate: "re-estimating BN"
        case .fineTune: "fine-tuning"
        case .save: "saving"
        case .sensitivity: "sensitivity"
        case .calibrate: "choosing the ranking"
        }
    }
}
