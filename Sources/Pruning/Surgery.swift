import Engine

// Surgery: a new, physically smaller model from a plan; the source model is untouched
// (as Distiller's thinning, but building a new model rather than editing one in place).
// One rule per layer kind: a conv or linear layer keeps the rows of its kept output
// channels and the columns of its kept input channels; a BatchNorm keeps its kept channels.

public enum Surgery {
    /// The pruned model. Its architecture records the new widths.
    public static func prune(_ model: Model, groups: ChannelGroups, plan: PruningPlan) throws -> Model {
        let kept = plan.kept
        var architecture = model.architecture
        let producers = architecture.producerIndices()
        for (i, layer) in architecture.layers.enumerated() {
            if let g = groups.outputGroup(ofLayer: i), layer.kind == .conv2d || layer.kind == .linear {
                architecture.layers[i].outChannels = kept[g].count
            }
            if architecture.layers[i].inChannels != nil {
                architecture.layers[i].inChannels = groups.inputGroup(ofLayer: i).map { kept[$0].count }
                    ?? (producers[i][0] < 0 ? architecture.input[0] : model.shapes[producers[i][0]].channels)
            }
        }
        let pruned = try Model(architecture: architecture)

        for (i, layer) in model.architecture.layers.enumerated() {
            let outKept = groups.outputGroup(ofLayer: i).map { kept[$0] }
            let inKept = groups.inputGroup(ofLayer: i).map { kept[$0] }
            switch layer.kind {
            case .conv2d, .linear:
                let weight = model.parameter(named: layer.name + ".weight")!
                let target = pruned.parameter(named: layer.name + ".weight")!
                target.value.copy(from: slice(weight, rows: outKept, columns: inKept, groups: groups, layer: i))
                if let bias = model.parameter(named: layer.name + ".bias") {
                    pruned.parameter(named: layer.name + ".bias")!.value.copy(from: pick(bias.value.values, outKept))
                }
            case .batchnorm:
                for suffix in [".weight", ".bias"] {
                    pruned.parameter(named: layer.name + suffix)!.value.copy(from: pick(model.parameter(named: layer.name + suffix)!.value.values, outKept))
                }
                for (source, target) in zip(model.buffers.filter { $0.name.hasPrefix(layer.name + ".") },
                                            pruned.buffers.filter { $0.name.hasPrefix(layer.name + ".") }) {
                    target.tensor.copy(from: pick(source.tensor.values, outKept))
                }
            default:
                break
            }
        }
        return pruned
    }

    private static func pick(_ values: [Float], _ indices: [Int]?) -> [Float] {
        indices.map { $0.map { values[$0] } } ?? values
    }

    /// The kept rows (output channels) and input columns of a conv (out, kh, kw, in) or
    /// linear (out, in) weight; nil keeps all.
    private static func slice(_ weight: Parameter, rows: [Int]?, columns: [Int]?, groups: ChannelGroups, layer: Int) -> [Float] {
        let values = weight.value.values
        let out = weight.value.shape[0]
        switch weight.role {
        case .convolutionWeight(_, let kh, let kw, let input):
            let keptRows = rows ?? Array(0..<out), keptColumns = columns ?? Array(0..<input)
            var result: [Float] = []
            result.reserveCapacity(keptRows.count * kh * kw * keptColumns.count)
            for o in keptRows { for tap in 0..<(kh * kw) { for c in keptColumns {
                result.append(values[(o * kh * kw + tap) * input + c])
            } } }
            return result
        case .linearWeight(_, let input):
            let perChannel = groups.inputGroup(ofLayer: layer).flatMap { g in
                groups.groups[g].consumers.first { $0.layer == groups.architecture.layers[layer].name }?.featuresPerChannel
            } ?? 1
            let keptColumns = columns.map { $0.flatMap { c in (c * perChannel)..<((c + 1) * perChannel) } } ?? Array(0..<input)
            let keptRows = rows ?? Array(0..<out)
            return keptRows.flatMap { o in keptColumns.map { values[o * input + $0] } }
        case .perChannel:
            preconditionFailure("\(weight.name) is not a weight matrix")
        }
    }
}

extension PruningPlan {
    /// Output masks that zero the removed channels in every layer of their groups: the
    /// unpruned model with these masks computes what the pruned model computes.
    public func masks(groups: ChannelGroups) -> [String: [Float]] {
        var masks: [String: [Float]] = [:]
        for group in groups.groups where !removed[group.id].isEmpty {
            var mask = [Float](repeating: 1, count: group.width)
            for channel in removed[group.id] { mask[channel] = 0 }
            for member in group.members
            where groups.architecture.layers.first(where: { $0.name == member })?.kind != .flatten {
                masks[member] = mask
            }
        }
        return masks
    }
}
