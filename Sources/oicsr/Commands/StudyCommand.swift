import Engine
import Canvas
import Foundation
import Pruning

/// The paper's claim measured on our data (docs/design.md §5): train convnet-s with each regularizer,
/// prune one-shot to 10…70% of MACs removed, and compare test accuracy before any
/// fine-tuning, for every energy normalisation; then one epoch of fine-tuning at 50%.
/// λ and the default normalisation are chosen on a validation split held out of the
/// training set, never on the test set.
enum StudyCommand {
    struct Options {
        static let out = Option.text("out", placeholder: "DIR", default: "docs", help: "folder for the results")
        static let epochs = Option.count("epochs", default: 2, help: "training epochs per model")
        static let validation = Option.count("validation", default: nil,
                                             help: "training examples held out to choose λ and the normalisation (default 10000, at most a sixth)")
        static let quick = Flag(name: "quick", help: "one λ per regularizer and two targets: a smoke run")
        static let render = Option.text("render", placeholder: "JSON", help: "only write the page and the plot again from a results file")
        static let spec = CommandSpec(
            name: "study", summary: "Reproduce the OICSR comparison on convnet-s and write docs/oicsr-study.{md,json,svg}.",
            usage: "study [--out DIR] [--epochs N]",
            options: [out.declaration, epochs.declaration] + DataOptions.declarations
                + [validation.declaration, quick.declaration, render.declaration],
            details: "Takes about an hour on two cores with the defaults.")

        let outFolder: String
        let epochs: Int
        let data: DataOptions
        let validation: Int?
        let quick: Bool
        let render: String?

        init(_ arguments: ParsedArguments) throws(UsageError) {
            outFolder = try arguments.value(Self.out)
            epochs = try arguments.value(Self.epochs)
            data = try DataOptions(arguments)
            validation = try arguments.valueIfAny(Self.validation)
            quick = arguments.flag(Self.quick)
            render = try arguments.valueIfAny(Self.render)
        }
    }

    static let spec = Options.spec

    /// λ candidates. With BatchNorm after every conv, a layer's filters can shrink without
    /// changing what the network computes, so channels die only when λ·Σlr (the total
    /// proximal shrinkage, about 23λ for the 2-epoch cosine schedule) is of the order of a
    /// group's norm: λ of 1e-3…1e-2 shrank every group alike and zeroed none.
    static let sweep: [RegularizerKind: [Double]] = [.gl: [3e-2, 6e-2, 1e-1], .oicsrGL: [3e-2, 6e-2, 1e-1], .l1BN: [3e-2, 6e-2, 1e-1]]
    static let targets = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
    static let order: [RegularizerKind] = [.l2, .gl, .l1BN, .oicsrGL]
    static let recalibrationImages = 2000

    struct SweepRun: Codable {
        var regularizer: String
        var lambda: Double
        var validationDenseTop1: Double
        /// Validation top-1 at 50% of MACs removed, as pruned, per normalisation.
        var validationPrunedTop1: [String: Double]
        var seconds: Double
    }

    struct Point: Codable {
        var regularizer: String
        var normalization: String
        var target: Double
        var macsRemoved: Double
        var prunedTop1: Double
        var recalibratedTop1: Double
    }

    struct FineTune: Codable {
        var regularizer: String
        var normalization: String
        var prunedTop1: Double
        var finetunedTop1: Double
        var seconds: Double
    }

    struct Report: Codable {
        var dataset: String
        var epochs: Int
        var trainExamples: Int
        var validationExamples: Int
        var testExamples: Int
        var sweep: [SweepRun]
        var lambda: [String: Double]
        var denseTop1: [String: Double]
        var defaultNormalization: String
        var points: [Point]
        var finetune: [FineTune]
        var seconds: Double
    }

