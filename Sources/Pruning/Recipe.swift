import Engine

// How a model came to be, as its checkpoint records it: the regularizer it was trained with,
// the training run, the pruning and the repairs after it. One typed value, written to and
// read from the metadata here and nowhere else (docs/architecture-json.md §4).

/// The recipe of a checkpoint.
public struct Recipe: Codable, Equatable, Sendable {
    public var regularizer: Regularization
    public var training: Training?
    public var pruning: PruningRun?
    public var fineTuning: FineTuning?
    /// Training images whose batches re-estimated the BatchNorm statistics after pruning.
    public var batchNormReestimation: Int?

    public init(regularizer: Regularization = Regularization(), training: Training? = nil, pruning: PruningRun? = nil,
                fineTuning: FineTuning? = nil, batchNormReestimation: Int? = nil) {
        self.regularizer = regularizer; self.training = training; self.pruning = pruning
        self.fineTuning = fineTuning; self.batchNormReestimation = batchNormReestimation
    }

    /// The sparsity regularizer of training.
    public struct Regularization: Codable, Equatable, Sendable {
        public var kind: RegularizerKind
        public var lambda: Double
        public var step: RegularizerStep
        /// The residual channels coupled across a stage were regularized too.
        public var coupled: Bool

        public init(kind: RegularizerKind = .l2, lambda: Double = 0, step: RegularizerStep = .proximal, coupled: Bool = false) {
            self.kind = kind; self.lambda = lambda; self.step = step; self.coupled = coupled
        }

        public init(_ choice: RegularizerChoice) {
            self.init(kind: choice.kind, lambda: choice.options.lambda, step: choice.options.step, coupled: choice.includeCoupled)
        }

        /// The choice that trains (or fine-tunes) this way again.
        public var choice: RegularizerChoice {
            var choice = RegularizerChoice(kind: kind, lambda: kind == .l2 ? nil : lambda, includeCoupled: coupled)
            choice.options.step = step
            return choice
        }
    }

    /// The training run.
    public struct Training: Codable, Equatable, Sendable {
        public var epochs: Int
        public var batchSize: Int
        public var learningRate: Double
        /// "cosine", "step" or "constant".
        public var schedule: String
        public var momentum: Double
        public var weightDecay: Double
        public var seed: UInt64
        public var trainExamples: Int
        /// Epochs finished when the checkpoint was written (less than `epochs` mid-run).
        public var epochsCompleted: Int?
        /// Written into the checkpoint and its `.state` file at every save, so a resume can
        /// tell that the two belong together.
        public var resumeToken: String?

        public init(_ configuration: TrainingConfiguration, trainExamples: Int, epochsCompleted: Int? = nil) {
            epochs = configuration.epochs
            batchSize = configuration.batchSize
            learningRate = Double(configuration.learningRate)
            schedule = configuration.schedule.name
            momentum = Double(configuration.momentum)
            weightDecay = Double(configuration.weightDecay)
            seed = configuration.seed
            self.trainExamples = trainExamples
            self.epochsCompleted = epochsCompleted
        }

        enum CodingKeys: String, CodingKey {
            case epochs, batchSize = "batch_size", learningRate = "lr", schedule, momentum, weightDecay = "weight_decay", seed
            case trainExamples = "train_examples", epochsCompleted = "epochs_completed", resumeToken = "resume_token"
        }
    }

    /// The pruning that made this model from its source.
    public struct PruningRun: Codable, Equatable, Sendable {
        /// The checkpoint it was pruned from.
        public var source: String
        public var metric: TargetMetric
        /// The share of `metric` asked to be removed, and the share removed.
        public var target: Double
        public var removedShare: Double
        public var criterion: ImportanceCriterion
        public var normalization: EnergyNormalization
        public var coupled: Bool
        /// Prune and fine-tune rounds.
        public var rounds: Int
        /// Kept widths were rounded up to a multiple of this (nil: not rounded).
        public var widthMultiple: Int?
        /// Kept channels of the source, by group name, ascending.
        public var kept: [String: [Int]]
        /// How the criterion and normalisation were chosen on calibration images (nil: given or fixed).
        public var calibration: Calibration?
        /// Surgery folded the removed channels' expected values into their readers (nil: no).
        public var compensated: Bool?

        public init(source: String, metric: TargetMetric, target: Double, removedShare: Double, criterion: ImportanceCriterion,
                    normalization: EnergyNormalization, coupled: Bool, rounds: Int, widthMultiple: Int? = nil, kept: [String: [Int]],
                    calibration: Calibration? = nil, compensated: Bool? = nil) {
            self.source = source; self.metric = metric; self.target = target; self.removedShare = removedShare
            self.criterion = criterion; self.normalization = normalization; self.coupled = coupled
            self.rounds = rounds; self.widthMultiple = widthMultiple; self.kept = kept; self.calibration = calibration
            self.compensated = compensated
        }

