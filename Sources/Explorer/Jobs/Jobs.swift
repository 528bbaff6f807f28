import Canvas
import Engine
import Foundation
import Pruning

// The work behind each job, run on a job's thread. Every function takes values (snapshots,
// data sets, plans), builds the model objects it needs, reports progress through the
// context (which is also how it learns of a cancel) and returns values.

enum Jobs {
    /// Examples of the training set used to re-estimate BatchNorm statistics.
    static let batchNormExamples = 2000
    /// Fine-tuning: one epoch at lr 0.01, cosine, without the sparsity regularizer.
    static let fineTuning = FineTuningSettings(epochs: 1, learningRate: 0.01)

    // MARK: Training the default model

    static func trainDefault(data: DataSplits, path: String, context: JobContext) throws -> JobResult {
        let train = data.train
        let architecture = DefaultModel.architecture.architecture(input: [train.channels, train.height, train.width],
                                                                  classes: train.classes)
        let configuration = DefaultModel.configuration
        let model = try Model(architecture: architecture, seed: configuration.seed)
        let trainer = DefaultModel.regularizer.trainer(for: model, configuration: configuration)
        let normalization = Normalization.fit(train)
        // Training is nearly all of the time; the evaluation after it gets the last 5%.
        let finished = trainer.fit(
            train: train, normalization: normalization, augmentation: Augmentation.standard(for: train),
            progress: { p in
                context.report(share: 0.95 * p.share, phase: "epoch \(p.epoch + 1)/\(p.epochs)", rate: p.imagesPerSecond,
                               detail: "loss \(Format.fixed(p.loss, decimals: 3))  acc \(Format.percent(p.accuracy, decimals: 1))  lr \(Format.significant(Double(p.learningRate)))")
            },
            epochFinished: { _ in })
        guard finished else { throw JobCancelled() }
        let evaluation = try evaluate(model, data.test, normalization, context: context, shares: 0.95...1, phase: "test set")

        var info = CheckpointInfo(architecture: architecture, normalization: normalization, dataset: train.name,
                                  classNames: train.classNames, metrics: ["top1": evaluation.top1, "loss": evaluation.loss])
        let recipe = Recipe(regularizer: Recipe.Regularization(DefaultModel.regularizer),
                            training: Recipe.Training(configuration, trainExamples: train.count, epochsCompleted: configuration.epochs))
        info.record(recipe)
        try context.checkCancellation()
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Checkpoint.save(model, info: info, to: path)
        let description = ModelDescription(name: architecture.name, path: path, dataset: train.name,
                                           regularizer: recipe.regularizer, trainExamples: train.count, testExamples: data.test.count)
        return JobResult(outcome: .trained(analysis: try ModelAnalysis(model: model), model: description, evaluation: evaluation),
                         dense: ModelSnapshot(model, info: info))
    }

    // MARK: Pruning, evaluating, repairing

    /// Surgery (docs/design.md §4): a new, physically smaller model; the dense one is untouched.
    /// One round of the pruning schedule with the explorer's plan; the pruned model carries
    /// its recipe from here on.
    static func prune(dense: ModelSnapshot, plan: PruningPlan, settings: SelectionSettings, removedShare: Double, source: String,
                      context: JobContext) throws -> JobResult {
        context.report(share: 0, phase: "surgery")
        let model = try dense.model()
        let schedule = PruningSchedule(target: PruningTarget(metric: .flops, share: removedShare),
                                       policy: SelectionPolicy(criterion: settings.criterion, normalization: settings.normalization,
                                                               includeCoupled: settings.coupled))
        let start = PruningSchedule.Plan(groups: ChannelGroups(graph: model.graph, includeCoupled: settings.coupled), firstRound: plan)
        let result = try schedule.run(model, plan: start, train: nil, normalization: dense.info.normalization, events: .init())
        let pruned = result.model
        let cost = pruned.graph.cost
        var info = dense.info
        info.architecture = pruned.architecture
        info.metrics = [:]
        var recipe = try dense.info.recipe(file: source)
        recipe.pruning = schedule.record(result, plan: start, source: source)
        info.record(recipe)
        context.report(share: 1, phase: "surgery")
        return JobResult(outcome: .pruned(macs: cost.macs, parameters: cost.parameters), pruned: ModelSnapshot(pruned, info: info))
    }

    /// Test-set figures and measured speed of the dense model, the pruned one, or both.
    static func evaluate(dense: ModelSnapshot?, pruned: ModelSnapshot?, test: Dataset, context: JobContext) throws -> JobResult {
        let parts = [dense.map { ("dense", $0) }, pruned.map { ("pruned", $0) }].compactMap { $0 }
        var figures: [String: (EvaluationSummary, SpeedSummary)] = [:]
        for (index, (name, snapshot)) in parts.enumerated() {
            let low = Double(index) / Double(parts.count), high = Double(index + 1) / Double(parts.count)
            let model = try snapshot.model()
            let middle = low + 0.8 * (high - low)
            let evaluation = try evaluate(model, test, snapshot.info.normalization, context: context, shares: low...middle, phase: name)
            context.report(share: middle, phase: "\(name) speed")
            try context.checkCancellation()
            figures[name] = (evaluation, speed(of: model, test: test, normalization: snapshot.info.normalization))
        }
        return JobResult(outcome: .evaluated(dense: figures["dense"]?.0, denseSpeed: figures["dense"]?.1,
                                             pruned: figures["pruned"]?.0, prunedSpeed: figures["pruned"]?.1))
    }

