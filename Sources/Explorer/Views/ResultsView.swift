import Canvas
import Pruning

// The results view: one page that scrolls (↑↓ j k, PgUp PgDn, g G, the wheel), with
//   - the session's pruned models, the current one marked (m, M or a click switches);
//   - the current one before → after: accuracy at each stage, loss, its cost (labelled as
//     the pruned model's, apart from the selection's), measured speed;
//   - the widths it keeps, every layer;
//   - the command line that makes it from a script (y copies it);
//   - what the figures mean.
// Without a pruned model, the after column shows what the current selection would cost.

enum ResultsView {
    /// One "before → after (change)" row.
    struct Comparison {
        var label: String
        var before: String
        var after: String
        var change: String
        var changeStyle: Style
        /// True when `change` is a hint about how to get the figure rather than a change.
        var isMissing = false
    }

    /// Line (in the page) of each pruned model's row, for the mouse.
    static let modelsFirstLine = 1

    static func draw(_ state: ExplorerState, layout: ScreenLayout, into grid: inout Grid) {
        let area = layout.main
        let inner = Box.inner(area).inset(horizontal: 1, vertical: 0)
        let lines = lines(state, width: inner.width)
        let first = min(state.resultsScroll, max(0, lines.count - inner.height))
        let last = min(lines.count, first + inner.height)
        let title = state.results.pruned.map { "Results · pruned model \($0.name) of FLOPs" } ?? "Results · no pruned model yet"
        let footer = lines.count > inner.height
            ? "lines \(first + 1)-\(last) of \(lines.count)\(first > 0 ? " ↑" : "")\(last < lines.count ? " ↓" : "") · ↑↓ PgUp PgDn scroll"
            : nil
        Box(title: title, footer: footer).render(into: &grid, area: area)
        for (row, line) in lines[first..<last].enumerated() {
            Panels.draw(line, in: inner.row(row), into: &grid)
        }
    }

    /// Lines of the page at the width the view has now.
    static func lineCount(_ state: ExplorerState) -> Int {
        lines(state, width: Box.inner(state.layout.main).width - 2).count
    }

    /// The pruned model whose row is on page line `line`, if any.
    static func model(atLine line: Int, _ state: ExplorerState) -> Int? {
        let index = line - modelsFirstLine
        let models = state.results.models
        return index >= 0 && index < models.count ? models[index].id : nil
    }

    static func lines(_ state: ExplorerState, width: Int) -> [Line] {
        var lines: [Line] = []
        let models = state.results.models
        let pruned = state.results.pruned

        // The session's pruned models.
        lines.append([("Pruned models", .header), (models.count > 1 ? "  m/M or a click switches" : "  each p keeps one more, up to \(ExplorerState.keptModels)", .hint)])
        if models.isEmpty {
            lines.append([("  none yet: p prunes the current selection (\(Format.percent(state.removedShare, decimals: 1)) of FLOPs)", .dim)])
        }
        for model in models {
            let current = model.id == state.results.current
            let stage: String
            switch model.stage {
            case .pruned: stage = "as pruned"
            case .batchNormReestimated: stage = "BN re-estimated"
            case .fineTuned: stage = "fine-tuned \(model.fineTuningEpochs) ep."
            }
            let accuracy = model.latest.map { "top-1 \(Format.percent($0.top1, decimals: 1))" } ?? "top-1 –"
            var line: Line = [((current ? "▸ " : "  ") + Text.padded(model.name, width: 10), current ? .selected : .normal),
                              ("  \(model.settings.criterion.rawValue)/\(model.settings.normalization.rawValue)"
                               + CompensationChoice.mark(model.settings.compensates), .dim),
                              ("  " + Text.padded(accuracy, width: 12), .accent), ("  " + stage, .normal)]
            if model.isSaved {
                line.append(("  saved " + ExplorerView.fileName(model.savedPath ?? ""), .good))
            } else {
                line.append(("  unsaved", .warning))
            }
            lines.append(line)
        }
        lines.append([])

        // Before → after.
        let heading = pruned.map { "Dense → pruned model \($0.name)" } ?? "Dense → the selection (not pruned yet)"
        lines.append([(heading, .header)])
        let rows = comparisons(state)
        let labelWidth = min(22, (rows.map(\.label.count).max() ?? 10) + 1)
        lines.append([(Text.padded("", width: labelWidth), .normal), (Text.padded("before", width: 9, alignment: .right), .header),
                      ("   ", .normal), (Text.padded("after", width: 9, alignment: .right), .header),
                      (Text.padded("change", width: 16, alignment: .right), .header)])
        for row in rows {
            lines.append([(Text.padded(row.label, width: labelWidth), .dim), (Text.padded(row.before, width: 9, alignment: .right), .normal),
                          (" → ", .dim), (Text.padded(row.after, width: 9, alignment: .right), row.isMissing ? .hint : .accent),
                          (Text.padded(row.change, width: 16, alignment: .right), row.changeStyle)])
        }
        lines.append([])

        // The widths kept, in columns.
        if let analysis = state.analysis {
            let settings = pruned?.settings ?? state.settings
            let groups = analysis.variant(coupled: settings.coupled).groups.groups
            var walks = state
            let plan = walks.walk(for: settings.walkKey).selection.plan(steps: settings.steps)
            let items = zip(groups, plan.kept).map { "\($0.name) \($1.count)/\($0.width)" }
            lines.append([("Widths kept", .header), ("  \(groups.count) layers, \(pruned == nil ? "by the selection" : "in the pruned model")", .dim)])
            let cell = (items.map(\.count).max() ?? 10) + 3
            let perLine = max(1, (width - 2) / cell)
            for start in stride(from: 0, to: items.count, by: perLine) {
                let text = items[start..<min(items.count, start + perLine)].map { Text.padded($0, width: cell) }.joined()
                lines.append([("  " + text, .normal)])
            }
            lines.append([])
        }

        // The command line.
        if let command = state.reproducingCommand() {
            lines.append([("Reproduce", .header), ("  the selection from a script; y copies it", .hint)])
            for line in wrappedCommand(command, width: width - 2) { lines.append([("  " + line, .accent)]) }
            lines.append([])
        }

        // What the figures mean.
        let examples = state.results.dense?.count ?? state.model.testExamples
        for note in [
            "top-1 and loss on \(examples) test images of \(state.model.dataset)",
            "MACs: multiply-accumulates of conv and linear layers per image (the FLOPs of the paper)",
            "latency: best batch-1 forward pass; img/s: batches of \(SpeedSummary.throughputBatch), this machine",
        ] {
            for line in Text.wrapped(note, width: width) { lines.append([(line, .hint)]) }
        }
        return lines
    }

