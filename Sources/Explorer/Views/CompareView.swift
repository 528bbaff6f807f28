import Canvas
import Pruning

// Two checkpoints of one architecture side by side (`--compare B`), e.g. the same model
// trained with L2 and with OICSR-GL: per layer, the distribution of each one's normalised
// energies on one shared log scale (zeros in the first column), which is the paper's
// central figure (Li et al. 2019, Fig. 3: OICSR concentrates the energy of redundant
// channels near zero); and what the same selection settings (criterion, normalisation,
// target) take from each. Under the list: what each selection removes in all.

enum CompareView {
    /// Lines under the layer rows: the axis and a total per model.
    static let footerLines = 3
    /// Tallest a layer's histograms get when the screen has room.
    static let tallestRow = 5

    /// Lines per layer: as many as share the box's height out, up to `tallestRow`.
    static func rowHeight(_ state: ExplorerState) -> Int {
        let room = state.layout.mainInner.height - 1 - footerLines
        return max(1, min(tallestRow, room / max(1, state.rows.count)))
    }

    static func visibleRows(_ state: ExplorerState) -> Int {
        max(1, (state.layout.mainInner.height - 1 - footerLines) / rowHeight(state))
    }

    static func row(at y: Int, _ state: ExplorerState) -> Int? {
        let inner = state.layout.mainInner
        let line = (y - inner.y - 1)
        guard line >= 0 else { return nil }
        let index = line / rowHeight(state)
        let visible = min(visibleRows(state), state.rows.count - state.groupScroll)
        return index < visible ? state.groupScroll + index : nil
    }

    static func draw(_ state: ExplorerState, layout: ScreenLayout, into grid: inout Grid) {
        guard let comparison = state.comparison, let walk = state.walk else { return }
        var other = state
        guard let otherWalk = other.comparisonWalk(for: state.settings.walkKey) else { return }
        let steps = state.settings.steps
        let otherSteps = otherWalk.selection.stepCount(toReach: state.settings.target) ?? otherWalk.selection.steps.count
        let a = ExplorerView.fileName(state.model.path), b = ExplorerView.fileName(comparison.model.path)
        Box(title: "A: \(a) · B: \(b)", footer: "one target, criterion and normalisation for both").render(into: &grid, area: layout.main)
        let inner = layout.mainInner.inset(horizontal: 1, vertical: 0)
        guard inner.height >= 3 else { return }
        let groups = state.groups
        let nameWidth = min(max(groups.map(\.name.count).max() ?? 5, 5), 24) + 2
        let countWidth = max(7, groups.map { "\($0.width)/\($0.width)".count }.max() ?? 7)
        let stripWidth = max(8, min(40, (inner.width - nameWidth - 2 * countWidth - 7) / 2))
        let parts = inner.columns([.fixed(nameWidth), .fixed(1), .fixed(countWidth), .fixed(1), .fixed(countWidth), .fixed(2),
                                   .fixed(stripWidth), .fixed(2), .fixed(stripWidth), .fill])
        let (name, keptA, keptB, stripA, stripB) = (parts[0], parts[2], parts[4], parts[6], parts[8])
        func put(_ text: String, _ column: Rect, _ y: Int, _ style: Style, _ alignment: Alignment = .left) {
            grid.put(text, in: Rect(x: column.x, y: y, width: column.width, height: 1), alignment: alignment, style: style)
        }
        put("  layer", name, inner.y, .header)
        put("A kept", keptA, inner.y, .header, .right)
        put("B kept", keptB, inner.y, .header, .right)
        put("A energy", stripA, inner.y, .header)
        put("B energy", stripB, inner.y, .header)

        let positive = (Array(walk.normalized.joined()) + Array(otherWalk.normalized.joined())).filter { $0 > 0 && $0.isFinite }
        let range = positive.min().flatMap { low in positive.max().map { low...$0 } }
        let rows = state.rows
        let height = rowHeight(state)
        let barHeight = height >= 3 ? height - 1 : height
        let visible = visibleRows(state)
        let first = state.groupScroll
        let shown = Array(rows.dropFirst(first).prefix(visible))
        for (line, g) in shown.enumerated() {
            let y = inner.y + 1 + line * height
            let isCursor = g == state.group
            put((isCursor ? "▸ " : "  ") + groups[g].name, name, y, isCursor ? .selected : .normal)
            for (w, s, kept, strip) in [(walk, steps, keptA, stripA), (otherWalk, otherSteps, keptB, stripB)] {
                guard g < w.normalized.count else { continue }
                let removed = w.removedCount(group: g, steps: s)
                let width = w.normalized[g].count
                put("\(width - removed)/\(width)", kept, y, removed > 0 ? .pruned.bold() : .normal, .right)
                if w.deadCounts[g] > 0, height >= 2 { put("\(w.deadCounts[g]) dead", kept, y + 1, .dim, .right) }
                let cut = w.cut(steps: s).flatMap { cut in removed > 0 ? cut : nil }
                grid.render(Distribution(values: w.normalized[g], range: range, threshold: cut, separatesZeros: true),
                            in: Rect(x: strip.x, y: y, width: strip.width, height: barHeight))
            }
        }
        let bottom = inner.y + 1 + shown.count * height
        if let range {
            for strip in [stripA, stripB] {
                let axis = Rect(x: strip.x, y: bottom, width: strip.width, height: 1)
                grid.put("0", x: axis.x, y: axis.y, style: .dim, clip: axis)
                grid.put(Format.significant(range.lowerBound), x: axis.x + 2, y: axis.y, style: .dim, clip: axis)
                grid.put(Format.significant(range.upperBound), in: axis, alignment: .right, style: .dim)
            }
        }
        for (index, (label, w, s, model)) in [("A", walk, steps, state.model), ("B", otherWalk, otherSteps, comparison.model)].enumerated() {
            let y = bottom + 1 + index
            guard y < inner.maxY else { break }
            let trained = model.regularizer.kind == .l2 ? "L2" : "\(model.regularizer.kind.rawValue) λ \(Format.significant(model.regularizer.lambda))"
            ExplorerView.drawSegments([
                ("\(label), \(trained): \(Format.percent(w.selection.removedShare(after: s), decimals: 1)) of MACs in \(s) channels", .normal),
                ("\(w.deadCount) at zero energy", .dim),
                ("MACs → \(Format.compact(Double(w.selection.figures(after: s).macs)))", .dim),
            ], area: Rect(x: inner.x, y: y, width: inner.width, height: 1), indent: 0, into: &grid)
        }
        if rows.count > visible {
            let last = min(rows.count, first + visible)
            grid.put(" \(first + 1)-\(last) of \(rows.count) ", x: layout.main.x + 2, y: layout.main.maxY - 1, style: .hint, clip: layout.main)
        }
    }
}
