// batchnorm: PyTorch's BatchNorm2d over the channels of a map; γ, β and the running
// statistics are per channel, so they live and die with it.

struct BatchNormRule: LayerRule {
    let fields: Set<LayerField> = []
    let arity = 1...1

    func outputShape(_ layer: LayerContext) throws(ArchitectureError) -> FeatureShape {
        try layer.requireMap()
        return layer.input
    }

    func cost(_ layer: ResolvedLayer) -> CostForm { CostForm(parametersPerOutput: 2) }

    func channelFlow(_ layer: ResolvedLayer) -> ChannelFlow { .passes(weighted: true) }

    func makeOperation(_ layer: ResolvedLayer, seed: UInt64) -> any Operation {
        BatchNorm2dOp(name: layer.name, input: layer.input)
    }

    func resized(_ spec: LayerSpec, outputChannels: Int) -> LayerSpec { spec }
}
