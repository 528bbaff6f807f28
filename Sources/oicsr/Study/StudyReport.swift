import Foundation
import Pruning

/// The study's results as two Markdown pages (the regularizers and optimisers; the default
/// selection) and one plot per architecture.
enum StudyReport {
    typealias Report = StudyCommand.Report
    static let colors = ["l2": "#7f7f7f", "gl/subgradient": "#9ecae1", "gl/proximal": "#1f77b4",
                         "oicsr-gl/subgradient": "#fc9272", "oicsr-gl/proximal": "#d62728", "l1-bn/proximal": "#ff7f0e"]

    static func pct(_ v: Double) -> String { String(format: "%.2f", v * 100) }
    static func signed(_ v: Double) -> String { String(format: "%+.2f", v * 100) }

    static func point(_ r: Report, _ architecture: String, _ variant: String, _ target: Double) -> StudyCommand.TestPoint? {
        r.points.first { $0.architecture == architecture && $0.variant == variant && abs($0.target - target) < 1e-9 }
    }

    static func plot(_ r: Report, architecture: String) -> LinePlot {
        let series = Variant.all.map(\.name).map { variant in
            LinePlot.Series(label: variant, color: colors[variant] ?? "#000000", dashed: variant.hasSuffix("subgradient"),
                            points: r.points.filter { $0.architecture == architecture && $0.variant == variant }
                                .map { ($0.target * 100, $0.prunedTop1 * 100) })
        }
        return LinePlot(title: "\(architecture), \(r.dataset): test top-1 as pruned (\(r.defaultSelection.name))",
                        xLabel: "MACs removed (%)", yLabel: "test top-1 (%)", xRange: 0...70, yRange: 0...100, series: series)
    }

    /// Mean over `targets` of (a − b) as pruned, for one architecture; nil when a point is missing.
    static func gap(_ r: Report, _ architecture: String, _ a: String, _ b: String, targets: [Double]) -> Double? {
        var sum = 0.0
        for t in targets {
            guard let x = point(r, architecture, a, t), let y = point(r, architecture, b, t) else { return nil }
            sum += x.prunedTop1 - y.prunedTop1
        }
        return sum / Double(max(targets.count, 1))
    }

    /// How much of OICSR-GL's lead over GL trained as the paper trains it comes from the
    /// out-in group and how much from the proximal optimiser, both ways round.
    static func decomposition(_ r: Report) -> String {
        let targets = Array(Set(r.points.map(\.target))).sorted()
        let ranges: [(String, [Double])] = [("at 50%", targets.filter { abs($0 - 0.5) < 1e-9 }), ("mean over \(Int(targets.first! * 100))–\(Int(targets.last! * 100))%", targets)]
        var md = """
            ## The group and the optimiser

            Test top-1 as pruned (the fixed ranking; no fine-tuning, no BN re-estimation), in points. The lead of OICSR-GL with the
            proximal step over GL trained as the paper trains it (subgradient) splits into the group's part
            and the optimiser's part, and the split depends on which comes first: both orders are shown.

            | model | range | OICSR-GL prox − GL subgrad | group, paper's optimiser: OICSR subgrad − GL subgrad | then optimiser: OICSR prox − OICSR subgrad | optimiser, GL: GL prox − GL subgrad | then group: OICSR prox − GL prox | paper's OICSR-GL (subgrad) − L2 |
            | --- | --- | --- | --- | --- | --- | --- | --- |

            """
        var sentences: [String] = []
        for architecture in r.architectures {
            let all = targets
            guard let lead = gap(r, architecture, "oicsr-gl/proximal", "gl/subgradient", targets: all),
                  let group = gap(r, architecture, "oicsr-gl/subgradient", "gl/subgradient", targets: all),
                  let optimiser = gap(r, architecture, "oicsr-gl/proximal", "oicsr-gl/subgradient", targets: all),
                  let glOptimiser = gap(r, architecture, "gl/proximal", "gl/subgradient", targets: all),
                  let glGroup = gap(r, architecture, "oicsr-gl/proximal", "gl/proximal", targets: all),
                  let paper = gap(r, architecture, "oicsr-gl/subgradient", "l2", targets: all),
                  let proximalOverL2 = gap(r, architecture, "oicsr-gl/proximal", "l2", targets: all) else { continue }
            sentences.append("**\(architecture)**, mean over \(Int(all.first! * 100))–\(Int(all.last! * 100))% of MACs removed: OICSR-GL with the proximal step "
                + "keeps \(signed(lead)) points more than GL trained by the paper's subgradient. Taking the group first, "
                + "\(signed(group)) comes from the out-in group (both by subgradient) and \(signed(optimiser)) from the proximal step; "
                + "taking the optimiser first, \(signed(glOptimiser)) comes from the proximal step (both GL) and \(signed(glGroup)) from the group. "
                + "The paper's own optimiser lands at \(signed(paper)) points against L2 (OICSR-GL by subgradient), where the proximal step lands at \(signed(proximalOverL2)).")
        }
        md = md.replacingOccurrences(of: "both orders are shown.\n", with: "both orders are shown.\n\n" + sentences.joined(separator: "\n\n") + "\n")
        for architecture in r.architectures {
            for (label, range) in ranges where !range.isEmpty {
                func g(_ a: String, _ b: String) -> String { gap(r, architecture, a, b, targets: range).map(signed) ?? "–" }
                md += "| \(architecture) | \(label) | \(g("oicsr-gl/proximal", "gl/subgradient")) | \(g("oicsr-gl/subgradient", "gl/subgradient")) | "
                    + "\(g("oicsr-gl/proximal", "oicsr-gl/subgradient")) | \(g("gl/proximal", "gl/subgradient")) | \(g("oicsr-gl/proximal", "gl/proximal")) | "
                    + "\(g("oicsr-gl/subgradient", "l2")) |\n"
            }
        }
        return md
    }

