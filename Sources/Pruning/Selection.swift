import Engine

// Global greedy selection (the paper's Algorithm 1, as reconstructed in docs/design.md §5):
// rank every prunable channel of the network by normalised energy, then take them in
// ascending order, skipping a channel whose layer would pass its cap or floor, until the
// target share of FLOPs (or parameters, or channels) is removed.
//
// The order of the walk does not depend on the target, only where it stops. So the walk is
// run once to its end and a target is a prefix of it: moving the target or stepping the
// cursor never recomputes anything.

/// The whole greedy walk over a model's channels.
public struct Selection: Sendable {
    public let before: CostFigures
    public let steps: [SelectionStep]
    public let metric: TargetMetric
    /// Original widths of the groups (what the cap refers to).
    public let widths: [Int]

    /// Share of the metric removed after the first `count` steps.
    public func removedShare(after count: Int) -> Double {
        guard count > 0 else { return 0 }
        let base = Double(before.value(metric))
        return (base - Double(steps[count - 1].after.value(metric))) / base
    }

    /// Largest share the walk can remove under the limits.
    public var reachableShare: Double { removedShare(after: steps.count) }

    /// Steps needed to reach `target` (a share in 0…1): the first point where the removed
    /// share reaches it, or nil when the limits stop the walk short of it.
    public func stepCount(toReach target: Double) -> Int? {
        if target <= 0 { return 0 }
        var low = 0, high = steps.count
        guard removedShare(after: high) >= target else { return nil }
        while low < high {
            let middle = (low + high) / 2
            if removedShare(after: middle) >= target { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// Figures after the first `count` steps.
    public func figures(after count: Int) -> CostFigures { count == 0 ? before : steps[count - 1].after }

    /// The plan made of the first `count` steps.
    public func plan(steps count: Int) -> PruningPlan {
        var removed = widths.map { _ in [Int]() }
        for step in steps.prefix(count) { removed[step.group].append(step.channel) }
        return PruningPlan(widths: widths, removed: removed.map { $0.sorted() })
    }
}
