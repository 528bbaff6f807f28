import Engine

// Compensation: what a removed channel used to add to the layers that read it, folded into
// them as a constant. Removing a channel replaces its values by zero, but a channel after
// BatchNorm and ReLU is rarely centred on zero: with shift β and scale γ it averages
// E[max(0, N(β, γ²))], and a channel a regularizer drove to γ = 0 with β > 0 is the constant
// max(0, β), which removal takes away from every reader. The expected value comes from the
// weights alone (ChannelMoments: each BatchNorm's γ and β, carried through ReLUs, sums and
// pools), so no data is needed; a reader adds W·E[x] for every removed input to its bias, or,
// when it has none and feeds a BatchNorm alone, takes it from that BatchNorm's running mean.
// The fold is exact for a constant channel away from a convolution's zero padding, and an
// estimate otherwise (the mean replaces the values), so it is a choice the calibration makes
// per pruning (Calibration.swift), not a rule.

enum Compensation {
    /// Adds to `pruned` (made from `source` by `plan`) what the removed channels' expected
    /// values added to each layer that read them.
    static func fold(from source: Model, into pruned: Model, groups: ChannelGroups, plan: PruningPlan) {
        let moments = source.channelMoments()
        let graph = source.graph
        var shifts: [Int: [Double]] = [:]  // by reading layer: one shift per output channel
        for (g, group) in groups.groups.enumerated() where !plan.removed[g].isEmpty {
            for slice in group.consumers {
                guard let layer = graph.layer(named: slice.layer), let producer = layer.producers.first, producer >= 0,
                      let weight = source.parameter(named: slice.layer + ".weight") else { continue }
                let input = moments[producer]
                var shift = shifts[layer.index] ?? Array(repeating: 0, count: layer.output.channels)
                let w = weight.value.values
                for c in plan.removed[g] {
                    let first = (slice.offset + c) * slice.featuresPerChannel
                    for feature in first..<(first + slice.featuresPerChannel) {
                        let mean = input.mean[feature]
                        guard mean.isFinite, mean != 0 else { continue }
                        switch weight.role {
                        case .convolutionWeight(let out, let kh, let kw, let inputs):
                            for o in 0..<out {
                                for p in 0..<(kh * kw) { shift[o] += Double(w[(o * kh * kw + p) * inputs + feature]) * mean }
                            }
                        case .linearWeight(let out, let inputs):
                            for o in 0..<out { shift[o] += Double(w[o * inputs + feature]) * mean }
                        case .perChannel:
                            preconditionFailure("\(weight.name) has no input channels")
                        }
                    }
                }
                shifts[layer.index] = shift
            }
        }
        let kept = plan.kept
        for (index, shift) in shifts {
            let layer = graph.layers[index]
            let outputs = Surgery.keptIndices(groups.outputLayouts[index], kept: kept, features: false) ?? Array(shift.indices)
            if let bias = pruned.parameter(named: layer.name + ".bias") {
                for (j, o) in outputs.enumerated() { bias.value[j] += Float(shift[o]) }
            } else if graph.consumers[index].count == 1, case let reader = graph.layers[graph.consumers[index][0]],
                      reader.kind == .batchnorm, let mean = pruned.buffers.first(where: { $0.name == reader.name + ".running_mean" }) {
                for (j, o) in outputs.enumerated() { mean.tensor[j] -= Float(shift[o]) }
            }
            // Otherwise the reader has nowhere to take a constant: left as removal leaves it.
        }
    }
}

/// Whether surgery compensates (`Surgery.prune(compensating:)`): always, never, or as the
/// calibration finds better for the pruning at hand (each candidate ranking is measured both
/// ways; without calibration images, `uncalibrated`).
public enum CompensationChoice: String, Sendable, Codable, CaseIterable {
    case off, on, chosen

    /// What `chosen` does when nothing is calibrated (docs/selection.md).
    public static let uncalibrated = true

    /// How a ranking's name is marked when surgery compensated ("out-in/raw +comp").
    public static func mark(_ compensated: Bool) -> String { compensated ? " +comp" : "" }

    /// How many ways a calibration measures each candidate ranking.
    public var ways: Int { candidates.count }

    /// The ways a calibration measures each candidate.
    var candidates: [Bool] {
        switch self {
        case .off: [false]
        case .on: [true]
        case .chosen: [Self.uncalibrated, !Self.uncalibrated]
        }
    }

    /// Whether surgery compensates when nothing is calibrated.
    var withoutCalibration: Bool { self == .chosen ? Self.uncalibrated : self == .on }
}