    static func markdown(_ r: Report) -> String {
        let minutes = String(format: "%.0f", r.seconds / 60)
        var md = """
            # OICSR on \(r.dataset): the group, the optimiser, and pruning before fine-tuning

            Written by `oicsr study` (the run that wrote it: \(minutes) minutes on two shared cores; a run reuses the models
            it finds trained in its cache). Each of
            \(r.architectures.map { "`\($0)`" }.joined(separator: " and ")) is trained for \(r.epochs) epochs (SGD, momentum 0.9, lr 0.05 cosine,
            weight decay 5e-4, batch 128, seed 1) on the first \(r.trainExamples) training images with each regularizer: L2
            (weight decay only); GL (group lasso on each layer's filters) and OICSR-GL (group lasso on whole out-in
            channels), each with the paper's optimiser — the penalty's subgradient added to the loss gradient — and
            with a proximal step after each SGD step (the exact operator for OICSR's overlapping groups); L1-BN
            (proximal). The next \(r.validationExamples) training images are held out: they choose λ and the default
            selection. Accuracies below are on the \(r.testExamples)-image test set. MACs are multiply-accumulates of conv
            and linear layers for one image. Pruning is one-shot, by the global greedy selection (cap 50% of a
            layer's channels), by two rankings (see [selection.md](selection.md)): the fixed one chosen over all
            models on validation, **\(r.defaultSelection.name)**, which the comparisons between regularizers use;
            and the calibrated one, the default of `oicsr prune`: per model and target, the candidate ranking,
            with or without compensation (`+comp`), whose pruned model keeps the most top-1 on the validation images (every
            candidate on all \(r.validationExamples) of them, where `oicsr prune` screens on \(Calibration.defaultScreening) and measures the best
            again on \(Calibration.defaultExamples)). Checkpoints are in `\(r.cache)/`.

            \(decomposition(r))

            """
        for architecture in r.architectures {
            md += "\n## \(architecture)\n\n![test top-1 against MACs removed](oicsr-study-\(architecture).svg)\n\n"
            md += "### λ sweep (validation)\n\nValidation top-1 of the dense model and at 50% of MACs removed, as pruned, under the selection that kept the most; the training loss and penalty (mean over the last epoch). The chosen λ keeps the most at 50% among the values whose dense model is within 5 points of L2's; λ is extended until it has a tried neighbour on both sides.\n\n"
            md += "| regularizer | λ | train loss | penalty | dense | 50% pruned | best selection | chosen |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n"
            for run in r.sweep where run.architecture == architecture {
                let chosen = r.lambda[architecture]?[run.variant] == run.lambda
                let tried = r.sweep.filter { $0.architecture == architecture && $0.variant == run.variant }.map(\.lambda)
                let bracketed = tried.contains { $0 < run.lambda } && tried.contains { $0 > run.lambda }
                let mark = chosen ? (run.variant == "l2" || bracketed ? "✓" : "✓ (edge)") : ""
                md += "| \(run.variant) | \(run.variant == "l2" ? "–" : String(format: "%g", run.lambda)) | \(String(format: "%.3f", run.trainLoss)) | "
                    + "\(String(format: "%.3f", run.trainPenalty)) | \(pct(run.validationDenseTop1)) | \(pct(run.validationPrunedTop1)) | \(run.bestSelection) | \(mark) |\n"
            }
            let variants = Variant.all.map(\.name)
            md += "\n### One-shot pruning, test top-1 (%) as pruned (fixed ranking \(r.defaultSelection.name))\n\n"
            md += "| MACs removed | " + variants.joined(separator: " | ") + " |\n| --- |" + String(repeating: " --- |", count: variants.count) + "\n"
            md += "| dense | " + variants.map { r.denseTop1[architecture]?[$0].map(pct) ?? "–" }.joined(separator: " | ") + " |\n"
            for target in Array(Set(r.points.map(\.target))).sorted() {
                md += "| \(Int((target * 100).rounded()))% |"
                for variant in variants {
                    if let p = point(r, architecture, variant, target) { md += " \(pct(p.prunedTop1)) |" } else { md += " – |" }
                }
                md += "\n"
            }
            let calibrated = r.points.filter { $0.architecture == architecture && $0.calibratedTop1 != nil }
            if !calibrated.isEmpty {
                md += "\n### One-shot pruning, test top-1 (%) as pruned, ranking chosen on validation (the default of `oicsr prune`)\n\n"
                md += "Each cell: top-1 (criterion/normalisation chosen). Against the fixed ranking above: "
                    + "\(calibrated.filter { $0.calibratedTop1! >= $0.prunedTop1 }.count) of \(calibrated.count) at least as high, "
                    + "\(signed(calibrated.map { $0.calibratedTop1! - $0.prunedTop1 }.reduce(0, +) / Double(calibrated.count))) points on average.\n\n"
                md += "| MACs removed | " + variants.joined(separator: " | ") + " |\n| --- |" + String(repeating: " --- |", count: variants.count) + "\n"
                for target in Array(Set(calibrated.map(\.target))).sorted() {
                    md += "| \(Int((target * 100).rounded()))% |"
                    for variant in variants {
                        if let p = point(r, architecture, variant, target), let top1 = p.calibratedTop1 {
                            md += " \(pct(top1)) (\(p.calibratedSelection ?? "?")) |"
                        } else { md += " – |" }
                    }
                    md += "\n"
                }
            }
            md += "\n### One epoch of fine-tuning at 50% of MACs removed (lr 0.01 cosine, no regularizer)\n\n"
            md += "| regularizer | λ | ranking | MACs removed | as pruned | after one epoch |\n| --- | --- | --- | --- | --- | --- |\n"
            for f in r.finetune where f.architecture == architecture {
                let lambda = f.variant == "l2" ? "–" : String(format: "%g", r.lambda[architecture]?[f.variant] ?? 0)
                md += "| \(f.variant) | \(lambda) | \(f.selection) | \(pct(f.macsRemoved))% | \(pct(f.prunedTop1)) | \(pct(f.finetunedTop1)) |\n"
            }
        }
        return md
    }

