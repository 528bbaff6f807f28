import Engine

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
