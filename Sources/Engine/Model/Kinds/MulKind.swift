// mul: a map times a gate, channel by channel (squeeze-excitation): the gate's channel i
// scales the map's channel i, so the two are pruned together; unlike a residual sum this
// does not make the channels a coupled stage.

struct MulRule: LayerRule {
    let fields: Set<LayerField> = []
    let arity = 2...2

    func outputShape(_ layer: LayerContext) throws(ArchitectureError) -> FeatureShape {
        try layer.requireMap()
        let (map, gate) = (layer.inputs[0], layer.inputs[1])
        let broadcast = gate.isFlat || (gate.height == 1 && gate.width == 1)
        guard gate.channels == map.channels, broadcast || gate == map else {
            throw layer.fail("inputs", "the gate '\(layer.producerNames[1])' gives \(gate); it needs the \(map.channels) channels of '\(layer.producerNames[0])', 1x1 or \(map.height)x\(map.width)")
        }
        return map
    }

    func cost(_ layer: ResolvedLayer) -> CostForm { .free }

    func channelFlow(_ layer: ResolvedLayer) -> ChannelFlow { .joins(residual: false) }

    func moments(_ layer: ResolvedLayer, inputs: [ChannelMoments], tensors: [[Float]]) -> ChannelMoments {
        .unknown(layer.output.channels)
    }

    func makeOperation(_ layer: ResolvedLayer, seed: UInt64) -> any Operation { MulOp(input: layer.inputs[0], gate: layer.inputs[1]) }

    func resized(_ spec: LayerSpec, outputChannels: Int) -> LayerSpec { spec }
}
