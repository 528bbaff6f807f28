import Engine

// Global greedy selection (the paper's Algorithm 1, as reconstructed in docs/design.md §5):
// rank every prunable channel of the network by normalised energy, then take them in
// ascending order, skipping a channel whose layer would pass its cap or floor, until the
// target share of FLOPs (or parameters, or channels) is removed.
//
// The order of the walk does not depend on the target, only where it stops. So the walk is
// run once to its end and a target is a prefix of it: moving the target or stepping the
// cursor never recomputes anything.

public struct SelectionLimits: Equatable, Sendable {
    /// Largest share of a group's original width that may go (cumulative over iterations).
    public var capShare: Double = 0.5
    /// Fewest channels a group keeps.
    public var floor: Int = 1

    public init(capShare: Double = 0.5, floor: Int = 1) {
        self.capShare = capShare
        self.floor = floor
    }
}

/// One channel taken by the walk, and the model's figures once it is gone.
public struct SelectionStep: Equatable, Sendable, Codable {
    public var group: Int
    public var channel: Int
    public var normalizedEnergy: Double
    public var after: CostFigures
}

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

/// Which channels go: per group, the removed indices (sorted).
public struct PruningPlan: Equatable, Sendable, Codable {
    public var widths: [Int]
    public var removed: [[Int]]

    public init(widths: [Int], removed: [[Int]]) {
        self.widths = widths
        self.removed = removed
    }

    /// Kept indices per group, ascending.
    public var kept: [[Int]] {
        zip(widths, removed).map { width, removed in
            let gone = Set(removed)
            return (0..<width).filter { !gone.contains($0) }
        }
    }

    public var removedCount: Int { removed.reduce(0) { $0 + $1.count } }
    public var isEmpty: Bool { removedCount == 0 }
}

public enum GreedySelection {
    /// The walk over `model`'s channels ranked by `criterion` under `normalization`.
    public static func walk(model: Model, groups: ChannelGroups, criterion: ImportanceCriterion,
                            normalization: EnergyNormalization, metric: TargetMetric,
                            limits: SelectionLimits = SelectionLimits(), capWidths: [Int]? = nil) -> Selection {
        let energies = Energies(model: model, groups: groups, criterion: criterion).normalized(normalization)
        return walk(energies: energies, cost: WidthCostModel(groups: groups), metric: metric, limits: limits, capWidths: capWidths)
    }

    /// Walks all channels in ascending normalised energy. Ties (common: group lasso drives
    /// whole channels to exactly zero) go first to the channel whose removal frees more of
    /// the target metric at the current widths, so that the walk takes the costly dead
    /// channels before the cheap ones; then group order, then index. `capWidths` are the
    /// widths the cap refers to (the original model's, when pruning iteratively); they
    /// default to the current widths.
    public static func walk(energies: [[Double]], cost: WidthCostModel, metric: TargetMetric,
                            limits: SelectionLimits = SelectionLimits(), capWidths: [Int]? = nil) -> Selection {
        var widths = cost.originalWidths
        let freed = widths.indices.map { g -> Int in
            guard widths[g] > 0 else { return 0 }
            let saved = cost.savings(removingFrom: g, widths: &widths)
            switch metric {
            case .flops: return saved.macs
            case .parameters: return saved.parameters
            case .channels: return 1
            }
        }
        var order: [(energy: Double, freed: Int, group: Int, channel: Int)] = []
        order.reserveCapacity(energies.reduce(0) { $0 + $1.count })
        for (g, values) in energies.enumerated() {
            for (i, e) in values.enumerated() { order.append((e, -freed[g], g, i)) }
        }
        order.sort { ($0.energy, $0.freed, $0.group, $0.channel) < ($1.energy, $1.freed, $1.group, $1.channel) }

        let reference = capWidths ?? widths
        // Channels a group may still lose: its cap (cumulative), and its floor.
        var allowance = widths.indices.map { g in
            min(widths[g] - max(limits.floor, 1),
                Int((limits.capShare * Double(reference[g])).rounded(.down)) - (reference[g] - widths[g]))
        }
        var figures = cost.figures(widths: widths)
        let before = figures
        var steps: [SelectionStep] = []
        steps.reserveCapacity(order.count)
        for candidate in order where allowance[candidate.group] > 0 {
            let saved = cost.savings(removingFrom: candidate.group, widths: &widths)
            widths[candidate.group] -= 1
            allowance[candidate.group] -= 1
            figures.macs -= saved.macs
            figures.parameters -= saved.parameters
            figures.channels -= 1
            steps.append(SelectionStep(group: candidate.group, channel: candidate.channel,
                                       normalizedEnergy: candidate.energy, after: figures))
        }
        return Selection(before: before, steps: steps, metric: metric, widths: cost.originalWidths)
    }
}
