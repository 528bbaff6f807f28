import Canvas
import Pruning

// The overview: one row per prunable layer pair (channel group) with the channels it keeps
// out of its width, a gauge of the share the selection takes (× taken, · kept, so it reads
// without colour), a one-line histogram of its channels' normalised energies on a log scale
// shared by all rows (the part the selection takes drawn as pruned), the share of the
// model's FLOPs it holds, and on wide screens the layers it feeds.
//
//   layer         kept  selected     energy (log)              FLOPs  feeds
//   ▸ conv1      19/32  ×××××·····   ▁▃▅█▆▃▁                   34.0%  conv2
//     conv2      27/32  ××········      ▂▅▇█▃▁                  49.5%  conv3

enum OverviewView {
    static func draw(_ state: ExplorerState, layout: ScreenLayout, into grid: inout Grid) {
        guard let walk = state.walk, let variant = state.variant else { return }
        let groups = variant.groups.groups
        let steps = state.settings.steps
        let removedTotal = groups.indices.reduce(0) { $0 + walk.removedCount(group: $1, steps: steps) }
        Box(title: "Layers · \(groups.count) prunable pairs · \(removedTotal) channels selected",
            footer: "Enter opens a layer").render(into: &grid, area: layout.main)
        let inner = layout.mainInner
        guard inner.height >= 2 else { return }

        // Columns: cursor mark and name, kept/total, gauge, histogram, FLOPs share, "feeds".
        let nameWidth = min(max(groups.map(\.name.count).max() ?? 5, 5), 24) + 2
        let countWidth = max(5, groups.map { "\($0.width)/\($0.width)".count }.max() ?? 5)
        let gaugeWidth = 10, shareWidth = 6
        let showsFeeds = inner.width >= 96
        // A histogram of a few dozen channels is all gaps when it has more bins than that.
        let stripWidth = min(32, max(8, inner.width - nameWidth - countWidth - gaugeWidth - shareWidth - 8))
        let columns = inner.columns([.fixed(nameWidth), .fixed(1), .fixed(countWidth), .fixed(2), .fixed(gaugeWidth),
                                     .fixed(2), .fixed(stripWidth), .fixed(1), .fixed(shareWidth), .fixed(2), .fill])
        let (name, count, gauge, strip, share, feeds) = (columns[0], columns[2], columns[4], columns[6], columns[8], columns[10])

        let header = inner.row(0).y
        grid.put("  layer", in: Rect(x: name.x, y: header, width: name.width, height: 1), style: .header)
        grid.put("kept", in: Rect(x: count.x, y: header, width: count.width, height: 1), alignment: .right, style: .header)
        grid.put("selected", in: Rect(x: gauge.x, y: header, width: gauge.width, height: 1), style: .header)
        grid.put("energy (log)", in: Rect(x: strip.x, y: header, width: strip.width, height: 1), style: .header)
        grid.put("FLOPs", in: Rect(x: share.x, y: header, width: share.width, height: 1), alignment: .right, style: .header)
        if showsFeeds { grid.put("feeds", in: Rect(x: feeds.x, y: header, width: feeds.width, height: 1), style: .header) }

        // One value range for every row, so that the strips compare across layers.
        let positive = walk.normalized.joined().filter { $0 > 0 && $0.isFinite }
        let range = positive.min().flatMap { low in positive.max().map { low...$0 } }

        let visible = layout.overviewRows
        let first = Scroll.offset(keeping: state.group, visible: visible, count: groups.count, current: state.groupScroll)
        for (line, g) in (first..<min(groups.count, first + visible)).enumerated() {
            let y = inner.y + 1 + line
            let group = groups[g]
            let removed = walk.removedCount(group: g, steps: steps)
            let isCursor = g == state.group
            let atCap = removed > 0 && removed == walk.allowance(group: g)
            grid.put((isCursor ? "▸ " : "  ") + group.name, in: Rect(x: name.x, y: y, width: name.width, height: 1),
                     style: isCursor ? .selected : (removed > 0 ? .normal : .dim))
            grid.put("\(group.width - removed)/\(group.width)", in: Rect(x: count.x, y: y, width: count.width, height: 1),
                     alignment: .right, style: atCap ? .warning : (removed > 0 ? .pruned.bold() : .normal))
            let taken = Int((Double(removed) / Double(max(group.width, 1)) * Double(gaugeWidth)).rounded(.up))
            grid.put(String(repeating: "×", count: taken), x: gauge.x, y: y, style: .pruned, clip: gauge)
            grid.put(String(repeating: "·", count: gaugeWidth - taken), x: gauge.x + taken, y: y, style: .kept, clip: gauge)
            let energies = walk.normalized[g]
            let cut = (0..<group.width).filter { walk.isSelected(group: g, channel: $0, steps: steps) }.map { energies[$0] }.max()
            grid.render(Distribution(values: energies, scale: .logarithmic, range: range, threshold: cut),
                        in: Rect(x: strip.x, y: y, width: strip.width, height: 1))
            grid.put(Format.percent(variant.macsShare[g], decimals: 1), in: Rect(x: share.x, y: y, width: share.width, height: 1),
                     alignment: .right)
            if showsFeeds {
                grid.put(group.consumers.map(\.layer).joined(separator: ", "),
                         in: Rect(x: feeds.x, y: y, width: feeds.width, height: 1), style: .dim)
            }
        }
        if groups.count > visible {
            let text = " \(first + 1)-\(min(groups.count, first + visible)) of \(groups.count) "
            grid.put(text, x: layout.main.x + 2, y: layout.main.maxY - 1, style: .hint, clip: layout.main)
        }
    }
}
