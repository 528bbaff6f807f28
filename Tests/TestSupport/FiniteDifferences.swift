import Engine
import Testing

// Shared by the test targets: seeded fixtures and finite-difference comparison, after
// Caffe's test_gradient_check_util.hpp: central differences, a relative tolerance floored
// at 1, and inputs kept away from kinks (ReLU at 0, max-pool ties).

public enum Fixtures {
    /// Values uniform in ±scale.
    public static func random(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
        var generator = SeededGenerator(seed: seed)
        let t = Tensor(shape: shape)
        for i in 0..<t.count { t[i] = generator.nextUniform(-scale, scale) }
        return t
    }

    /// Distinct values at least 0.05 apart and at least 0.05 away from zero, in random
    /// order, so a ±1e-2 step never changes a max-pool winner or a ReLU's side.
    public static func kinkFree(_ shape: [Int], seed: UInt64) -> Tensor {
        var generator = SeededGenerator(seed: seed)
        let t = Tensor(shape: shape)
        var values = (0..<t.count).map { Float($0 - t.count / 2) * 0.05 + 0.025 }
        values.shuffle(using: &generator)
        t.copy(from: values)
        return t
    }
}

public struct FiniteDifferences {
    public var step: Float = 1e-2
    public var tolerance: Float = 2e-2
    /// At most this many elements are checked per tensor (spread evenly).
    public var samplesPerTensor = 150

    public init(step: Float = 1e-2, tolerance: Float = 2e-2, samplesPerTensor: Int = 150) {
        self.step = step
        self.tolerance = tolerance
        self.samplesPerTensor = samplesPerTensor
    }

    /// Compares `analytic` with central differences of `loss` with respect to `value`;
    /// a failure names the tensor, the element and both values.
    public func compare(name: String, value: Tensor, analytic: Tensor, loss: () -> Double,
                        sourceLocation: SourceLocation = #_sourceLocation) {
        let stride = max(1, value.count / samplesPerTensor)
        var failures = 0
        for i in Swift.stride(from: 0, to: value.count, by: stride) {
            let original = value[i]
            value[i] = original + step
            let plus = loss()
            value[i] = original - step
            let minus = loss()
            value[i] = original
            let numeric = Float((plus - minus) / Double(2 * step))
            let expected = analytic[i]
            let scale = max(1, abs(numeric), abs(expected))
            if abs(numeric - expected) > tolerance * scale {
                failures += 1
                if failures <= 3 {
                    Issue.record("\(name)[\(i)]: analytic \(expected), numeric \(numeric)", sourceLocation: sourceLocation)
                }
            }
        }
        _ = loss()
    }
}
