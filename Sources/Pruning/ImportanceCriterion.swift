import Engine

/// What measures a channel's importance.
public enum ImportanceCriterion: String, CaseIterable, Sendable, Codable {
    /// OICSR: the whole out-in-channel group.
    case outIn = "out-in"
    /// The producer side alone (filters, biases, BatchNorm), the L2 and GL baselines.
    case outChannel = "out"
    /// |γ| of the BatchNorm scales, the L1-BN (network slimming) baseline.
    case batchNormScale = "bn-scale"

    /// The criterion that ranks a model trained with `kind`. OICSR-GL and L1-BN regularize
    /// exactly what their criteria measure. L2 fixes none, and GL shrinks filters while a
    /// selection removes whole out-in channels; for both the selection study
    /// (docs/selection.md) chose the whole out-in channel over the filter alone.
    public static func matching(_ kind: RegularizerKind) -> ImportanceCriterion {
        switch kind {
        case .oicsrGL, .l2, .gl: return .outIn
        case .l1BN: return .batchNormScale
        }
    }

    /// The criteria a selection may still choose between for a model trained with `kind`,
    /// the matching one first: OICSR-GL and L1-BN fix theirs; L2 and GL leave the whole out-in
    /// channel and the filter alone open.
    public static func open(by kind: RegularizerKind) -> [ImportanceCriterion] {
        switch kind {
        case .oicsrGL, .l1BN: return [matching(kind)]
        case .l2, .gl: return [.outIn, .outChannel]
        }
    }
}
