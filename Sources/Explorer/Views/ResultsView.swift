import Canvas
import Pruning

// The before/after panel, in three sizes: the results view (every row, with what each
// missing figure needs), the side panel of wide screens (cost, settings, accuracy and
// speed), and the two-line cost strip of narrow ones. Every figure reads "before → after"
// with the change; FLOPs are multiply-accumulates (MACs) per image.

enum ResultsView {
    /// One "before → after (change)" line.
    struct Comparison {
        var label: String
        /// For the narrow side panel.
        var shortLabel: String
        var before: String
        var after: String
        var change: String
        var changeStyle: Style
        /// True when `change` is a hint about how to get the figure rather than a change.
        var isMissing = false
    }

    // MARK: The results view

    static func drawMain(_ state: ExplorerState, area: Rect, into grid: inout Grid) {
        Box(title: "Before → after").render(into: &grid, area: area)
        let inner = Box.inner(area).inset(horizontal: 1, vertical: 0)
        guard inner.height > 0 else { return }
        let intro: (String, Style)
        if let pruned = state.results.pruned {
            let saved = pruned.isSaved ? "saved as \(ExplorerView.fileName(pruned.savedPath ?? ""))" : "unsaved: s saves"
            intro = ("pruned at step \(pruned.settings.steps) (\(Format.percent(pruned.removedShare, decimals: 1)) of FLOPs) · \(pruned.settings.criterion.rawValue)/\(pruned.settings.normalization.rawValue) · \(saved)", .normal)
        } else {
            intro = ("no pruned model yet: p prunes the current selection; the after column shows what it would cost", .dim)
        }
        let introLines = Text.wrapped(intro.0, width: inner.width)
        for (index, line) in introLines.prefix(2).enumerated() { grid.put(line, in: inner.row(index), style: intro.1) }
        let top = min(2, introLines.count) + 1
        let rows = comparisons(state, includeCost: true)
        let tableArea = Rect(x: inner.x, y: inner.y + top, width: min(inner.width, 84), height: rows.count + 1)
        grid.render(table(rows), in: tableArea)

        var notes = [
            "top-1 and loss on the \(state.model.testExamples) test images of \(state.model.dataset)",
            "FLOPs are multiply-accumulates (MACs) of conv and linear layers per image",
            "latency: best batch-1 forward pass; throughput: batches of \(SpeedSummary.throughputBatch), this machine",
        ]
        if let pruned = state.results.pruned, let analysis = state.analysis {
            let groups = analysis.variant(coupled: pruned.settings.coupled).groups.groups
            let plan = Walk(analysis: analysis, key: pruned.settings.walkKey).selection.plan(steps: pruned.settings.steps)
            let widths = zip(groups, plan.kept).map { "\($0.name) \($1.count)/\($0.width)" }
            notes = Text.wrapped("widths kept: " + widths.joined(separator: ", "), width: inner.width) + notes
        }
        for (index, note) in notes.enumerated() {
            let y = tableArea.maxY + 1 + index
            guard y < inner.maxY else { break }
            grid.put(note, in: Rect(x: inner.x, y: y, width: inner.width, height: 1), style: .hint)
        }
    }

    // MARK: The side panel

