import Canvas
import Foundation
import Pruning

// The chart of the global walk against the share of FLOPs it removes, with the current
// target marked. Once the sensitivity analysis has measured it: top-1 of the model pruned
// there, as pruned (•) and after re-estimating its BatchNorm statistics (◦). Before that:
// the normalised energy of each step (log scale, zero at the bottom), which shows where the
// channels at zero energy end and what the walk pays after them.

enum WalkChart {
    static func draw(_ state: ExplorerState, area: Rect, into grid: inout Grid) {
        guard let walk = state.walk, area.height >= 4 else { return }
        let selection = walk.selection
        let reachable = max(selection.reachableShare, 1e-6)
        let xRange = 0...reachable
        let xTicks = ticks(upTo: reachable)
        let marker = LineChart.Marker(x: min(state.removedShare, reachable), label: "target \(Format.percent(state.removedShare))")
        let inner = Box.inner(area).inset(horizontal: 1, vertical: 0)

        if let points = state.walkSensitivity, !points.isEmpty, let table = state.sensitivity {
            let dense = table.denseTop1 ?? points.map(\.asPruned).max() ?? 1
            let values = points.flatMap { [$0.asPruned] + ($0.afterBatchNorm.map { [$0] } ?? []) } + [dense]
            let (low, high) = accuracyRange(values)
            let start = LineChart.Point(0, dense)
            let asPruned = LineChart.Series(points: [start] + points.map { LineChart.Point($0.removedShare, $0.asPruned) },
                                            style: .bar, pointGlyph: "•")
            let repaired = LineChart.Series(points: [start] + points.compactMap { p in p.afterBatchNorm.map { LineChart.Point(p.removedShare, $0) } },
                                            style: .good, pointGlyph: "◦")
            let done = points.count, total = SensitivityTable.walkTargets(reachable: selection.reachableShare).count
            let progress = done < total ? " · \(done) of \(total) points" : ""
            Box(title: "Top-1 along the walk · \(table.examples) test images\(progress)",
                footer: "• as pruned · ◦ after BN re-estimation · x: FLOPs removed").render(into: &grid, area: area)
            let chart = LineChart(series: [asPruned, repaired], xRange: xRange, yRange: low...high, xTicks: xTicks,
                                  yTicks: accuracyTicks(low: low, high: high, rows: inner.height - 2), marker: marker)
            grid.render(chart, in: inner)
            return
        }

        // The energy of each step, on a log scale; steps at zero energy on the bottom line.
        let energies = selection.steps.map(\.normalizedEnergy)
        let positive = energies.filter { $0 > 0 }
        let low = log10(positive.min() ?? 1), high = log10(positive.max() ?? 10)
        let floor = low - max(0.25 * (high - low), 0.1)
        let stride = max(1, selection.steps.count / 400)
        var points: [LineChart.Point] = []
        for index in Swift.stride(from: 0, to: selection.steps.count, by: stride) {
            let step = selection.steps[index]
            points.append(LineChart.Point(selection.removedShare(after: index + 1), step.normalizedEnergy > 0 ? log10(step.normalizedEnergy) : floor))
        }
        let hint = state.job?.kind == .sensitivity ? "measuring top-1…" : "a measures top-1"
        Box(title: "The walk: energy of each step taken · \(hint)",
            footer: "y: normalised energy, log (bottom: zero) · x: FLOPs removed").render(into: &grid, area: area)
        var yTicks = [LineChart.Tick(floor, "0")]
        if high > low {
            yTicks.append(LineChart.Tick(high, Format.significant(pow(10, high))))
            if inner.height - 2 >= 4 { yTicks.append(LineChart.Tick(low, Format.significant(pow(10, low)))) }
        }
        let chart = LineChart(series: [LineChart.Series(points: points, style: .bar)], xRange: xRange,
                              yRange: floor...(high > floor ? high : floor + 1), xTicks: xTicks, yTicks: yTicks, marker: marker)
        grid.render(chart, in: inner)
    }

    /// Ticks at round shares of FLOPs up to `reachable`: every 10%, or 20% past 60%.
    static func ticks(upTo reachable: Double) -> [LineChart.Tick] {
        let step = reachable > 0.6 ? 0.2 : 0.1
        var ticks: [LineChart.Tick] = []
        var share = 0.0
        while share <= reachable + 1e-9 {
            ticks.append(LineChart.Tick(share, Format.percent(share)))
            share += step
        }
        return ticks
    }

    /// The accuracy axis: the values' range with a margin, on round half-percents, so that
    /// a curve that hardly moves (the first steps take channels at zero energy) still shows
    /// its shape instead of lying flat on the bottom.
    static func accuracyRange(_ values: [Double]) -> (Double, Double) {
        let lowest = values.min() ?? 0, highest = values.max() ?? 1
        let margin = max(0.005, (highest - lowest) * 0.08)
        let low = max(0, ((lowest - margin) * 200).rounded(.down) / 200)
        let high = min(1, ((highest + 0.005) * 200).rounded(.up) / 200)
        return (low, max(high, low + 0.01))
    }

    /// Up to three accuracy ticks: the top, the bottom, the middle when there is room; with
    /// a decimal when the axis spans a few points only.
    static func accuracyTicks(low: Double, high: Double, rows: Int) -> [LineChart.Tick] {
        let decimals = high - low < 0.05 ? 1 : 0
        var ticks = [LineChart.Tick(high, Format.percent(high, decimals: decimals)), LineChart.Tick(low, Format.percent(low, decimals: decimals))]
        if rows >= 5 { ticks.append(LineChart.Tick((low + high) / 2, Format.percent((low + high) / 2, decimals: decimals))) }
        return ticks
    }
}
