import Engine

// The iterative procedure of docs/design.md §5, in one place for the command line, the
// explorer and the study: select and remove a share of the target, fine-tune with the
// training regularizer, repeat; the last round fine-tunes without it; optionally re-estimate
// the BatchNorm statistics. The first round's walk is planned before any work (so an
// unreachable target fails at once) and reused; each state of the model is evaluated once.

public struct PruningSchedule: Sendable {
    public var target: PruningTarget
    public var policy: SelectionPolicy
    public var rounds: Int
    public var fineTuning: FineTuningSettings?
    /// Training images whose batches re-estimate BatchNorm statistics after each round; 0: off.
    public var batchNormExamples: Int
    /// The training regularizer, used while fine-tuning every round but the last.
    public var regularizer: RegularizerChoice
    /// Whether surgery folds the removed channels' expected values into their readers.
    public var compensation: CompensationChoice

    public init(target: PruningTarget, policy: SelectionPolicy, rounds: Int = 1, fineTuning: FineTuningSettings? = nil,
                batchNormExamples: Int = 0, regularizer: RegularizerChoice = RegularizerChoice(kind: .l2),
                compensation: CompensationChoice = .chosen) {
        self.target = target; self.policy = policy; self.rounds = rounds; self.fineTuning = fineTuning
        self.batchNormExamples = batchNormExamples; self.regularizer = regularizer; self.compensation = compensation
    }

    /// The source's groups and the channels the first round removes.
    public struct Plan: Sendable {
        public let groups: ChannelGroups
        public let firstRound: PruningPlan
        /// The walk the first round was cut from, when the schedule planned it.
        public let selection: Selection?
        /// Steps of that walk that reach the whole target in one round (what a dry run shows).
        public let wholeTargetSteps: Int?
        /// The schedule's policy with the ranking that made the walk, when the schedule chose
        /// one on calibration images; nil: the schedule's own.
        public let chosen: SelectionPolicy?
        /// Every candidate ranking's score on the calibration images, in the policy's order
        /// (empty when nothing was calibrated).
        public let calibration: [CalibrationScore]
        /// The number of calibration images (0: none).
        public let calibrationExamples: Int
        /// Whether every round's surgery compensates.
        public let compensates: Bool

        /// A plan chosen elsewhere (the explorer's walk).
        public init(groups: ChannelGroups, firstRound: PruningPlan, compensates: Bool) {
            self.init(groups: groups, firstRound: firstRound, selection: nil, wholeTargetSteps: nil, chosen: nil, calibration: [],
                      calibrationExamples: 0, compensates: compensates)
        }

        init(groups: ChannelGroups, firstRound: PruningPlan, selection: Selection?, wholeTargetSteps: Int?,
             chosen: SelectionPolicy?, calibration: [CalibrationScore], calibrationExamples: Int, compensates: Bool) {
            self.groups = groups; self.firstRound = firstRound; self.selection = selection; self.wholeTargetSteps = wholeTargetSteps
            self.chosen = chosen; self.calibration = calibration; self.calibrationExamples = calibrationExamples
            self.compensates = compensates
        }
    }

