import Engine

/// How channels are ranked and limited.
public struct SelectionPolicy: Equatable, Sendable {
    public var criterion: ImportanceCriterion
    public var normalization: EnergyNormalization
    /// Offer the residual channels coupled across a stage too.
    public var includeCoupled: Bool
    public var limits: SelectionLimits
    /// Kept widths are rounded up to a multiple of this (1: no rounding).
    public var widthMultiple: Int

    public init(criterion: ImportanceCriterion, normalization: EnergyNormalization = .standard, includeCoupled: Bool = false,
                limits: SelectionLimits = SelectionLimits(), widthMultiple: Int = 1) {
        self.criterion = criterion; self.normalization = normalization
        self.includeCoupled = includeCoupled; self.limits = limits; self.widthMultiple = widthMultiple
    }
}
