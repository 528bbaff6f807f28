// Layers that are random in training and the identity in evaluation. Each owns a generator
// seeded at construction and advanced by every training forward pass; the scales it drew
// are kept for the backward pass that follows.

/// The mechanism of both kinds: in training each unit (one element for dropout, one whole
/// example for stochastic depth) is kept with probability 1 − p and scaled by 1/(1 − p), or
/// zeroed; the identity in evaluation and when p = 0.
class RandomDropOp: Operation {
    enum Unit { case element, example }

    let outputShape: FeatureShape
    let dropProbability: Float
    let unit: Unit
    /// Advanced by every training forward pass with p > 0, one draw per unit.
    var generator: SeededGenerator
    /// 0 or 1/(1 − p) per unit of the last training forward pass.
    private let scales = Tensor(shape: [0])
    private var lastForwardMasked = false

    /// `p` in 0 ..< 1; `kind` names the layer kind in the precondition's message.
    init(input: FeatureShape, p: Float, seed: UInt64, unit: Unit, kind: String) {
        precondition(p >= 0 && p < 1, "\(kind) probability \(p) outside 0 ..< 1")
        outputShape = input
        dropProbability = p
        self.unit = unit
        generator = SeededGenerator(seed: seed)
    }

    func forward(_ inputs: [Tensor], _ output: Tensor, batch: Int, training: Bool) {
        lastForwardMasked = training && dropProbability > 0
        guard lastForwardMasked else {
            output.copy(from: inputs[0])
            return
        }
        let units = unit == .element ? output.count : batch
        scales.reshape([units])
        DropoutKernels.drawScales(scales.storage, count: units, dropProbability: dropProbability, generator: &generator)
        switch unit {
        case .element:
            CombineKernels.multiply(inputs[0].storage, scales.storage, into: output.storage, count: output.count)
        case .example:
            CombineKernels.scaleExamples(inputs[0].storage, scales: scales.storage, into: output.storage,
                                         batch: batch, perExample: outputShape.count)
        }
    }

    func backward(_ inputs: [Tensor], _ output: Tensor, _ outputGradient: Tensor, _ inputGradients: [Tensor?], batch: Int) {
        guard let dx = inputGradients[0] else { return }
        guard lastForwardMasked else {
            ElementwiseKernels.accumulate(outputGradient.storage, into: dx.storage, count: output.count)
            return
        }
        switch unit {
        case .element:
            CombineKernels.multiplyAccumulate(outputGradient.storage, scales.storage, into: dx.storage, count: output.count)
        case .example:
            CombineKernels.scaleExamplesAccumulate(outputGradient.storage, scales: scales.storage, into: dx.storage,
                                                   batch: batch, perExample: outputShape.count)
        }
    }
}

/// Inverted dropout (PyTorch's `Dropout`): each element kept or zeroed on its own.
final class DropoutOp: RandomDropOp {
    init(input: FeatureShape, p: Float, seed: UInt64) {
        super.init(input: input, p: p, seed: seed, unit: .element, kind: "dropout")
    }
}

/// Stochastic depth (torchvision's `StochasticDepth`, mode "row"): each example's whole
/// activation kept or zeroed. Placed on a residual branch, before the sum.
final class StochasticDepthOp: RandomDropOp {
    init(input: FeatureShape, p: Float, seed: UInt64) {
        super.init(input: input, p: p, seed: seed, unit: .example, kind: "stochastic depth")
    }
}
