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
                context.report(share: 0.95 * p.share, phase: epochPhase(p), rate: p.imagesPerSecond,
                               detail: "loss \(Format.fixed(p.loss, decimals: 3))  acc \(Format.percent(p.accuracy, decimals: 1))  lr \(Format.significant(Double(p.learningRate)))",
                               scope: "of all")
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

    /// "epoch 1/2 at 94%": the epoch and how far into it, beside the bar's share of the whole job.
    static func epochPhase(_ p: TrainingProgress) -> String {
        "epoch \(p.epoch + 1)/\(p.epochs) at \(Format.percent(Double(p.batch) / Double(max(p.batches, 1))))"
    }

    // MARK: Pruning, evaluating, repairing

    /// Surgery (docs/design.md §4): a new, physically smaller model; the dense one is untouched.
    /// One round of the pruning schedule with the explorer's plan; the pruned model carries
    /// its recipe from here on.
    static func prune(dense: ModelSnapshot, plan: PruningPlan, settings: SelectionSettings, removedShare: Double, source: String,
                      id: Int, context: JobContext) throws -> JobResult {
        context.report(share: 0, phase: "surgery")
        let model = try dense.model()
        let schedule = PruningSchedule(target: PruningTarget(metric: .flops, share: removedShare), policy: settings.policy())
        let start = PruningSchedule.Plan(groups: ChannelGroups(graph: model.graph, includeCoupled: settings.coupled), firstRound: plan,
                                         compensates: settings.compensates)
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
        return JobResult(outcome: .pruned(model: id, macs: cost.macs, parameters: cost.parameters), pruned: ModelSnapshot(pruned, info: info))
    }

    /// Test-set figures and measured speed of the dense model, a pruned one (`id`), or both.
    /// Both models' speeds are measured in the same rounds, so the comparison holds when the
    /// machine's pace changes during the measurement.
    static func evaluate(dense: ModelSnapshot?, pruned: ModelSnapshot?, id: Int?, test: Dataset, context: JobContext) throws -> JobResult {
        let parts = [dense.map { ("dense", $0) }, pruned.map { ("pruned", $0) }].compactMap { $0 }
        let evaluationShare = 0.8
        var measured: [(name: String, evaluation: EvaluationSummary, model: Model, normalization: Normalization)] = []
        for (index, (name, snapshot)) in parts.enumerated() {
            let low = evaluationShare * Double(index) / Double(parts.count), high = evaluationShare * Double(index + 1) / Double(parts.count)
            let model = try snapshot.model()
            let evaluation = try evaluate(model, test, snapshot.info.normalization, context: context, shares: low...high, phase: name)
            measured.append((name, evaluation, model, snapshot.info.normalization))
        }
        context.report(share: evaluationShare, phase: "speed")
        try context.checkCancellation()
        let speeds = speed(of: measured.map { ($0.model, $0.normalization) }, test: test)
        var figures: [String: (EvaluationSummary, SpeedSummary)] = [:]
        for (part, speed) in zip(measured, speeds) { figures[part.name] = (part.evaluation, speed) }
        return JobResult(outcome: .evaluated(dense: figures["dense"]?.0, denseSpeed: figures["dense"]?.1,
                                             pruned: figures["pruned"]?.0, prunedSpeed: figures["pruned"]?.1, model: id))
    }

    /// New BatchNorm running statistics from training images (no gradient step), then the test set.
    static func reestimateBatchNorm(pruned: ModelSnapshot, id: Int, data: DataSplits, test: Dataset, context: JobContext) throws -> JobResult {
        let model = try pruned.model()
        let normalization = pruned.info.normalization
        do {
            try PruningSchedule.reestimateBatchNorm(model, train: data.train, normalization: normalization, examples: batchNormExamples) { share in
                context.report(share: 0.5 * share, phase: "\(min(batchNormExamples, data.train.count)) images")
            }
        } catch is PruningCancelled { throw JobCancelled() }
        let evaluation = try evaluate(model, test, normalization, context: context, shares: 0.5...1, phase: "test set")
        var info = pruned.info
        var recipe = try info.recipe(file: "the pruned model")
        recipe.batchNormReestimation = min(batchNormExamples, data.train.count)
        info.record(recipe)
        return JobResult(outcome: .reestimated(model: id, evaluation), pruned: ModelSnapshot(model, info: info))
    }

    /// One epoch of plain SGD (no sparsity regularizer), then the test set.
    static func fineTune(pruned: ModelSnapshot, id: Int, data: DataSplits, test: Dataset, context: JobContext) throws -> JobResult {
        let model = try pruned.model()
        let normalization = pruned.info.normalization
        do {
            try PruningSchedule.fineTune(model, train: data.train, normalization: normalization, settings: fineTuning,
                                         regularizer: RegularizerChoice(kind: .l2)) { p in
                context.report(share: 0.9 * p.share, phase: epochPhase(p), rate: p.imagesPerSecond,
                               detail: "loss \(Format.fixed(p.loss, decimals: 3))  acc \(Format.percent(p.accuracy, decimals: 1))",
                               scope: "of all")
            }
        } catch is PruningCancelled { throw JobCancelled() }
        let evaluation = try evaluate(model, test, normalization, context: context, shares: 0.9...1, phase: "test set")
        var info = pruned.info
        var recipe = try info.recipe(file: "the pruned model")
        let earlier = recipe.fineTuning?.epochs ?? 0
        recipe.fineTuning = Recipe.FineTuning(epochs: earlier + fineTuning.epochs, learningRate: Double(fineTuning.learningRate))
        info.record(recipe)
        return JobResult(outcome: .fineTuned(model: id, evaluation), pruned: ModelSnapshot(model, info: info))
    }

    // MARK: Choosing the ranking

    /// The calibration of `oicsr prune` (Pruning/Calibration.swift) at the explorer's target.
    static func calibrate(dense: ModelSnapshot, target: Double, settings: SelectionSettings, criteria: [ImportanceCriterion],
                          data: DataSplits, context: JobContext) throws -> JobResult {
        let model = try dense.model()
        let policy = settings.policy(alternatives: SelectionPolicy.rankings(criteria: criteria))
        let images = data.train.subset(last: Calibration.defaultExamples)
        let schedule = PruningSchedule(target: PruningTarget(metric: .flops, share: target), policy: policy)
        let plan: PruningSchedule.Plan
        do {
            plan = try schedule.plan(model, calibration: Calibration(images: images, normalization: dense.info.normalization) { done, of in
                context.report(share: Double(done) / Double(of), phase: "\(done)/\(of) measured")
                return !context.isCancelled
            })
        } catch is PruningCancelled { throw JobCancelled() }
        return JobResult(outcome: .calibrated(plan.chosen?.ranking ?? policy.ranking, compensates: plan.compensates, scores: plan.calibration,
                                              examples: plan.calibrationExamples, target: target))
    }

    // MARK: Saving

    /// Writes the pruned model beside `source` as `<name>-pruned-<pct>.safetensors`, never
    /// over an existing file, atomically.
    static func save(pruned: ModelSnapshot, id: Int, facts: PruningFacts, source: String, context: JobContext) throws -> JobResult {
        context.report(share: 0, phase: "checkpoint")
        let model = try pruned.model()
        let path = savePath(source: source, removedShare: facts.removedShare)
        var info = pruned.info
        info.metrics = facts.metrics
        try Checkpoint.save(model, info: info, to: path)
        context.report(share: 1, phase: "checkpoint")
        return JobResult(outcome: .saved(model: id, path: path))
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

    // MARK: Sensitivity

    /// Measures what `request` lacks (docs in Analysis/Sensitivity.swift): the dense model,
    /// the walk's points (as pruned, then after BatchNorm re-estimation), then each layer's
    /// line. Every figure is reported and cached beside `source` as soon as it is known, so
    /// a cancelled or paused analysis keeps what it measured.
    static func sensitivity(_ request: SensitivityRequest, dense: ModelSnapshot, data: DataSplits, source: String,
                            context: JobContext) throws -> JobResult {
        var table = request.table
        let model = try dense.model()
        let normalization = dense.info.normalization
        let test = data.test.subset(first: min(table.examples, data.test.count))
        let groups = ChannelGroups(graph: model.graph, includeCoupled: request.key.coupled)
        let widths = groups.groups.map(\.width)
        let shares = SensitivityTable.layerShares
        let layerWork = request.layers.reduce(0) { total, layer in
            total + shares.count - (table.layerCurve(criterion: request.key.criterion, group: layer.name)?.count ?? 0)
        }
        // Units of work: an evaluation is one, a BatchNorm re-estimation one.
        let total = Double(max(1, (table.denseTop1 == nil ? 1 : 0) + 3 * request.walkPoints.count + layerWork))
        var done = 0.0
        let start = Benchmark.now()
        var evaluated = 0
        func report(_ phase: String, within: Double = 0) -> Bool {
            let seconds = max(Benchmark.now() - start, 1e-9)
            return context.report(share: (done + within) / total, phase: phase, rate: Double(evaluated) / seconds,
                                  sensitivity: table)
        }
        func top1(_ model: Model, _ phase: String) throws -> Double {
            let evaluation = Evaluator.evaluate(model, dataset: test, normalization: normalization) { share in
                report(phase, within: share)
            }
            guard let evaluation else { throw JobCancelled() }
            evaluated += test.count
            done += 1
            return evaluation.top1
        }
        func keep() {
            try? table.save(checkpoint: source)
            _ = report("saved")
        }

        if table.denseTop1 == nil {
            table.denseTop1 = try top1(model, "dense model")
            keep()
        }
        let walkKey = SensitivityTable.walkKey(request.key)
        for point in request.walkPoints {
            let phase = "walk at \(Format.percent(point.removedShare)) FLOPs"
            let pruned = try Surgery.prune(model, groups: groups, plan: point.plan)
            let asPruned = try top1(pruned, phase)
            let repaired = pruned.reestimateBatchNormStatistics(dataset: data.train, normalization: normalization,
                                                                examples: table.batchNormExamples) { share in
                report(phase + ", BN", within: share)
            }
            guard repaired else { throw JobCancelled() }
            done += 1
            let afterBatchNorm = try top1(pruned, phase + ", BN")
            table.walks[walkKey, default: []].append(SensitivityTable.WalkPoint(
                removedShare: point.removedShare, steps: point.steps, asPruned: asPruned, afterBatchNorm: afterBatchNorm))
            keep()
        }
        for layer in request.layers {
            let key = SensitivityTable.layerKey(criterion: request.key.criterion, group: layer.name)
            var curve = table.layers[key] ?? []
            for index in curve.count..<shares.count {
                let count = SensitivityTable.removedChannels(width: layer.ascending.count, shareIndex: index)
                var removed = widths.map { _ in [Int]() }
                removed[layer.group] = layer.ascending.prefix(count).sorted()
                let pruned = try Surgery.prune(model, groups: groups, plan: PruningPlan(widths: widths, removed: removed))
                curve.append(try top1(pruned, "\(layer.name) -\(Format.percent(shares[index]))"))
                table.layers[key] = curve
                _ = report(layer.name)
            }
            keep()
        }
        return JobResult(outcome: .sensitivity(table))
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

    /// Batch-1 latency and batch throughput of each model on real test images, best of
    /// repeated runs, the models taking turns.
    static func speed(of models: [(Model, Normalization)], test: Dataset) -> [SpeedSummary] {
        let inputs = models.map { _, normalization in
            let loader = BatchLoader(dataset: test, batchSize: SpeedSummary.throughputBatch, shuffle: false,
                                     augmentation: .none, normalization: normalization, seed: 0)
            let batch = Tensor(shape: [0])
            var labels: [Int32] = []
            loader.loadBatch(0, into: batch, labels: &labels)
            let perImage = batch.count / max(batch.shape[0], 1)
            let single = Tensor(shape: [1] + Array(batch.shape.dropFirst()), values: Array(batch.values.prefix(perImage)))
            return (single: single, batch: batch)
        }
        let pairs = Array(zip(models.map(\.0), inputs))
        let latencies = Benchmark.best(seconds: 0.3 * Double(pairs.count), minimumRuns: 10,
                                       alternating: pairs.map { model, input in { _ = model.forward(input.single, training: false) } })
        let throughputs = Benchmark.best(seconds: 0.6 * Double(pairs.count), minimumRuns: 2,
                                         alternating: pairs.map { model, input in { _ = model.forward(input.batch, training: false) } })
        return zip(inputs, zip(latencies, throughputs)).map { input, times in
            SpeedSummary(latencyMilliseconds: times.0 * 1000, imagesPerSecond: Double(input.batch.shape[0]) / times.1)
        }
    }
}
