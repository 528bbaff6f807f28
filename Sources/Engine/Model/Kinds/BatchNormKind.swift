// batchnorm: PyTorch's BatchNorm2d over the channels of a map (ε and the running-average
// momentum as PyTorch's); γ, β and the running statistics are per channel, so they live and
// die with it.

struct BatchNormRule: LayerRule {
    let fields: Set<LayerField> = [.eps, .momentum]
    let arity = 1...1

    func outputShape(_ layer: LayerContext) throws(ArchitectureError) -> FeatureShape {
        try layer.requireMap()
        _ = try layer.number(.eps, layer.spec.eps, default: Double(BatchNorm2dOp.defaultEps), in: Double.leastNormalMagnitude..<1)
        _ = try layer.number(.momentum, layer.spec.momentum, default: Double(BatchNorm2dOp.defaultMomentum), in: 0..<1.000001)
        return layer.input
    }

    func cost(_ layer: ResolvedLayer) -> CostForm { CostForm(parametersPerOutput: 2) }

    func channelFlow(_ layer: ResolvedLayer) -> ChannelFlow { .passes(weighted: true) }

    func moments(_ layer: ResolvedLayer, inputs: [ChannelMoments], tensors: [[Float]]) -> ChannelMoments {
        .normalized(scale: tensors[0], shift: tensors[1])
    }

    func makeOperation(_ layer: ResolvedLayer, seed: UInt64) -> any Operation {
        BatchNorm2dOp(name: layer.name, input: layer.input, eps: Float(layer.spec.eps ?? Double(BatchNorm2dOp.defaultEps)),
                      momentum: Float(layer.spec.momentum ?? Double(BatchNorm2dOp.defaultMomentum)))
    }

    func resized(_ spec: LayerSpec, outputChannels: Int) -> LayerSpec { spec }
}
