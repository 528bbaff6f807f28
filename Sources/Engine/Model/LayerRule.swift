// The contract of a layer kind: everything the engine and the pruning module need to know
// about it, in one place (one rule per kind, as Torch-Pruning keeps one prune function per
// module type). `LayerKind.rule` maps every kind to its rule with an exhaustive switch, and
// the requirements below have no defaults but `slice`, so a kind cannot be added without
// saying how it is shaped, what it costs, how channels flow through it, what it does to a
// channel's expected value and how surgery resizes it.

public protocol LayerRule: Sendable {
    /// Fields beyond `name`, `kind`, `inputs` and `in` that this kind accepts.
    var fields: Set<LayerField> { get }
    /// How many inputs the layer reads.
    var arity: ClosedRange<Int> { get }
    /// The layer's output for one example; validates the fields (with their defaults) against
    /// the inputs, failing with an error that names the field.
    func outputShape(_ layer: LayerContext) throws(ArchitectureError) -> FeatureShape
    /// MACs and parameters as a function of the channels read and written.
    func cost(_ layer: ResolvedLayer) -> CostForm
    /// How channels go from the inputs to the output (what pruning one of them touches).
    func channelFlow(_ layer: ResolvedLayer) -> ChannelFlow
    /// Each output channel's expected mean and variance in inference, given the inputs' and
    /// the layer's tensors (in `Model.tensors(ofLayer:)` order); NaN where the kind cannot
    /// tell (ChannelMoments.swift).
    func moments(_ layer: ResolvedLayer, inputs: [ChannelMoments], tensors: [[Float]]) -> ChannelMoments
    /// The forward/backward implementation. `seed` feeds layers that draw random numbers.
    func makeOperation(_ layer: ResolvedLayer, seed: UInt64) -> any Operation
    /// The layer as written once surgery leaves it `outputChannels` (the common field `in` is
    /// updated by surgery itself).
    func resized(_ spec: LayerSpec, outputChannels: Int) -> LayerSpec
    /// The kept part of one of the layer's tensors (a parameter or a buffer, in the engine's
    /// layout), given the kept output channels and the kept input features (nil: all).
    func slice(_ values: [Float], role: ParameterRole, layer: ResolvedLayer, keptOutputs: [Int]?, keptInputs: [Int]?) -> [Float]
}

extension LayerRule {
    /// Rows follow the output channels and columns the input features; per-channel tensors
    /// follow the output channels.
    public func slice(_ values: [Float], role: ParameterRole, layer: ResolvedLayer, keptOutputs: [Int]?, keptInputs: [Int]?) -> [Float] {
        TensorSlicing.slice(values, role: role, rows: keptOutputs, columns: keptInputs)
    }
}
