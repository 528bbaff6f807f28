import Engine

// Surgery: a new, physically smaller model from a plan; the source model is untouched
// (as Distiller's thinning, but building a new model rather than editing one in place).
// Every layer keeps the output channels and input features of its kept channels; how a
// kind's spec and tensors shrink is its rule's (`LayerRule.resized`, `LayerRule.slice`).
// Compensating, the removed channels' expected values are then folded into the layers that
// read them (Compensation.swift); without it the pruned model computes what the masked model
// computes (`PruningPlan.masks`).

public enum Surgery {
    /// The pruned model. Its architecture records the new widths.
    public static func prune(_ model: Model, groups: ChannelGroups, plan: PruningPlan,
                             compensating: Bool = false) throws(ArchitectureError) -> Model {
        let kept = plan.kept
        let graph = model.graph
        var architecture = graph.architecture
        var keptOutputs: [[Int]?] = [], keptInputs: [[Int]?] = []
        for layer in graph.layers {
            let outputs = keptIndices(groups.outputLayouts[layer.index], kept: kept, features: false)
            let inputs = keptIndices(groups.inputLayouts[layer.index], kept: kept, features: true)
            keptOutputs.append(outputs)
            keptInputs.append(inputs)
            var spec = layer.rule.resized(layer.spec, outputChannels: outputs?.count ?? layer.output.channels)
            // `in` counts what arrives: channels of a map, features of a vector.
            if spec.inChannels != nil { spec.inChannels = inputs?.count ?? layer.input.channels }
            architecture.layers[layer.index] = spec
        }
        // Fails only for a plan that empties a group.
        let pruned = Model(graph: try ModelGraph(architecture, source: "the pruned architecture"))

        for layer in graph.layers {
            let tensors = zip(model.tensors(ofLayer: layer.index), pruned.tensors(ofLayer: layer.index))
            for ((value, role), (destination, _)) in tensors {
                destination.copy(from: layer.rule.slice(value.values, role: role, layer: layer,
                                                        keptOutputs: keptOutputs[layer.index], keptInputs: keptInputs[layer.index]))
            }
        }
        if compensating { Compensation.fold(from: model, into: pruned, groups: groups, plan: plan) }
        return pruned
    }

    /// The kept channels (or, with `features`, the kept input features) of a layout, or nil
    /// when nothing in it is removed.
    static func keptIndices(_ layout: [LayoutSegment], kept: [[Int]], features: Bool) -> [Int]? {
        guard layout.contains(where: { $0.group.map { kept[$0].count < $0 } != nil }) else { return nil }
        var indices: [Int] = []
        var offset = 0
        for segment in layout {
            let f = features ? segment.featuresPerChannel : 1
            let channels = segment.group.map { kept[$0] } ?? Array(0..<segment.width)
            for c in channels { indices.append(contentsOf: (offset + c * f)..<(offset + (c + 1) * f)) }
            offset += segment.width * f
        }
        return indices
    }
}

extension PruningPlan {
    /// Output masks that zero the removed channels in every layer that holds them: the
    /// unpruned model with these masks computes what the pruned model computes.
    public func masks(groups: ChannelGroups) -> [String: [Float]] {
        let kept = self.kept
        var masks: [String: [Float]] = [:]
        for layer in groups.graph.layers {
            let layout = groups.outputLayouts[layer.index]
            guard layout.contains(where: { $0.group.map { !removed[$0].isEmpty } ?? false }) else { continue }
            // One factor per output value of an example: per channel of a map, per feature of a vector.
            var mask = [Float](repeating: 0, count: layout.reduce(0) { $0 + $1.width * $1.featuresPerChannel })
            for index in Surgery.keptIndices(layout, kept: kept, features: true) ?? Array(mask.indices) { mask[index] = 1 }
            masks[layer.name] = mask
        }
        return masks
    }
}
