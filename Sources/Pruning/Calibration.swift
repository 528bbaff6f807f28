import Engine

// A calibrated selection (docs/selection.md): no one normalisation ranks channels best on
// every model, since the weights a regularizer leaves differ in scale and sparsity from layer
// to layer. So a schedule given calibration images prunes the model once per candidate ranking
// to the whole target, measures each pruned model on those images as it is (no repair), and
// keeps the ranking whose model classifies the most of them. Each ranking is measured with
// and without compensation (Compensation.swift) when the schedule leaves that open.
// Candidates whose walks take the same channels are measured once each way.
//
// The best candidates often differ by a few tenths of a point, which on 2,000 images is a
// handful of images: noise. Measuring all two dozen on 10,000 would cost five times as much, so
// the measure is in two stages: every candidate on the last `screening` images, then the few
// best again on all of them, and the choice is made among those few alone.

/// Images a schedule chooses its ranking on: held out from training where the caller can.
public struct Calibration {
    /// How many images `oicsr prune` and the explorer calibrate on by default, how many of
    /// them every candidate is screened on, and how many candidates are measured on all.
    public static let defaultExamples = 10_000
    public static let defaultScreening = 2_000
    public static let defaultFinalists = 4

    public let images: Dataset
    /// The model's input normalisation.
    public let normalization: Normalization
    /// How many of the last images every candidate is screened on.
    public var screening = Calibration.defaultScreening
    /// How many of the best screened candidates (distinct prunings) are measured on all images.
    public var finalists = Calibration.defaultFinalists
    /// Measures made so far and their number (every distinct candidate screened, then every
    /// finalist), also called while one is made; returns false to stop (the plan then throws
    /// `PruningCancelled`).
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
    /// The images it was measured on: all of them for a finalist, else the screening images.
    public let examples: Int

    public init(ranking: Ranking, compensated: Bool, removedShare: Double, top1: Double, loss: Double, examples: Int) {
        self.ranking = ranking; self.compensated = compensated; self.removedShare = removedShare; self.top1 = top1; self.loss = loss
        self.examples = examples
    }

    /// The ranking's name, marked when compensated.
    public var name: String { ranking.name + CompensationChoice.mark(compensated) }

    /// The better of two: a finalist beats a candidate screened out (their figures come from
    /// different images), then more top-1, then less loss (on a few thousand images top-1 ties
    /// often).
    func beats(_ other: CalibrationScore) -> Bool {
        (examples, top1, -loss) > (other.examples, other.top1, -other.loss)
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

    /// The scores of `candidates` in their order, pruned from `model` to the steps each needs:
    /// every one screened, the finalists measured again on all images.
    func scores(_ candidates: [Candidate], model: Model, groups: ChannelGroups, cost: WidthCostModel,
                widthMultiple: Int) throws -> [CalibrationScore] {
        let screened = images.subset(last: screening)
        // The images not screened on: a finalist's measure on all is the two parts pooled.
        let rest = images.subset(first: images.count - screened.count)
        let plans = candidates.map { $0.selection.plan(steps: $0.wholeTargetSteps, widthMultiple: widthMultiple) }
        let keys = candidates.indices.map { MeasuredKey(kept: plans[$0].kept, compensates: candidates[$0].compensates) }
        var seen = Set<MeasuredKey>()
        let distinct = keys.indices.filter { seen.insert(keys[$0]).inserted }
        let final = rest.count > 0 && distinct.count > 1 ? min(finalists, distinct.count) : 0
        let steps = distinct.count + final
        // Pruned once per measure rather than kept: surgery costs little beside an evaluation,
        // and two dozen copies of a large model would not.
        func pruned(_ index: Int) throws -> Model {
            do { return try Surgery.prune(model, groups: groups, plan: plans[index], compensating: candidates[index].compensates) } catch {
                throw PruningError(problem: "calibrating \(candidates[index].ranking.name): \(error)", concernsTarget: false)
            }
        }
        var measured: [MeasuredKey: Evaluation] = [:]
        for (done, index) in distinct.enumerated() {
            measured[keys[index]] = try measure(pruned(index), on: screened, step: done, of: steps)
        }
        let ranked = distinct.sorted { a, b in
            let (first, second) = (measured[keys[a]]!, measured[keys[b]]!)
            return first.keepsMore(than: second) || (!second.keepsMore(than: first) && a < b)
        }
        for (done, index) in ranked.prefix(final).enumerated() {
            let onRest = try measure(pruned(index), on: rest, step: distinct.count + done, of: steps)
            measured[keys[index]] = measured[keys[index]]!.pooled(with: onRest)
        }
        return candidates.indices.map { index in
            let candidate = candidates[index], result = measured[keys[index]]!
            return CalibrationScore(ranking: candidate.ranking, compensated: candidate.compensates,
                                    removedShare: candidate.selection.removedShare(after: candidate.wholeTargetSteps,
                                                                                   widthMultiple: widthMultiple, cost: cost),
                                    top1: result.top1, loss: result.loss, examples: result.count)
        }
    }

    /// `model` evaluated on `dataset` as measure `step` of `of`, progress reported along the way.
    private func measure(_ model: Model, on dataset: Dataset, step: Int, of steps: Int) throws -> Evaluation {
        guard let evaluation = Evaluator.evaluate(model, dataset: dataset, normalization: normalization, progress: { _ in
            progress(step, steps)
        }) else { throw PruningCancelled() }
        guard progress(step + 1, steps) else { throw PruningCancelled() }
        return evaluation
    }

    /// What makes two candidates' pruned models the same.
    private struct MeasuredKey: Hashable {
        let kept: [[Int]]
        let compensates: Bool
    }
}

private extension Evaluation {
    /// More top-1, then less loss: how a calibration ranks two prunings on the same images.
    func keepsMore(than other: Evaluation) -> Bool { (top1, -loss) > (other.top1, -other.loss) }

    /// The evaluation over these images and `other`'s together. Per-class accuracies would need
    /// per-class counts, which an evaluation does not keep; a calibration does not read them.
    func pooled(with other: Evaluation) -> Evaluation {
        let n = Double(count + other.count)
        var pooled = self
        pooled.top1 = (top1 * Double(count) + other.top1 * Double(other.count)) / n
        pooled.loss = (loss * Double(count) + other.loss * Double(other.count)) / n
        pooled.perClassAccuracy = []
        pooled.count = count + other.count
        return pooled
    }
}
