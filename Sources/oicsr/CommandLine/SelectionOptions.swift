import Engine
import Pruning

/// How channels are ranked and limited, shared by `energies` and `prune`.
struct SelectionOptions {
    static let criterion = Option<ImportanceCriterion>.choice(
        "criterion", default: nil, defaultDescription: "the one matching the checkpoint's regularizer",
        help: "importance criterion")
    static let normalization = Option<EnergyNormalization>.choice(
        "normalization", default: nil, defaultDescription: "chosen on calibration images when pruning (--calibrate), else \(EnergyNormalization.standard.rawValue)",
        help: "energy normalisation that ranks channels of different layers together")
    static let coupled = Flag(name: "coupled", help: "also prune residual channels joined across a stage")
    static let cap = Option.number("cap", placeholder: "SHARE", default: SelectionLimits().capShare, range: 0...1, lowerOpen: true,
                                   help: "largest share of a layer's channels that may go")
    static let floor = Option.count("floor", default: SelectionLimits().floor, help: "fewest channels a layer keeps")
    static let widthMultiple = Option.count("round-to", placeholder: "M", default: 1, maximum: 1 << 10,
                                            help: "keep every layer at a multiple of M channels (8 suits SIMD and GEMM kernels)")
    static let declarations = [criterion.declaration, normalization.declaration, coupled.declaration, cap.declaration, floor.declaration,
                               widthMultiple.declaration]

    /// The criterion when the user gave one; otherwise the checkpoint's decides.
    let criterion: ImportanceCriterion?
    /// The normalisation when the user gave one.
    let normalization: EnergyNormalization?
    let includeCoupled: Bool
    let limits: SelectionLimits
    let widthMultiple: Int

    init(_ arguments: ParsedArguments) throws(UsageError) {
        criterion = try arguments.valueIfAny(Self.criterion)
        normalization = try arguments.valueIfAny(Self.normalization)
        includeCoupled = arguments.flag(Self.coupled)
        limits = SelectionLimits(capShare: try arguments.value(Self.cap), floor: try arguments.value(Self.floor))
        widthMultiple = try arguments.value(Self.widthMultiple)
    }

    /// The policy for a model trained as `recipe` says: the defaults for what the user left
    /// open, and as alternatives every ranking that keeps what the user gave (the criteria
    /// training left open, every normalisation), for a calibration to choose from.
    func policy(for recipe: Recipe) -> SelectionPolicy {
        let kind = recipe.regularizer.kind
        let alternatives = SelectionPolicy.rankings(criteria: criterion.map { [$0] } ?? ImportanceCriterion.open(by: kind),
                                                    normalizations: normalization.map { [$0] } ?? EnergyNormalization.byPreference)
        return SelectionPolicy(criterion: criterion ?? .matching(kind), normalization: normalization ?? .standard, alternatives: alternatives,
                               includeCoupled: includeCoupled, limits: limits, widthMultiple: widthMultiple)
    }
}
