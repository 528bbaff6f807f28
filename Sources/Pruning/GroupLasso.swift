import Engine

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
