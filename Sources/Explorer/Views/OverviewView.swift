import Canvas
import Pruning

// The overview: one row per prunable layer pair (channel group), filtered and sorted as
// the user asks, with
//   kept     the channels it keeps out of its width (red: some taken; yellow: at the cap),
//   taken    a gauge of the share the selection takes (× taken, · kept: reads without colour),
//   energy   a one-line histogram of its channels' normalised energies: the first column
//            counts the channels at exactly zero, the rest are log10 bins over a range shared
//            by all rows (axis values under the list); the part the selection takes is red,
//   top-1    its sensitivity line: accuracy with 10%…90% of its channels removed (once
//            measured), the point nearest the share taken now highlighted,
//   freed    the share of the model's MACs the selection frees in it; the rows add up to the
//            total under them (each step's saving counts once, in the layer it took),
//   feeds    the layers that read it (wide screens).
//
//   layer     kept  taken       energy, log                top-1      freed
//   ▸ conv1  19/32  ×××××·····  █ ▃█▆▂                     ▇▇▇▆▅▃▂▁▁   3.1%
//     all   277/320 ×·········                                         30.4%
//                               0 1.2e-5             3.4e-2 10…90%

enum OverviewView {
    /// Where each column sits, across the box's inside.
    struct Columns {
        var name, count, gauge, strip, sensitivity, freed: Rect
        var feeds: Rect?
    }

    static let gaugeWidth = 10
    static let sensitivityWidth = SensitivityTable.layerShares.count

    static func columns(_ state: ExplorerState, inner: Rect) -> Columns {
        let groups = state.groups
        let nameWidth = min(max(groups.map(\.name.count).max() ?? 5, 5), 24) + 2
        let countWidth = max(5, groups.map { "\($0.width)/\($0.width)".count }.max() ?? 5, "\(groups.reduce(0) { $0 + $1.width })".count * 2 + 1)
        let freedWidth = 6
        let showsFeeds = inner.width >= 100
        let fixed = nameWidth + 1 + countWidth + 2 + gaugeWidth + 2 + 2 + sensitivityWidth + 1 + freedWidth
        // A histogram of a few dozen channels is all gaps when it has more bins than that.
        let stripWidth = min(34, max(10, inner.width - fixed - (showsFeeds ? 2 : 0)))
        let parts = inner.columns([.fixed(nameWidth), .fixed(1), .fixed(countWidth), .fixed(2), .fixed(gaugeWidth),
                                   .fixed(2), .fixed(stripWidth), .fixed(2), .fixed(sensitivityWidth), .fixed(1),
                                   .fixed(freedWidth), .fixed(2), .fill])
        return Columns(name: parts[0], count: parts[2], gauge: parts[4], strip: parts[6], sensitivity: parts[8],
                       freed: parts[10], feeds: showsFeeds ? parts[12] : nil)
    }

    /// Lines of the list box other than the layer rows: the header, the total, the axis,
    /// and the line about dead channels when there are some.
    static func extraLines(_ state: ExplorerState) -> Int {
        3 + ((state.walk?.deadCount ?? 0) > 0 ? 1 : 0)
    }

    /// Lines the list box needs inside its border to show every row.
    static func linesNeeded(_ state: ExplorerState) -> Int {
        max(1, state.rows.count) + extraLines(state)
    }

    /// Layer rows shown at once.
    static func visibleRows(_ state: ExplorerState) -> Int {
        max(1, state.layout.mainInner.height - extraLines(state))
    }

    /// The row (position in `state.rows`) drawn at screen line `y`, if any.
    static func row(at y: Int, _ state: ExplorerState) -> Int? {
        let inner = state.layout.mainInner
        let line = y - inner.y - 1
        let visible = min(visibleRows(state), state.rows.count - state.groupScroll)
        return line >= 0 && line < visible ? state.groupScroll + line : nil
    }

    /// The sort a click on the header at column `x` asks for.
    static func sort(at x: Int, _ state: ExplorerState) -> ExplorerState.Sort? {
        let columns = columns(state, inner: state.layout.mainInner)
        let table: [(Rect, ExplorerState.Sort)] = [(columns.name, .model), (columns.count, .taken), (columns.gauge, .taken),
                                                   (columns.strip, .energy), (columns.sensitivity, .sensitivity), (columns.freed, .freed)]
        return table.first { x >= $0.0.x && x < $0.0.maxX }?.1
    }

