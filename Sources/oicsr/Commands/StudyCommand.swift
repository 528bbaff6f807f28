import Engine
import Canvas
import Foundation
import Pruning

/// The paper's claim measured on our data (docs/design.md §5), with the group and the
/// optimiser told apart: each architecture is trained with L2, GL and OICSR-GL each by the
/// subgradient (the paper) and by the proximal step, and L1-BN; λ is swept until the best
/// value has a neighbour on both sides; every model, early and late in training, is pruned
/// one-shot by every selection on a validation split held out of the training set, which
/// chooses λ and the default selection; the test set then measures the default selection at
/// 10…70% of MACs removed, and one epoch of fine-tuning at 50%.
enum StudyCommand {
    struct Options {
        static let out = Option.text("out", placeholder: "DIR", default: "docs", help: "folder for the pages and results")
        static let models = Option.text("models", placeholder: "NAMES", default: "convnet-s,resnet20",
                                        help: "built-in architectures to study, comma-separated")
        static let epochs = Option.count("epochs", default: 2, minimum: 2, help: "training epochs per model (the early checkpoint is the first)")
        static let trainLimit = Option.count("train-limit", default: nil,
                                             help: "use only the first N training images, validation included (the test set stays whole)")
        static let validation = Option.count("validation", default: nil,
                                             help: "training images held out to choose λ and the default selection (default 10000, at most a sixth)")
        static let cache = Option.text("cache", placeholder: "DIR", default: "study-models",
                                       help: "folder for the trained checkpoints; a later run reuses them")
        static let quick = Flag(name: "quick", help: "one λ per regularizer and two targets: a smoke run")
        static let render = Option.text("render", placeholder: "JSON", help: "only write the pages and plots again from a results file")
        static let spec = CommandSpec(
            name: "study", summary: "Reproduce the OICSR comparison and choose the default selection; writes docs/oicsr-study.md and docs/selection.md.",
            usage: "study [--models NAMES] [--epochs N] [--train-limit N] [--out DIR]",
            options: [out.declaration, models.declaration, epochs.declaration] + DataOptions.declarations + [trainLimit.declaration,
                      validation.declaration, cache.declaration, quick.declaration, render.declaration],
            details: "Checkpoints go to --cache, named by architecture, training set, regularizer, optimiser and λ.")

        let outFolder: String
        let architectures: [BuiltInModel]
        let epochs: Int
        let data: DataOptions
        let trainLimit: Int?
        let validation: Int?
        let cache: String
        let quick: Bool
        let render: String?

