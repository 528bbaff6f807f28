// The cost model (docs/design.md §5): multiply-accumulates of convolution and linear layers at
// the model's input size, per example; BN, ReLU, pooling and additions are not counted.
// Parameters are the trainable ones (weights, biases, BatchNorm γ and β). Each kind's rule
// says what it costs (`LayerRule.cost`); `ModelGraph` totals them.

public struct LayerCost: Equatable, Sendable {
    public var name: String
    public var kind: LayerKind
    public var outputShape: FeatureShape
    public var macs: Int
    public var parameters: Int
}