    /// Plans the first round; fails when the model has nothing to prune or the limits stop
    /// the walk short of the whole target. Given `calibration` images and a policy with
    /// alternatives, the walk is the candidate ranking whose model, pruned to the whole
    /// target, classifies the most of them (Calibration.swift), each measured with and without
    /// compensation when `compensation` leaves it open; candidates the limits stop short are
    /// left out. Throws `PruningError`, or `PruningCancelled` when the calibration's
    /// progress says stop.
    public func plan(_ model: Model, calibration: Calibration? = nil) throws -> Plan {
        let groups = ChannelGroups(graph: model.graph, includeCoupled: policy.includeCoupled)
        guard !groups.groups.isEmpty else {
            let hint = groups.fixed.contains { $0.reason.contains("coupled") } ? "; try coupled channels (--coupled)" : ""
            throw PruningError(problem: "the model has no prunable channel\(hint)", concernsTarget: false)
        }
        let cost = WidthCostModel(groups: groups)
        let m = policy.widthMultiple
        let rankings = calibration == nil ? [policy.ranking] : policy.candidates
        var candidates: [Calibration.Candidate] = []
        var shortest: Selection?
        // The energies depend on the criterion alone: computed once for its normalisations.
        var energies: [ImportanceCriterion: Energies] = [:]
        for ranking in rankings {
            let criterionEnergies = energies[ranking.criterion] ?? Energies(model: model, groups: groups, criterion: ranking.criterion)
            energies[ranking.criterion] = criterionEnergies
            let selection = walk(criterionEnergies, ranking: ranking, cost: cost, capWidths: nil)
            if let whole = selection.stepCount(toReach: target.share, widthMultiple: m, cost: cost) {
                let ways = calibration == nil ? [compensation.withoutCalibration] : compensation.candidates
                for compensates in ways {
                    candidates.append(Calibration.Candidate(ranking: ranking, selection: selection, wholeTargetSteps: whole,
                                                            compensates: compensates))
                }
            } else if shortest == nil {
                shortest = selection
            }
        }
        guard let first = candidates.first else {
            throw PruningError(problem: String(
                format: "cannot remove %.1f%% of %@: with a cap of %.0f%% per layer and a floor of %d channels the selection stops at %.1f%%",
                target.share * 100, target.metric.rawValue, policy.limits.capShare * 100, policy.limits.floor, shortest!.reachableShare * 100))
        }
        var chosen = first
        var scores: [CalibrationScore] = []
        if let calibration, candidates.count > 1 {
            scores = try calibration.scores(candidates, model: model, groups: groups, cost: cost, widthMultiple: m)
            let best = scores.indices.reduce(0) { scores[$1].beats(scores[$0]) ? $1 : $0 }
            chosen = candidates[best]
        }
        let selection = chosen.selection, whole = chosen.wholeTargetSteps
        let firstSteps = rounds == 1 ? whole : selection.stepCount(toReach: target.share / Double(rounds), widthMultiple: m, cost: cost) ?? whole
        return Plan(groups: groups, firstRound: selection.plan(steps: firstSteps, widthMultiple: m), selection: selection,
                    wholeTargetSteps: whole, chosen: policy.ranked(by: chosen.ranking), calibration: scores,
                    calibrationExamples: scores.isEmpty ? 0 : calibration?.images.count ?? 0, compensates: chosen.compensates)
    }

    /// What happens along the way: `evaluate` measures a state of the model (nil: not
    /// measured); `training` reports fine-tuning progress per round and returns false to
    /// stop (the run then throws `PruningCancelled`).
    public struct Events {
        public var evaluate: ((Model, PruningStage) throws -> Evaluation)?
        public var training: (_ round: Int, TrainingProgress) -> Bool
        public var reestimation: (Double) -> Bool

        public init(evaluate: ((Model, PruningStage) throws -> Evaluation)? = nil,
                    training: @escaping (_ round: Int, TrainingProgress) -> Bool = { _, _ in true },
                    reestimation: @escaping (Double) -> Bool = { _ in true }) {
            self.evaluate = evaluate; self.training = training; self.reestimation = reestimation
        }
    }

    /// The pruned model and what the schedule saw.
    public struct Result {
        public let model: Model
        /// Kept channels of the source, per source group, ascending.
        public let kept: [[Int]]
        public let before: CostFigures
        public let after: CostFigures
        public let evaluations: [PruningStage: Evaluation]

        /// Share of the source's `metric` removed.
        public func removedShare(_ metric: TargetMetric) -> Double {
            1 - Double(after.value(metric)) / Double(max(before.value(metric), 1))
        }
    }

