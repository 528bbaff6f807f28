import Engine

public struct RegularizerOptions: Sendable, Equatable {
    public var lambda: Double
    public var step = RegularizerStep.proximal
    /// Include BatchNorm γ and β in the out part of OICSR groups (docs/design.md §5).
    public var batchNormInGroup = true
    /// Scale λ by √|g| per group (the group-lasso convention of Yuan & Lin); off by default.
    public var scaleBySize = false

    public init(lambda: Double) { self.lambda = lambda }
}
