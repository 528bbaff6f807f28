import Engine

// The sparsity regularizers of DESIGN.md §5, added to cross-entropy and weight decay during
// training through the engine's `Regularizer` hook.

public enum RegularizerKind: String, CaseIterable, Sendable, Codable {
    /// Weight decay only.
    case l2
    /// Group lasso on each layer's output filters, separately.
    case gl
    /// Group lasso on whole out-in-channels (OICSR).
    case oicsrGL = "oicsr-gl"
    /// L1 on BatchNorm scales (network slimming).
    case l1BN = "l1-bn"
}

public struct RegularizerOptions: Sendable, Equatable {
    public var lambda: Double
    /// Include BatchNorm γ and β in the out part of OICSR groups (DESIGN.md §5).
    public var batchNormInGroup = true
    /// Scale λ by √|g| per group (the group-lasso convention of Yuan & Lin); off by default.
    public var scaleBySize = false

    public init(lambda: Double) { self.lambda = lambda }
}

public enum Regularizers {
    /// The regularizer for `kind`, or nil for L2 (nothing beyond weight decay).
    public static func make(_ kind: RegularizerKind, options: RegularizerOptions, model: Model,
                            groups: ChannelGroups) -> (any Regularizer)? {
        let tensors = GroupTensors(model: model, groups: groups)
        switch kind {
        case .l2:
            return nil
        case .gl:
            // One group per producer filter: a coupled space's producers are regularized separately.
            let sets = tensors.filters.enumerated().flatMap { g, segments in
                segments.filter { $0.parameter.name.hasSuffix(".weight") }.map { (segments: [$0], width: groups.groups[g].width) }
            }
            return GroupLasso(sets: sets, options: options)
        case .oicsrGL:
            let sets = groups.groups.indices.map { g in
                (segments: tensors.outInGroup(g, withBatchNorm: options.batchNormInGroup), width: groups.groups[g].width)
            }
            return GroupLasso(sets: sets, options: options)
        case .l1BN:
            let scales = model.parameters.filter { parameter in
                model.architecture.layers.contains { $0.kind == .batchnorm && $0.name + ".weight" == parameter.name }
            }
            return BatchNormL1(scales: scales, lambda: Float(options.lambda))
        }
    }
}

/// λ Σ ‖g‖₂ over groups; the subgradient g/‖g‖₂, taken as zero at g = 0.
final class GroupLasso: Regularizer {
    private let sets: [(segments: [Segment], width: Int)]
    private let options: RegularizerOptions

    init(sets: [(segments: [Segment], width: Int)], options: RegularizerOptions) {
        self.sets = sets
        self.options = options
    }

    func addGradient(to model: Model) -> Float {
        var penalty = 0.0
        for (segments, width) in sets {
            let size = Double(GroupTensors.count(segments))
            let lambda = options.lambda * (options.scaleBySize ? size.squareRoot() : 1)
            for channel in 0..<width {
                let norm = GroupTensors.squaredNorm(segments, channel: channel).squareRoot()
                penalty += lambda * norm
                guard norm > 0 else { continue }
                let scale = Float(lambda / norm)
                for segment in segments {
                    segment.parameter.value.withUnsafeBufferPointer { values in
                        segment.parameter.gradient.withUnsafeMutableBufferPointer { gradient in
                            segment.forEachIndex(channel: channel) { gradient[$0] += scale * values[$0] }
                        }
                    }
                }
            }
        }
        return Float(penalty)
    }
}

/// λ Σ |γ| over BatchNorm scales; subgradient λ·sign(γ), zero at zero.
final class BatchNormL1: Regularizer {
    private let scales: [Parameter]
    private let lambda: Float

    init(scales: [Parameter], lambda: Float) {
        self.scales = scales
        self.lambda = lambda
    }

    func addGradient(to model: Model) -> Float {
        var penalty: Float = 0
        for scale in scales {
            scale.value.withUnsafeBufferPointer { values in
                scale.gradient.withUnsafeMutableBufferPointer { gradient in
                    for i in 0..<values.count {
                        penalty += lambda * abs(values[i])
                        gradient[i] += values[i] > 0 ? lambda : (values[i] < 0 ? -lambda : 0)
                    }
                }
            }
        }
        return penalty
    }
}
