// add: the sum of two activations of one shape (a residual connection), which couples the
// channels of its inputs.

struct AddRule: LayerRule {
    let fields: Set<LayerField> = []
    let arity = 2...2

    func outputShape(_ layer: LayerContext) throws(ArchitectureError) -> FeatureShape {
        let (a, b) = (layer.inputs[0], layer.inputs[1])
        guard a == b else {
            throw layer.fail("inputs", "shapes differ: '\(layer.producerNames[0])' gives \(a), '\(layer.producerNames[1])' gives \(b)")
        }
        return a
    }

    func cost(_ layer: ResolvedLayer) -> CostForm { .free }

    func channelFlow(_ layer: ResolvedLayer) -> ChannelFlow { .joins(residual: true) }

    /// The two summands taken as independent.
    func moments(_ layer: ResolvedLayer, inputs: [ChannelMoments], tensors: [[Float]]) -> ChannelMoments { inputs[0] + inputs[1] }

    func makeOperation(_ layer: ResolvedLayer, seed: UInt64) -> any Operation { AddOp(input: layer.input) }

    func resized(_ spec: LayerSpec, outputChannels: Int) -> LayerSpec { spec }
}
