// The activations of MobileNetV3 and EfficientNet, elementwise over any shape, with PyTorch's
// formulas and its gradients at the kinks (aten/src/ATen/native/cpu/Activation.cpp and
// derivatives.yaml):
//
//   relu6(x)       = min(max(x, 0), 6)      dy/dx = 1 on 0 < x < 6, else 0 (hardtanh_backward)
//   sigmoid(x)     = 1 / (1 + e^−x)         dy/dx = y·(1 − y)
//   hardsigmoid(x) = relu6(x + 3) / 6       dy/dx = 1/6 on −3 < x < 3, else 0
//   hardswish(x)   = x·relu6(x + 3) / 6     dy/dx = 0 for x < −3, x/3 + 1/2 for −3 ≤ x ≤ 3, 1 above
//   silu(x)        = x / (1 + e^−x)         dy/dx = s·(1 + x·(1 − s)), s = sigmoid(x)
//
// Every function is written once, on eight lanes; the scalar tail runs the same code on a
// splat, so the tail can never disagree with the vector body.

/// An elementwise activation function (PyTorch's name in lower case).
enum ActivationFunction: String, Sendable, CaseIterable {
    case relu6, sigmoid, hardsigmoid, hardswish, silu
}

enum ActivationKernels {
    /// y = f(x) over `count` elements.
    static func forward(_ f: ActivationFunction, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int) {
        switch f {
        case .relu6: map(x, y, count) { relu6($0) }
        case .sigmoid: map(x, y, count) { sigmoid($0) }
        case .hardsigmoid: map(x, y, count) { relu6($0 + 3) / 6 }
        case .hardswish: map(x, y, count) { $0 * relu6($0 + 3) / 6 }
        case .silu: map(x, y, count) { $0 / (1 + exponential(-$0)) }
        }
    }

    /// dx += f'(x)·dy, from the input x or the output y, whichever the formula uses.
    static func backward(_ f: ActivationFunction, x: UnsafePointer<Float>, y: UnsafePointer<Float>,
                         dy: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, count: Int) {
        switch f {
        case .relu6:
            accumulate(x, dy, dx, count) { x, g in g.replacing(with: 0, where: (x .<= 0) .| (x .>= 6)) }
        case .sigmoid:
            accumulate(y, dy, dx, count) { y, g in g * y * (1 - y) }
        case .hardsigmoid:
            accumulate(x, dy, dx, count) { x, g in (g * (1 / 6 as Float)).replacing(with: 0, where: (x .<= -3) .| (x .>= 3)) }
        case .hardswish:
            accumulate(x, dy, dx, count) { x, g in
                (g * (x / 3 + 0.5)).replacing(with: g, where: x .> 3).replacing(with: 0, where: x .< -3)
            }
        case .silu:
            accumulate(x, dy, dx, count) { x, g in
                let s = sigmoid(x)
                return g * s * (1 + x * (1 - s))
            }
        }
    }

    @inline(__always)
    static func relu6(_ v: Lanes) -> Lanes {
        v.replacing(with: 0, where: v .< 0).replacing(with: 6, where: v .> 6)
    }

    @inline(__always)
    static func sigmoid(_ v: Lanes) -> Lanes { 1 / (1 + exponential(-v)) }

    /// y[i] = f(x[i]).
    @inline(__always)
    private static func map(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int,
                            _ f: (Lanes) -> Lanes) {
        Parallel.forRanges(count, costPerItem: 4) { range in
            forEachLane(range, vector: { i in y.store(f(x.lanes(i)), i) },
                        scalar: { i in y[i] = f(Lanes(repeating: x[i]))[0] })
        }
    }

    /// dx[i] += f(saved[i], dy[i]).
    @inline(__always)
    private static func accumulate(_ saved: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                                   _ count: Int, _ f: (Lanes, Lanes) -> Lanes) {
        Parallel.forRanges(count, costPerItem: 4) { range in
            forEachLane(range, vector: { i in dx.store(dx.lanes(i) + f(saved.lanes(i), dy.lanes(i)), i) },
                        scalar: { i in dx[i] += f(Lanes(repeating: saved[i]), Lanes(repeating: dy[i]))[0] })
        }
    }
}
