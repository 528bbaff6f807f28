import Engine

/// What measures a channel's importance.
public enum ImportanceCriterion: String, CaseIterable, Sendable, Codable {
    /// OICSR: the whole out-in-channel group.
    case outIn = "out-in"
    /// The producer side alone (filters, biases, BatchNorm), the L2 and GL baselines.
    case outChannel = "out"
    /// |γ| of the BatchNorm scales, the L1-BN (network slimming) baseline.
    case batchNormScale = "bn-scale"

    /// The criterion that matches how a model was trained. Training with L2 alone fixes none;
    /// for it the selection study (docs/selection.md) chose the whole out-in-channel, which
    /// keeps more validation accuracy than the filters alone.
    public static func matching(_ kind: RegularizerKind) -> ImportanceCriterion {
        switch kind {
        case .oicsrGL, .l2: return .outIn
        case .l1BN: return .batchNormScale
        case .gl: return .outChannel
        }
    }
}
