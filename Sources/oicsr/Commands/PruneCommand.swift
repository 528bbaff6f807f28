import Canvas
import Engine
import Foundation
import Pruning

enum PruneCommand {
    struct Options {
        /// `--flops`, `--params`, `--channels`: one per metric, named once here.
        static let targets = TargetMetric.allCases.map { metric in
            (metric, Option.share(metric.optionName, help: metric.targetHelp))
        }
        static let rounds = Option.count("steps", default: 1, help: "reach the target in N prune/fine-tune rounds")
        static let fineTuneEpochs = Option.count("finetune-epochs", placeholder: "E", default: 0, minimum: 0,
                                                 help: "fine-tuning epochs after each round")
        static let learningRate = Option.number("lr", default: 0.01, range: 0...1e6, lowerOpen: true, help: "fine-tuning learning rate, cosine")
        static let seed = Option.count("seed", default: 1, minimum: 0, help: "seed for fine-tuning")
        static let batchNormExamples = Option.count("bn-recalibrate", default: 0, minimum: 0,
                                                    help: "re-estimate BatchNorm statistics on N training images after pruning (0: off)")
        static let calibration = Option.count("calibrate", placeholder: "N", default: Calibration.defaultExamples, minimum: 0,
                                              help: "choose the criterion, normalisation and compensation not given by top-1 on the last N training images, each candidate pruned to the target and screened on the last \(Calibration.defaultScreening) of them, the \(Calibration.defaultFinalists) best measured on all (0: the defaults)")
        static let compensation = Option<CompensationChoice>.choice(
            "compensate", placeholder: "WHEN", default: .chosen,
            defaultDescription: "chosen with the ranking on calibration images (--calibrate), else \(CompensationChoice.uncalibrated ? "on" : "off")",
            help: "fold each removed channel's expected value, from its BatchNorm, into the layers that read it")
        static let out = Option.text("out", placeholder: "FILE", help: "where to write the pruned checkpoint (required unless --dry-run)")
        static let dryRun = Flag(name: "dry-run", help: "print the plan and write nothing")
        static let json = Flag(name: "json", help: "print the result as JSON")

        static let targetDeclarations: [OptionDeclaration] = targets.map { $0.1.declaration }
        static let repairDeclarations: [OptionDeclaration] = [calibration.declaration, compensation.declaration, rounds.declaration,
                                                              fineTuneEpochs.declaration, learningRate.declaration,
                                                              batchNormExamples.declaration]
        static let outputDeclarations: [OptionDeclaration] = [seed.declaration, out.declaration, OutputOptions.force.declaration,
                                                              dryRun.declaration, json.declaration]
        static let spec = CommandSpec(
            name: "prune", summary: "Prune a checkpoint to a target (global greedy selection), fine-tune, evaluate and save it.",
            usage: "prune CHECKPOINT --flops SHARE [--steps N --finetune-epochs E] --out FILE",
            options: targetDeclarations + repairDeclarations + SelectionOptions.declarations + DataOptions.declarations + outputDeclarations,
            positionals: 1...1,
            details: """
                Rounds follow docs/design.md §5: select and remove a share of the target, fine-tune with the
                checkpoint's regularizer, repeat; the last round fine-tunes without it. The cap is
                cumulative over rounds. MACs are multiply-accumulates of conv and linear layers per input.
                The models are evaluated on the test split when the data fits them (--data, else the default).
                Unless --criterion, --normalization and --compensate are all given, every candidate ranking
                prunes a copy to the target, with and without compensation where that is open, and the one
                that keeps the most top-1 on the last --calibrate training images is used (docs/selection.md):
                held out when the model was trained on the ones before them; never the test set. Without
                data that fits, the defaults are.
                """)

        let checkpoint: String
        let target: PruningTarget
        let rounds: Int
        let fineTuning: FineTuningSettings?
        let batchNormExamples: Int
        let calibrationExamples: Int
        let compensation: CompensationChoice
        let selection: SelectionOptions
        let data: DataOptions
        let output: OutputOptions?
        let json: Bool

