import Engine

public enum EnergyNormalization: String, CaseIterable, Sendable, Codable {
    /// E_i as it is.
    case raw
    /// E_i / |g_i|: removes the advantage of large groups.
    case perWeight = "per-weight"
    /// E_i / mean_j E_j over the channels of the same group.
    case layerMean = "layer-mean"
    /// E_i / Σ_j E_j over the channels of the same group.
    case layerShare = "layer-share"
    /// E_i / Σ_{j: E_j ≥ E_i} E_j over the channels of the same group: LAMP's score (Lee et
    /// al., ICLR 2021), 1 for a layer's strongest channel, and small for a channel that is weak
    /// next to what the layer keeps however many channels go.
    case lamp
    /// (E_i / mean_j E_j) / (MACs freed by removing one channel of the group, relative to the
    /// network's mean): layer-mean energy per MAC saved, the greedy order of a knapsack that
    /// removes a MAC budget at the least relative energy.
    case meanPerMAC = "mean-per-mac"

    /// The default, chosen by the selection study (docs/selection.md): on validation splits of
    /// convnet-s and resnet20 trained with every regularizer and both optimisers, early and
    /// late in training, it kept the most top-1 over 10–70% of MACs removed before any repair
    /// (LAMP was a close second). Per-weight, an earlier default, mostly measures a layer's
    /// weight scale (about 1/fan-in), so on weights that are not sparse it empties whole layers
    /// to the cap.
    public static let standard = EnergyNormalization.raw

    /// Every normalisation, the standard first: the order in which a calibration prefers
    /// equally good candidates.
    public static var byPreference: [EnergyNormalization] { [standard] + allCases.filter { $0 != standard } }

    public var summary: String {
        switch self {
        case .raw: return "E"
        case .perWeight: return "E / group size"
        case .layerMean: return "E / layer mean"
        case .layerShare: return "E / layer sum"
        case .lamp: return "E / layer sum of E at least as large"
        case .meanPerMAC: return "E / layer mean / MACs freed"
        }
    }
}