    static func draw(_ state: ExplorerState, layout: ScreenLayout, into grid: inout Grid) {
        guard let walk = state.walk else { return }
        let groups = state.groups
        let rows = state.rows
        let steps = state.settings.steps
        var title = "Layers · \(groups.count) prunable pairs"
        if let typing = state.filterInput {
            title = "Layers · filter /\(typing)▏ · \(rows.count) of \(groups.count)"
        } else if !state.filter.isEmpty {
            title = "Layers · '\(state.filter)': \(rows.count) of \(groups.count) · Esc clears"
        }
        if state.sort != .model { title += " · by \(state.sort.title)" }
        Box(title: title, footer: "red: some taken · yellow: at the \(Format.percent(Walk.limits.capShare)) cap")
            .render(into: &grid, area: layout.main)
        let inner = layout.mainInner
        guard inner.height >= 3 else { return }
        let columns = columns(state, inner: inner)

        // The header, the sorted column marked.
        let header = inner.row(0)
        func heading(_ text: String, _ column: Rect, _ sort: ExplorerState.Sort?, alignment: Alignment = .left) {
            let marked = sort == state.sort && state.sort != .model ? text + (sort == .energy || sort == .sensitivity ? "▲" : "▼") : text
            grid.put(marked, in: Rect(x: column.x, y: header.y, width: column.width, height: 1), alignment: alignment, style: .header)
        }
        heading("  layer", columns.name, nil)
        heading("kept", columns.count, nil, alignment: .right)
        heading("taken", columns.gauge, .taken)
        heading("energy, log", columns.strip, .energy)
        heading("top-1", columns.sensitivity, .sensitivity)
        heading("freed", columns.freed, .freed, alignment: .right)
        if let feeds = columns.feeds { heading("feeds", feeds, nil) }

        // One value range for every row, so that the strips compare across layers.
        let positive = walk.normalized.joined().filter { $0 > 0 && $0.isFinite }
        let range = positive.min().flatMap { low in positive.max().map { low...$0 } }
        let sensitivity = state.layerSensitivity
        let classes = state.analysis?.architecture.classes ?? 10

        let extras = extraLines(state)
        let visible = max(1, inner.height - extras)
        let first = state.groupScroll
        let shown = Array(rows.dropFirst(first).prefix(visible))
        for (line, g) in shown.enumerated() {
            let y = inner.y + 1 + line
            let group = groups[g]
            let removed = walk.removedCount(group: g, steps: steps)
            let isCursor = g == state.group
            let atCap = removed > 0 && removed == walk.allowance(group: g)
            func cell(_ column: Rect) -> Rect { Rect(x: column.x, y: y, width: column.width, height: 1) }
            grid.put((isCursor ? "▸ " : "  ") + group.name, in: cell(columns.name), style: isCursor ? .selected : (removed > 0 ? .normal : .dim))
            grid.put("\(group.width - removed)/\(group.width)", in: cell(columns.count), alignment: .right,
                     style: atCap ? .warning : (removed > 0 ? .pruned.bold() : .normal))
            drawGauge(taken: removed, of: group.width, in: cell(columns.gauge), into: &grid)
            let energies = walk.normalized[g]
            let cut = walk.cut(steps: steps).map { cut in energies.indices.contains { walk.isSelected(group: g, channel: $0, steps: steps) } ? cut : -1 }
            grid.render(Distribution(values: energies, scale: .logarithmic, range: range, threshold: cut.flatMap { $0 < 0 ? nil : $0 },
                                     separatesZeros: true), in: cell(columns.strip))
            drawSensitivity(sensitivity[g], dense: state.sensitivity?.denseTop1, classes: classes,
                            takenShare: Double(removed) / Double(max(1, group.width)), in: cell(columns.sensitivity), into: &grid)
            let freed = walk.freedShare(group: g, steps: steps)
            grid.put(Format.percent(freed, decimals: 1), in: cell(columns.freed), alignment: .right, style: freed > 0 ? .normal : .dim)
            if let feeds = columns.feeds {
                grid.put(group.consumers.map(\.layer).joined(separator: ", "), in: cell(feeds), style: .dim)
            }
        }
        if rows.isEmpty {
            grid.put("  no layer matches '\(state.filter)'", in: inner.row(1), style: .warning)
        }

        // The total: what the rows add up to.
        let totalY = inner.y + 1 + max(1, min(visible, max(shown.count, 1)))
        let total = Rect(x: inner.x, y: totalY, width: inner.width, height: 1)
        func cell(_ column: Rect) -> Rect { Rect(x: column.x, y: total.y, width: column.width, height: 1) }
        let width = groups.reduce(0) { $0 + $1.width }
        grid.put("  all", in: cell(columns.name), style: .header)
        grid.put("\(width - steps)/\(width)", in: cell(columns.count), alignment: .right, style: .header)
        drawGauge(taken: steps, of: width, in: cell(columns.gauge), into: &grid)
        grid.put(Format.percent(state.removedShare, decimals: 1), in: cell(columns.freed), alignment: .right, style: .header)
        if let feeds = columns.feeds { grid.put("of the MACs", in: cell(feeds), style: .dim) }

        // The axis of the histograms and the sensitivity lines.
        let axis = Rect(x: inner.x, y: totalY + 1, width: inner.width, height: 1)
        let strip = Rect(x: columns.strip.x, y: axis.y, width: columns.strip.width, height: 1)
        grid.put("0", x: strip.x, y: axis.y, style: .dim, clip: strip)
        if let range {
            let low = Format.significant(range.lowerBound), high = Format.significant(range.upperBound)
            if 2 + low.count + 1 + high.count <= strip.width { grid.put(low, x: strip.x + 2, y: axis.y, style: .dim, clip: strip) }
            if 2 + high.count <= strip.width { grid.put(high, in: strip, alignment: .right, style: .dim) }
        }
        grid.put("10…90%", in: Rect(x: columns.sensitivity.x, y: axis.y, width: columns.sensitivity.width, height: 1), style: .dim)
        grid.put("× taken · kept", in: Rect(x: columns.name.x + 2, y: axis.y, width: columns.gauge.maxX - columns.name.x - 2, height: 1),
                 alignment: .right, style: .dim)

        if walk.deadCount > 0 {
            let free = Format.percent(walk.selection.removedShare(after: walk.deadSteps), decimals: 1)
            let dead = walk.deadCount, taken = walk.deadSteps
            let room = Rect(x: inner.x + 2, y: axis.y + 1, width: inner.width - 2, height: 1)
            let text = ExplorerView.firstFitting(taken == dead ? [
                "dead: \(dead) channels at zero energy; taking \(taken) of them frees \(free) of the MACs",
                "dead: \(dead) channels at zero energy; taking them frees \(free) of the MACs",
                "dead: \(dead) at zero energy, \(free) of the MACs free",
            ] : [
                "dead: \(dead) channels at zero energy; the cap lets the walk take \(taken), freeing \(free) of the MACs",
                "dead: \(dead) at zero energy; taking \(taken) (the cap) frees \(free) of the MACs",
                "dead: \(dead) at zero energy; \(taken) free \(free) of the MACs",
            ], width: room.width)
            grid.put(text, in: room, style: .normal)
        }

        if rows.count > visible {
            let last = min(rows.count, first + visible)
            let arrows = (first > 0 ? "↑" : "") + (last < rows.count ? "↓" : "")
            grid.put(" \(first + 1)-\(last) of \(rows.count) \(arrows) ", x: layout.main.x + 2, y: layout.main.maxY - 1,
                     style: .hint, clip: layout.main)
        }

        if let chart = layout.chart { WalkChart.draw(state, area: chart, into: &grid) }
        if let info = layout.info { Panels.drawInfo(state, area: info, into: &grid) }
    }

