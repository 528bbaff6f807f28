// linear: a fully connected layer on a flat vector, PyTorch's Linear.

struct LinearRule: LayerRule {
    let fields: Set<LayerField> = [.out, .bias]
    let arity = 1...1

    func outputShape(_ layer: LayerContext) throws(ArchitectureError) -> FeatureShape {
        guard layer.input.isFlat else {
            throw layer.fail("inputs", "linear needs a flat vector; put globalavgpool or flatten before it")
        }
        return .vector(try layer.integer(.out, layer.spec.outChannels))
    }

    func cost(_ layer: ResolvedLayer) -> CostForm {
        CostForm(macsPerPair: 1, parametersPerPair: 1, parametersPerOutput: layer.spec.hasBias ? 1 : 0)
    }

    func channelFlow(_ layer: ResolvedLayer) -> ChannelFlow { .opens }

    func moments(_ layer: ResolvedLayer, inputs: [ChannelMoments], tensors: [[Float]]) -> ChannelMoments {
        .unknown(layer.output.channels)
    }

    func makeOperation(_ layer: ResolvedLayer, seed: UInt64) -> any Operation {
        LinearOp(name: layer.name, inFeatures: layer.input.channels, outFeatures: layer.spec.outChannels!, bias: layer.spec.hasBias)
    }

    func resized(_ spec: LayerSpec, outputChannels: Int) -> LayerSpec {
        var resized = spec
        resized.outChannels = outputChannels
        return resized
    }
}
