import Canvas
import Engine
import Foundation
import Synchronization

/// What a finished job returns: the outcome for the state machine, and the models it made.
public struct JobResult: Sendable {
    public var outcome: JobOutcome
    /// A new dense model (the freshly trained default).
    public var dense: ModelSnapshot?
    /// A new or changed pruned model.
    public var pruned: ModelSnapshot?

    public init(outcome: JobOutcome, dense: ModelSnapshot? = nil, pruned: ModelSnapshot? = nil) {
        self.outcome = outcome
        self.dense = dense
        self.pruned = pruned
    }
}
