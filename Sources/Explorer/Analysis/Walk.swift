import Canvas
import Pruning

// The user's choices that decide which channels are selected, and the greedy walk they
// give, indexed so that every frame can ask "is this channel selected?" in constant time.

/// The whole greedy walk for one `WalkKey`, with per-channel look-ups.
public struct Walk: Sendable {
    public let key: WalkKey
    public let selection: Selection
    /// normalized[g][i]: the normalised energy of channel i of group g (what the walk sorts).
    public let normalized: [[Double]]
    /// stepOf[g][i]: index of the step that takes channel i of group g, or Int.max when the
    /// walk never takes it (the cap or floor stops it first).
    public let stepOf: [[Int]]
    /// ascending[g]: the channels of group g by normalised energy, ties by index.
    public let ascending: [[Int]]
    /// stepsOf[g]: the indices of the steps that take a channel of group g, ascending.
    let stepsOf: [[Int]]
    /// freedBy[g][k]: MACs the first k steps of group g free (each step's saving at the
    /// widths it was taken at, so the groups' figures add up to the walk's).
    let freedBy: [[Int]]
    /// Median normalised energy of each group.
    public let medianEnergy: [Double]
    /// Channels at exactly zero energy (a group lasso switched them off), per group.
    public let deadCounts: [Int]
    /// Steps at the start of the walk that take channels at zero energy: pruning them
    /// costs nothing, so every criterion and normalisation agrees on them.
    public let deadSteps: Int

    /// Runs the walk (docs/design.md §5, steps 1–3) towards FLOPs under the default limits.
    public init(analysis: ModelAnalysis, key: WalkKey) {
        let variant = analysis.variant(coupled: key.coupled)
        let energies = variant.energies[key.criterion]!.normalized(key.normalization)
        self.key = key
        normalized = energies
        selection = GreedySelection.walk(energies: energies, cost: variant.cost, metric: .flops)
        var stepOf = energies.map { [Int](repeating: .max, count: $0.count) }
        var stepsOf = energies.map { _ in [Int]() }
        var freedBy = energies.map { _ in [0] }
        var macs = selection.before.macs
        for (index, step) in selection.steps.enumerated() {
            stepOf[step.group][step.channel] = index
            stepsOf[step.group].append(index)
            freedBy[step.group].append(freedBy[step.group].last! + (macs - step.after.macs))
            macs = step.after.macs
        }
        self.stepOf = stepOf
        self.stepsOf = stepsOf
        self.freedBy = freedBy
        let sorted = energies.map { values in values.indices.sorted { (values[$0], $0) < (values[$1], $1) } }
        ascending = sorted
        medianEnergy = zip(energies, sorted).map { values, order in order.isEmpty ? 0 : values[order[order.count / 2]] }
        deadCounts = energies.map { $0.reduce(0) { $0 + ($1 == 0 ? 1 : 0) } }
        deadSteps = selection.steps.firstIndex { $0.normalizedEnergy != 0 } ?? selection.steps.count
    }

    /// The limits the walk ran under (the engine's defaults: cap 50%, floor 1).
    public static let limits = SelectionLimits()

    /// Whether channel `channel` of group `group` is among the first `steps` taken.
    public func isSelected(group: Int, channel: Int, steps: Int) -> Bool {
        stepOf[group][channel] < steps
    }

    /// Channels of `group` among the first `steps` taken.
    public func removedCount(group: Int, steps: Int) -> Int {
        var low = 0, high = stepsOf[group].count
        while low < high {
            let middle = (low + high) / 2
            if stepsOf[group][middle] < steps { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Share of the dense model's MACs that the first `steps` steps free in `group`; the
    /// shares of all groups add up to `selection.removedShare(after: steps)`.
    public func freedShare(group: Int, steps: Int) -> Double {
        Double(freedBy[group][removedCount(group: group, steps: steps)]) / Double(max(selection.before.macs, 1))
    }

    /// The most channels the cap and floor let the walk take from `group`.
    public func allowance(group: Int) -> Int {
        stepsOf[group].count
    }

    /// The normalised energy of the last channel taken after `steps` steps: the global cut.
    public func cut(steps: Int) -> Double? {
        steps > 0 ? selection.steps[steps - 1].normalizedEnergy : nil
    }

    /// Channels at exactly zero energy in the whole model.
    public var deadCount: Int { deadCounts.reduce(0, +) }
}