    static func drawSidePanel(_ state: ExplorerState, area: Rect, into grid: inout Grid) {
        guard let walk = state.walk, let after = state.figuresAfter else { return }
        let (costArea, rest) = area.splitTop(6)
        Box(title: "Cost · FLOPs = MACs").render(into: &grid, area: costArea)
        let cost = costComparisons(before: walk.selection.before, after: after)
        grid.render(table(cost), in: Box.inner(costArea).inset(horizontal: 1, vertical: 0))

        let (settingsArea, resultsArea) = rest.splitTop(7)
        Box(title: "Selection").render(into: &grid, area: settingsArea)
        let settings = state.settings
        let lines: [(String, String)] = [
            ("criterion", settings.criterion.rawValue + (settings.criterion == state.model.matchingCriterion ? " (matches training)" : "")),
            ("normalise", "\(settings.normalization.rawValue): \(settings.normalization.summary)"),
            ("coupled", state.hasCoupledChannels ? (settings.coupled ? "residual stages too" : "block-internal only") : "none in \(state.model.name)"),
            ("limits", "cap \(Format.percent(Walk.limits.capShare)) per layer, floor \(Walk.limits.floor)"),
            ("history", "\(state.undoStack.count) undo, \(state.redoStack.count) redo"),
        ]
        let inner = Box.inner(settingsArea).inset(horizontal: 1, vertical: 0)
        for (index, (label, value)) in lines.enumerated() {
            let row = inner.row(index)
            grid.put(label, in: row, style: .dim)
            grid.put(value, in: row.splitLeft(11).rest)
        }

        // The results view shows these rows in full already.
        guard resultsArea.height >= 4, state.view != .results else { return }
        let title = state.results.pruned.map { "Pruned · \(Format.percent($0.removedShare, decimals: 1)) FLOPs" + ($0.isSaved ? " · saved" : "") } ?? "Before → after"
        Box(title: title).render(into: &grid, area: resultsArea)
        let rows = comparisons(state, includeCost: false).map { row in
            var short = row
            short.label = row.shortLabel
            return short
        }
        grid.render(table(rows), in: Box.inner(resultsArea).inset(horizontal: 1, vertical: 0))
    }

    // MARK: The cost strip

    static func drawCostStrip(_ state: ExplorerState, area: Rect, into grid: inout Grid) {
        guard let walk = state.walk, let after = state.figuresAfter else { return }
        let cost = costComparisons(before: walk.selection.before, after: after)
        let halves = area.inset(horizontal: 1, vertical: 0).columns([.fill, .fill])
        let cells = [(0, 0), (1, 0), (0, 1)]
        for (comparison, (column, row)) in zip(cost, cells) {
            let rect = halves[column].row(row)
            var x = grid.put(comparison.label, x: rect.x, y: rect.y, style: .dim, clip: rect)
            x = grid.put(" \(comparison.before) → ", x: max(x, rect.x + 9), y: rect.y, clip: rect)
            x = grid.put(comparison.after, x: x, y: rect.y, style: .accent, clip: rect)
            grid.put("  " + comparison.change, x: x, y: rect.y, style: comparison.changeStyle, clip: rect)
        }
        let status = halves[1].row(1)
        if let pruned = state.results.pruned {
            let accuracy = pruned.latest.map { "top-1 \(Format.percent($0.top1, decimals: 1))" } ?? "not evaluated (e)"
            grid.put("pruned model: \(accuracy) · " + (pruned.isSaved ? "saved" : "unsaved") + " · r results", in: status, style: .dim)
        } else {
            grid.put("no pruned model · p prunes · r results", in: status, style: .hint)
        }
    }

    // MARK: Rows

    static func costComparisons(before: CostFigures, after: CostFigures) -> [Comparison] {
        func row(_ label: String, _ b: Int, _ a: Int, compact: Bool) -> Comparison {
            let text = { (v: Int) in compact ? Format.compact(Double(v)) : String(v) }
            return Comparison(label: label, shortLabel: label, before: text(b), after: text(a), change: Format.change(from: Double(b), to: Double(a)),
                              changeStyle: a < b ? .good : .normal)
        }
        return [row("MACs", before.macs, after.macs, compact: true),
                row("params", before.parameters, after.parameters, compact: true),
                row("channels", before.channels, after.channels, compact: false)]
    }

