import Engine

// Channel energies (docs/design.md §5): E_i = ‖g_i‖² over the members of out-in-channel i, or the
// baselines' single-layer importance; and the normalisations that rank channels of
// different layers together.

/// What measures a channel's importance.
public enum ImportanceCriterion: String, CaseIterable, Sendable, Codable {
    /// OICSR: the whole out-in-channel group.
    case outIn = "out-in"
    /// The producer side alone (filters, biases, BatchNorm), the L2 and GL baselines.
    case outChannel = "out"
    /// |γ| of the BatchNorm scales, the L1-BN (network slimming) baseline.
    case batchNormScale = "bn-scale"

    /// The criterion that matches how a model was trained.
    public static func matching(_ kind: RegularizerKind) -> ImportanceCriterion {
        switch kind {
        case .oicsrGL: return .outIn
        case .l1BN: return .batchNormScale
        case .l2, .gl: return .outChannel
        }
    }
}

public enum EnergyNormalization: String, CaseIterable, Sendable, Codable {
    /// E_i as it is.
    case raw
    /// E_i / |g_i|: removes the advantage of large groups.
    case perWeight = "per-weight"
    /// E_i / mean_j E_j over the channels of the same group.
    case layerMean = "layer-mean"
    /// E_i / Σ_j E_j over the channels of the same group.
    case layerShare = "layer-share"

    /// The default, chosen by the Fashion-MNIST measurement in docs/oicsr-study.md: on the
    /// validation split, every normalisation kept OICSR-GL's full accuracy at 50% of FLOPs
    /// removed before fine-tuning, and per-weight kept the most for the other regularizers.
    public static let standard = EnergyNormalization.perWeight

    public var summary: String {
        switch self {
        case .raw: return "E"
        case .perWeight: return "E / group size"
        case .layerMean: return "E / layer mean"
        case .layerShare: return "E / layer sum"
        }
    }
}

/// Per-channel energies of every group of a model.
public struct Energies: Sendable {
    public let criterion: ImportanceCriterion
    /// raw[g][i]: energy of channel i of group g.
    public let raw: [[Double]]
    /// Elements per channel of group g under the criterion (|g_i|).
    public let groupSizes: [Int]

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
    }

    public init(criterion: ImportanceCriterion, raw: [[Double]], groupSizes: [Int]) {
        self.criterion = criterion
        self.raw = raw
        self.groupSizes = groupSizes
    }

    public func normalized(_ normalization: EnergyNormalization) -> [[Double]] {
        raw.enumerated().map { g, energies in
            switch normalization {
            case .raw:
                return energies
            case .perWeight:
                return energies.map { $0 / Double(max(groupSizes[g], 1)) }
            case .layerMean, .layerShare:
                let sum = energies.reduce(0, +)
                let denominator = normalization == .layerShare ? sum : sum / Double(max(energies.count, 1))
                return energies.map { denominator > 0 ? $0 / denominator : 0 }
            }
        }
    }
}
