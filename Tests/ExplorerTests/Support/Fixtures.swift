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