    /// The before/after rows: accuracy at each stage, loss, then (optionally) cost, then speed.
    static func comparisons(_ state: ExplorerState, includeCost: Bool) -> [Comparison] {
        let dense = state.results.dense
        let pruned = state.results.pruned
        func percent(_ e: EvaluationSummary?) -> String { e.map { Format.percent($0.top1, decimals: 1) } ?? "–" }
        func accuracy(_ label: String, _ shortLabel: String, _ after: EvaluationSummary?, missing: String) -> Comparison {
            guard let after else {
                return Comparison(label: label, shortLabel: shortLabel, before: percent(dense), after: "–",
                                  change: missing, changeStyle: .hint, isMissing: true)
            }
            let style: Style = dense.map { after.top1 - $0.top1 < -0.01 ? .bad : (after.top1 >= $0.top1 ? .good : .normal) } ?? .normal
            return Comparison(label: label, shortLabel: shortLabel, before: percent(dense), after: percent(after),
                              change: dense.map { Format.points(from: $0.top1, to: after.top1) } ?? "", changeStyle: style)
        }
        let evaluates = dense == nil ? "e evaluates" : ""
        var rows = [
            accuracy("top-1, pruned", "top-1", pruned?.afterPruning, missing: pruned == nil ? "p prunes" : "e evaluates"),
            accuracy("top-1, + BN re-est.", "+ BN", pruned?.afterBatchNorm, missing: pruned == nil ? evaluates : "b re-estimates"),
            accuracy("top-1, fine-tuned", "tuned", pruned?.afterFineTuning, missing: pruned == nil ? "" : "f fine-tunes"),
        ]
        let latest = pruned?.latest
        rows.append(Comparison(label: "loss", shortLabel: "loss", before: dense.map { Format.fixed($0.loss, decimals: 3) } ?? "–",
                               after: latest.map { Format.fixed($0.loss, decimals: 3) } ?? "–",
                               change: dense.flatMap { d in latest.map { Format.difference(from: d.loss, to: $0.loss, decimals: 3) } } ?? "",
                               changeStyle: dense.flatMap { d in latest.map { $0.loss > d.loss ? .bad : .good } } ?? .normal))
        if includeCost, let walk = state.walk, let planned = state.figuresAfter {
            let before = pruned?.before ?? walk.selection.before
            rows += costComparisons(before: before, after: pruned?.after ?? planned)
        }
        let denseSpeed = state.results.denseSpeed, prunedSpeed = pruned?.speed
        rows.append(Comparison(
            label: "latency, batch 1", shortLabel: "latency", before: denseSpeed.map { Format.milliseconds($0.latencyMilliseconds) } ?? "–",
            after: prunedSpeed.map { Format.milliseconds($0.latencyMilliseconds) } ?? "–",
            change: denseSpeed.flatMap { d in prunedSpeed.map { Format.change(from: d.latencyMilliseconds, to: $0.latencyMilliseconds) } } ?? "",
            changeStyle: denseSpeed.flatMap { d in prunedSpeed.map { $0.latencyMilliseconds < d.latencyMilliseconds ? .good : .normal } } ?? .normal))
        rows.append(Comparison(
            label: "img/s, batch \(SpeedSummary.throughputBatch)", shortLabel: "img/s", before: denseSpeed.map { Format.compact($0.imagesPerSecond) } ?? "–",
            after: prunedSpeed.map { Format.compact($0.imagesPerSecond) } ?? "–",
            change: denseSpeed.flatMap { d in prunedSpeed.map { Format.change(from: d.imagesPerSecond, to: $0.imagesPerSecond) } } ?? "",
            changeStyle: denseSpeed.flatMap { d in prunedSpeed.map { $0.imagesPerSecond > d.imagesPerSecond ? .good : .normal } } ?? .normal))
        return rows
    }

    static func table(_ rows: [Comparison]) -> Table {
        Table(columns: [Table.Column("", minimumWidth: 6), Table.Column("before", alignment: .right, minimumWidth: 5),
                        Table.Column("", minimumWidth: 1), Table.Column("after", alignment: .right, minimumWidth: 5),
                        Table.Column("change", alignment: .right, minimumWidth: 4)],
              rows: rows.map { row in
                  Table.Row([Table.Cell(row.label, style: .dim), Table.Cell(row.before), Table.Cell("→", style: .dim),
                             Table.Cell(row.after, style: row.isMissing ? .hint : .accent),
                             Table.Cell(row.change, style: row.changeStyle)])
              },
              columnSpacing: 1)
    }
}
