import Engine

/// Why a schedule cannot run.
public struct PruningError: Error, CustomStringConvertible, Sendable {
    public var problem: String
    /// True when the target is at fault (unreachable), false when the model is (nothing to prune).
    public var concernsTarget = true
    public var description: String { problem }
}
