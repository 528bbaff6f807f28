import Engine

/// How a sparsity penalty enters the optimisation.
public enum RegularizerStep: String, CaseIterable, Sendable, Codable {
    /// A proximal step after each SGD step: the proximal operator of lr·λ·Σ‖g‖ — block
    /// soft-thresholding (g ← g·max(0, 1 − lr·λ/‖g‖)) for disjoint groups, its exact
    /// overlapping-group form for OICSR (`GroupProximal`), soft-thresholding for L1. Weak
    /// groups reach exactly zero, so removing them changes nothing.
    case proximal
    /// The subgradient g/‖g‖ (zero at 0) added to the loss gradient. Groups shrink
    /// towards zero but oscillate around it instead of reaching it.
    case subgradient
}