    static func run(_ arguments: ParsedArguments) throws {
        let options = try Options(arguments)
        let started = Date()
        let outFolder = options.outFolder
        if let results = options.render {
            guard let data = FileManager.default.contents(atPath: results),
                  let report = try? JSONDecoder().decode(Report.self, from: data) else {
                throw UsageError(argument: "--render", problem: "\(results) is not a results file written by 'oicsr study'")
            }
            try write(report, to: outFolder, json: false)
            return
        }
        let epochs = options.epochs
        let quick = options.quick
        let data = try options.data.load()
        let architecture = BuiltInModel.convnetS.architecture(input: [data.train.channels, data.train.height, data.train.width],
                                                               classes: data.train.classes)
        let validationCount = options.validation ?? min(10_000, data.train.count / 6)
        guard validationCount < data.train.count else {
            throw UsageError(argument: "--validation", problem: "\(validationCount) is not less than the \(data.train.count) training examples")
        }
        let (train, validation) = split(data.train, holdingOut: validationCount)
        let normalization = Normalization.fit(train)
        let targets = quick ? [0.3, 0.5] : Self.targets
        Interruption.install()
        let log = StudyLog()

        // 1. λ by validation accuracy at 50% of MACs removed, before any repair.
        var models: [RegularizerKind: Model] = [:]
        var sweepRuns: [SweepRun] = []
        var lambda: [RegularizerKind: Double] = [.l2: 0]
        for kind in order {
            let grid = kind == .l2 ? [0.0] : (quick ? [sweep[kind]![1]] : sweep[kind]!)
            var best: (score: Double, model: Model)?
            for value in grid {
                let t0 = Date()
                let model = try trainModel(architecture, kind: kind, lambda: value, epochs: epochs, train: train,
                                           normalization: normalization, log: log)
                let dense = try log.evaluate(model, validation, normalization, "validation, dense")
                var pruned: [String: Double] = [:]
                for normalizationKind in EnergyNormalization.allCases {
                    let candidate = try prune(model, kind: kind, normalization: normalizationKind, target: 0.5)
                    pruned[normalizationKind.rawValue] = try log.evaluate(candidate.model, validation, normalization, "validation, 50% pruned").top1
                }
                let run = SweepRun(regularizer: kind.rawValue, lambda: value, validationDenseTop1: dense.top1,
                                   validationPrunedTop1: pruned, seconds: Date().timeIntervalSince(t0))
                sweepRuns.append(run)
                log.line(String(format: "%@ λ=%g: validation dense %.2f%%, 50%% pruned best %.2f%%", kind.rawValue, value,
                                dense.top1 * 100, pruned.values.max()! * 100))
                let score = pruned.values.max()!
                if best == nil || score > best!.score {
                    best = (score, model)
                    lambda[kind] = value
                }
            }
            models[kind] = best!.model
        }

        // 2. The default normalisation, from the validation split.
        let defaultNormalization = chooseNormalization(sweepRuns, lambda: lambda)

        // 3. One-shot pruning on the test set, as pruned and after BN re-estimation.
        var denseTop1: [String: Double] = [:]
        var points: [Point] = []
        for kind in order {
            let model = models[kind]!
            denseTop1[kind.rawValue] = try log.evaluate(model, data.test, normalization, "\(kind.rawValue) dense").top1
            for normalizationKind in EnergyNormalization.allCases {
                for target in targets {
                    let candidate = try prune(model, kind: kind, normalization: normalizationKind, target: target)
                    let pruned = try log.evaluate(candidate.model, data.test, normalization, "\(kind.rawValue) \(normalizationKind.rawValue) \(Int(target * 100))%").top1
                    candidate.model.reestimateBatchNormStatistics(dataset: train, normalization: normalization, examples: recalibrationImages)
                    let recalibrated = try log.evaluate(candidate.model, data.test, normalization, "  after BN re-estimation").top1
                    points.append(Point(regularizer: kind.rawValue, normalization: normalizationKind.rawValue, target: target,
                                        macsRemoved: candidate.removedShare, prunedTop1: pruned, recalibratedTop1: recalibrated))
                }
            }
        }

        // 4. One epoch of fine-tuning at 50%, lr 0.01, without the regularizer.
        var finetunes: [FineTune] = []
        for kind in order {
            let t0 = Date()
            let candidate = try prune(models[kind]!, kind: kind, normalization: defaultNormalization, target: 0.5)
            let before = try log.evaluate(candidate.model, data.test, normalization, "\(kind.rawValue) as pruned").top1
            do {
                try PruningSchedule.fineTune(candidate.model, train: train, normalization: normalization,
                                             settings: FineTuningSettings(epochs: 1, learningRate: 0.01), regularizer: RegularizerChoice(kind: .l2),
                                             progress: { log.progress("\(kind.rawValue) fine-tuning", $0) })
            } catch is PruningCancelled {
                throw Interrupted()
            }
            let after = try log.evaluate(candidate.model, data.test, normalization, "\(kind.rawValue) fine-tuned").top1
            finetunes.append(FineTune(regularizer: kind.rawValue, normalization: defaultNormalization.rawValue, prunedTop1: before,
                                      finetunedTop1: after, seconds: Date().timeIntervalSince(t0)))
            log.line(String(format: "%@ at 50%%: %.2f%% as pruned, %.2f%% after one epoch", kind.rawValue, before * 100, after * 100))
        }

        let report = Report(
            dataset: data.train.name, epochs: epochs, trainExamples: train.count, validationExamples: validation.count,
            testExamples: data.test.count, sweep: sweepRuns, lambda: Dictionary(uniqueKeysWithValues: lambda.map { ($0.key.rawValue, $0.value) }),
            denseTop1: denseTop1, defaultNormalization: defaultNormalization.rawValue, points: points, finetune: finetunes,
            seconds: Date().timeIntervalSince(started))
        try write(report, to: outFolder, json: true)
        print("wrote \(outFolder)/oicsr-study.md, .json and .svg in \(Format.duration(seconds: report.seconds))")
    }