        /// The ranking was the best of `candidates` on the last `examples` training images.
        public struct Calibration: Codable, Equatable, Sendable {
            public var examples: Int
            public var candidates: Int

            public init(examples: Int, candidates: Int) { self.examples = examples; self.candidates = candidates }
        }

        enum CodingKeys: String, CodingKey {
            case source, metric, target, removedShare = "removed_share", criterion, normalization, coupled, rounds
            case widthMultiple = "round_to", kept, calibration, compensated
        }
    }

    /// Fine-tuning after pruning (all rounds together).
    public struct FineTuning: Codable, Equatable, Sendable {
        public var epochs: Int
        public var learningRate: Double

        public init(epochs: Int, learningRate: Double) {
            self.epochs = epochs
            self.learningRate = learningRate
        }

        enum CodingKeys: String, CodingKey { case epochs, learningRate = "lr" }
    }

    enum CodingKeys: String, CodingKey {
        case regularizer, training, pruning, fineTuning = "fine_tuning", batchNormReestimation = "batchnorm_reestimation"
    }
}

extension Recipe {
    /// The metadata key of the recipe's JSON.
    public static let metadataKey = "oicsr.recipe"

    /// The recipe in a checkpoint's metadata. Checkpoints written before the recipe existed
    /// kept it in `oicsr.regularizer`, `oicsr.lambda` and a string dictionary
    /// `oicsr.training`; those still load (what they did not record stays nil).
    public init(metadata: [String: String], file: String) throws(CheckpointError) {
        if let text = metadata[Self.metadataKey] {
            guard let recipe = MetadataJSON.decode(Recipe.self, from: text) else {
                throw CheckpointError(file: file, problem: "metadata '\(Self.metadataKey)' is not a valid recipe")
            }
            self = recipe
            return
        }
        let facts = metadata["oicsr.training"].flatMap { MetadataJSON.decode([String: String].self, from: $0) } ?? [:]
        var regularizer = Regularization()
        if let name = metadata["oicsr.regularizer"] {
            guard let kind = RegularizerKind(rawValue: name) else {
                throw CheckpointError(file: file, problem: "metadata 'oicsr.regularizer' names no regularizer: '\(name)'")
            }
            regularizer.kind = kind
        }
        regularizer.lambda = metadata["oicsr.lambda"].flatMap(Double.init) ?? 0
        regularizer.step = facts["regularizer_step"].flatMap(RegularizerStep.init) ?? .proximal
        regularizer.coupled = facts["coupled"] == "true"
        self.init(regularizer: regularizer)
        if let epochs = facts["epochs"].flatMap(Int.init) {
            var configuration = TrainingConfiguration()
            configuration.epochs = epochs
            if let v = facts["batch_size"].flatMap(Int.init) { configuration.batchSize = v }
            if let v = facts["lr"].flatMap(Float.init) { configuration.learningRate = v }
            if let v = facts["momentum"].flatMap(Float.init) { configuration.momentum = v }
            if let v = facts["weight_decay"].flatMap(Float.init) { configuration.weightDecay = v }
            if let v = facts["seed"].flatMap(UInt64.init) { configuration.seed = v }
            var record = Training(configuration, trainExamples: facts["train_examples"].flatMap(Int.init) ?? 0)
            if let schedule = facts["schedule"] { record.schedule = schedule }
            training = record
        }
        let fineTuneEpochs = facts["fine_tune_epochs"] ?? facts["fine_tuned_epochs"]
        if let epochs = fineTuneEpochs.flatMap(Int.init) {
            fineTuning = FineTuning(epochs: epochs, learningRate: facts["fine_tune_lr"].flatMap(Double.init) ?? 0.01)
        }
    }

    /// The metadata entries that record this recipe.
    public var metadata: [String: String] { [Self.metadataKey: MetadataJSON.encode(self)] }
}

extension CheckpointInfo {
    /// The checkpoint's recipe; a malformed one is an error naming the checkpoint.
    public func recipe(file: String) throws(CheckpointError) -> Recipe {
        try Recipe(metadata: recipeMetadata, file: file)
    }

    /// Records `recipe`, replacing whatever recipe the metadata held.
    public mutating func record(_ recipe: Recipe) {
        recipeMetadata = recipe.metadata
    }
}
