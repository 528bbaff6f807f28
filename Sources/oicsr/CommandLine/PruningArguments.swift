import Engine
import Foundation
import Pruning

/// The options that say how channels are ranked and limited, shared by `energies` and `prune`.
struct PruningArguments {
    static let options = [
        OptionSpec(name: "criterion", value: "KIND", help: "out-in (OICSR), out (filter norm) or bn-scale (|γ|); default matches the checkpoint's regularizer"),
        OptionSpec(name: "normalization", value: "KIND", help: "raw, per-weight, layer-mean or layer-share (default \(EnergyNormalization.standard.rawValue))"),
        OptionSpec(name: "coupled", value: nil, help: "also prune residual channels joined across a stage"),
        OptionSpec(name: "cap", value: "SHARE", help: "largest share of a layer's channels that may go (default 0.5)"),
        OptionSpec(name: "floor", value: "N", help: "fewest channels a layer keeps (default 1)"),
    ]

    var criterion: ImportanceCriterion
    var normalization: EnergyNormalization
    var includeCoupled: Bool
    var limits: SelectionLimits

    init(_ arguments: ParsedArguments, info: CheckpointInfo) throws(UsageError) {
        let trainedWith = RegularizerKind(rawValue: info.regularizer) ?? .l2
        criterion = try arguments.choice("criterion", default: ImportanceCriterion.matching(trainedWith))
        normalization = try arguments.choice("normalization", default: EnergyNormalization.standard)
        includeCoupled = arguments.flag("coupled")
        let cap = try arguments.number("cap", default: 0.5, above: 0)
        guard cap <= 1 else { throw UsageError(argument: "--cap", problem: "a share of a layer's channels, at most 1; found \(cap)") }
        limits = SelectionLimits(capShare: cap, floor: try arguments.integer("floor", default: 1))
    }

    /// Loads a checkpoint named by the MODEL argument (a trained model is needed).
    static func loadCheckpoint(_ argument: String) throws -> (path: String, model: Model, info: CheckpointInfo) {
        let source = try ModelSource(argument, flag: "MODEL")
        guard let path = source.checkpointPath else {
            throw UsageError(argument: argument, problem: "needs a trained checkpoint (train one with 'oicsr train --reg oicsr-gl')")
        }
        let (model, info) = try Checkpoint.load(path: path)
        return (path, model, info)
    }

    /// The model's groups; a model with none is bad input.
    func groups(of model: Model, path: String) throws -> ChannelGroups {
        let groups = ChannelGroups(graph: model.graph, includeCoupled: includeCoupled)
        guard !groups.groups.isEmpty else {
            let hint = groups.fixed.contains { $0.reason.contains("coupled") } ? "; try --coupled" : ""
            throw UsageError(argument: path, problem: "the model has no prunable channel\(hint)")
        }
        return groups
    }
}