    static func write(_ report: Report, to folder: String, json: Bool) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try AtomicFile.write(try encoder.encode(report), to: folder + "/oicsr-study.json")
        }
        try AtomicFile.write(Data(StudyReport.plot(report).svg().utf8), to: folder + "/oicsr-study.svg")
        try AtomicFile.write(Data(StudyReport.markdown(report).utf8), to: folder + "/oicsr-study.md")
    }

    /// The normalisation that kept the most validation accuracy for OICSR-GL at 50% of MACs
    /// removed; ties (a strongly regularized model loses nothing under any of them) go to
    /// the best mean over the other regularizers at their chosen λ, then to the order of
    /// `EnergyNormalization.allCases`.
    static func chooseNormalization(_ runs: [SweepRun], lambda: [RegularizerKind: Double]) -> EnergyNormalization {
        let chosen = runs.filter { RegularizerKind(rawValue: $0.regularizer).map { lambda[$0] } == $0.lambda }
        func score(_ n: EnergyNormalization) -> (Double, Double) {
            let oicsr = chosen.first { $0.regularizer == RegularizerKind.oicsrGL.rawValue }?.validationPrunedTop1[n.rawValue] ?? 0
            let others = chosen.filter { $0.regularizer != RegularizerKind.oicsrGL.rawValue }.compactMap { $0.validationPrunedTop1[n.rawValue] }
            return (oicsr, others.reduce(0, +) / Double(max(others.count, 1)))
        }
        return EnergyNormalization.allCases.reduce(EnergyNormalization.allCases[0]) { best, n in score(n) > score(best) ? n : best }
    }

    /// The training split minus its last `count` examples, and those examples.
    static func split(_ data: Dataset, holdingOut count: Int) -> (Dataset, Dataset) {
        let keep = data.count - count, pixels = data.pixelsPerImage
        func part(_ range: Range<Int>) -> Dataset {
            Dataset(name: data.name, channels: data.channels, height: data.height, width: data.width, classes: data.classes,
                    classNames: data.classNames, images: Array(data.images[(range.lowerBound * pixels)..<(range.upperBound * pixels)]),
                    labels: Array(data.labels[range]))
        }
        return (part(0..<keep), part(keep..<data.count))
    }

    static func trainModel(_ architecture: Architecture, kind: RegularizerKind, lambda: Double, epochs: Int, train: Dataset,
                           normalization: Normalization, log: StudyLog) throws -> Model {
        let model = try Model(architecture: architecture, seed: 1)
        var configuration = TrainingConfiguration()
        configuration.epochs = epochs
        let trainer = RegularizerChoice(kind: kind, lambda: kind == .l2 ? nil : lambda).trainer(for: model, configuration: configuration)
        let label = kind == .l2 ? "training l2" : String(format: "training %@ λ=%g", kind.rawValue, lambda)
        guard trainer.fit(train: train, normalization: normalization, augmentation: .none,
                          progress: { log.progress(label, $0) }, epochFinished: { _ in }) else { throw Interrupted() }
        return model
    }

    /// One-shot pruning of `model` to `target` of MACs removed, ranked with the criterion
    /// that matches how it was trained.
    static func prune(_ model: Model, kind: RegularizerKind, normalization: EnergyNormalization, target: Double) throws -> (model: Model, removedShare: Double) {
        let schedule = PruningSchedule(target: PruningTarget(metric: .flops, share: target),
                                       policy: SelectionPolicy(criterion: .matching(kind), normalization: normalization))
        let plan = try schedule.plan(model)
        let result = try schedule.run(model, plan: plan, train: nil, normalization: .identity(channels: model.architecture.input[0]),
                                      events: PruningSchedule.Events())
        return (result.model, result.removedShare(.flops))
    }
}

/// Progress of the long study on stderr.
final class StudyLog {
    private let bar = ProgressLine()

    func line(_ text: String) {
        bar.finish(text)
    }

    func progress(_ label: String, _ p: TrainingProgress) -> Bool {
        bar.update(label: label, share: p.share, detail: String(format: "loss %.3f acc %.1f%% %.0f img/s", p.loss, p.accuracy * 100, p.imagesPerSecond))
        if p.share >= 1 { bar.finish(String(format: "%@: train loss %.3f, accuracy %.2f%%", label, p.loss, p.accuracy * 100)) }
        return !Interruption.isRequested
    }

    func evaluate(_ model: Model, _ data: Dataset, _ normalization: Normalization, _ label: String) throws -> Evaluation {
        guard let result = Evaluator.evaluate(model, dataset: data, normalization: normalization, progress: { _ in !Interruption.isRequested }) else {
            throw Interrupted()
        }
        return result
    }
}