    /// New BatchNorm running statistics from training images (no gradient step), then the test set.
    static func reestimateBatchNorm(pruned: ModelSnapshot, data: DataSplits, context: JobContext) throws -> JobResult {
        let model = try pruned.model()
        let normalization = pruned.info.normalization
        do {
            try PruningSchedule.reestimateBatchNorm(model, train: data.train, normalization: normalization, examples: batchNormExamples) { share in
                context.report(share: 0.5 * share, phase: "\(min(batchNormExamples, data.train.count)) images")
            }
        } catch is PruningCancelled { throw JobCancelled() }
        let evaluation = try evaluate(model, data.test, normalization, context: context, shares: 0.5...1, phase: "test set")
        var info = pruned.info
        var recipe = try info.recipe(file: "the pruned model")
        recipe.batchNormReestimation = min(batchNormExamples, data.train.count)
        info.record(recipe)
        return JobResult(outcome: .reestimated(evaluation), pruned: ModelSnapshot(model, info: info))
    }

    /// One epoch of plain SGD (no sparsity regularizer), then the test set.
    static func fineTune(pruned: ModelSnapshot, data: DataSplits, context: JobContext) throws -> JobResult {
        let model = try pruned.model()
        let normalization = pruned.info.normalization
        do {
            try PruningSchedule.fineTune(model, train: data.train, normalization: normalization, settings: fineTuning,
                                         regularizer: RegularizerChoice(kind: .l2)) { p in
                context.report(share: 0.9 * p.share, phase: "epoch \(p.epoch + 1)/\(p.epochs)", rate: p.imagesPerSecond,
                               detail: "loss \(Format.fixed(p.loss, decimals: 3))  acc \(Format.percent(p.accuracy, decimals: 1))")
            }
        } catch is PruningCancelled { throw JobCancelled() }
        let evaluation = try evaluate(model, data.test, normalization, context: context, shares: 0.9...1, phase: "test set")
        var info = pruned.info
        var recipe = try info.recipe(file: "the pruned model")
        let earlier = recipe.fineTuning?.epochs ?? 0
        recipe.fineTuning = Recipe.FineTuning(epochs: earlier + fineTuning.epochs, learningRate: Double(fineTuning.learningRate))
        info.record(recipe)
        return JobResult(outcome: .fineTuned(evaluation), pruned: ModelSnapshot(model, info: info))
    }

    // MARK: Saving

    /// Writes the pruned model beside `source` as `<name>-pruned-<pct>.safetensors`, never
    /// over an existing file, atomically.
    static func save(pruned: ModelSnapshot, facts: PruningFacts, source: String, context: JobContext) throws -> JobResult {
        context.report(share: 0, phase: "checkpoint")
        let model = try pruned.model()
        let path = savePath(source: source, removedShare: facts.removedShare)
        var info = pruned.info
        info.metrics = facts.metrics
        try Checkpoint.save(model, info: info, to: path)
        context.report(share: 1, phase: "checkpoint")
        return JobResult(outcome: .saved(path: path))
    }

    /// `<folder>/<stem>-pruned-<pct>.safetensors`, or with "-2", "-3", … when taken.
    static func savePath(source: String, removedShare: Double) -> String {
        let url = URL(fileURLWithPath: source)
        let folder = url.deletingLastPathComponent().path
        let stem = url.deletingPathExtension().lastPathComponent + "-pruned-\(Int((removedShare * 100).rounded()))"
        var candidate = folder + "/" + stem + ".safetensors"
        var counter = 2
        while FileManager.default.fileExists(atPath: candidate) {
            candidate = folder + "/" + stem + "-\(counter).safetensors"
            counter += 1
        }
        return candidate
    }

    // MARK: Pieces

    /// Evaluates with progress mapped into `shares` of the job.
    private static func evaluate(_ model: Model, _ test: Dataset, _ normalization: Normalization, context: JobContext,
                                 shares: ClosedRange<Double>, phase: String) throws -> EvaluationSummary {
        let start = Benchmark.now()
        let evaluation = Evaluator.evaluate(model, dataset: test, normalization: normalization) { share in
            let seconds = max(Benchmark.now() - start, 1e-9)
            return context.report(share: shares.lowerBound + share * (shares.upperBound - shares.lowerBound), phase: phase,
                                  rate: share * Double(test.count) / seconds)
        }
        guard let evaluation else { throw JobCancelled() }
        return EvaluationSummary(evaluation)
    }

    /// Batch-1 latency and batch throughput on real test images, best of repeated runs.
    static func speed(of model: Model, test: Dataset, normalization: Normalization) -> SpeedSummary {
        let loader = BatchLoader(dataset: test, batchSize: SpeedSummary.throughputBatch, shuffle: false,
                                 augmentation: .none, normalization: normalization, seed: 0)
        let batch = Tensor(shape: [0])
        var labels: [Int32] = []
        loader.loadBatch(0, into: batch, labels: &labels)
        let perImage = batch.count / max(batch.shape[0], 1)
        let single = Tensor(shape: [1] + Array(batch.shape.dropFirst()), values: Array(batch.values.prefix(perImage)))
        let latency = Benchmark.best(seconds: 0.3, minimumRuns: 10) { model.forward(single, training: false) }
        let throughput = Benchmark.best(seconds: 0.6, minimumRuns: 2) { model.forward(batch, training: false) }
        return SpeedSummary(latencyMilliseconds: latency * 1000, imagesPerSecond: Double(batch.shape[0]) / throughput)
    }
}
