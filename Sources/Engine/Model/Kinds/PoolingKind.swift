// maxpool and avgpool: windows over each channel of a map (PyTorch's MaxPool2d, AvgPool2d).

struct PoolingRule: LayerRule {
    let kind: LayerKind
    var fields: Set<LayerField> { kind == .avgpool ? [.kernel, .stride, .padding, .ceil, .countPadding] : [.kernel, .stride, .padding, .ceil] }
    let arity = 1...1

    func outputShape(_ layer: LayerContext) throws(ArchitectureError) -> FeatureShape {
        try layer.requireMap()
        let spec = layer.spec, x = layer.input
        let kernel = try layer.integer(.kernel, spec.kernel)
        let stride = try layer.integer(.stride, spec.stride, default: kernel)
        let padding = try layer.integer(.padding, spec.padding, default: 0, minimum: 0, maximum: ArchitectureLimits.padding)
        // PyTorch's limit: a window never lies entirely in the padding.
        guard padding * 2 <= kernel else { throw layer.fail("padding", "at most half the kernel, found \(padding)") }
        let ceil = spec.ceil ?? false
        return try layer.map(height: layer.slidingOutput(length: x.height, kernel: kernel, stride: stride, padding: padding, ceil: ceil),
                             width: layer.slidingOutput(length: x.width, kernel: kernel, stride: stride, padding: padding, ceil: ceil),
                             channels: x.channels)
    }

    func cost(_ layer: ResolvedLayer) -> CostForm { .free }

    func channelFlow(_ layer: ResolvedLayer) -> ChannelFlow { .passes(weighted: false) }

    /// An average keeps the mean (and at most the variance). A window's maximum is at least
    /// its values' mean: the moments passed on understate it, so what surgery folds in for a
    /// removed channel after a max-pool errs towards folding too little.
    func moments(_ layer: ResolvedLayer, inputs: [ChannelMoments], tensors: [[Float]]) -> ChannelMoments { inputs[0] }

    func makeOperation(_ layer: ResolvedLayer, seed: UInt64) -> any Operation {
        let spec = layer.spec
        let kernel = spec.kernel!, stride = spec.stride ?? kernel, padding = spec.padding ?? 0, ceil = spec.ceil ?? false
        switch kind {
        case .maxpool: return MaxPoolOp(input: layer.input, kernel: kernel, stride: stride, padding: padding, ceilMode: ceil)
        case .avgpool: return AvgPoolOp(input: layer.input, kernel: kernel, stride: stride, padding: padding, ceilMode: ceil,
                                        countPadding: spec.countPadding ?? true)
        default: preconditionFailure("\(kind) is not a pooling kind")
        }
    }

    func resized(_ spec: LayerSpec, outputChannels: Int) -> LayerSpec { spec }
}

// adaptiveavgpool: average pooling to a given output size, PyTorch's AdaptiveAvgPool2d.
struct AdaptiveAveragePoolRule: LayerRule {
    let fields: Set<LayerField> = [.size]
    let arity = 1...1

    func outputShape(_ layer: LayerContext) throws(ArchitectureError) -> FeatureShape {
        try layer.requireMap()
        guard let size = layer.spec.size else { throw layer.fail("size", "missing") }
        let height = try layer.integer(.size, size[0]), width = try layer.integer(.size, size[1])
        return try layer.map(height: height, width: width, channels: layer.input.channels)
    }

    func cost(_ layer: ResolvedLayer) -> CostForm { .free }

    func channelFlow(_ layer: ResolvedLayer) -> ChannelFlow { .passes(weighted: false) }

    func moments(_ layer: ResolvedLayer, inputs: [ChannelMoments], tensors: [[Float]]) -> ChannelMoments { inputs[0] }

    func makeOperation(_ layer: ResolvedLayer, seed: UInt64) -> any Operation {
        AdaptiveAvgPoolOp(input: layer.input, outHeight: layer.output.height, outWidth: layer.output.width)
    }

    func resized(_ spec: LayerSpec, outputChannels: Int) -> LayerSpec { spec }
}

// globalavgpool: the mean of each channel over the whole map, as a vector of channels.
struct GlobalAveragePoolRule: LayerRule {
    let fields: Set<LayerField> = []
    let arity = 1...1

    func outputShape(_ layer: LayerContext) throws(ArchitectureError) -> FeatureShape {
        try layer.requireMap()
        return .vector(layer.input.channels)
    }

    func cost(_ layer: ResolvedLayer) -> CostForm { .free }

    func channelFlow(_ layer: ResolvedLayer) -> ChannelFlow { .passes(weighted: false) }

    func moments(_ layer: ResolvedLayer, inputs: [ChannelMoments], tensors: [[Float]]) -> ChannelMoments { inputs[0] }

    func makeOperation(_ layer: ResolvedLayer, seed: UInt64) -> any Operation { GlobalAvgPoolOp(input: layer.input) }

    func resized(_ spec: LayerSpec, outputChannels: Int) -> LayerSpec { spec }
}