        init(_ arguments: ParsedArguments) throws(UsageError) {
            outFolder = try arguments.value(Self.out)
            var architectures: [BuiltInModel] = []
            for name in try arguments.value(Self.models).split(separator: ",") {
                guard let model = BuiltInModel(rawValue: String(name)) else {
                    throw UsageError(argument: "--models", problem: "'\(name)' is not a built-in model (\(BuiltInModel.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                architectures.append(model)
            }
            self.architectures = architectures
            epochs = try arguments.value(Self.epochs)
            data = try DataOptions(arguments)
            trainLimit = try arguments.valueIfAny(Self.trainLimit)
            validation = try arguments.valueIfAny(Self.validation)
            cache = try arguments.value(Self.cache)
            quick = arguments.flag(Self.quick)
            render = try arguments.valueIfAny(Self.render)
        }
    }

    static let spec = Options.spec

    static let targets = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
    /// Targets of the selection study (validation): the whole range the default is meant for.
    /// Without any repair the ResNets fall near chance beyond 40%, so the low targets are where
    /// selections on them differ most.
    static func selectionTargets(quick: Bool) -> [Double] { quick ? [0.3, 0.5] : targets }

    /// At most this many λ per variant.
    static let maxLambdas = 6

    struct SweepRun: Codable {
        var architecture: String
        var variant: String
        var lambda: Double
        var trainLoss: Double
        var trainPenalty: Double
        var validationDenseTop1: Double
        /// Validation top-1 at 50% of MACs removed, as pruned, under the selection that kept the most.
        var validationPrunedTop1: Double
        var bestSelection: String
        var seconds: Double
    }

    /// Validation top-1 of one model pruned by one selection.
    struct SelectionPoint: Codable {
        var architecture: String
        /// The model: architecture, variant, λ and stage.
        var model: String
        var variant: String
        var lambda: Double
        var stage: String
        var criterion: String
        var normalization: String
        /// Surgery compensated (absent in results written before compensation: no).
        var compensated: Bool?
        var target: Double
        var macsRemoved: Double
        var validationTop1: Double
    }

    struct TestPoint: Codable {
        var architecture: String
        var variant: String
        var target: Double
        /// The fixed ranking (the default's fallback).
        var macsRemoved: Double
        var prunedTop1: Double
        /// The ranking chosen on the validation images for this model and target, as `oicsr
        /// prune` chooses it (nil in results written before calibration).
        var calibratedSelection: String?
        var calibratedMacsRemoved: Double?
        var calibratedTop1: Double?
    }

    struct FineTune: Codable {
        var architecture: String
        var variant: String
        var selection: String
        var macsRemoved: Double
        var prunedTop1: Double
        var finetunedTop1: Double
        var seconds: Double
    }

    /// One architecture's validation figures, kept beside its checkpoints so a study that
    /// stops later does not measure them again.
    struct Phase: Codable {
        var quick: Bool
        var validation: Int
        /// The targets the selections were measured at; figures at other targets are measured again.
        var targets: [Double]
        var sweep: [SweepRun]
        var selection: [SelectionPoint]
        var lambda: [String: Double]
    }

    struct Report: Codable {
        var dataset: String
        var epochs: Int
        var trainExamples: Int
        var validationExamples: Int
        var testExamples: Int
        var architectures: [String]
        var cache: String
        /// architecture → whether the residual channels coupled across a stage were regularized and pruned.
        var coupled: [String: Bool]
        /// architecture → variant → the late checkpoint at the chosen λ.
        var checkpoints: [String: [String: String]]
        var sweep: [SweepRun]
        /// architecture → variant → chosen λ.
        var lambda: [String: [String: Double]]
        var selection: [SelectionPoint]
        var defaultSelection: SelectionChoice.Candidate
        /// architecture → variant → dense test top-1.
        var denseTop1: [String: [String: Double]]
        var points: [TestPoint]
        var finetune: [FineTune]
        var seconds: Double
    }

    static func run(_ arguments: ParsedArguments) throws {
        let options = try Options(arguments)
        let started = Date()
        if let results = options.render {
            guard let data = FileManager.default.contents(atPath: results),
                  let report = try? JSONDecoder().decode(Report.self, from: data) else {
                throw UsageError(argument: "--render", problem: "\(results) is not a results file written by 'oicsr study'")
            }
            try write(report, to: options.outFolder, json: false)
            return
        }
        var data = try options.data.load()
        if let limit = options.trainLimit { data = DataSplits(train: data.train.subset(first: limit), test: data.test) }
        let validationCount = options.validation ?? min(10_000, data.train.count / 6)
        guard validationCount < data.train.count else {
            throw UsageError(argument: "--validation", problem: "\(validationCount) is not less than the \(data.train.count) training examples")
        }
        let (train, validation) = split(data.train, holdingOut: validationCount)
        let normalization = Normalization.fit(train)
        let input = [train.channels, train.height, train.width]
        Interruption.install()
        let log = StudyLog()
        func validate(_ model: Model, _ label: String) throws -> Double { try log.evaluate(model, validation, normalization, label).top1 }

        // 1. Per architecture: λ by validation top-1 at 50% of MACs removed (the best selection
        //    for each model, so λ does not depend on the default), among the values whose dense
        //    model stays within 5 points of L2's; then every selection on the chosen λ, early
        //    and late.
        var sweep: [SweepRun] = [], selection: [SelectionPoint] = []
        var lambda: [String: [String: Double]] = [:]
        var caches: [String: ModelCache] = [:]
        for builtIn in options.architectures {
            let architecture = builtIn.architecture(input: input, classes: train.classes)
            // A ResNet's block-internal channels hold under half its MACs (the stem, the second
            // conv of each block's output and the shortcuts write the residual stages), so with a
            // cap of 50% per layer only the coupled channels let the walk reach 70%.
            let coupled = try ChannelGroups(architecture: architecture, includeCoupled: true).groups.contains(where: \.isCoupled)
            let cache = ModelCache(folder: options.cache, architecture: architecture, train: train, normalization: normalization,
                                   epochs: options.epochs, coupled: coupled)
            caches[architecture.name] = cache
            let resultsPath = cache.runFolder + "/validation.json"
            if let saved = FileManager.default.contents(atPath: resultsPath),
               let part = try? JSONDecoder().decode(Phase.self, from: saved), part.quick == options.quick, part.validation == validation.count,
               part.targets == selectionTargets(quick: options.quick), part.selection.contains(where: { $0.compensated == true }) {
                sweep += part.sweep; selection += part.selection; lambda[architecture.name] = part.lambda
                log.line("\(architecture.name): validation figures from \(resultsPath)")
                continue
            }
            let sweepStart = sweep.count, selectionStart = selection.count
            var reference = 0.0
            for variant in Variant.all {
                var scores: [Double: Double] = [:]
                var pending = variant.kind == .l2 ? [0.0] : (options.quick ? [0.1] : LambdaLadder.initial(variant.step))
                while let value = pending.first {
                    pending.removeFirst()
                    let t0 = Date()
                    let late = try cache.models(variant, lambda: value, log: log).first { $0.stage == .late }!
                    let dense = try validate(late.model, "validation, dense")
                    let probe = PruningProbe(late.model, coupled: coupled)
                    var best = (top1: -1.0, name: "")
                    for criterion in variant.criteria {
                        for n in EnergyNormalization.allCases {
                            let top1 = try probe.measure(criterion, n, target: 0.5) { try validate($0, "validation, 50% pruned") }.top1
                            if top1 > best.top1 { best = (top1, "\(criterion.rawValue)/\(n.rawValue)") }
                        }
                    }
                    sweep.append(SweepRun(architecture: architecture.name, variant: variant.name, lambda: value, trainLoss: late.trainLoss,
                                          trainPenalty: late.trainPenalty, validationDenseTop1: dense, validationPrunedTop1: best.top1,
                                          bestSelection: best.name, seconds: Date().timeIntervalSince(t0)))
                    log.line(String(format: "%@ %@ λ=%g: validation dense %.2f%%, 50%% pruned %.2f%% (%@)", architecture.name, variant.name,
                                    value, dense * 100, best.top1 * 100, best.name))
                    if variant.kind == .l2 { reference = dense }
                    // A λ whose dense model falls more than 5 points below L2's is not a candidate
                    // (the subgradient with BatchNorm can leave running statistics that no longer
                    // fit the weights); among such values the smaller is preferred, so the ladder
                    // extends downwards.
                    scores[value] = dense >= reference - 0.05 ? best.top1 : -1 - value
                    if variant.kind != .l2, !options.quick, pending.isEmpty, scores.count < maxLambdas, let next = LambdaLadder.next(after: scores) {
                        pending.append(next)
                    }
                }
                let chosen = scores.max { ($0.value, -$0.key) < ($1.value, -$1.key) }!.key
                lambda[architecture.name, default: [:]][variant.name] = chosen
                // The selection study: the chosen λ, early and late.
                for value in [chosen] {
                    for trained in try cache.models(variant, lambda: value, log: log) {
                        let probe = PruningProbe(trained.model, coupled: coupled)
                        for criterion in variant.criteria {
                            for n in EnergyNormalization.allCases {
                                for target in selectionTargets(quick: options.quick) {
                                    for compensating in [false, true] {
                                        let m = try probe.measure(criterion, n, target: target, compensating: compensating) {
                                            try validate($0, "selection \(trained.key)")
                                        }
                                        selection.append(SelectionPoint(
                                            architecture: architecture.name, model: "\(architecture.name) \(trained.key)", variant: variant.name,
                                            lambda: value, stage: trained.stage.rawValue, criterion: criterion.rawValue, normalization: n.rawValue,
                                            compensated: compensating, target: target, macsRemoved: m.macsRemoved, validationTop1: m.top1))
                                    }
                                }
                            }
                        }
                    }
                }
            }

            let part = Phase(quick: options.quick, validation: validation.count, targets: selectionTargets(quick: options.quick), sweep: Array(sweep[sweepStart...]),
                             selection: Array(selection[selectionStart...]), lambda: lambda[architecture.name] ?? [:])
            try AtomicFile.write(try JSONEncoder().encode(part), to: resultsPath)
        }

        // 2. The default selection, from the validation figures of every model.
        let ranking = SelectionChoice.rank(selection)
        let standard = ranking[0].candidate
        log.line("default selection on validation: \(standard.name), mean top-1 \(String(format: "%.2f", ranking[0].meanTop1 * 100))%")

        // 3. Test set: at every target, the fixed ranking and the one a calibration chooses on
        //    the validation images (the default of `oicsr prune`), as pruned; then one epoch of
        //    fine-tuning at 50% from the calibrated choice.
        var denseTop1: [String: [String: Double]] = [:]
        var points: [TestPoint] = [], finetunes: [FineTune] = []
        for (name, cache) in caches.sorted(by: { $0.key < $1.key }) {
            for variant in Variant.all {
                let model = try cache.models(variant, lambda: lambda[name]![variant.name]!, log: log).first { $0.stage == .late }!.model
                denseTop1[name, default: [:]][variant.name] = try log.evaluate(model, data.test, normalization, "\(variant.name) dense").top1
                let probe = PruningProbe(model, coupled: cache.coupled)
                let criterion = standard.criterion(for: variant)
                let policy = SelectionPolicy(criterion: .matching(variant.kind), alternatives: SelectionPolicy.rankings(criteria: variant.criteria),
                                             includeCoupled: cache.coupled)
                func calibrated(_ target: Double) throws -> (model: Model, macsRemoved: Double, ranking: String) {
                    let schedule = PruningSchedule(target: PruningTarget(metric: .flops, share: target), policy: policy)
                    let plan: PruningSchedule.Plan
                    do {
                        plan = try schedule.plan(model, calibration: Calibration(images: validation, normalization: normalization) { done, of in
                            log.step("\(name) \(variant.name) \(Int(target * 100))%: choosing the ranking", done: done, of: of)
                            return !Interruption.isRequested
                        })
                    } catch is PruningCancelled { throw Interrupted() }
                    return (try Surgery.prune(model, groups: plan.groups, plan: plan.firstRound, compensating: plan.compensates),
                            plan.selection!.removedShare(after: plan.wholeTargetSteps!), plan.chosen!.ranking.name + CompensationChoice.mark(plan.compensates))
                }
                for target in options.quick ? [0.3, 0.5] : targets {
                    let (pruned, removed) = try probe.pruned(criterion, standard.normalization, target: target,
                                                             compensating: standard.compensates == true)
                    let top1 = try log.evaluate(pruned, data.test, normalization, "\(variant.name) \(Int(target * 100))%").top1
                    let chosen = try calibrated(target)
                    let chosenTop1 = try log.evaluate(chosen.model, data.test, normalization, "\(variant.name) \(Int(target * 100))% calibrated").top1
                    points.append(TestPoint(architecture: name, variant: variant.name, target: target, macsRemoved: removed, prunedTop1: top1,
                                            calibratedSelection: chosen.ranking, calibratedMacsRemoved: chosen.macsRemoved,
                                            calibratedTop1: chosenTop1))
                }
                let t0 = Date()
                let (pruned, removed, ranking) = try calibrated(0.5)
                let before = try log.evaluate(pruned, data.test, normalization, "\(variant.name) as pruned").top1
                do {
                    try PruningSchedule.fineTune(pruned, train: train, normalization: normalization,
                                                 settings: FineTuningSettings(epochs: 1, learningRate: 0.01), regularizer: RegularizerChoice(kind: .l2),
                                                 progress: { log.progress("\(name) \(variant.name) fine-tuning", $0) })
                } catch is PruningCancelled {
                    throw Interrupted()
                }
                let after = try log.evaluate(pruned, data.test, normalization, "\(variant.name) fine-tuned").top1
                finetunes.append(FineTune(architecture: name, variant: variant.name, selection: ranking, macsRemoved: removed,
                                          prunedTop1: before, finetunedTop1: after, seconds: Date().timeIntervalSince(t0)))
                log.line(String(format: "%@ %@ at 50%%: %.2f%% as pruned (%@), %.2f%% after one epoch", name, variant.name, before * 100,
                                ranking, after * 100))
            }
        }

        let report = Report(dataset: data.train.name, epochs: options.epochs, trainExamples: train.count, validationExamples: validation.count,
                            testExamples: data.test.count, architectures: options.architectures.map(\.rawValue), cache: options.cache,
                            coupled: caches.mapValues(\.coupled),
                            checkpoints: caches.mapValues { cache in
                                Dictionary(uniqueKeysWithValues: Variant.all.map { v in
                                    (v.name, cache.path(v, lambda: lambda[cache.architecture.name]![v.name]!, stage: .late))
                                })
                            },
                            sweep: sweep, lambda: lambda, selection: selection, defaultSelection: standard, denseTop1: denseTop1,
                            points: points, finetune: finetunes, seconds: Date().timeIntervalSince(started))
        try write(report, to: options.outFolder, json: true)
        print("wrote \(options.outFolder)/oicsr-study.md, selection.md, oicsr-study.json and plots in \(Format.duration(seconds: report.seconds))")
    }

    static func write(_ report: Report, to folder: String, json: Bool) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try AtomicFile.write(try encoder.encode(report), to: folder + "/oicsr-study.json")
        }
        for architecture in report.architectures {
            try AtomicFile.write(Data(StudyReport.plot(report, architecture: architecture).svg().utf8), to: folder + "/oicsr-study-\(architecture).svg")
        }
        try AtomicFile.write(Data(StudyReport.markdown(report).utf8), to: folder + "/oicsr-study.md")
        try AtomicFile.write(Data(StudyReport.selectionPage(report).utf8), to: folder + "/selection.md")
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
}

/// Progress of the long study on stderr.
final class StudyLog {
    private let bar = ProgressLine()

    func line(_ text: String) {
        bar.finish(text)
    }

    func progress(_ label: String, _ p: TrainingProgress) -> Bool {
        bar.update(label: label, share: p.share, detail: String(format: "loss %.3f + penalty %.3f acc %.1f%% %.0f img/s", p.loss, p.penalty, p.accuracy * 100, p.imagesPerSecond))
        if p.share >= 1 { bar.finish(String(format: "%@: train loss %.3f, penalty %.3f, accuracy %.2f%%", label, p.loss, p.penalty, p.accuracy * 100)) }
        return !Interruption.isRequested
    }

    func step(_ label: String, done: Int, of total: Int) {
        bar.update(label: label, share: Double(done) / Double(max(total, 1)), detail: "\(done)/\(total)")
    }

    func evaluate(_ model: Model, _ data: Dataset, _ normalization: Normalization, _ label: String) throws -> Evaluation {
        guard let result = Evaluator.evaluate(model, dataset: data, normalization: normalization, progress: { _ in !Interruption.isRequested }) else {
            throw Interrupted()
        }
        return result
    }
}
