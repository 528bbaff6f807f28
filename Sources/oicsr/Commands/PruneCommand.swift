import Engine
import Explorer
import Foundation
import Pruning

enum PruneCommand {
    static let spec = CommandSpec(
        name: "prune", summary: "Prune a checkpoint to a target (global greedy selection), fine-tune, evaluate and save it.",
        usage: "prune CHECKPOINT --flops SHARE [--steps N --finetune-epochs E] --out FILE",
        options: [
            OptionSpec(name: "flops", value: "SHARE", help: "share of MACs to remove, in (0, 1)"),
            OptionSpec(name: "params", value: "SHARE", help: "share of parameters to remove instead"),
            OptionSpec(name: "channels", value: "SHARE", help: "share of prunable channels to remove instead"),
            OptionSpec(name: "steps", value: "N", help: "reach the target in N prune/fine-tune rounds (default 1)"),
            OptionSpec(name: "finetune-epochs", value: "E", help: "fine-tuning epochs after each round (default 0)"),
            OptionSpec(name: "lr", value: "X", help: "fine-tuning learning rate, cosine (default 0.01)"),
            OptionSpec(name: "bn-recalibrate", value: "N", help: "re-estimate BatchNorm statistics on N training images after pruning (default 0: off)"),
        ] + PruningArguments.options + [
            OptionSpec(name: "data", value: "DIR", help: "data folder (default $OICSR_DATA, else Fashion-MNIST)"),
            OptionSpec(name: "limit", value: "N", help: "use only the first N training and test examples"),
            OptionSpec(name: "seed", value: "N", help: "seed for fine-tuning (default 1)"),
            OptionSpec(name: "out", value: "FILE", help: "where to write the pruned checkpoint (required unless --dry-run)"),
            OptionSpec(name: "force", value: nil, help: "replace --out if it exists"),
            OptionSpec(name: "dry-run", value: nil, help: "print the plan and write nothing"),
            OptionSpec(name: "json", value: nil, help: "print the result as JSON"),
        ],
        positionals: 1...1,
        details: """
            Rounds follow docs/design.md §5: select and remove a share of the target, fine-tune with the
            checkpoint's regularizer, repeat; the last round fine-tunes without it. The cap is
            cumulative over rounds. MACs are multiply-accumulates of conv and linear layers per input.
            """)

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
        var denseTop1: Double?
        var prunedTop1: Double?
        var recalibratedTop1: Double?
        var finetunedTop1: Double?
        var out: String?
    }

    static func run(_ arguments: ParsedArguments) throws {
        let targets = TargetMetric.allCases.compactMap { metric in arguments.string(metric.rawValue).map { (metric, $0) } }
        guard targets.count == 1, let (metric, _) = targets.first else {
            throw UsageError(argument: "--flops", problem: targets.isEmpty ? "give a target: --flops, --params or --channels" : "give only one of --flops, --params and --channels")
        }
        let target = try arguments.number(metric.rawValue, default: 0, above: 0, below: 1)
        let steps = try arguments.integer("steps", default: 1)
        let finetuneEpochs = try arguments.integer("finetune-epochs", default: 0, minimum: 0)
        let recalibration = try arguments.integer("bn-recalibrate", default: 0, minimum: 0)
        let dryRun = arguments.flag("dry-run")
        let (path, model, info) = try PruningArguments.loadCheckpoint(arguments.positionals[0])
        let out = arguments.string("out")
        if !dryRun {
            guard let out else { throw UsageError(argument: "--out", problem: "needed to write the pruned model (or use --dry-run)") }
            if TrainCommand.samePath(out, path) {
                throw UsageError(argument: "--out", problem: "\(out) is the source model; write the pruned model to another file")
            }
            if FileManager.default.fileExists(atPath: out) && !arguments.flag("force") {
                throw UsageError(argument: "--out", problem: "\(out) exists; pass --force to replace it")
            }
        }
        let setup = try PruningArguments(arguments, info: info)
        let groups = try setup.groups(of: model, path: path)
        let originalCost = WidthCostModel(groups: groups)
        let original = originalCost.figures(widths: originalCost.originalWidths)

        // The whole target must be reachable under the cap before any work starts.
        let firstSelection = try selection(model: model, groups: groups, setup: setup, metric: metric, capWidths: originalCost.originalWidths)
        guard let fullCount = firstSelection.stepCount(toReach: target) else {
            throw UsageError(argument: "--\(metric.rawValue)", problem: String(
                format: "cannot remove %.1f%% of %@: with a cap of %.0f%% per layer and a floor of %d channels the selection stops at %.1f%%",
                target * 100, metric.rawValue, setup.limits.capShare * 100, setup.limits.floor, firstSelection.reachableShare * 100))
        }
        if dryRun {
            let plan = firstSelection.plan(steps: fullCount)
            report(Result(checkpoint: path, metric: metric.rawValue, target: target, removedShare: firstSelection.removedShare(after: fullCount),
                          before: original, after: firstSelection.figures(after: fullCount), groups: groupPlans(groups, plan),
                          criterion: setup.criterion.rawValue, normalization: setup.normalization.rawValue), json: arguments.flag("json"))
            return
        }

        let folder = arguments.string("data") ?? DataSource.defaultFolder()
        let data = try DataArguments.load(arguments)
        try DataArguments.check(data.test, fits: model.architecture, dataFolder: folder)
        Interruption.install()
        let progress = ProgressLine()
        func evaluate(_ m: Model, _ label: String) throws -> Evaluation {
            guard let result = Evaluator.evaluate(m, dataset: data.test, normalization: info.normalization, progress: { share in
                progress.update(label: label, share: share, detail: "")
                return !Interruption.isRequested
            }) else { throw Interrupted() }
            progress.finish()
            return result
        }
        let dense = try evaluate(model, "evaluating the dense model")

        var current = model
        var plans: [PruningPlan] = []
        var prunedTop1: Double?, recalibratedTop1: Double?, finetunedTop1: Double?
        let regularizer = RegularizerChoice(kind: RegularizerKind(rawValue: info.regularizer) ?? .l2, lambda: info.lambda,
                                            includeCoupled: setup.includeCoupled)
        for round in 1...steps {
            let roundGroups = ChannelGroups(graph: current.graph, includeCoupled: setup.includeCoupled)
            let roundSelection = try selection(model: current, groups: roundGroups, setup: setup, metric: metric, capWidths: originalCost.originalWidths)
            // The round's target, as a share of the original model, restated for the current one.
            let goal = Double(original.value(metric)) * (1 - target * Double(round) / Double(steps))
            let share = 1 - goal / Double(roundSelection.before.value(metric))
            guard let count = roundSelection.stepCount(toReach: max(share, 0)) else {
                throw RuntimeFailure(description: "round \(round): the cap stops the selection at \(Format.percent(roundSelection.reachableShare, decimals: 1))")
            }
            let plan = roundSelection.plan(steps: count)
            plans.append(plan)
            current = try Surgery.prune(current, groups: roundGroups, plan: plan)
            if round == 1 && steps == 1 { prunedTop1 = try evaluate(current, "evaluating as pruned").top1 }
            if recalibration > 0 {
                current.reestimateBatchNormStatistics(dataset: data.train, normalization: info.normalization, examples: recalibration)
                if round == steps { recalibratedTop1 = try evaluate(current, "evaluating after BN re-estimation").top1 }
            }
            if finetuneEpochs > 0 {
                var configuration = TrainingConfiguration()
                configuration.epochs = finetuneEpochs
                configuration.learningRate = Float(try arguments.number("lr", default: 0.01, above: 0))
                configuration.seed = UInt64(try arguments.integer("seed", default: 1, minimum: 0))
                // The last round fine-tunes without the regularizer (docs/design.md §5).
                let choice = round == steps ? RegularizerChoice(kind: .l2) : regularizer
                let trainer = try choice.trainer(for: current, configuration: configuration)
                let finished = trainer.fit(
                    train: data.train, normalization: info.normalization, augmentation: Augmentation.standard(for: data.train),
                    progress: { p in
                        progress.update(label: "round \(round)/\(steps) fine-tuning", share: p.share,
                                        detail: String(format: "loss %.3f acc %.1f%%", p.loss, p.accuracy * 100))
                        return !Interruption.isRequested
                    }, epochFinished: { _ in })
                progress.finish()
                guard finished else { Console.error("interrupted; nothing written"); throw Interrupted() }
            }
        }
        if finetuneEpochs > 0 { finetunedTop1 = try evaluate(current, "evaluating after fine-tuning").top1 }
        let final = try evaluate(current, "evaluating the pruned model")

        var prunedInfo = info
        prunedInfo.architecture = current.architecture
        prunedInfo.metrics = ["top1": final.top1, "loss": final.loss, "dense_top1": dense.top1]
        prunedInfo.training["pruned_from"] = path
        prunedInfo.training["pruned_" + metric.rawValue] = String(target)
        try Checkpoint.save(current, info: prunedInfo, to: out!)

        let cost = current.graph.cost
        let after = CostFigures(macs: cost.macs, parameters: cost.parameters,
                                channels: ChannelGroups(graph: current.graph, includeCoupled: setup.includeCoupled).totalChannels)
        let summary = Result(
            checkpoint: path, metric: metric.rawValue, target: target,
            removedShare: 1 - Double(after.value(metric)) / Double(original.value(metric)), before: original, after: after,
            groups: steps == 1 ? groupPlans(groups, plans[0]) : [],
            criterion: setup.criterion.rawValue, normalization: setup.normalization.rawValue,
            denseTop1: dense.top1, prunedTop1: prunedTop1, recalibratedTop1: recalibratedTop1, finetunedTop1: finetunedTop1, out: out)
        report(summary, json: arguments.flag("json"))
    }

    static func selection(model: Model, groups: ChannelGroups, setup: PruningArguments, metric: TargetMetric, capWidths: [Int]) throws -> Selection {
        try GreedySelection.walk(model: model, groups: groups, criterion: setup.criterion, normalization: setup.normalization,
                                 metric: metric, limits: setup.limits, capWidths: capWidths)
    }

    static func groupPlans(_ groups: ChannelGroups, _ plan: PruningPlan) -> [GroupPlan] {
        groups.groups.map { GroupPlan(name: $0.name, before: $0.width, after: $0.width - plan.removed[$0.id].count, removed: plan.removed[$0.id]) }
    }

    static func report(_ result: Result, json: Bool) {
        if json { Console.printJSON(result); return }
        let change = { (a: Int, b: Int) in String(format: "%@ → %@ (%+.1f%%)", a.formatted(), b.formatted(), (Double(b) / Double(a) - 1) * 100) }
        print("\(result.checkpoint): \(result.criterion) energies, \(result.normalization) normalisation")
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
