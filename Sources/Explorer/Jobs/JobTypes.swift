import Canvas
import Engine
import Pruning

// The vocabulary of background jobs: what the state machine asks for, what a running job
// reports, and what it hands back. All plain values, so they cross threads freely.

/// The kinds of long work, one at a time.
public enum JobKind: String, Sendable, CaseIterable {
    case train, prune, evaluate, reestimate, fineTune, save, sensitivity

    /// What the progress bar and messages call it.
    public var label: String {
        switch self {
        case .train: "training"
        case .prune: "pruning"
        case .evaluate: "evaluating"
        case .reestimate: "re-estimating BN"
        case .fineTune: "fine-tuning"
        case .save: "saving"
        case .sensitivity: "sensitivity"
        }
    }
}

/// What the explorer knows about its model besides the weights: names for the screen.
public struct ModelDescription: Equatable, Sendable {
    /// Architecture name, e.g. "convnet-s".
    public var name: String
    /// The checkpoint the explorer opened (or trains into).
    public var path: String
    /// Data set the explorer evaluates on, e.g. "fashion-mnist".
    public var dataset: String
    /// The regularizer the model was trained with, and its λ.
    public var regularizer: Recipe.Regularization
    /// Examples in the training and test splits in use (after `--limit`).
    public var trainExamples: Int
    public var testExamples: Int
    /// The command-line options that chose the data (`--data DIR`, `--limit N`), so that a
    /// command the explorer shows runs on the same data.
    public var dataArguments: [String] = []

    public init(name: String, path: String, dataset: String, regularizer: Recipe.Regularization,
                trainExamples: Int, testExamples: Int) {
        self.name = name; self.path = path; self.dataset = dataset; self.regularizer = regularizer
        self.trainExamples = trainExamples; self.testExamples = testExamples
    }

    /// The importance criterion that matches how the model was trained (docs/design.md §5).
    public var matchingCriterion: ImportanceCriterion {
        .matching(regularizer.kind)
    }
}

/// Test-set figures of one model.
public struct EvaluationSummary: Equatable, Sendable {
    /// Top-1 accuracy, 0…1.
    public var top1: Double
    /// Mean cross-entropy.
    public var loss: Double
    /// Test images evaluated.
    public var count: Int

    public init(top1: Double, loss: Double, count: Int) {
        self.top1 = top1; self.loss = loss; self.count = count
    }

    public init(_ evaluation: Evaluation) {
        self.init(top1: evaluation.top1, loss: evaluation.loss, count: evaluation.count)
    }
}

/// Measured inference speed of one model on this machine.
public struct SpeedSummary: Equatable, Sendable {
    /// Best time of one forward pass of a single image, in milliseconds.
    public var latencyMilliseconds: Double
    /// Images per second in batches of `SpeedSummary.throughputBatch`.
    public var imagesPerSecond: Double

    public init(latencyMilliseconds: Double, imagesPerSecond: Double) {
        self.latencyMilliseconds = latencyMilliseconds
        self.imagesPerSecond = imagesPerSecond
    }

    public static let throughputBatch = 256
}

/// What the saved checkpoint records besides its recipe (which travels with the pruned model).
public struct PruningFacts: Equatable, Sendable {
    /// Share of FLOPs (MACs) removed, 0…1.
    public var removedShare: Double
    /// Test metrics of the model being saved ("top1", "loss", "macs", …).
    public var metrics: [String: Double]
}

/// What the sensitivity job measures: the figures for one walk key that `table` lacks.
public struct SensitivityRequest: Equatable, Sendable {
    /// What is known so far; the job adds to it.
    public var table: SensitivityTable
    public var key: WalkKey
    /// Per group: its name and channels from lowest energy up (the criterion's order).
    public var layers: [SensitivityLayer]
    /// The walk's points still to measure: steps and the plan they make.
    public var walkPoints: [SensitivityWalkPoint]
}

