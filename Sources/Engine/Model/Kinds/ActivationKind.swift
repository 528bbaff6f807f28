// Element-wise activations: no fields, no cost, channel i stays channel i.

struct ActivationRule: LayerRule {
    let kind: LayerKind
    let fields: Set<LayerField> = []
    let arity = 1...1

    func outputShape(_ layer: LayerContext) throws(ArchitectureError) -> FeatureShape { layer.input }

    func cost(_ layer: ResolvedLayer) -> CostForm { .free }

    func channelFlow(_ layer: ResolvedLayer) -> ChannelFlow { .passes(weighted: false) }

    /// A ReLU rectifies the moments; the smooth and clipped kinds are not followed.
    func moments(_ layer: ResolvedLayer, inputs: [ChannelMoments], tensors: [[Float]]) -> ChannelMoments {
        kind == .relu ? inputs[0].rectified() : .unknown(layer.output.channels)
    }

    func makeOperation(_ layer: ResolvedLayer, seed: UInt64) -> any Operation {
        guard kind != .relu else { return ReLUOp(input: layer.input) }
        guard let function = ActivationFunction(rawValue: kind.rawValue) else { preconditionFailure("\(kind) is not an activation") }
        return ActivationOp(function, input: layer.input)
    }

    func resized(_ spec: LayerSpec, outputChannels: Int) -> LayerSpec { spec }
}
