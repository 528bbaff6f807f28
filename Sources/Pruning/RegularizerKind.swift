import Engine

public enum RegularizerKind: String, CaseIterable, Sendable, Codable {
    /// Weight decay only.
    case l2
    /// Group lasso on each layer's output filters, separately.
    case gl
    /// Group lasso on whole out-in-channels (OICSR).
    case oicsrGL = "oicsr-gl"
    /// L1 on BatchNorm scales (network slimming).
    case l1BN = "l1-bn"
}
