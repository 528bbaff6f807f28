import Canvas
import Pruning

// The small panels beside (wide screens) or under (narrow) the overview and the layer
// view: what the selection costs, the current pruned model, and on wide screens the layer
// under the cursor. Each panel is a list of lines in order of importance; a panel shorter
// than its lines shows the first ones and says in its border how many more the results
// view (r) has, so nothing is lost without a word.

/// One line of a panel: runs of text in their styles.
typealias Line = [(String, Style)]

enum Panels {
    // MARK: Lines

    /// "MACs      21.9M →  15.2M  -30.4%", columns fixed so the lines of a panel align.
    static func figure(_ label: String, _ before: String, _ after: String, _ change: String, changeStyle: Style,
                       labelWidth: Int = 9) -> Line {
        [(Text.padded(label, width: labelWidth), .dim), (Text.padded(before, width: 6, alignment: .right) + " → ", .normal),
         (Text.padded(after, width: 6, alignment: .right), .accent), ("  " + change, changeStyle)]
    }

    /// What the current selection costs and how it was chosen.
    static func selectionLines(_ state: ExplorerState) -> [Line] {
        guard let walk = state.walk, let after = state.figuresAfter else { return [] }
        let before = walk.selection.before
        func row(_ label: String, _ b: Int, _ a: Int, compact: Bool) -> Line {
            let text = { (v: Int) in compact ? Format.compact(Double(v)) : String(v) }
            return figure(label, text(b), text(a), Format.change(from: Double(b), to: Double(a)), changeStyle: a < b ? .good : .dim)
        }
        let settings = state.settings
        var lines: [Line] = [
            row("MACs", before.macs, after.macs, compact: true),
            row("params", before.parameters, after.parameters, compact: true),
            row("channels", before.channels, after.channels, compact: false),
            [("ranked by ", .dim), ("\(settings.criterion.rawValue)/\(settings.normalization.rawValue)", .normal),
             (", cap \(Format.percent(Walk.limits.capShare))", .normal)],
        ]
        if walk.deadCount > 0 {
            let free = walk.selection.removedShare(after: walk.deadSteps)
            lines.append([("dead ", .dim), ("\(walk.deadCount) at zero energy", .normal), (", \(Format.percent(free, decimals: 1)) free", .good)])
        }
        let coupled = state.hasCoupledChannels ? (settings.coupled ? "residual stages too" : "block-internal only") : "no coupled channels"
        lines.append([("history ", .dim), ("\(state.undoStack.count) undo, \(state.redoStack.count) redo", .normal)])
        lines.append([("limits ", .dim), ("floor \(Walk.limits.floor)", .normal), (" · " + coupled, .dim)])
        return lines
    }

    static func selectionTitle(_ state: ExplorerState) -> String {
        "Selection · \(Format.percent(state.removedShare, decimals: 1)) of MACs"
    }

    /// The current pruned model (or how to get one), with the dense model's accuracy.
    static func prunedLines(_ state: ExplorerState) -> [Line] {
        let dense = state.results.dense
        let denseText = dense.map { Format.percent($0.top1, decimals: 1) } ?? "–"
        guard let pruned = state.results.pruned else {
            var lines: [Line] = [[("dense top-1 ", .dim), (denseText, .accent), (dense == nil ? "  e evaluates" : "", .hint)]]
            lines.append([("no pruned model yet", .dim)])
            lines.append([("p", .accent), (" prunes the selection", .dim)])
            if let speed = state.results.denseSpeed {
                lines.append([("latency ", .dim), (Format.milliseconds(speed.latencyMilliseconds), .normal), (" batch 1", .dim)])
            }
            return lines
        }
        var lines: [Line] = []
        let stage: String
        switch pruned.stage {
        case .pruned: stage = "as pruned"
        case .batchNormReestimated: stage = "BN re-est."
        case .fineTuned: stage = "fine-tuned"
        }
        if let latest = pruned.latest {
            let style: Style = dense.map { latest.top1 - $0.top1 < -0.01 ? .bad : .good } ?? .normal
            lines.append(figure("top-1", denseText, Format.percent(latest.top1, decimals: 1),
                                dense.map { Format.points(from: $0.top1, to: latest.top1) } ?? "", changeStyle: style))
        } else {
            lines.append(figure("top-1", denseText, "–", "e evaluates", changeStyle: .hint))
        }
        lines.append([("stage ", .dim), (stage, .normal), (pruned.stage == .fineTuned ? "" : (pruned.stage == .pruned ? " · b BN · f tune" : " · f tunes"), .hint)])
        lines.append(figure("model MACs", Format.compact(Double(pruned.before.macs)), Format.compact(Double(pruned.after.macs)),
                            Format.change(from: Double(pruned.before.macs), to: Double(pruned.after.macs)), changeStyle: .good, labelWidth: 11))
        if let speed = pruned.speed, let denseSpeed = state.results.denseSpeed {
            lines.append(figure("latency ms", Format.milliseconds(denseSpeed.latencyMilliseconds).replacingMs,
                                Format.milliseconds(speed.latencyMilliseconds).replacingMs,
                                Format.change(from: denseSpeed.latencyMilliseconds, to: speed.latencyMilliseconds),
                                changeStyle: speed.latencyMilliseconds < denseSpeed.latencyMilliseconds ? .good : .dim, labelWidth: 11))
        }
        let count = state.results.models.count
        var last: Line = [(pruned.isSaved ? "saved" : "unsaved", pruned.isSaved ? .good : .warning)]
        if !pruned.isSaved { last.append((" · s saves", .hint)) }
        if count > 1 { last.append((" · \(count) kept, m switches", .hint)) }
        lines.append(last)
        return lines
    }

