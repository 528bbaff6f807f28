// concat: the channels of two or more maps of one size, one after another (torch.cat along
// channels, as DenseNet and Inception). Its output's channels are runs of its inputs'.

struct ConcatRule: LayerRule {
    let fields: Set<LayerField> = []
    let arity = 2...Int.max

    func outputShape(_ layer: LayerContext) throws(ArchitectureError) -> FeatureShape {
        let first = layer.inputs[0]
        var channels = 0
        for (shape, name) in zip(layer.inputs, layer.producerNames) {
            guard !shape.isFlat, shape.height == first.height, shape.width == first.width else {
                throw layer.fail("inputs", "maps of one size are concatenated: '\(layer.producerNames[0])' gives \(first), '\(name)' gives \(shape)")
            }
            channels += shape.channels
        }
        guard channels <= ArchitectureLimits.dimension else {
            throw layer.fail("inputs", "more than \(ArchitectureLimits.dimension) channels together")
        }
        return try layer.map(height: first.height, width: first.width, channels: channels)
    }

    func cost(_ layer: ResolvedLayer) -> CostForm { .free }

    func channelFlow(_ layer: ResolvedLayer) -> ChannelFlow { .concatenates }

    func moments(_ layer: ResolvedLayer, inputs: [ChannelMoments], tensors: [[Float]]) -> ChannelMoments {
        ChannelMoments(mean: inputs.flatMap(\.mean), variance: inputs.flatMap(\.variance))
    }

    func makeOperation(_ layer: ResolvedLayer, seed: UInt64) -> any Operation { ConcatOp(inputs: layer.inputs) }

    func resized(_ spec: LayerSpec, outputChannels: Int) -> LayerSpec { spec }
}
