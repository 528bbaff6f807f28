import Testing
import TestSupport
@testable import Engine

/// Finite-difference check of a layer: every input and parameter gradient for the loss
/// Σ y·r with a fixed random r.
struct GradientCheck {
    var differences = FiniteDifferences()

    func check(_ op: any Operation, inputs: [Tensor], batch: Int, training: Bool, label: String,
               sourceLocation: SourceLocation = #_sourceLocation) {
        let output = Tensor(shape: op.outputShape.batchShape(batch))
        let projection = Fixtures.random(output.shape, seed: 99)
        func loss() -> Double {
            op.forward(inputs, output, batch: batch, training: training)
            var total: Double = 0
            for i in 0..<output.count { total += Double(output[i]) * Double(projection[i]) }
            return total
        }
        _ = loss()
        for parameter in op.parameters { parameter.gradient.fill(0) }
        let inputGradients = inputs.map { Tensor(shape: $0.shape) }
        op.backward(inputs, output, projection, inputGradients, batch: batch)

        var targets: [(String, Tensor, Tensor)] = inputs.enumerated().map { ("input\($0.offset)", $0.element, inputGradients[$0.offset]) }
        targets += op.parameters.map { ($0.name, $0.value, $0.gradient) }
        for (name, value, gradient) in targets {
            differences.compare(name: "\(label): \(name)", value: value, analytic: gradient, loss: loss, sourceLocation: sourceLocation)
        }
    }

    func compare(name: String, value: Tensor, analytic: Tensor, loss: () -> Double,
                 sourceLocation: SourceLocation = #_sourceLocation) {
        differences.compare(name: name, value: value, analytic: analytic, loss: loss, sourceLocation: sourceLocation)
    }
}
