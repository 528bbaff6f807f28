// Explorer states built in-process from small deterministic models (seeded initialisation,
// no training), with job results injected as the state machine would receive them, so that
// screens and key sequences are fast to test and the same on every run.

import Engine
import Canvas
import Explorer
import Pruning

enum Fixtures {
    static let small = Size(width: 80, height: 24)
    static let large = Size(width: 120, height: 40)

    static func description(_ name: String) -> ModelDescription {
        ModelDescription(name: name, path: "/models/\(name).safetensors", dataset: "fashion-mnist",
                         regularizer: Recipe.Regularization(kind: .oicsrGL, lambda: 1e-4), trainExamples: 60_000, testExamples: 10_000)
    }

    /// The analysis of a built-in model with seeded random weights.
    static func analysis(_ builtIn: BuiltInModel = .convnetS, seed: UInt64 = 1) -> ModelAnalysis {
        let model = try! Model(architecture: builtIn.architecture(), seed: seed)
        return try! ModelAnalysis(model: model)
    }

    /// A freshly opened explorer on `builtIn`.
    static func state(_ builtIn: BuiltInModel = .convnetS, size: Size = small) -> ExplorerState {
        ExplorerState(model: description(builtIn.rawValue), analysis: analysis(builtIn), size: size)
    }

    /// Sends every key; returns the effects of the last one.
    @discardableResult
    static func press(_ keys: [Key], on state: inout ExplorerState) -> [Effect] {
        var effects: [Effect] = []
        for key in keys { effects = state.send(.key(key)) }
        return effects
    }

    static let dense = EvaluationSummary(top1: 0.9123, loss: 0.2481, count: 10_000)
    static let denseSpeed = SpeedSummary(latencyMilliseconds: 0.512, imagesPerSecond: 9_120)

    /// Prunes the current selection and evaluates, answering the jobs with made-up figures.
    static func pruneAndEvaluate(_ state: inout ExplorerState) {
        state.send(.key("p"))
        let after = state.figuresAfter!
        let id = state.job?.model ?? 0
        state.send(.job(.finished(.pruned(model: id, macs: after.macs, parameters: after.parameters))))
        state.send(.key("e"))
        state.send(.job(.progress(JobProgress(share: 0.5, phase: "pruned", rate: 4_000, elapsedSeconds: 2))))
        state.send(.job(.finished(.evaluated(
            dense: dense, denseSpeed: denseSpeed,
            pruned: EvaluationSummary(top1: 0.8402, loss: 0.4518, count: 10_000),
            prunedSpeed: SpeedSummary(latencyMilliseconds: 0.384, imagesPerSecond: 12_310), model: id))))
    }
}

extension Fixtures {
    /// convnet-s with some channels switched off, as a group lasso leaves them: their
    /// filters, BatchNorm scale and shift, and the consumers' inputs are exactly zero.
    /// Dead: conv1 #0-11, conv2 #0-9, conv4 #0-19.
    static let deadChannels: [String: Range<Int>] = ["conv1": 0..<12, "conv2": 0..<10, "conv4": 0..<20]

    static func deadModel() -> Model {
        let model = try! Model(architecture: BuiltInModel.convnetS.architecture(), seed: 1)
        for (producer, channels) in deadChannels {
            let index = Int(producer.dropFirst(4))!
            let weight = model.parameter(named: "\(producer).weight")!.value   // (out, kh, kw, in)
            let perFilter = weight.count / weight.shape[0]
            let consumer = model.parameter(named: index == 5 ? "fc.weight" : "conv\(index + 1).weight")!.value
            let consumerInputs = consumer.shape.last!
            for c in channels {
                for k in 0..<perFilter { weight[c * perFilter + k] = 0 }
                model.parameter(named: "bn\(index).weight")!.value[c] = 0
                model.parameter(named: "bn\(index).bias")!.value[c] = 0
                for row in stride(from: 0, to: consumer.count, by: consumerInputs) { consumer[row + c] = 0 }
            }
        }
        return model
    }

    /// A freshly opened explorer on `deadModel()`.
    static func deadState(size: Size = small) -> ExplorerState {
        ExplorerState(model: description("convnet-s"), analysis: try! ModelAnalysis(model: deadModel()), size: size)
    }

    /// Figures of the right shape for every layer and the walk of `state`'s settings, as the
    /// sensitivity job would report them: top-1 falls with the share removed, faster for
    /// later layers.
    static func sensitivity(for state: ExplorerState, layers: Int? = nil, walkPoints: Int? = nil) -> SensitivityTable {
        var table = SensitivityTable(dataset: "fashion-mnist", examples: 1000, batchNormExamples: 1000,
                                     fingerprint: state.analysis!.fingerprint, denseTop1: 0.912)
        for (index, group) in state.groups.prefix(layers ?? state.groups.count).enumerated() {
            table.layers["\(state.settings.criterion.rawValue)/\(group.name)"] =
                SensitivityTable.layerShares.map { 0.912 - $0 * $0 * Double(index + 1) * 0.15 }
        }
        let walk = state.walk!
        let targets = SensitivityTable.walkTargets(reachable: walk.selection.reachableShare)
        table.walks["\(state.settings.criterion.rawValue)/\(state.settings.normalization.rawValue)/internal"] =
            targets.prefix(walkPoints ?? targets.count).map {
                SensitivityTable.WalkPoint(removedShare: $0, steps: walk.selection.stepCount(toReach: $0) ?? 0,
                                           asPruned: 0.912 - 1.2 * $0 * $0, afterBatchNorm: 0.912 - 0.3 * $0 * $0)
            }
        return table
    }
}