        init(_ arguments: ParsedArguments) throws(UsageError) {
            checkpoint = arguments.positionals[0]
            var given: [PruningTarget] = []
            for (metric, option) in Self.targets {
                if let share = try arguments.valueIfAny(option) { given.append(PruningTarget(metric: metric, share: share)) }
            }
            let names = Self.targets.map { "--" + $0.1.name }.joined(separator: ", ")
            guard given.count == 1 else {
                throw UsageError(argument: "--" + Self.targets[0].1.name, problem: given.isEmpty ? "give a target: one of \(names)" : "give only one of \(names)")
            }
            target = given[0]
            rounds = try arguments.value(Self.rounds)
            let epochs = try arguments.value(Self.fineTuneEpochs)
            let learningRate = try arguments.value(Self.learningRate)
            let seed = try arguments.value(Self.seed)
            fineTuning = epochs == 0 ? nil : FineTuningSettings(epochs: epochs, learningRate: Float(learningRate), seed: UInt64(seed))
            batchNormExamples = try arguments.value(Self.batchNormExamples)
            calibrationExamples = try arguments.value(Self.calibration)
            compensation = try arguments.value(Self.compensation)
            selection = try SelectionOptions(arguments)
            data = try DataOptions(arguments)
            json = arguments.flag(Self.json)
            if arguments.flag(Self.dryRun) {
                output = nil
            } else {
                guard let path = try arguments.valueIfAny(Self.out) else {
                    throw UsageError(argument: "--out", problem: "needed to write the pruned model (or use --dry-run)")
                }
                output = try OutputOptions(path: path, option: Self.out.name, force: arguments.flag(OutputOptions.force), source: checkpoint)
            }
        }
    }

    static let spec = Options.spec

    struct GroupPlan: Encodable {
        var name: String
        var before: Int
        var after: Int
        var removed: [Int]
    }

    struct Result: Encodable {
        var checkpoint: String
        var metric: String
        var target: Double
        var removedShare: Double
        var before: CostFigures
        var after: CostFigures
        var groups: [GroupPlan]
        var criterion: String
        var normalization: String
        /// Whether surgery folded the removed channels' expected values into their readers.
        var compensated: Bool
        /// The candidates measured on calibration images when the ranking was chosen that way.
        var calibration: CalibrationReport?
        var denseTop1: Double?
        var prunedTop1: Double?
        var recalibratedTop1: Double?
        var finetunedTop1: Double?
        var evaluatedOn: String?
        var out: String?
    }

    struct CalibrationReport: Encodable {
        var examples: Int
        var candidates: [CalibrationScore]
    }

