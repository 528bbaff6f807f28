// flatten: a map (C, H, W) as a vector of C·H·W features in PyTorch's channel-major order,
// each channel owning H·W consecutive features.

struct FlattenRule: LayerRule {
    let fields: Set<LayerField> = []
    let arity = 1...1

    func outputShape(_ layer: LayerContext) throws(ArchitectureError) -> FeatureShape { .vector(layer.input.count) }

    func cost(_ layer: ResolvedLayer) -> CostForm { .free }

    func channelFlow(_ layer: ResolvedLayer) -> ChannelFlow { .flattens }

    func moments(_ layer: ResolvedLayer, inputs: [ChannelMoments], tensors: [[Float]]) -> ChannelMoments {
        layer.input.isFlat ? inputs[0] : inputs[0].repeated(layer.input.pixels)
    }

    func makeOperation(_ layer: ResolvedLayer, seed: UInt64) -> any Operation { FlattenOp(input: layer.input) }

    func resized(_ spec: LayerSpec, outputChannels: Int) -> LayerSpec { spec }
}
