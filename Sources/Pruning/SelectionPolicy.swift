import Engine

/// How channels are ranked and limited.
public struct SelectionPolicy: Equatable, Sendable {
    public var criterion: ImportanceCriterion
    public var normalization: EnergyNormalization
    /// Other rankings a schedule given calibration images may choose instead of this one
    /// (`PruningSchedule.plan(_:calibration:)`); empty: this ranking only.
    public var alternatives: [Ranking]
    /// Offer the residual channels coupled across a stage too.
    public var includeCoupled: Bool
    public var limits: SelectionLimits
    /// Kept widths are rounded up to a multiple of this (1: no rounding).
    public var widthMultiple: Int

    public init(criterion: ImportanceCriterion, normalization: EnergyNormalization = .standard, alternatives: [Ranking] = [],
                includeCoupled: Bool = false, limits: SelectionLimits = SelectionLimits(), widthMultiple: Int = 1) {
        self.criterion = criterion; self.normalization = normalization; self.alternatives = alternatives
        self.includeCoupled = includeCoupled; self.limits = limits; self.widthMultiple = widthMultiple
    }

    public var ranking: Ranking { Ranking(criterion: criterion, normalization: normalization) }

    /// This ranking, then the alternatives, each once.
    public var candidates: [Ranking] {
        var seen = Set<Ranking>()
        return ([ranking] + alternatives).filter { seen.insert($0).inserted }
    }

    /// This policy with `ranking` as its only one.
    public func ranked(by ranking: Ranking) -> SelectionPolicy {
        var copy = self
        copy.criterion = ranking.criterion; copy.normalization = ranking.normalization; copy.alternatives = []
        return copy
    }

    /// Every pairing of `criteria` and `normalizations`, in their order (criteria outer).
    public static func rankings(criteria: [ImportanceCriterion],
                                normalizations: [EnergyNormalization] = EnergyNormalization.byPreference) -> [Ranking] {
        criteria.flatMap { c in normalizations.map { Ranking(criterion: c, normalization: $0) } }
    }
}
