import Engine

// Channel energies (docs/design.md §5): E_i = ‖g_i‖² over the members of out-in-channel i, or the
// baselines' single-layer importance; and the normalisations that rank channels of
// different layers together.

/// Per-channel energies of every group of a model.
public struct Energies: Sendable {
    public let criterion: ImportanceCriterion
    /// raw[g][i]: energy of channel i of group g.
    public let raw: [[Double]]
    /// Elements per channel of group g under the criterion (|g_i|).
    public let groupSizes: [Int]
    /// MACs saved by removing one channel of group g from the full model (producers and
    /// consumers together).
    public let macsPerChannel: [Int]

    public init(model: Model, groups: ChannelGroups, criterion: ImportanceCriterion, batchNormInGroup: Bool = true) {
        self.criterion = criterion
        let tensors = GroupTensors(model: model, groups: groups)
        var raw: [[Double]] = [], sizes: [Int] = []
        for group in groups.groups {
            let segments: [Segment]
            switch criterion {
            case .outIn: segments = tensors.outInGroup(group.id, withBatchNorm: batchNormInGroup)
            case .outChannel: segments = tensors.outPart(group.id, withBatchNorm: batchNormInGroup)
            case .batchNormScale: segments = tensors.scales[group.id]
            }
            sizes.append(GroupTensors.count(segments))
            raw.append((0..<group.width).map { channel in
                criterion == .batchNormScale
                    // |γ| rather than γ²: the slimming criterion; the order is the same.
                    ? GroupTensors.squaredNorm(segments, channel: channel).squareRoot()
                    : GroupTensors.squaredNorm(segments, channel: channel)
            })
        }
        self.raw = raw
        self.groupSizes = sizes
        let cost = WidthCostModel(groups: groups)
        var widths = cost.originalWidths
        self.macsPerChannel = groups.groups.indices.map { cost.savings(removingFrom: $0, widths: &widths).macs }
    }

    public init(criterion: ImportanceCriterion, raw: [[Double]], groupSizes: [Int], macsPerChannel: [Int]? = nil) {
        self.criterion = criterion
        self.raw = raw
        self.groupSizes = groupSizes
        self.macsPerChannel = macsPerChannel ?? raw.map { _ in 1 }
    }

    public func normalized(_ normalization: EnergyNormalization) -> [[Double]] {
        // The network's mean MACs per channel, so that mean-per-mac stays near the scale of layer-mean.
        let channels = raw.reduce(0) { $0 + $1.count }
        let meanMACs = zip(raw, macsPerChannel).reduce(0.0) { $0 + Double($1.0.count * $1.1) } / Double(max(channels, 1))
        return raw.enumerated().map { g, energies in
            switch normalization {
            case .raw:
                return energies
            case .perWeight:
                return energies.map { $0 / Double(max(groupSizes[g], 1)) }
            case .layerMean, .layerShare, .meanPerMAC:
                let sum = energies.reduce(0, +)
                var denominator = normalization == .layerShare ? sum : sum / Double(max(energies.count, 1))
                if normalization == .meanPerMAC { denominator *= Double(max(macsPerChannel[g], 1)) / max(meanMACs, 1) }
                return energies.map { denominator > 0 ? $0 / denominator : 0 }
            case .lamp:
                return Self.lamp(energies)
            }
        }
    }

    /// LAMP scores of one group: each energy over the sum of the energies not below it in
    /// ascending order (ties by index), so the order inside the group is kept.
    static func lamp(_ energies: [Double]) -> [Double] {
        let order = energies.indices.sorted { (energies[$0], $0) < (energies[$1], $1) }
        var scores = [Double](repeating: 0, count: energies.count)
        // Suffix sums from the top, so no cancellation creeps into the small denominators.
        var atLeast = 0.0
        for i in order.reversed() {
            atLeast += energies[i]
            scores[i] = atLeast > 0 ? energies[i] / atLeast : 0
        }
        return scores
    }
}
