import Engine

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