public struct SensitivityLayer: Equatable, Sendable {
    public var group: Int
    public var name: String
    public var ascending: [Int]
}

public struct SensitivityWalkPoint: Equatable, Sendable {
    public var steps: Int
    public var removedShare: Double
    public var plan: PruningPlan
}

/// Long work the state machine asks for; the session supplies the models and data. Work on
/// a pruned model names it (`PrunedModel.id`).
public enum JobRequest: Equatable, Sendable {
    /// Train the default model and cache it.
    case trainDefault
    /// Build the physically smaller model of `plan`, chosen under `settings`, as model `model`.
    case prune(plan: PruningPlan, settings: SelectionSettings, removedShare: Double, model: Int)
    /// Test-set accuracy and measured speed of the dense model, a pruned one, or both.
    case evaluate(dense: Bool, pruned: Int?)
    /// Re-estimate a pruned model's BatchNorm statistics, then evaluate it.
    case reestimateBatchNorm(model: Int)
    /// One epoch of SGD on a pruned model, then evaluate it.
    case fineTune(model: Int)
    /// Write a pruned model next to the source checkpoint.
    case save(PruningFacts, model: Int)
    /// Measure what `SensitivityRequest` lacks, reporting the table as it fills.
    case sensitivity(SensitivityRequest)

    public var kind: JobKind {
        switch self {
        case .trainDefault: .train
        case .prune: .prune
        case .evaluate: .evaluate
        case .reestimateBatchNorm: .reestimate
        case .fineTune: .fineTune
        case .save: .save
        case .sensitivity: .sensitivity
        }
    }

    /// The pruned model the job works on or makes.
    public var model: Int? {
        switch self {
        case .prune(_, _, _, let model), .reestimateBatchNorm(let model), .fineTune(let model), .save(_, let model): model
        case .evaluate(_, let pruned): pruned
        case .trainDefault, .sensitivity: nil
        }
    }
}

/// Where a running job is.
public struct JobProgress: Equatable, Sendable {
    /// Share of the whole job done, 0…1.
    public var share: Double
    /// The part under way, e.g. "pruned model" or "epoch 1/2".
    public var phase: String
    /// Work units per second (`unit`), when meaningful.
    public var rate: Double?
    public var unit: String
    /// Seconds since the job started.
    public var elapsedSeconds: Double
    /// Running figures, e.g. "loss 0.512  acc 81.3%".
    public var detail: String
    /// Says what `share` is a share of, when `phase` names a part ("of all").
    public var scope: String?
    /// The sensitivity job's figures so far.
    public var sensitivity: SensitivityTable?

    public init(share: Double, phase: String, rate: Double? = nil, unit: String = "img",
                elapsedSeconds: Double, detail: String = "", scope: String? = nil, sensitivity: SensitivityTable? = nil) {
        self.share = share; self.phase = phase; self.rate = rate; self.unit = unit
        self.elapsedSeconds = elapsedSeconds; self.detail = detail; self.scope = scope; self.sensitivity = sensitivity
    }
}

/// What a finished job hands the state machine (model weights stay with the session).
public enum JobOutcome: Sendable {
    /// The default model is trained, cached and analysed.
    case trained(analysis: ModelAnalysis, model: ModelDescription, evaluation: EvaluationSummary)
    /// Pruned model `model` exists; its MACs (per image) and parameters.
    case pruned(model: Int, macs: Int, parameters: Int)
    case evaluated(dense: EvaluationSummary?, denseSpeed: SpeedSummary?,
                   pruned: EvaluationSummary?, prunedSpeed: SpeedSummary?, model: Int?)
    case reestimated(model: Int, EvaluationSummary)
    case fineTuned(model: Int, EvaluationSummary)
    case saved(model: Int, path: String)
    case sensitivity(SensitivityTable)
}

/// A message from a running job.
public enum JobEvent: Sendable {
    case progress(JobProgress)
    case finished(JobOutcome)
    case failed(String)
    case cancelled
}
