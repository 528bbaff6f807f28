import Engine
import Foundation
import Pruning

/// One-shot pruning of a model by one selection, measured: the greedy walk is run once per
/// (criterion, normalisation) and cut at each target; a pruned model is evaluated once per
/// distinct plan and compensation (on strongly regularized weights several selections take
/// the same channels).
final class PruningProbe {
    let model: Model
    let groups: ChannelGroups
    private var walks: [String: Selection] = [:]
    private var measured: [Measured: Double] = [:]

    private struct Measured: Hashable {
        let kept: [[Int]]
        let compensated: Bool
    }

    /// `coupled`: offer the residual channels joined across a stage too.
    init(_ model: Model, coupled: Bool) {
        self.model = model
        groups = ChannelGroups(graph: model.graph, includeCoupled: coupled)
    }

    struct Outcome {
        var macsRemoved: Double
        var top1: Double
        var pruned: Model
    }

    func walk(_ criterion: ImportanceCriterion, _ normalization: EnergyNormalization) -> Selection {
        let key = criterion.rawValue + "/" + normalization.rawValue
        if let known = walks[key] { return known }
        let selection = GreedySelection.walk(model: model, groups: groups, criterion: criterion, normalization: normalization, metric: .flops)
        walks[key] = selection
        return selection
    }

    /// The model pruned to `target` of MACs removed (surgery compensating or not), and its
    /// top-1 as `evaluate` measures it.
    func measure(_ criterion: ImportanceCriterion, _ normalization: EnergyNormalization, target: Double, compensating: Bool = false,
                 evaluate: (Model) throws -> Double) throws -> (macsRemoved: Double, top1: Double) {
        let selection = walk(criterion, normalization)
        guard let steps = selection.stepCount(toReach: target) else {
            throw RuntimeFailure(description: "the 50% cap stops \(model.architecture.name) at \(String(format: "%.1f", selection.reachableShare * 100))% of MACs removed, short of \(Int(target * 100))%")
        }
        let plan = selection.plan(steps: steps)
        let key = Measured(kept: plan.kept, compensated: compensating)
        if let top1 = measured[key] { return (selection.removedShare(after: steps), top1) }
        let top1 = try evaluate(try Surgery.prune(model, groups: groups, plan: plan, compensating: compensating))
        measured[key] = top1
        return (selection.removedShare(after: steps), top1)
    }

    func pruned(_ criterion: ImportanceCriterion, _ normalization: EnergyNormalization, target: Double,
                compensating: Bool) throws -> (model: Model, macsRemoved: Double) {
        let selection = walk(criterion, normalization)
        guard let steps = selection.stepCount(toReach: target) else {
            throw RuntimeFailure(description: "the 50% cap stops \(model.architecture.name) at \(String(format: "%.1f", selection.reachableShare * 100))% of MACs removed, short of \(Int(target * 100))%")
        }
        return (try Surgery.prune(model, groups: groups, plan: selection.plan(steps: steps), compensating: compensating),
                selection.removedShare(after: steps))
    }
}

/// The default selection, chosen on validation top-1 over every model of the study.
enum SelectionChoice {
    /// A candidate default: a normalisation, and the criterion for the models whose training
    /// does not fix one. L2 fixes none. GL shrinks each filter, but a selection removes the
    /// whole out-in channel (filter, BatchNorm and the consumers' input slices), so whether its
    /// models rank better by the filter or by the whole channel is measured too. OICSR-GL and
    /// L1-BN regularize exactly what their criteria measure. Surgery compensates or not
    /// (Pruning/Compensation.swift).
    struct Candidate: Hashable, Codable {
        var normalization: EnergyNormalization
        var l2Criterion: ImportanceCriterion
        var glCriterion: ImportanceCriterion
        /// Absent in results written before compensation: false.
        var compensates: Bool?
        var name: String {
            var unfixed: [String] = []
            if l2Criterion != .outChannel { unfixed.append("l2: \(l2Criterion.rawValue)") }
            if glCriterion != .outChannel { unfixed.append("gl: \(glCriterion.rawValue)") }
            return normalization.rawValue + (unfixed.isEmpty ? "" : " (\(unfixed.joined(separator: ", ")))")
                + CompensationChoice.mark(compensates == true)
        }

        /// The criterion this candidate ranks `variant`'s models by.
        func criterion(for variant: Variant) -> ImportanceCriterion {
            switch variant.kind {
            case .l2: return l2Criterion
            case .gl: return glCriterion
            case .oicsrGL, .l1BN: return .matching(variant.kind)
            }
        }
    }

    static var candidates: [Candidate] {
        let unfixed = [ImportanceCriterion.outChannel, .outIn]
        return [false, true].flatMap { compensates in
            unfixed.flatMap { l2 in
                unfixed.flatMap { gl in
                    EnergyNormalization.allCases.map { Candidate(normalization: $0, l2Criterion: l2, glCriterion: gl, compensates: compensates) }
                }
            }
        }
    }

    struct Score: Codable {
        var candidate: Candidate
        /// Mean validation top-1 over every model and target.
        var meanTop1: Double
        /// Mean per variant (over architectures, λ, stages and targets).
        var byVariant: [String: Double]
        /// Mean and largest shortfall from the best candidate on the same model and target.
        var meanRegret: Double
        var worstRegret: Double
    }

    /// Scores every candidate on `results` (validation top-1 per model, criterion,
    /// normalisation and target), best first: highest mean top-1, then lowest worst regret.
    static func rank(_ results: [StudyCommand.SelectionPoint]) -> [Score] {
        var table: [String: Double] = [:]
        var cases: Set<String> = []
        for r in results {
            table["\(r.model)|\(r.target)|\(r.criterion)|\(r.normalization)|\(r.compensated == true)"] = r.validationTop1
            cases.insert("\(r.model)|\(r.target)")
        }
        let variants = Dictionary(results.map { ($0.model, $0.variant) }, uniquingKeysWith: { a, _ in a })
        func value(_ c: Candidate, _ model: String, _ target: String) -> Double? {
            guard let variant = variants[model].flatMap(Variant.init(name:)) else { return nil }
            return table["\(model)|\(target)|\(c.criterion(for: variant).rawValue)|\(c.normalization.rawValue)|\(c.compensates == true)"]
        }
        let all = candidates
        let ordered = cases.sorted()
        var best: [String: Double] = [:]
        for key in ordered {
            let parts = key.split(separator: "|").map(String.init)
            best[key] = all.compactMap { value($0, parts[0], parts[1]) }.max()
        }
        let scores = all.compactMap { c -> Score? in
            var sum = 0.0, regret = 0.0, worst = 0.0, count = 0
            var perVariant: [String: (Double, Int)] = [:]
            for key in ordered {
                let parts = key.split(separator: "|").map(String.init)
                guard let v = value(c, parts[0], parts[1]), let top = best[key] else { continue }
                sum += v; count += 1
                regret += top - v; worst = max(worst, top - v)
                let name = variants[parts[0]]!
                perVariant[name, default: (0, 0)].0 += v
                perVariant[name, default: (0, 0)].1 += 1
            }
            // A candidate is scored only where it was measured on every model and target.
            guard count > 0, count == ordered.count else { return nil }
            return Score(candidate: c, meanTop1: sum / Double(count), byVariant: perVariant.mapValues { $0.0 / Double($0.1) },
                         meanRegret: regret / Double(count), worstRegret: worst)
        }
        return scores.sorted { ($0.meanTop1, -$0.worstRegret) > ($1.meanTop1, -$1.worstRegret) }
    }
}