    /// "×××··········": the share taken, rounded up so one channel shows.
    static func drawGauge(taken: Int, of width: Int, in rect: Rect, into grid: inout Grid) {
        let count = Int((Double(taken) / Double(max(width, 1)) * Double(gaugeWidth)).rounded(.up))
        grid.put(String(repeating: "×", count: count), x: rect.x, y: rect.y, style: .pruned, clip: rect)
        grid.put(String(repeating: "·", count: gaugeWidth - count), x: rect.x + count, y: rect.y, style: .kept, clip: rect)
    }

    /// A layer's sensitivity line: top-1 at 10%…90% removed, from chance (empty) to the
    /// dense accuracy (full); the point nearest the share taken now is highlighted; points
    /// not measured yet are dots.
    static func drawSensitivity(_ curve: [Double]?, dense: Double?, classes: Int, takenShare: Double, in rect: Rect,
                                into grid: inout Grid) {
        let count = SensitivityTable.layerShares.count
        let known = curve ?? []
        let chance = 1 / Double(max(classes, 2))
        let top = max(dense ?? known.max() ?? 1, chance + 1e-9)
        let nearest = takenShare > 0 ? min(count - 1, max(0, Int((takenShare * 10).rounded()) - 1)) : nil
        for index in 0..<min(count, rect.width) {
            let x = rect.x + index
            guard index < known.count else {
                grid[x, rect.y] = Cell("·", style: .dim)
                continue
            }
            let height = BarChart.eighths(max(0, known[index] - chance), top: top - chance, rows: 1)
            let glyph: Character = ["_", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"][height]
            grid[x, rect.y] = Cell(glyph, style: index == nearest ? .cursor : .bar)
        }
    }
}
