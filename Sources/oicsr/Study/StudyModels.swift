import Engine
import Foundation
import Pruning

/// A regularizer and how its penalty enters the optimisation: the study's unit of comparison,
/// so that the group (GL's filters or OICSR's out-in channels) and the optimiser (the paper's
/// subgradient or the proximal step) can be told apart.
struct Variant: Hashable, Codable, Sendable {
    var kind: RegularizerKind
    var step: RegularizerStep

    /// "l2", "gl/subgradient", "oicsr-gl/proximal", …
    var name: String { kind == .l2 ? "l2" : "\(kind.rawValue)/\(step.rawValue)" }

    init(_ kind: RegularizerKind, _ step: RegularizerStep = .proximal) {
        self.kind = kind
        self.step = kind == .l2 ? .proximal : step
    }

    init?(name: String) {
        guard let match = Self.all.first(where: { $0.name == name }) else { return nil }
        self = match
    }

    /// Every variant the study trains, in the order of its tables.
    static let all: [Variant] = [
        Variant(.l2), Variant(.gl, .subgradient), Variant(.gl, .proximal),
        Variant(.oicsrGL, .subgradient), Variant(.oicsrGL, .proximal), Variant(.l1BN, .proximal),
    ]

    /// The importance criteria the selection study tries on this variant's models: those its
    /// training leaves open, as a calibrated selection does.
    var criteria: [ImportanceCriterion] { ImportanceCriterion.open(by: kind) }

    func choice(lambda: Double, coupled: Bool) -> RegularizerChoice {
        var choice = RegularizerChoice(kind: kind, lambda: kind == .l2 ? nil : lambda, includeCoupled: coupled)
        choice.options.step = step
        return choice
    }
}

/// The λ values the study may try, a factor of about 3 apart. A sweep starts at
/// `initial` and extends the ladder past whichever end wins, until the best λ has a
/// neighbour on both sides (or the ladder ends), so the chosen value brackets the optimum.
enum LambdaLadder {
    static let values = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0]

    /// Where a sweep starts: the subgradient needs smaller λ than the proximal step before the
    /// dense model suffers (on convnet-s, GL's subgradient lost 10 points at 0.03).
    static func initial(_ step: RegularizerStep) -> [Double] {
        step == .subgradient ? [0.01, 0.03, 0.1] : [0.03, 0.1, 0.3]
    }

    /// The next λ to try given the scores so far (λ → validation score), or nil when the
    /// best has neighbours on both sides.
    static func next(after scores: [Double: Double]) -> Double? {
        guard let best = scores.max(by: { ($0.value, -$0.key) < ($1.value, -$1.key) })?.key,
              let index = values.firstIndex(of: best) else { return nil }
        if index + 1 < values.count, scores[values[index + 1]] == nil { return values[index + 1] }
        if index > 0, scores[values[index - 1]] == nil { return values[index - 1] }
        return nil
    }
}

/// A model the study trained, at one point of its training.
struct TrainedModel {
    enum Stage: String, Codable, CaseIterable { case early, late }
    var variant: Variant
    var lambda: Double
    var stage: Stage
    var model: Model
    var trainLoss: Double
    var trainPenalty: Double

    var key: String { "\(variant.name) λ=\(Self.format(lambda)) \(stage.rawValue)" }
    static func format(_ lambda: Double) -> String { String(format: "%g", lambda) }
}

/// Trains the study's models, or loads them from the folder where an earlier run left them:
/// each run writes its checkpoints after the first epoch ("early") and at the end ("late"),
/// named by architecture, training set, epochs, variant and λ, so a study that stops can
/// be run again without training anything twice, and the comparison script reads the same
/// weights.
struct ModelCache {
    let folder: String
    let architecture: Architecture
    let train: Dataset
    let normalization: Normalization
    let epochs: Int
    /// Regularize (and later prune) the residual channels coupled across a stage too.
    let coupled: Bool

    var runFolder: String { "\(folder)/\(architecture.name)-\(train.count)x\(epochs)\(coupled ? "-coupled" : "")" }

    func path(_ variant: Variant, lambda: Double, stage: TrainedModel.Stage) -> String {
        let name = variant.kind == .l2 ? "l2" : "\(variant.kind.rawValue)-\(variant.step.rawValue)-\(TrainedModel.format(lambda))"
        return "\(runFolder)/\(name)-\(stage.rawValue).safetensors"
    }

    /// The early and late models of one run, trained now unless both files exist.
    func models(_ variant: Variant, lambda: Double, log: StudyLog) throws -> [TrainedModel] {
        let paths = TrainedModel.Stage.allCases.map { path(variant, lambda: lambda, stage: $0) }
        if paths.allSatisfy({ FileManager.default.fileExists(atPath: $0) }) {
            return try zip(TrainedModel.Stage.allCases, paths).map { stage, path in
                let (model, info) = try Checkpoint.load(path: path)
                return TrainedModel(variant: variant, lambda: lambda, stage: stage, model: model,
                                    trainLoss: info.metrics["train_loss"] ?? .nan, trainPenalty: info.metrics["train_penalty"] ?? .nan)
            }
        }
        try FileManager.default.createDirectory(atPath: runFolder, withIntermediateDirectories: true)
        let model = try Model(architecture: architecture, seed: 1)
        var configuration = TrainingConfiguration()
        configuration.epochs = epochs
        let choice = variant.choice(lambda: lambda, coupled: coupled)
        let trainer = choice.trainer(for: model, configuration: configuration)
        var info = CheckpointInfo(architecture: architecture, normalization: normalization, dataset: train.name, classNames: train.classNames)
        var recipe = Recipe(regularizer: Recipe.Regularization(choice), training: Recipe.Training(configuration, trainExamples: train.count))
        var results: [TrainedModel] = []
        let label = variant.kind == .l2 ? "training l2" : "training \(variant.name) λ=\(TrainedModel.format(lambda))"
        let finished = try trainer.fit(
            train: train, normalization: normalization, augmentation: Augmentation.standard(for: train),
            progress: { log.progress(label, $0) },
            epochFinished: { summary in
                let stage: TrainedModel.Stage? = summary.epoch == 0 ? .early : (summary.epoch == epochs - 1 ? .late : nil)
                guard let stage else { return }
                recipe.training?.epochsCompleted = summary.epoch + 1
                info.record(recipe)
                info.metrics = ["train_loss": summary.loss, "train_accuracy": summary.accuracy, "train_penalty": summary.penalty]
                try Checkpoint.save(model, info: info, to: path(variant, lambda: lambda, stage: stage))
                // The early model goes on training: keep a copy of it as it is now.
                let (copy, _) = try Checkpoint.load(path: path(variant, lambda: lambda, stage: stage))
                results.append(TrainedModel(variant: variant, lambda: lambda, stage: stage, model: copy,
                                            trainLoss: summary.loss, trainPenalty: summary.penalty))
            })
        guard finished else { throw Interrupted() }
        return results
    }
}