    /// The page that says how the default selection was chosen.
    static func selectionPage(_ r: Report) -> String {
        let ranking = SelectionChoice.rank(r.selection)
        let variants = Variant.all.map(\.name)
        let models = Set(r.selection.map(\.model)).count
        let targets = Array(Set(r.selection.map(\.target))).sorted().map { "\(Int(($0 * 100).rounded()))%" }.joined(separator: ", ")
        var md = """
            # The default selection

            Written by `oicsr study`. No one ranking of channels suits every model: the weights a regularizer
            leaves differ in scale and sparsity from layer to layer and from model to model. So when the user
            names neither criterion nor normalisation, `oicsr prune` **calibrates**: it prunes a copy of the
            model to the target by every candidate ranking (every normalisation, and the criteria the model's
            training left open: `out` and `out-in` after L2 or GL), each both without and with **compensation**
            (`+comp`: surgery folds each removed channel's expected value, E[max(0, N(β, γ²))] from its BatchNorm
            carried through ReLUs, sums and pools, into the biases or BatchNorm means of the layers that read it,
            so that what they lose is the channel's variation, not its mean; from the weights alone, no data),
            measures each copy as pruned on calibration images (`--calibrate N`: the last N = \(Calibration.defaultExamples) training
            images, held out when the model was trained on the ones before them; never the test set), and keeps
            the candidate whose copy classifies the most of them. It measures in two stages: every copy on the
            last \(Calibration.defaultScreening) of the images, then the \(Calibration.defaultFinalists) best again on all of them, and the choice is made among
            those \(Calibration.defaultFinalists). The best candidates often differ by a few tenths of a point, a handful of images in \(Calibration.defaultScreening):
            noise that picked a candidate keeping 0.9 points less on the test set than Torch-Pruning's ranking in
            one cell of [selection-vs-torch-pruning.md](selection-vs-torch-pruning.md) when every candidate was measured on \(Calibration.defaultScreening) images alone;
            measuring all of them on \(Calibration.defaultExamples) would take five times as long. Candidates that take the same channels are
            measured once each way; on the models below `oicsr prune --dry-run` takes about 9 seconds for
            convnet-s and 24 for resnet20 (24 candidates; 6 and 15 with `--calibrate 2000`, one stage). How it compares with the fixed ranking on the test set is in [oicsr-study.md](oicsr-study.md),
            and with Torch-Pruning in [selection-vs-torch-pruning.md](selection-vs-torch-pruning.md).

            Without calibration images that fit the model (`oicsr energies`, the explorer's walk until `N`
            asks for the calibration) the ranking is fixed: the default below (`EnergyNormalization.standard`,
            the criterion of models trained with L2 or GL, `ImportanceCriterion.matching`, and compensation,
            `CompensationChoice.uncalibrated`), which is also the first candidate a calibration prefers among
            equals. It is chosen on the validation split
            (\(r.validationExamples) training images held out),
            never on the test set, over \(models) models: \(r.architectures.joined(separator: " and ")), each regularizer with each
            optimiser, at the chosen λ, after the first epoch (early) and at the end (late).
            Each model is pruned one-shot at \(targets) of MACs removed, without fine-tuning or BN re-estimation.
            Models trained with OICSR-GL are ranked by the out-in channel and those trained with L1-BN by |γ|,
            what their training regularized. L2 fixes no criterion, and GL shrinks filters while a selection removes
            whole out-in channels: for both, the filter with its BatchNorm (`out`) or the whole out-in channel
            is part of the choice (a name says where it is not `out`), and so is compensation (`+comp`).

            A candidate's score is its mean validation top-1 over every model and target; regret is the shortfall
            from the best candidate on the same model and target. Ties in the mean go to the smaller worst regret.

            | selection | mean top-1 | mean regret | worst regret | \(variants.joined(separator: " | ")) |
            | --- | --- | --- | --- |\(String(repeating: " --- |", count: variants.count))

            """
        for (i, score) in ranking.enumerated() {
            let name = i == 0 ? "**\(score.candidate.name)**" : score.candidate.name
            md += "| \(name) | \(pct(score.meanTop1)) | \(pct(score.meanRegret)) | \(pct(score.worstRegret)) | "
                + variants.map { score.byVariant[$0].map(pct) ?? "–" }.joined(separator: " | ") + " |\n"
        }
        md += "\nBy this rule the default is **\(ranking.first?.candidate.name ?? "–")**"
        md += ranking.first?.candidate.name == r.defaultSelection.name ? ".\n" : " (the run that wrote the test figures used \(r.defaultSelection.name)).\n"

        // Per model and criterion at 50%, the normalisations side by side.
        md += "\n## At 50% of MACs removed, per model (validation top-1, every criterion measured)\n\n"
        let normalizations = EnergyNormalization.allCases.map(\.rawValue)
        md += "| model | criterion | " + normalizations.joined(separator: " | ") + " |\n| --- | --- |" + String(repeating: " --- |", count: normalizations.count) + "\n"
        let keys = Array(Set(r.selection.map { "\($0.model)|\($0.criterion)|\($0.compensated == true)" })).sorted()
        for key in keys {
            let parts = key.split(separator: "|").map(String.init)
            let row = normalizations.map { n in
                r.selection.first {
                    $0.model == parts[0] && $0.criterion == parts[1] && String($0.compensated == true) == parts[2] && $0.normalization == n
                        && abs($0.target - 0.5) < 1e-9
                }.map { pct($0.validationTop1) } ?? "–"
            }
            md += "| \(parts[0]) | \(parts[1])\(CompensationChoice.mark(parts[2] == "true")) | " + row.joined(separator: " | ") + " |\n"
        }
        md += """

            The normalisations: \(EnergyNormalization.allCases.map { "`\($0.rawValue)` = \($0.summary)" }.joined(separator: "; ")).
            On weights a proximal regularizer has made sparse, every normalisation first takes the channels at exactly
            zero energy, so they tie; the choice is made by the models where they differ (L2, the subgradient
            variants, early checkpoints). The comparison with Torch-Pruning on the same weights is in
            [selection-vs-torch-pruning.md](selection-vs-torch-pruning.md).

            """
        return md
    }
}
