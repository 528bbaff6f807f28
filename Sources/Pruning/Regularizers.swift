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
    /// A proximal step after each SGD step: the proximal operator of lr·λ·Σ‖g‖ — block
    /// soft-thresholding (g ← g·max(0, 1 − lr·λ/‖g‖)) for disjoint groups, its exact
    /// overlapping-group form for OICSR (`GroupProximal`), soft-thresholding for L1. Weak
    /// groups reach exactly zero, so removing them changes nothing.
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
            // The scales of the channels that can be pruned, as GL's filters: a BatchNorm on
            // channels no selection may remove (the image's, a residual stage's unless coupled
            // channels are on) is left alone.
            let sets = tensors.scales.enumerated().flatMap { g, segments in segments.map { (segment: $0, width: groups.groups[g].width) } }
            return BatchNormL1(scales: sets, lambda: options.lambda, step: options.step)
        }
    }
}

/// λ Σ ‖g‖₂ over groups: the subgradient g/‖g‖₂ (zero at g = 0), or the proximal step.
final class GroupLasso: Regularizer {
    private let sets: [(segments: [Segment], width: Int)]
    private let options: RegularizerOptions
    private let proximal: GroupProximal?

    init(sets: [(segments: [Segment], width: Int)], options: RegularizerOptions) {
        self.sets = sets
        self.options = options
        let weight = { (segments: [Segment]) in options.lambda * (options.scaleBySize ? Double(GroupTensors.count(segments)).squareRoot() : 1) }
        proximal = options.step == .proximal
            ? GroupProximal(blocks: sets.flatMap { segments, width in (0..<width).map { (segments, $0, weight(segments)) } })
            : nil
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

    /// The proximal operator of lr·λ·Σ‖g‖₂: block soft-thresholding where the groups are
    /// disjoint (GL), the exact overlapping-group operator where they are not (OICSR's
    /// consumer weights lie in two groups each; `GroupProximal`).
    func afterStep(learningRate: Float) {
        proximal?.apply(step: Double(learningRate))
    }
}

/// λ Σ |γ| over the BatchNorm scales of prunable channels: the subgradient λ·sign(γ) (zero at
/// zero), or soft-thresholding.
final class BatchNormL1: Regularizer {
    private let scales: [(segment: Segment, width: Int)]
    private let lambda: Double
    private let step: RegularizerStep

    init(scales: [(segment: Segment, width: Int)], lambda: Double, step: RegularizerStep) {
        self.scales = scales
        self.lambda = lambda
        self.step = step
    }

    func addGradient(to model: Model) -> Float {
        var penalty = 0.0
        let l = Float(lambda)
        for (segment, width) in scales {
            segment.parameter.value.withUnsafeBufferPointer { values in
                segment.parameter.gradient.withUnsafeMutableBufferPointer { gradient in
                    for channel in 0..<width {
                        segment.forEachIndex(channel: channel) { i in
                            penalty += lambda * Double(abs(values[i]))
                            guard step == .subgradient else { return }
                            gradient[i] += values[i] > 0 ? l : (values[i] < 0 ? -l : 0)
                        }
                    }
                }
            }
        }
        return Float(penalty)
    }

    func afterStep(learningRate: Float) {
        guard step == .proximal else { return }
        let threshold = learningRate * Float(lambda)
        for (segment, width) in scales {
            segment.parameter.value.withUnsafeMutableBufferPointer { values in
                for channel in 0..<width {
                    segment.forEachIndex(channel: channel) { i in
                        let magnitude = max(abs(values[i]) - threshold, 0)
                        values[i] = values[i] < 0 ? -magnitude : magnitude
                    }
                }
            }
        }
    }
}
