import Canvas
import Pruning

/// What decides the selection. Every change to one of these is undoable.
public struct SelectionSettings: Hashable, Sendable {
    public var criterion: ImportanceCriterion
    public var normalization: EnergyNormalization
    /// Offer the residual channels coupled across a stage too (ResNets only).
    public var coupled: Bool
    /// Share of FLOPs (MACs) to remove, 0…1, as the user set it.
    public var target: Double
    /// Channels of the walk taken: the cursor that [ and ] move one at a time.
    public var steps: Int
    /// Surgery folds the removed channels' expected values into their readers
    /// (Pruning/Compensation.swift); the calibration (N) chooses it with the ranking.
    public var compensates: Bool

    public init(criterion: ImportanceCriterion, normalization: EnergyNormalization = .standard,
                coupled: Bool = false, target: Double = 0, steps: Int = 0, compensates: Bool = CompensationChoice.uncalibrated) {
        self.criterion = criterion
        self.normalization = normalization
        self.coupled = coupled
        self.target = target
        self.steps = steps
        self.compensates = compensates
    }

    /// What the walk depends on (not where it stops).
    public var walkKey: WalkKey { WalkKey(criterion: criterion, normalization: normalization, coupled: coupled) }

    /// The ranking the walk follows.
    public var ranking: Ranking { Ranking(criterion: criterion, normalization: normalization) }

    /// The pruning schedule's policy for these settings, with the explorer's limits and
    /// `alternatives` for a calibration to choose among.
    func policy(alternatives: [Ranking] = []) -> SelectionPolicy {
        SelectionPolicy(criterion: criterion, normalization: normalization, alternatives: alternatives, includeCoupled: coupled,
                        limits: Walk.limits)
    }
}