    static func prunedTitle(_ state: ExplorerState) -> String {
        guard let pruned = state.results.pruned else { return "Pruned model" }
        return "Pruned model \(pruned.name)"
    }

    /// The layer under the cursor (wide screens): its figures; a chart goes under them.
    static func layerLines(_ state: ExplorerState) -> [Line] {
        guard let walk = state.walk, state.group < state.groups.count else { return [] }
        let g = state.group, group = state.groups[g], steps = state.settings.steps
        let removed = walk.removedCount(group: g, steps: steps)
        var lines: [Line] = [
            [("channels ", .dim), ("\(group.width - removed) of \(group.width) kept", .normal),
             (" · \(walk.allowance(group: g)) may go", .dim)],
            [("freed ", .dim), (Format.percent(walk.freedShare(group: g, steps: steps), decimals: 1) + " of the MACs", .normal),
             (walk.deadCounts[g] > 0 ? " · \(walk.deadCounts[g]) dead" : "", .dim)],
        ]
        lines.append([("feeds ", .dim), (group.consumers.map(\.layer).joined(separator: ", "), .normal)])
        return lines
    }

    /// Under the layer's figures: its sensitivity (top-1 against the share of it removed)
    /// once measured, else its channels' energies, lowest first, the taken ones marked.
    static func drawLayerChart(_ state: ExplorerState, area: Rect, into grid: inout Grid) {
        guard let walk = state.walk, state.group < state.groups.count, area.height >= 3 else { return }
        let g = state.group, steps = state.settings.steps
        let taken = Double(walk.removedCount(group: g, steps: steps)) / Double(max(1, state.groups[g].width))
        if let curve = state.layerSensitivity[g], !curve.isEmpty, let table = state.sensitivity {
            let dense = table.denseTop1 ?? curve[0]
            let (low, high) = WalkChart.accuracyRange(curve + [dense])
            let points = [LineChart.Point(0, dense)] + zip(SensitivityTable.layerShares, curve).map { LineChart.Point($0, $1) }
            grid.put("top-1 with part of it removed", in: area.row(0), style: .dim)
            let chart = LineChart(series: [LineChart.Series(points: points, style: .bar, pointGlyph: "•")], xRange: 0...0.9,
                                  yRange: low...high, xTicks: [LineChart.Tick(0, "0%"), LineChart.Tick(0.5, "50%"), LineChart.Tick(0.9, "90%")],
                                  yTicks: Array(WalkChart.accuracyTicks(low: low, high: high, rows: 2).prefix(2)),
                                  marker: taken > 0 ? LineChart.Marker(x: min(taken, 0.9), label: "taken") : nil)
            grid.render(chart, in: area.splitTop(1).rest)
            return
        }
        grid.put("energies, lowest first", in: area.row(0), style: .dim)
        let energies = walk.normalized[g]
        let height = LogScale(energies)
        let bars = walk.ascending[g].map { channel in
            walk.isSelected(group: g, channel: channel, steps: steps)
                ? BarChart.Bar(height(energies[channel]), style: .pruned, marker: "×", markerStyle: .pruned)
                : BarChart.Bar(height(energies[channel]), style: .bar, marker: "·", markerStyle: .kept)
        }
        let rest = area.splitTop(1).rest
        grid.render(BarChart(bars: bars, maximum: height(energies.max() ?? 0),
                             barWidth: min(3, max(1, rest.width / max(1, bars.count))),
                             threshold: walk.cut(steps: steps).map { height($0) }), in: rest)
    }

