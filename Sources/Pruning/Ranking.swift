import Engine

/// What orders a greedy walk: the importance criterion and the normalisation of its energies.
public struct Ranking: Hashable, Sendable, Codable {
    public var criterion: ImportanceCriterion
    public var normalization: EnergyNormalization

    public init(criterion: ImportanceCriterion, normalization: EnergyNormalization) {
        self.criterion = criterion; self.normalization = normalization
    }

    /// "criterion/normalisation", as the command line and the reports write it.
    public var name: String { criterion.rawValue + "/" + normalization.rawValue }
}