    /// A long command on several lines, broken between words, continuation lines indented.
    static func wrappedCommand(_ command: String, width: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in command.split(separator: " ") {
            if !line.isEmpty, line.count + 1 + word.count > width - 2 {
                lines.append(line + " \\")
                line = "  " + word
            } else {
                line += (line.isEmpty ? "" : " ") + word
            }
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }

    /// The before/after rows: accuracy at each stage, loss, cost, then speed.
    static func comparisons(_ state: ExplorerState) -> [Comparison] {
        let dense = state.results.dense
        let pruned = state.results.pruned
        func percent(_ e: EvaluationSummary?) -> String { e.map { Format.percent($0.top1, decimals: 1) } ?? "–" }
        func accuracy(_ label: String, _ after: EvaluationSummary?, missing: String) -> Comparison {
            guard let after else {
                return Comparison(label: label, before: percent(dense), after: "–", change: missing, changeStyle: .hint, isMissing: true)
            }
            let style: Style = dense.map { after.top1 - $0.top1 < -0.01 ? .bad : (after.top1 >= $0.top1 ? .good : .normal) } ?? .normal
            return Comparison(label: label, before: percent(dense), after: percent(after),
                              change: dense.map { Format.points(from: $0.top1, to: after.top1) } ?? "", changeStyle: style)
        }
        let evaluates = dense == nil ? "e evaluates" : ""
        var rows = [
            accuracy("top-1, as pruned", pruned?.afterPruning, missing: pruned == nil ? "p prunes" : "e evaluates"),
            accuracy("top-1, + BN re-est.", pruned?.afterBatchNorm, missing: pruned == nil ? evaluates : "b re-estimates"),
            accuracy("top-1, fine-tuned", pruned?.afterFineTuning, missing: pruned == nil ? "" : "f fine-tunes"),
        ]
        let latest = pruned?.latest
        rows.append(Comparison(label: "loss", before: dense.map { Format.fixed($0.loss, decimals: 3) } ?? "–",
                               after: latest.map { Format.fixed($0.loss, decimals: 3) } ?? "–",
                               change: dense.flatMap { d in latest.map { Format.difference(from: d.loss, to: $0.loss, decimals: 3) } } ?? "",
                               changeStyle: dense.flatMap { d in latest.map { $0.loss > d.loss ? .bad : .good } } ?? .normal))
        if let walk = state.walk, let planned = state.figuresAfter {
            let before = pruned?.before ?? walk.selection.before
            let after = pruned?.after ?? planned
            let whose = pruned == nil ? "selection" : "pruned model"
            func row(_ label: String, _ b: Int, _ a: Int, compact: Bool) -> Comparison {
                let text = { (v: Int) in compact ? Format.compact(Double(v)) : String(v) }
                return Comparison(label: "\(label), \(whose)", before: text(b), after: text(a),
                                  change: Format.change(from: Double(b), to: Double(a)), changeStyle: a < b ? .good : .normal)
            }
            rows += [row("MACs", before.macs, after.macs, compact: true), row("params", before.parameters, after.parameters, compact: true),
                     row("channels", before.channels, after.channels, compact: false)]
        }
        let denseSpeed = state.results.denseSpeed, prunedSpeed = pruned?.speed
        rows.append(Comparison(
            label: "latency, batch 1", before: denseSpeed.map { Format.milliseconds($0.latencyMilliseconds) } ?? "–",
            after: prunedSpeed.map { Format.milliseconds($0.latencyMilliseconds) } ?? "–",
            change: denseSpeed.flatMap { d in prunedSpeed.map { Format.change(from: d.latencyMilliseconds, to: $0.latencyMilliseconds) } } ?? "",
            changeStyle: denseSpeed.flatMap { d in prunedSpeed.map { $0.latencyMilliseconds < d.latencyMilliseconds ? .good : .normal } } ?? .normal))
        rows.append(Comparison(
            label: "img/s, batch \(SpeedSummary.throughputBatch)", before: denseSpeed.map { Format.compact($0.imagesPerSecond) } ?? "–",
            after: prunedSpeed.map { Format.compact($0.imagesPerSecond) } ?? "–",
            change: denseSpeed.flatMap { d in prunedSpeed.map { Format.change(from: d.imagesPerSecond, to: $0.imagesPerSecond) } } ?? "",
            changeStyle: denseSpeed.flatMap { d in prunedSpeed.map { $0.imagesPerSecond > d.imagesPerSecond ? .good : .normal } } ?? .normal))
        return rows
    }
}
