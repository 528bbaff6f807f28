// dropout and stochasticdepth: random zeroing in training (of single values, or of a whole
// example's map, torchvision's StochasticDepth in "row" mode), the identity in evaluation.
// Channel i stays channel i.

struct DropoutRule: LayerRule {
    let kind: LayerKind
    let fields: Set<LayerField> = [.p]
    let arity = 1...1

    func outputShape(_ layer: LayerContext) throws(ArchitectureError) -> FeatureShape {
        if kind == .stochasticdepth {
            try layer.requireMap()
            guard layer.spec.p != nil else { throw layer.fail("p", "missing") }
        }
        _ = try layer.number(.p, layer.spec.p, default: 0.5, in: 0..<1)
        return layer.input
    }

    func cost(_ layer: ResolvedLayer) -> CostForm { .free }

    func channelFlow(_ layer: ResolvedLayer) -> ChannelFlow { .passes(weighted: false) }

    func moments(_ layer: ResolvedLayer, inputs: [ChannelMoments], tensors: [[Float]]) -> ChannelMoments { inputs[0] }

    func makeOperation(_ layer: ResolvedLayer, seed: UInt64) -> any Operation {
        let p = Float(layer.spec.p ?? 0.5)
        switch kind {
        case .dropout: return DropoutOp(input: layer.input, p: p, seed: seed)
        case .stochasticdepth: return StochasticDepthOp(input: layer.input, p: p, seed: seed)
        default: preconditionFailure("\(kind) is not a dropout kind")
        }
    }

    func resized(_ spec: LayerSpec, outputChannels: Int) -> LayerSpec { spec }
}