    static func run(_ arguments: ParsedArguments) throws {
        let options = try Options(arguments)
        let source = try TrainedCheckpoint.load(options.checkpoint)
        let schedule = PruningSchedule(target: options.target, policy: options.selection.policy(for: source.recipe), rounds: options.rounds,
                                       fineTuning: options.fineTuning, batchNormExamples: options.batchNormExamples,
                                       regularizer: source.recipe.regularizer.choice, compensation: options.compensation)
        let calibrates = options.calibrationExamples > 0 && schedule.policy.candidates.count * options.compensation.ways > 1
        let data = try evaluationData(options, model: source.model, repairs: options.fineTuning != nil || options.batchNormExamples > 0,
                                      purpose: options.output == nil ? (calibrates ? "calibration" : nil) : "evaluation")
        let progress = ProgressLine()
        let calibration = calibrates ? data.map { data in
            Calibration(images: data.train.subset(last: options.calibrationExamples), normalization: source.info.normalization) { done, of in
                progress.update(label: "choosing the ranking", share: Double(done) / Double(of), detail: "\(done)/\(of)")
                return true
            }
        } : nil
        let plan: PruningSchedule.Plan
        do {
            plan = try schedule.plan(source.model, calibration: calibration)
        } catch let error as PruningError {
            throw UsageError(argument: error.concernsTarget ? "--" + options.target.metric.optionName : options.checkpoint, problem: error.problem)
        }
        if calibration != nil { progress.finish() }
        let policy = plan.chosen ?? schedule.policy
        let calibrationReport = plan.calibration.isEmpty ? nil : CalibrationReport(examples: plan.calibrationExamples, candidates: plan.calibration)
        guard let output = options.output else {
            let (selection, steps) = (plan.selection!, plan.wholeTargetSteps!)
            let kept = selection.plan(steps: steps, widthMultiple: policy.widthMultiple).kept
            let cost = WidthCostModel(groups: plan.groups)
            let after = cost.figures(widths: kept.map(\.count))
            report(Result(checkpoint: source.path, metric: options.target.metric.rawValue, target: options.target.share,
                          removedShare: selection.removedShare(after: steps, widthMultiple: policy.widthMultiple, cost: cost),
                          before: selection.before, after: after, groups: groupPlans(plan.groups, kept),
                          criterion: policy.criterion.rawValue, normalization: policy.normalization.rawValue,
                          compensated: plan.compensates, calibration: calibrationReport), json: options.json)
            return
        }

        Interruption.install()
        func evaluate(_ model: Model, _ label: String) throws -> Evaluation {
            guard let test = data?.test, let result = Evaluator.evaluate(model, dataset: test, normalization: source.info.normalization, progress: { share in
                progress.update(label: label, share: share, detail: "")
                return !Interruption.isRequested
            }) else { throw Interrupted() }
            progress.finish()
            return result
        }
        let dense = data == nil ? nil : try evaluate(source.model, "evaluating the dense model")
        let events = PruningSchedule.Events(
            evaluate: data == nil ? nil : { model, stage in try evaluate(model, "evaluating \(stage.rawValue)") },
            training: { round, p in
                progress.update(label: "round \(round)/\(options.rounds) fine-tuning", share: p.share,
                                detail: String(format: "loss %.3f acc %.1f%%", p.loss, p.accuracy * 100))
                return !Interruption.isRequested
            },
            reestimation: { _ in !Interruption.isRequested })
        let result: PruningSchedule.Result
        do {
            result = try schedule.run(source.model, plan: plan, train: data?.train, normalization: source.info.normalization, events: events)
        } catch is PruningCancelled {
            progress.finish()
            Console.error("interrupted; nothing written")
            throw Interrupted()
        } catch let error as PruningError {
            throw RuntimeFailure(description: error.problem)
        }

        var info = source.info
        info.architecture = result.model.architecture
        let final = result.evaluations[.afterFineTuning] ?? result.evaluations[.afterBatchNormReestimation] ?? result.evaluations[.asPruned]
        info.metrics = [:]
        if let final { info.metrics["top1"] = final.top1; info.metrics["loss"] = final.loss }
        if let dense { info.metrics["dense_top1"] = dense.top1 }
        var recipe = source.recipe
        recipe.pruning = schedule.record(result, plan: plan, source: source.path)
        recipe.fineTuning = options.fineTuning.map { Recipe.FineTuning(epochs: $0.epochs * options.rounds, learningRate: Double($0.learningRate)) }
        recipe.batchNormReestimation = options.batchNormExamples > 0 ? options.batchNormExamples : nil
        info.record(recipe)
        try Checkpoint.save(result.model, info: info, to: output.path)

        report(Result(
            checkpoint: source.path, metric: options.target.metric.rawValue, target: options.target.share,
            removedShare: result.removedShare(options.target.metric), before: result.before, after: result.after,
            groups: groupPlans(plan.groups, result.kept), criterion: policy.criterion.rawValue, normalization: policy.normalization.rawValue,
            compensated: plan.compensates, calibration: calibrationReport, denseTop1: dense?.top1, prunedTop1: result.evaluations[.asPruned]?.top1,
            recalibratedTop1: result.evaluations[.afterBatchNormReestimation]?.top1,
            finetunedTop1: result.evaluations[.afterFineTuning]?.top1, evaluatedOn: data?.test.name, out: output.path), json: options.json)
    }

