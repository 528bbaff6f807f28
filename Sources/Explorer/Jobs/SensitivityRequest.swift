import Canvas
import Engine
import Pruning

/// What the sensitivity job measures: the figures for one walk key that `table` lacks.
public struct SensitivityRequest: Equatable, Sendable {
    /// What is known so far; the job adds to it.
    public var table: SensitivityTable
    public var key: WalkKey
    /// Per group: its name and channels from lowest energy up (the criterion's order).
    public var layers: [SensitivityLayer]
    /// The walk's points still to measure: steps and the plan they make.
    public var walkPoints: [SensitivityWalkPoint]
}