    // MARK: Drawing

    /// A box titled `title` holding as many of `lines` as fit; when some are left out, the
    /// bottom border says how many and where they are.
    static func draw(_ title: String, _ lines: [Line], area: Rect, into grid: inout Grid, more: String? = nil) {
        let inner = Box.inner(area).inset(horizontal: 1, vertical: 0)
        let hidden = max(0, lines.count - inner.height)
        Box(title: title, footer: hidden > 0 ? "+\(hidden) more" + (more.map { " · " + $0 } ?? "") : nil).render(into: &grid, area: area)
        for (index, line) in lines.prefix(inner.height).enumerated() {
            draw(line, in: inner.row(index), into: &grid)
        }
    }

    /// The runs of `line` from the left of `rect`; a run that does not fit whole is left
    /// out, with those after it.
    static func draw(_ line: Line, in rect: Rect, into grid: inout Grid) {
        var x = rect.x
        for (text, style) in line {
            guard x + text.count <= rect.maxX else { break }
            x = grid.put(text, x: x, y: rect.y, style: style, clip: rect)
        }
    }

    /// The side panel of wide screens: the selection, the pruned model, the layer.
    static func drawSide(_ state: ExplorerState, area: Rect, into grid: inout Grid) {
        let selection = selectionLines(state), pruned = prunedLines(state)
        let (first, rest) = area.splitTop(min(selection.count + 2, max(0, area.height - 6)))
        draw(selectionTitle(state), selection, area: first, into: &grid)
        let (second, third) = rest.splitTop(min(pruned.count + 2, rest.height))
        draw(prunedTitle(state), pruned, area: second, into: &grid, more: "r shows all")
        guard third.height >= 4, state.group < state.groups.count else { return }
        let lines = layerLines(state)
        draw("Layer \(state.groups[state.group].name)", lines, area: third, into: &grid, more: "Enter opens it")
        let inner = Box.inner(third).inset(horizontal: 1, vertical: 0)
        drawLayerChart(state, area: Rect(x: inner.x, y: inner.y + lines.count, width: inner.width, height: inner.height - lines.count),
                       into: &grid)
    }

    /// The two panels under the overview's list on narrow screens.
    static func drawInfo(_ state: ExplorerState, area: Rect, into grid: inout Grid) {
        let halves = area.columns([.fill, .fill])
        draw(selectionTitle(state), selectionLines(state), area: halves[0], into: &grid)
        draw(prunedTitle(state), prunedLines(state), area: halves[1], into: &grid, more: "r shows all")
    }

    /// Two lines under the layer view on narrow screens: the selection's cost and the
    /// pruned model, each labelled.
    static func drawStrip(_ state: ExplorerState, area: Rect, into grid: inout Grid) {
        guard let walk = state.walk, let after = state.figuresAfter else { return }
        let before = walk.selection.before
        let inner = area.inset(horizontal: 1, vertical: 0)
        ExplorerView.drawSegments([
            ("selection: MACs \(Format.compact(Double(before.macs))) → \(Format.compact(Double(after.macs))) (\(Format.change(from: Double(before.macs), to: Double(after.macs))))", .normal),
            ("params \(Format.compact(Double(before.parameters))) → \(Format.compact(Double(after.parameters)))", .normal),
            ("channels \(before.channels) → \(after.channels)", .dim),
        ], area: inner.row(0), indent: 0, into: &grid)
        if let pruned = state.results.pruned {
            let accuracy = pruned.latest.map { "top-1 \(Format.percent($0.top1, decimals: 1))" } ?? "not evaluated (e)"
            ExplorerView.drawSegments([
                ("pruned model \(pruned.name): MACs \(Format.compact(Double(pruned.after.macs)))", .normal),
                (accuracy, .normal), (pruned.isSaved ? "saved" : "unsaved", pruned.isSaved ? .good : .warning), ("r results", .hint),
            ], area: inner.row(1), indent: 0, into: &grid)
        } else {
            let dense = state.results.dense.map { "dense top-1 \(Format.percent($0.top1, decimals: 1))" } ?? "dense top-1 not evaluated (e)"
            ExplorerView.drawSegments([(dense, .dim), ("no pruned model: p prunes", .hint)], area: inner.row(1), indent: 0, into: &grid)
        }
    }
}

private extension String {
    /// "0.512 ms" → "0.512": the unit said once, after the change.
    var replacingMs: String { hasSuffix(" ms") ? String(dropLast(3)) : self }
}