    /// The data to evaluate, calibrate (and repair) on, for `purpose` (nil: none needed): what
    /// `--data` names, which must fit; else the default data when it fits the model; else
    /// none, said on stderr (repairs then need `--data`).
    static func evaluationData(_ options: Options, model: Model, repairs: Bool, purpose: String?) throws -> DataSplits? {
        guard let purpose else { return nil }
        if options.data.isExplicit || repairs {
            let data = try options.data.load()
            try options.data.check(data.test, fits: model.architecture)
            return data
        }
        guard let data = try? options.data.load(), DataOptions.mismatch(data.test, model.architecture) == nil else {
            Console.error("no \(purpose): the default data set does not fit '\(model.architecture.name)'; give --data to \(purpose == "evaluation" ? "evaluate" : "calibrate")")
            return nil
        }
        return data
    }

    static func groupPlans(_ groups: ChannelGroups, _ kept: [[Int]]) -> [GroupPlan] {
        groups.groups.map { group in
            let keptSet = Set(kept[group.id])
            return GroupPlan(name: group.name, before: group.width, after: kept[group.id].count,
                             removed: (0..<group.width).filter { !keptSet.contains($0) })
        }
    }

    static func report(_ result: Result, json: Bool) {
        if json { Console.printJSON(result); return }
        let change = { (a: Int, b: Int) in String(format: "%@ → %@ (%+.1f%%)", a.formatted(), b.formatted(), (Double(b) / Double(a) - 1) * 100) }
        print("\(result.checkpoint): \(result.criterion) energies, \(result.normalization) normalisation"
              + (result.compensated ? ", removed channels compensated" : ""))
        if let calibration = result.calibration, let best = calibration.candidates.first(where: {
            $0.ranking.criterion.rawValue == result.criterion && $0.ranking.normalization.rawValue == result.normalization
                && $0.compensated == result.compensated }) {
            let fallback = calibration.candidates[0]
            print(String(format: "  the best of %d candidates on the last %d training images: top-1 %@ there as pruned (the default %@: %@%@)",
                         calibration.candidates.count, best.examples, Format.percent(best.top1, decimals: 2),
                         fallback.name, Format.percent(fallback.top1, decimals: 2),
                         fallback.examples == best.examples ? "" : " on the last \(fallback.examples), screened out"))
        }
        print("MACs        " + change(result.before.macs, result.after.macs))
        print("parameters  " + change(result.before.parameters, result.after.parameters))
        print("channels    " + change(result.before.channels, result.after.channels))
        for group in result.groups where group.after != group.before {
            print(String(format: "  %@  %d → %d", group.name, group.before, group.after))
        }
        let accuracies: [(String, Double?)] = [("dense", result.denseTop1), ("as pruned", result.prunedTop1),
                                                ("after BN re-estimation", result.recalibratedTop1), ("after fine-tuning", result.finetunedTop1)]
        for case let (label, value?) in accuracies { print("top-1 \(label): \(Format.percent(value, decimals: 2))") }
        if let out = result.out { print("saved \(out)") } else { print("dry run: nothing written") }
    }
}

extension TargetMetric {
    /// The option that sets a target of this metric.
    var optionName: String {
        switch self {
        case .flops: "flops"
        case .parameters: "params"
        case .channels: "channels"
        }
    }

    var targetHelp: String {
        switch self {
        case .flops: "share of MACs to remove, in (0, 1)"
        case .parameters: "share of parameters to remove instead"
        case .channels: "share of prunable channels to remove instead"
        }
    }
}
