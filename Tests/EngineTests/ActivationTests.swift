import Foundation
import Testing
import TestSupport
@testable import Engine

// Activation values and gradients at chosen points, worked out by hand from PyTorch's
// definitions (torch.nn.functional and aten/src/ATen/native/cpu/Activation.cpp), including
// the gradient PyTorch picks at each kink.

@Suite("Activations against PyTorch's values")
struct ActivationTests {
    /// (x, f(x), f'(x)) for each function.
    static let points: [ActivationFunction: [(Float, Float, Float)]] = [
        // hardtanh(0, 6): the gradient is 1 on the open interval only.
        .relu6: [(-1, 0, 0), (0, 0, 0), (3, 3, 1), (6, 6, 0), (7, 6, 0)],
        .sigmoid: [(0, 0.5, 0.25), (2, 0.880_797_1, 0.104_993_59), (-2, 0.119_202_92, 0.104_993_59)],
        // relu6(x + 3)/6: gradient 1/6 on −3 < x < 3 only.
        .hardsigmoid: [(-4, 0, 0), (-3, 0, 0), (0, 0.5, 1.0 / 6), (1.5, 0.75, 1.0 / 6), (3, 1, 0), (4, 1, 0)],
        // x·relu6(x + 3)/6: gradient 0 below −3, x/3 + 1/2 on [−3, 3] (so −1/2 at −3 and 3/2 at 3), 1 above.
        .hardswish: [(-4, 0, 0), (-3, 0, -0.5), (0, 0, 0.5), (1, 2.0 / 3, 5.0 / 6), (3, 3, 1.5), (5, 5, 1)],
        // x·σ(x); gradient σ(x)(1 + x(1 − σ(x))).
        .silu: [(0, 0, 0.5), (1, 0.731_058_6, 0.927_670_5), (-2, -0.238_405_84, -0.090_784_2)],
    ]

    /// Each point is evaluated in a buffer of nine copies, so it runs through the 8-wide body
    /// and the scalar tail, which must agree.
    @Test(arguments: ActivationFunction.allCases)
    func valuesAndGradients(function: ActivationFunction) {
        for (x, value, slope) in Self.points[function]! {
            let input = Tensor(shape: [9]), output = Tensor(shape: [9]), dy = Tensor(shape: [9]), dx = Tensor(shape: [9])
            input.fill(x)
            dy.fill(2)
            dx.fill(1)
            ActivationKernels.forward(function, x: input.storage, y: output.storage, count: 9)
            ActivationKernels.backward(function, x: input.storage, y: output.storage, dy: dy.storage, dx: dx.storage, count: 9)
            for i in 0..<9 {
                #expect(abs(output[i] - value) <= 2e-6 * max(1, abs(value)), "\(function)(\(x))[\(i)] = \(output[i]), PyTorch \(value)")
                #expect(abs(dx[i] - (1 + 2 * slope)) <= 4e-6, "\(function)'(\(x))[\(i)]: dx = \(dx[i]), expected 1 + 2·\(slope)")
            }
        }
    }

    /// Far from zero: no overflow, no NaN, the limits PyTorch gives to float precision.
    @Test func saturation() {
        let input = Tensor(shape: [8], values: [-1000, -100, -88, -30, 30, 88, 100, 1000]), output = Tensor(shape: [8])
        ActivationKernels.forward(.sigmoid, x: input.storage, y: output.storage, count: 8)
        #expect(output.values.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 })
        #expect(output[0] < 1e-30 && output[1] < 1e-30 && output[7] == 1 && output[6] == 1)
        ActivationKernels.forward(.silu, x: input.storage, y: output.storage, count: 8)
        #expect(output.values.allSatisfy { $0.isFinite })
        #expect(abs(output[0]) < 1e-30 && output[7] == 1000 && output[6] == 100)
    }

    /// The vector e^x within about one ulp (relative 1.5e−7; 7.5e−8 measured) of the
    /// double-precision value over the range where the result is a normal float.
    @Test func exponentialAccuracy() {
        var worst: Double = 0, worstAt: Float = 0
        var x: Float = -87
        while x + 0.007 <= 88 {
            let lanes = Lanes(x, x + 0.001, x + 0.002, x + 0.003, x + 0.004, x + 0.005, x + 0.006, x + 0.007)
            let e = exponential(lanes)
            for i in 0..<8 {
                let exact = Foundation.exp(Double(lanes[i]))
                let error = abs(Double(e[i]) - exact) / exact
                if error > worst { (worst, worstAt) = (error, lanes[i]) }
            }
            x += 0.0171
        }
        #expect(worst < 1.5e-7, "relative error \(worst) at \(worstAt)")
    }
}
