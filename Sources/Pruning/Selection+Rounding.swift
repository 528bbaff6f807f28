import Engine

// Widths rounded to a multiple: GEMM kernels run fastest when channel counts are multiples
// of their vector and tile widths (8 for AVX2 floats), so a selection may keep each group at
// a multiple of m channels. A prefix of the walk is rounded by giving back, per group, the
// channels it took last (the highest energies it took) until the kept count is a multiple
// of m, or the group's whole width.

extension Selection {
    /// The plan of the first `count` steps with every group's kept width rounded up to a
    /// multiple of `multiple` (at most its original width).
    public func plan(steps count: Int, widthMultiple multiple: Int) -> PruningPlan {
        guard multiple > 1 else { return plan(steps: count) }
        var taken = widths.map { _ in [Int]() }
        for step in steps.prefix(count) { taken[step.group].append(step.channel) }
        let removed = taken.enumerated().map { g, channels -> [Int] in
            let kept = widths[g] - channels.count
            let rounded = min(widths[g], (kept + multiple - 1) / multiple * multiple)
            return channels.dropLast(rounded - kept).sorted()
        }
        return PruningPlan(widths: widths, removed: removed)
    }

    /// The fewest steps whose rounded plan removes `target` of the metric, or nil when even
    /// the whole walk, rounded, falls short. Rounding only gives channels back, and gives
    /// back fewer as more are taken, so the removed share grows with the steps.
    public func stepCount(toReach target: Double, widthMultiple multiple: Int, cost: WidthCostModel) -> Int? {
        guard multiple > 1 else { return stepCount(toReach: target) }
        func removedShare(_ count: Int) -> Double { self.removedShare(after: count, widthMultiple: multiple, cost: cost) }
        if target <= 0 { return 0 }
        var low = stepCount(toReach: target) ?? steps.count, high = steps.count
        guard removedShare(high) >= target else { return nil }
        while low < high {
            let middle = (low + high) / 2
            if removedShare(middle) >= target { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// Share of the metric the rounded plan of the first `count` steps removes.
    public func removedShare(after count: Int, widthMultiple multiple: Int, cost: WidthCostModel) -> Double {
        guard multiple > 1 else { return removedShare(after: count) }
        let figures = cost.figures(widths: plan(steps: count, widthMultiple: multiple).kept.map(\.count))
        return 1 - Double(figures.value(metric)) / Double(max(before.value(metric), 1))
    }
}
