import Foundation

/// How the learning rate moves over a run. Steps count optimizer updates.
public enum LearningRateSchedule: Equatable, Sendable {
    case constant
    /// Half-cosine from the base rate to zero over the run, updated every step.
    case cosine
    /// Multiplied by `factor` at each of the given epochs.
    case step(milestones: [Int], factor: Float)

    /// The name the command line uses for it.
    public var name: String {
        switch self {
        case .constant: return "constant"
        case .cosine: return "cosine"
        case .step: return "step"
        }
    }

    public func rate(base: Float, step: Int, totalSteps: Int, stepsPerEpoch: Int) -> Float {
        switch self {
        case .constant:
            return base
        case .cosine:
            let progress = Double(step) / Double(max(totalSteps, 1))
            return base * Float(0.5 * (1 + cos(Double.pi * progress)))
        case .step(let milestones, let factor):
            let epoch = step / max(stepsPerEpoch, 1)
            return milestones.filter { epoch >= $0 }.reduce(base) { rate, _ in rate * factor }
        }
    }
}
