// Layers that are random in training and the identity in evaluation. Each owns a generator
// seeded at construction and advanced by every training forward pass; the scales it drew
// are kept for the backward pass that follows.

/// Inverted dropout (PyTorch's `Dropout`): in training each element is kept with probability
/// 1 − p and scaled by 1/(1 − p), or zeroed; the identity in evaluation and when p = 0.
final class DropoutOp: Operation {
    let outputShape: FeatureShape
    let dropProbability: Float
    /// Advanced by every training forward pass with p > 0.
    var generator: SeededGenerator
    /// 0 or 1/(1 − p) per element of the last training forward pass.
    private let mask = Tensor(shape: [0])
    private var lastForwardMasked = false

    /// `p` in 0 ..< 1.
    init(input: FeatureShape, p: Float, seed: UInt64) {
        precondition(p >= 0 && p < 1, "dropout probability \(p) outside 0 ..< 1")
        outputShape = input
        dropProbability = p
        generator = SeededGenerator(seed: seed)
    }

    func forward(_ inputs: [Tensor], _ output: Tensor, batch: Int, training: Bool) {
        lastForwardMasked = training && dropProbability > 0
        guard lastForwardMasked else {
            output.copy(from: inputs[0])
            return
        }
        mask.reshape([output.count])
        DropoutKernels.drawScales(mask.storage, count: output.count, dropProbability: dropProbability, generator: &generator)
        CombineKernels.multiply(inputs[0].storage, mask.storage, into: output.storage, count: output.count)
    }

    func backward(_ inputs: [Tensor], _ output: Tensor, _ outputGradient: Tensor, _ inputGradients: [Tensor?], batch: Int) {
        guard let dx = inputGradients[0] else { return }
        if lastForwardMasked {
            CombineKernels.multiplyAccumulate(outputGradient.storage, mask.storage, into: dx.storage, count: output.count)
        } else {
            ElementwiseKernels.accumulate(outputGradient.storage, into: dx.storage, count: output.count)
        }
    }
}

/// Stochastic depth (torchvision's `StochasticDepth`, mode "row"): in training each example's
/// whole activation is kept with probability 1 − p and scaled by 1/(1 − p), or zeroed; the
/// identity in evaluation and when p = 0. Placed on a residual branch, before the sum.
final class StochasticDepthOp: Operation {
    let outputShape: FeatureShape
    let dropProbability: Float
    /// Advanced by every training forward pass with p > 0, one draw per example.
    var generator: SeededGenerator
    /// 0 or 1/(1 − p) per example of the last training forward pass.
    private let scales = Tensor(shape: [0])
    private var lastForwardMasked = false

    /// `p` in 0 ..< 1.
    init(input: FeatureShape, p: Float, seed: UInt64) {
        precondition(p >= 0 && p < 1, "stochastic depth probability \(p) outside 0 ..< 1")
        outputShape = input
        dropProbability = p
        generator = SeededGenerator(seed: seed)
    }

    func forward(_ inputs: [Tensor], _ output: Tensor, batch: Int, training: Bool) {
        lastForwardMasked = training && dropProbability > 0
        guard lastForwardMasked else {
            output.copy(from: inputs[0])
            return
        }
        scales.reshape([batch])
        DropoutKernels.drawScales(scales.storage, count: batch, dropProbability: dropProbability, generator: &generator)
        CombineKernels.scaleExamples(inputs[0].storage, scales: scales.storage, into: output.storage,
                                     batch: batch, perExample: outputShape.count)
    }

    func backward(_ inputs: [Tensor], _ output: Tensor, _ outputGradient: Tensor, _ inputGradients: [Tensor?], batch: Int) {
        guard let dx = inputGradients[0] else { return }
        if lastForwardMasked {
            CombineKernels.scaleExamplesAccumulate(outputGradient.storage, scales: scales.storage, into: dx.storage,
                                                   batch: batch, perExample: outputShape.count)
        } else {
            ElementwiseKernels.accumulate(outputGradient.storage, into: dx.storage, count: output.count)
        }
    }
}
