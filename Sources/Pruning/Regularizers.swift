import Engine

// The sparsity regularizers of docs/design.md §5, added to cross-entropy and weight decay during
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

/// How a sparsity penalty enters the optimisation.
public enum RegularizerStep: String, CaseIterable, Sendable, Codable {
    /// A proximal step after each SGD step: block soft-thresholding for group lasso
    /// (g ← g·max(0, 1 − lr·λ/‖g‖)), soft-thresholding for L1. Weak groups reach exactly
    /// zero, so removing them changes nothing.
    case proximal
    /// The subgradient g/‖g‖ (zero at 0) added to the loss gradient. Groups shrink
    /// towards zero but oscillate around it instead of reaching it.
    case subgradient
}

public struct RegularizerOptions: Sendable, Equatable {
    public var lambda: Double
    public var step = RegularizerStep.proximal
    /// Include BatchNorm γ and β in the out part of OICSR groups (docs/design.md §5).
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
            return BatchNormL1(scales: scales, lambda: Float(options.lambda), step: options.step)
        }
    }
}

/// λ Σ ‖g‖₂ over groups: the subgradient g/‖g‖₂ (zero at g = 0), or the proximal step.
final class GroupLasso: Regularizer {
    private let sets: [(segments: [Segment], width: Int)]
    private let options: RegularizerOptions

    init(sets: [(segments: [Segment], width: Int)], options: RegularizerOptions) {
        self.sets = sets
        self.options = options
    }

    /// λ for a group of `size` elements.
    private func lambda(size: Int) -> Double {
        options.lambda * (options.scaleBySize ? Double(size).squareRoot() : 1)
    }

    func addGradient(to model: Model) -> Float {
        var penalty = 0.0
        for (segments, width) in sets {
            let lambda = lambda(size: GroupTensors.count(segments))
            for channel in 0..<width {
                let norm = GroupTensors.squaredNorm(segments, channel: channel).squareRoot()
                penalty += lambda * norm
                guard options.step == .subgradient, norm > 0 else { continue }
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

    /// Block soft-thresholding, the proximal operator of lr·λ‖g‖₂. OICSR's groups overlap
    /// (a consumer's filter holds input slices of many groups), so every group's factor is
    /// computed from the norms before the step and then all are applied: the result does
    /// not depend on the order of the groups.
    func afterStep(learningRate: Float) {
        guard options.step == .proximal else { return }
        let factors = sets.map { segments, width in
            let threshold = Double(learningRate) * lambda(size: GroupTensors.count(segments))
            return (0..<width).map { channel -> Float in
                let norm = GroupTensors.squaredNorm(segments, channel: channel).squareRoot()
                return Float(norm > threshold ? 1 - threshold / norm : 0)
            }
        }
        for ((segments, width), factor) in zip(sets, factors) {
            for channel in 0..<width where factor[channel] < 1 {
                for segment in segments {
                    segment.parameter.value.withUnsafeMutableBufferPointer { values in
                        segment.forEachIndex(channel: channel) { values[$0] *= factor[channel] }
                    }
                }
            }
        }
    }
}

/// λ Σ |γ| over BatchNorm scales: the subgradient λ·sign(γ) (zero at zero), or
/// soft-thresholding.
final class BatchNormL1: Regularizer {
    private let scales: [Parameter]
    private let lambda: Float
    private let step: RegularizerStep

    init(scales: [Parameter], lambda: Float, step: RegularizerStep) {
        self.scales = scales
        self.lambda = lambda
        self.step = step
    }

    func addGradient(to model: Model) -> Float {
        var penalty: Float = 0
        for scale in scales {
            scale.value.withUnsafeBufferPointer { values in
                scale.gradient.withUnsafeMutableBufferPointer { gradient in
                    for i in 0..<values.count {
                        penalty += lambda * abs(values[i])
                        guard step == .subgradient else { continue }
                        gradient[i] += values[i] > 0 ? lambda : (values[i] < 0 ? -lambda : 0)
                    }
                }
            }
        }
        return penalty
    }

    func afterStep(learningRate: Float) {
        guard step == .proximal else { return }
        let threshold = learningRate * lambda
        for scale in scales {
            scale.value.withUnsafeMutableBufferPointer { values in
                for i in 0..<values.count {
                    let magnitude = max(abs(values[i]) - threshold, 0)
                    values[i] = values[i] < 0 ? -magnitude : magnitude
                }
            }
        }
    }
}
