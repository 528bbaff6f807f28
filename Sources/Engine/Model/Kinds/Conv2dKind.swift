// conv2d: a 2-D convolution, PyTorch's Conv2d (square kernel, stride and padding).

struct Conv2dRule: LayerRule {
    let fields: Set<LayerField> = [.out, .kernel, .stride, .padding, .bias]
    let arity = 1...1

    func outputShape(_ layer: LayerContext) throws(ArchitectureError) -> FeatureShape {
        try layer.requireMap()
        let spec = layer.spec, x = layer.input
        let out = try layer.integer(.out, spec.outChannels)
        let kernel = try layer.integer(.kernel, spec.kernel)
        let stride = try layer.integer(.stride, spec.stride, default: 1)
        let padding = try layer.integer(.padding, spec.padding, default: 0, minimum: 0, maximum: ArchitectureLimits.padding)
        return try layer.map(height: layer.slidingOutput(length: x.height, kernel: kernel, stride: stride, padding: padding),
                             width: layer.slidingOutput(length: x.width, kernel: kernel, stride: stride, padding: padding),
                             channels: out)
    }

    func cost(_ layer: ResolvedLayer) -> CostForm {
        let taps = layer.spec.kernel! * layer.spec.kernel!
        return CostForm(macsPerPair: taps * layer.output.pixels, parametersPerPair: taps,
                        parametersPerOutput: layer.spec.hasBias ? 1 : 0)
    }

    func channelFlow(_ layer: ResolvedLayer) -> ChannelFlow { .opens }

    func makeOperation(_ layer: ResolvedLayer, seed: UInt64) -> any Operation {
        let spec = layer.spec
        return Conv2dOp(name: spec.name, input: layer.input, outChannels: spec.outChannels!, kernel: spec.kernel!,
                        stride: spec.stride ?? 1, padding: spec.padding ?? 0, bias: spec.hasBias)
    }

    func resized(_ spec: LayerSpec, outputChannels: Int) -> LayerSpec {
        var resized = spec
        resized.outChannels = outputChannels
        return resized
    }
}
