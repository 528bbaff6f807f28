/// An elementwise activation other than ReLU (see `ActivationKernels` for the formulas and
/// their PyTorch gradients). Any shape; the output has the input's.
final class ActivationOp: Operation {
    let function: ActivationFunction
    let outputShape: FeatureShape

    init(_ function: ActivationFunction, input: FeatureShape) {
        self.function = function
        outputShape = input
    }

    func forward(_ inputs: [Tensor], _ output: Tensor, batch: Int, training: Bool) {
        ActivationKernels.forward(function, x: inputs[0].storage, y: output.storage, count: output.count)
    }

    func backward(_ inputs: [Tensor], _ output: Tensor, _ outputGradient: Tensor, _ inputGradients: [Tensor?], batch: Int) {
        guard let dx = inputGradients[0] else { return }
        ActivationKernels.backward(function, x: inputs[0].storage, y: output.storage, dy: outputGradient.storage,
                                   dx: dx.storage, count: output.count)
    }
}
