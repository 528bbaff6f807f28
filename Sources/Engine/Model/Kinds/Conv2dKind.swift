// conv2d: a 2-D convolution, PyTorch's Conv2d (square kernel, stride, padding and dilation;
// `groups` splits the channels into independent convolutions). A depthwise convolution
// (groups = in = out) filters each channel on its own, so channel i of its output is
// channel i of its input: it passes channels through, its filter i living and dying with
// channel i. Other grouped convolutions tie channels across groups; their channels are
// not pruned one at a time.

struct Conv2dRule: LayerRule {
    let fields: Set<LayerField> = [.out, .kernel, .stride, .padding, .dilation, .groups, .bias]
    let arity = 1...1

    func outputShape(_ layer: LayerContext) throws(ArchitectureError) -> FeatureShape {
        try layer.requireMap()
        let spec = layer.spec, x = layer.input
        let out = try layer.integer(.out, spec.outChannels)
        let kernel = try layer.integer(.kernel, spec.kernel)
        let stride = try layer.integer(.stride, spec.stride, default: 1)
        let padding = try layer.integer(.padding, spec.padding, default: 0, minimum: 0, maximum: ArchitectureLimits.padding)
        let dilation = try layer.integer(.dilation, spec.dilation, default: 1)
        let groups = try layer.integer(.groups, spec.groups, default: 1)
        guard x.channels % groups == 0, out % groups == 0 else {
            throw layer.fail("groups", "\(groups) must divide the \(x.channels) input channels and the \(out) output channels")
        }
        func size(_ length: Int) throws(ArchitectureError) -> Int {
            try layer.slidingOutput(length: length, kernel: kernel, stride: stride, padding: padding, dilation: dilation)
        }
        return try layer.map(height: size(x.height), width: size(x.width), channels: out)
    }

    /// Depthwise: one filter per channel, in = out = groups.
    static func isDepthwise(_ layer: ResolvedLayer) -> Bool {
        let groups = layer.spec.groups ?? 1
        return groups > 1 && groups == layer.input.channels && groups == layer.output.channels
    }

    func cost(_ layer: ResolvedLayer) -> CostForm {
        let taps = layer.spec.kernel! * layer.spec.kernel!
        let bias = layer.spec.hasBias ? 1 : 0
        if Self.isDepthwise(layer) {
            // In terms of its output channels alone: in = out, one input channel per filter.
            return CostForm(macsPerOutput: taps * layer.output.pixels, parametersPerOutput: taps + bias)
        }
        return CostForm(macsPerPair: taps * layer.output.pixels, parametersPerPair: taps, parametersPerOutput: bias,
                        divisor: layer.spec.groups ?? 1)
    }

    func channelFlow(_ layer: ResolvedLayer) -> ChannelFlow {
        if Self.isDepthwise(layer) { return .passes(weighted: true) }
        return (layer.spec.groups ?? 1) == 1 ? .opens : .fixes(reason: "grouped convolution")
    }

    func moments(_ layer: ResolvedLayer, inputs: [ChannelMoments], tensors: [[Float]]) -> ChannelMoments {
        .unknown(layer.output.channels)
    }

    func makeOperation(_ layer: ResolvedLayer, seed: UInt64) -> any Operation {
        let spec = layer.spec
        return Conv2dOp(name: spec.name, input: layer.input, outChannels: spec.outChannels!, kernel: spec.kernel!,
                        stride: spec.stride ?? 1, padding: spec.padding ?? 0, dilation: spec.dilation ?? 1,
                        groups: spec.groups ?? 1, bias: spec.hasBias)
    }

    func resized(_ spec: LayerSpec, outputChannels: Int) -> LayerSpec {
        var resized = spec
        // A depthwise convolution keeps one group per channel.
        if let groups = spec.groups, groups > 1, groups == spec.outChannels { resized.groups = outputChannels }
        resized.outChannels = outputChannels
        return resized
    }

    func slice(_ values: [Float], role: ParameterRole, layer: ResolvedLayer, keptOutputs: [Int]?, keptInputs: [Int]?) -> [Float] {
        // A depthwise filter reads one input channel, its own: only its rows go.
        TensorSlicing.slice(values, role: role, rows: keptOutputs, columns: Self.isDepthwise(layer) ? nil : keptInputs)
    }
}
