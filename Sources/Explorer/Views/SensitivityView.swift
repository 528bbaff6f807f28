import Canvas
import Pruning

// The sensitivity view: on top, the chart of the global walk (top-1 against FLOPs removed,
// as pruned and after BatchNorm re-estimation, the target marked); under it, per layer,
// top-1 with 10%…90% of that layer's channels removed (lowest energy first), coloured by
// how far it falls below the dense model. The list follows the overview's cursor, filter
// and sort. Nothing here is computed on the UI thread: `a` starts the measurement in the
// background, the figures fill in as they come, and they are cached beside the checkpoint.

enum SensitivityView {
    /// The chart's box and the table's box in the body: the table as tall as its rows
    /// need (it scrolls past 3/5 of the body), the chart the rest.
    static func parts(_ layout: ScreenLayout, rows: Int) -> (chart: Rect, table: Rect) {
        let body = layout.main
        let tableNeed = rows + 3
        let chartHeight = min(max(ScreenLayout.chartMinimumHeight, body.height * 2 / 5, body.height - tableNeed), max(0, body.height - 6))
        let split = body.splitTop(chartHeight)
        return (split.top, split.rest)
    }

    static func parts(_ state: ExplorerState) -> (chart: Rect, table: Rect) {
        parts(state.layout, rows: state.rows.count)
    }

    /// Layer rows shown at once.
    static func visibleRows(_ state: ExplorerState) -> Int {
        max(1, Box.inner(parts(state).table).height - 1)
    }

    /// The row (position in `state.rows`) drawn at screen line `y`, if any.
    static func row(at y: Int, _ state: ExplorerState) -> Int? {
        let inner = Box.inner(parts(state).table)
        let line = y - inner.y - 1
        let visible = min(visibleRows(state), state.rows.count - state.groupScroll)
        return line >= 0 && line < visible ? state.groupScroll + line : nil
    }

    static func draw(_ state: ExplorerState, layout: ScreenLayout, into grid: inout Grid) {
        let (chartArea, tableArea) = parts(layout, rows: state.rows.count)
        WalkChart.draw(state, area: chartArea, into: &grid)
        guard let walk = state.walk else { return }
        let table = state.sensitivity
        let title: String
        if let table {
            title = "Top-1 with part of one layer removed · \(table.examples) test images" + (table.denseTop1.map { " · dense \(Format.percent($0, decimals: 1))" } ?? "")
        } else {
            title = "Top-1 with part of one layer removed · not measured: a measures it"
        }
        Box(title: title, footer: "green: within 1 pt of dense · yellow: within 5 pt · red: more").render(into: &grid, area: tableArea)
        let inner = Box.inner(tableArea).inset(horizontal: 1, vertical: 0)
        guard inner.height >= 2 else { return }
        let groups = state.groups
        let nameWidth = min(max(groups.map(\.name.count).max() ?? 5, 5), 24) + 2
        let shares = SensitivityTable.layerShares
        let cell = max(5, min(7, (inner.width - nameWidth - 8) / shares.count))
        var x = inner.x + nameWidth
        grid.put("  layer", x: inner.x, y: inner.y, style: .header, clip: inner)
        grid.put("width", in: Rect(x: x, y: inner.y, width: 6, height: 1), alignment: .right, style: .header)
        x += 7
        for share in shares {
            grid.put(Format.percent(share), in: Rect(x: x, y: inner.y, width: cell, height: 1), alignment: .right, style: .header)
            x += cell
        }

        let rows = state.rows
        let visible = max(1, inner.height - 1)
        let first = state.groupScroll
        let curves = state.layerSensitivity
        let dense = table?.denseTop1
        for (line, g) in rows.dropFirst(first).prefix(visible).enumerated() {
            let y = inner.y + 1 + line
            let isCursor = g == state.group
            grid.put((isCursor ? "▸ " : "  ") + groups[g].name, in: Rect(x: inner.x, y: y, width: nameWidth, height: 1),
                     style: isCursor ? .selected : .normal)
            var x = inner.x + nameWidth
            grid.put("\(groups[g].width)", in: Rect(x: x, y: y, width: 6, height: 1), alignment: .right, style: .dim)
            x += 7
            let curve = curves[g] ?? []
            let taken = Double(walk.removedCount(group: g, steps: state.settings.steps)) / Double(max(1, groups[g].width))
            for index in shares.indices {
                let rect = Rect(x: x, y: y, width: cell, height: 1)
                x += cell
                guard index < curve.count else {
                    grid.put(groups[g].width < 2 ? "" : "·", in: rect, alignment: .right, style: .dim)
                    continue
                }
                let value = curve[index]
                let drop = dense.map { $0 - value } ?? 0
                var style: Style = drop <= 0.01 ? .good : (drop <= 0.05 ? .warning : .bad)
                if taken > 0, abs(shares[index] - taken) < 0.05 { style = style.reversed() }
                grid.put(Format.fixed(value * 100, decimals: 1), in: rect, alignment: .right, style: style)
            }
        }
        if rows.count > visible {
            let last = min(rows.count, first + visible)
            grid.put(" \(first + 1)-\(last) of \(rows.count)\(first > 0 ? " ↑" : "")\(last < rows.count ? " ↓" : "") ",
                     x: tableArea.x + 2, y: tableArea.maxY - 1, style: .hint, clip: tableArea)
        }
    }
}
