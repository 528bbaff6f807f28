import Canvas
import Pruning

public enum Effect: Equatable, Sendable {
    case start(JobRequest)
    case cancelJob
    /// The session may let go of pruned model `model`'s weights.
    case forget(model: Int)
    /// Put `text` on the terminal's clipboard.
    case copy(String)
    case quit
}