    /// Runs every round on `model` (left untouched). `train` is needed for BatchNorm
    /// re-estimation and fine-tuning; `normalization` is the model's input normalisation.
    public func run(_ model: Model, plan: Plan, train: Dataset?, normalization: Normalization, events: Events) throws -> Result {
        precondition(train != nil || (fineTuning == nil && batchNormExamples == 0), "repairs need training data")
        let originalWidths = plan.groups.groups.map(\.width)
        let original = WidthCostModel(groups: plan.groups).figures(widths: originalWidths)
        var current = model
        var kept = plan.groups.groups.map { Array(0..<$0.width) }
        var evaluations: [PruningStage: Evaluation] = [:]
        let policy = plan.chosen ?? policy
        for round in 1...rounds {
            let groups = round == 1 ? plan.groups : ChannelGroups(graph: current.graph, includeCoupled: policy.includeCoupled)
            let roundPlan: PruningPlan
            if round == 1 {
                roundPlan = plan.firstRound
            } else {
                // The round's share of the target, restated for the current model; the cap
                // keeps referring to the source's widths.
                let cost = WidthCostModel(groups: groups)
                let selection = walk(Energies(model: current, groups: groups, criterion: policy.criterion), ranking: policy.ranking,
                                     cost: cost, capWidths: originalWidths)
                let goal = Double(original.value(target.metric)) * (1 - target.share * Double(round) / Double(rounds))
                let share = max(1 - goal / Double(selection.before.value(target.metric)), 0)
                let m = policy.widthMultiple
                guard let count = selection.stepCount(toReach: share, widthMultiple: m, cost: cost) else {
                    throw PruningError(problem: "round \(round): the cap stops the selection at \(Int((selection.reachableShare * 100).rounded()))%")
                }
                roundPlan = selection.plan(steps: count, widthMultiple: m)
            }
            current = try Surgery.prune(current, groups: groups, plan: roundPlan, compensating: plan.compensates)
            // Channel groups keep their order through surgery (no group is emptied), so the
            // round's kept indices compose with the source's.
            kept = zip(kept, roundPlan.kept).map { source, roundKept in roundKept.map { source[$0] } }
            let last = round == rounds
            if last, let evaluate = events.evaluate { evaluations[.asPruned] = try evaluate(current, .asPruned) }
            if batchNormExamples > 0, let train {
                try Self.reestimateBatchNorm(current, train: train, normalization: normalization, examples: batchNormExamples,
                                             progress: events.reestimation)
                if last, let evaluate = events.evaluate {
                    evaluations[.afterBatchNormReestimation] = try evaluate(current, .afterBatchNormReestimation)
                }
            }
            if let fineTuning, let train {
                // The last round fine-tunes without the regularizer (docs/design.md §5).
                try Self.fineTune(current, train: train, normalization: normalization, settings: fineTuning,
                                  regularizer: last ? RegularizerChoice(kind: .l2) : regularizer) { events.training(round, $0) }
                if last, let evaluate = events.evaluate { evaluations[.afterFineTuning] = try evaluate(current, .afterFineTuning) }
            }
        }
        let after = WidthCostModel(groups: plan.groups).figures(widths: kept.map(\.count))
        return Result(model: current, kept: kept, before: original, after: after, evaluations: evaluations)
    }

    /// The record of a run for the pruned checkpoint's recipe.
    public func record(_ result: Result, plan: Plan, source: String) -> Recipe.PruningRun {
        let policy = plan.chosen ?? policy
        return Recipe.PruningRun(source: source, metric: target.metric, target: target.share, removedShare: result.removedShare(target.metric),
                          criterion: policy.criterion, normalization: policy.normalization, coupled: policy.includeCoupled,
                          rounds: rounds, widthMultiple: policy.widthMultiple > 1 ? policy.widthMultiple : nil,
                          kept: Dictionary(uniqueKeysWithValues: zip(plan.groups.groups.map(\.name), result.kept)),
                          calibration: plan.calibration.isEmpty ? nil : Recipe.PruningRun.Calibration(
                            examples: plan.calibrationExamples, candidates: plan.calibration.count),
                          compensated: plan.compensates ? true : nil)
    }

    /// The walk under `ranking`, its criterion's `energies` given.
    private func walk(_ energies: Energies, ranking: Ranking, cost: WidthCostModel, capWidths: [Int]?) -> Selection {
        GreedySelection.walk(energies: energies.normalized(ranking.normalization), cost: cost, metric: target.metric,
                             limits: policy.limits, capWidths: capWidths)
    }

    // MARK: Repairs, shared with the explorer's jobs

    /// New BatchNorm running statistics from `examples` training images; throws
    /// `PruningCancelled` when `progress` returns false (the statistics are then restored).
    public static func reestimateBatchNorm(_ model: Model, train: Dataset, normalization: Normalization, examples: Int,
                                           progress: (Double) -> Bool) throws {
        guard model.reestimateBatchNormStatistics(dataset: train, normalization: normalization, examples: examples,
                                                  progress: progress) else { throw PruningCancelled() }
    }

    /// Fine-tunes `model` in place with `regularizer`; throws `PruningCancelled` when
    /// `progress` returns false.
    public static func fineTune(_ model: Model, train: Dataset, normalization: Normalization, settings: FineTuningSettings,
                                regularizer: RegularizerChoice, progress: (TrainingProgress) -> Bool) throws {
        let trainer = regularizer.trainer(for: model, configuration: settings.configuration)
        guard trainer.fit(train: train, normalization: normalization, augmentation: Augmentation.standard(for: train),
                          progress: progress, epochFinished: { _ in }) else { throw PruningCancelled() }
    }
}
