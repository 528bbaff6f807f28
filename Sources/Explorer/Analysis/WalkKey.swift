import Canvas
import Pruning

public struct WalkKey: Hashable, Sendable {
    public var criterion: ImportanceCriterion
    public var normalization: EnergyNormalization
    public var coupled: Bool
}
