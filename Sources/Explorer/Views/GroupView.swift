import Canvas
import Foundation
import Pruning

// The layer view: every channel of one layer pair as a bar of its normalised energy, in the
// walk's order (ascending energy) or by index. Channels the selection takes are drawn as
// pruned and marked × under the bar, kept ones ·, so the marks survive without colour; the
// line across the chart is the global cut, the energy of the last channel the walk took.
// Heights are logarithmic: sparsity training drives energies over orders of magnitude, and
// on a linear scale everything but the largest channels would be a sliver.
// Under the chart: the channel under the cursor, and every weight that lives or dies with it.
// The cursor starts on the leftmost bar; when the channels do not fit, the bottom border
// says which are shown ("◂ 1-78 of 128 ▸").

enum GroupView {
    static func draw(_ state: ExplorerState, layout: ScreenLayout, into grid: inout Grid) {
        if let side = layout.side { Panels.drawSide(state, area: side, into: &grid) }
        if let strip = layout.strip { Panels.drawStrip(state, area: strip, into: &grid) }
        guard let walk = state.walk, state.group < state.groups.count else { return }
        let g = state.group
        let group = state.groups[g]
        let steps = state.settings.steps
        let removed = walk.removedCount(group: g, steps: steps)
        let order = state.channelOrder
        Box(title: "\(group.name) · \(group.width) channels · \(removed) taken ×",
            footer: state.order == .energy ? "by energy, lowest first · o: by index" : "by index · o: by energy")
            .render(into: &grid, area: layout.main)
        let parts = layout.layerParts

        let energies = walk.normalized[g]
        let height = LogScale(energies)
        let barWidth = layout.barWidth(channels: order.count)
        let cursor = order.firstIndex(of: state.channel)
        let chart = BarChart(
            bars: order.map { channel in
                walk.isSelected(group: g, channel: channel, steps: steps)
                    ? BarChart.Bar(height(energies[channel]), style: .pruned, marker: "×", markerStyle: .pruned)
                    : BarChart.Bar(height(energies[channel]), style: .bar, marker: "·", markerStyle: .kept)
            },
            maximum: height(energies.max() ?? 0), barWidth: barWidth, threshold: walk.cut(steps: steps).map { height($0) },
            cursor: cursor, scrollOffset: state.channelScroll)
        grid.render(chart, in: parts.chart)

        let shown = chart.visibleRange(in: parts.chart)
        var facts: [(String, Style)] = [("normalised energy (\(walk.key.normalization.summary)), log", .normal)]
        if let cut = walk.cut(steps: steps) { facts.append(("cut ─ \(Format.significant(cut))", .threshold)) }
        if walk.deadCounts[g] > 0 { facts.append(("\(walk.deadCounts[g]) at zero", .normal)) }
        facts.append(("\(walk.allowance(group: g)) of \(group.width) may go (cap, floor)", .dim))
        ExplorerView.drawSegments(facts, area: parts.facts, indent: 0, into: &grid)
        if shown.count < order.count {
            // Where the window is, in the bottom border: "◂ 1-78 of 128 ▸".
            let text = " \(shown.lowerBound > 0 ? "◂ " : "")\(shown.lowerBound + 1)-\(shown.upperBound) of \(order.count)\(shown.upperBound < order.count ? " ▸" : "") "
            grid.put(text, x: layout.main.x + 2, y: layout.main.maxY - 1, style: .hint, clip: layout.main)
        }

        drawDetail(state, walk: walk, group: group, area: parts.detail, into: &grid)
    }

    /// The channel drawn at screen column `x`, if any.
    static func channel(at x: Int, _ state: ExplorerState) -> Int? {
        let layout = state.layout
        let chart = layout.layerParts.chart
        let order = state.channelOrder
        let width = layout.barWidth(channels: order.count)
        guard x >= chart.x, x < chart.maxX else { return nil }
        let position = state.channelScroll + (x - chart.x) / width
        return position < order.count ? order[position] : nil
    }

    /// The channel under the cursor: its energies, rank and fate; then what it is coupled to.
    private static func drawDetail(_ state: ExplorerState, walk: Walk, group: ChannelGroup, area: Rect, into grid: inout Grid) {
        let g = state.group, c = state.channel
        guard c < group.width else { return }
        let raw = state.analysis?.variant(coupled: state.settings.coupled).energies[walk.key.criterion]?.raw[g][c] ?? 0
        let rank = (walk.ascending[g].firstIndex(of: c) ?? 0) + 1
        let step = walk.stepOf[g][c]
        let fate: (String, Style)
        if step < state.settings.steps {
            fate = ("taken at step \(step + 1)", .pruned.bold())
        } else if step == .max {
            fate = ("kept: the cap stops the walk first", .kept)
        } else {
            fate = ("kept until step \(step + 1)", .kept)
        }
        ExplorerView.drawSegments([
            ("channel \(c)", .accent),
            ("rank \(rank)/\(group.width)", .normal),
            fate,
            ("energy \(Format.significant(raw)) raw, \(Format.significant(walk.normalized[g][c])) normalised", .normal),
        ], area: area.row(0), indent: 0, into: &grid)

        var out = group.producers.map { "\($0) filter \(c)" }
        out += group.depthwise.map { "\($0.layer) filter \($0.offset + c)" }
        out += group.batchNorms.map { "\($0.layer) γ,β \($0.offset + c)" }
        let inputs = group.consumers.map { consumer in
            let (first, f) = ((consumer.offset + c) * consumer.featuresPerChannel, consumer.featuresPerChannel)
            return f == 1 ? "\(consumer.layer) input \(first)" : "\(consumer.layer) inputs \(first)-\(first + f - 1)"
        }
        let coupled = group.isCoupled ? " (coupled across \(group.producers.count) layers)" : ""
        let line = "lives in\(coupled): " + out.joined(separator: ", ") + " → " + inputs.joined(separator: ", ")
        if line.count <= area.width {
            grid.put(line, in: area.row(1), style: .dim)
        } else {
            ExplorerView.drawList("lives in\(coupled): ", out + inputs, area: area.row(1), into: &grid)
        }
    }
}

/// Bar heights for energies on a log scale spanning the layer's own range: the smallest
/// positive energy stands a fifth of the tallest, whether the energies span a factor of two
/// (an untrained layer) or of ten thousand (a layer the regularizer has sparsified), so the
/// ranking is always visible. An energy of exactly zero (a channel the group lasso has
/// switched off) gets the thinnest sliver the chart draws, visibly below every other.
struct LogScale {
    /// log10 of the value drawn at height zero.
    let base: Double

    init(_ values: [Double]) {
        let logs = values.filter { $0 > 0 && $0.isFinite }.map(log10)
        let low = logs.min() ?? 0, high = logs.max() ?? 0
        base = low - 0.25 * max(high - low, log10(2))
    }

    func callAsFunction(_ value: Double) -> Double {
        guard value.isFinite else { return 0 }
        return value > 0 ? max(log10(value) - base, Self.sliver) : Self.sliver
    }

    /// Positive, so `BarChart` draws its minimum of one eighth of a cell.
    static let sliver = 1e-12
}
