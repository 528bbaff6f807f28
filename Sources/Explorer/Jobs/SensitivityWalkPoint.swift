import Canvas
import Engine
import Pruning

public struct SensitivityWalkPoint: Equatable, Sendable {
    public var steps: Int
    public var removedShare: Double
    public var plan: PruningPlan
}
