import Engine

// A calibrated selection (docs/selection.md): no one normalisation ranks channels best on
// every model, since the weights a regularizer leaves differ in scale and sparsity from layer
// to layer. So a schedule given calibration images prunes the model once per candidate ranking
// to the whole target, measures each pruned model on those images as it is (no repair), and
// keeps the ranking whose model classifies the most of them. Each ranking is measured with
// and without compensation (Compensation.swift) when the schedule leaves that open.
// Candidates whose walks take the same channels are measured once each way.

/// Images a schedule chooses its ranking on: held out from training where the caller can.
public struct Calibration {
    public let images: Dataset
    /// The model's input normalisation.
    public let normalization: Normalization
    /// Candidates measured so far and their number, also called while one is measured;
    /// returns false to stop (the plan then throws `PruningCancelled`).
    public var progress: (_ done: Int, _ of: Int) -> Bool

    public init(images: Dataset, normalization: Normalization, progress: @escaping (_ done: Int, _ of: Int) -> Bool = { _, _ in true }) {
        self.images = images; self.normalization = normalization; self.progress = progress
    }
}

/// One candidate ranking pruned to the whole target, with or without compensation, and
/// measured on the calibration images.
public struct CalibrationScore: Sendable, Codable, Equatable {
    public let ranking: Ranking
    /// Whether surgery folded the removed channels' expected values into their readers.
    public let compensated: Bool
    /// Share of the target metric its plan removes.
    public let removedShare: Double
    public let top1: Double
    public let loss: Double

    public init(ranking: Ranking, compensated: Bool, removedShare: Double, top1: Double, loss: Double) {
        self.ranking = ranking; self.compensated = compensated; self.removedShare = removedShare; self.top1 = top1; self.loss = loss
    }

    /// The ranking's name, marked when compensated.
    public var name: String { ranking.name + CompensationChoice.mark(compensated) }

    /// The better of two: more top-1, then less loss (on a few thousand images top-1 ties often).
    func beats(_ other: CalibrationScore) -> Bool {
        (top1, -loss) > (other.top1, -other.loss)
    }
}

extension Calibration {
    /// A candidate's walk, the steps that reach the target, and whether surgery compensates.
    struct Candidate {
        let ranking: Ranking
        let selection: Selection
        let wholeTargetSteps: Int
        let compensates: Bool
    }

    /// The scores of `candidates` in their order, pruned from `model` to the steps each needs.
    func scores(_ candidates: [Candidate], model: Model, groups: ChannelGroups, cost: WidthCostModel,
                widthMultiple: Int) throws -> [CalibrationScore] {
        var measured: [MeasuredKey: (top1: Double, loss: Double)] = [:]
        var scores: [CalibrationScore] = []
        for (index, candidate) in candidates.enumerated() {
            let plan = candidate.selection.plan(steps: candidate.wholeTargetSteps, widthMultiple: widthMultiple)
            let result: (top1: Double, loss: Double)
            let key = MeasuredKey(kept: plan.kept, compensates: candidate.compensates)
            if let known = measured[key] {
                result = known
            } else {
                let pruned: Model
                do { pruned = try Surgery.prune(model, groups: groups, plan: plan, compensating: candidate.compensates) } catch {
                    throw PruningError(problem: "calibrating \(candidate.ranking.name): \(error)", concernsTarget: false)
                }
                guard let evaluation = Evaluator.evaluate(pruned, dataset: images, normalization: normalization, progress: { _ in
                    progress(index, candidates.count)
                }) else { throw PruningCancelled() }
                result = (evaluation.top1, evaluation.loss)
                measured[key] = result
            }
            let removed = candidate.selection.removedShare(after: candidate.wholeTargetSteps, widthMultiple: widthMultiple, cost: cost)
            scores.append(CalibrationScore(ranking: candidate.ranking, compensated: candidate.compensates, removedShare: removed,
                                           top1: result.top1, loss: result.loss))
            guard progress(index + 1, candidates.count) else { throw PruningCancelled() }
        }
        return scores
    }

    /// What makes two candidates' pruned models the same.
    private struct MeasuredKey: Hashable {
        let kept: [[Int]]
        let compensates: Bool
    }
}
