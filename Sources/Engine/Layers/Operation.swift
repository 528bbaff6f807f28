// The contract every layer kind fulfils. As in llm.c, each layer is a forward/backward
// pair; the forward keeps exactly what its backward needs, and backward passes *add* into
// the input gradients, so a tensor read by several layers (a residual fork) collects them all
// (the first consumer to reach it writes instead, so nothing is zero-filled first).

/// A layer's forward/backward pair. Public so that each kind's rule (`LayerRule`) can make
/// its operation; the implementations stay inside the engine.
public protocol Operation: AnyObject {
    var outputShape: FeatureShape { get }
    var parameters: [Parameter] { get }
    var buffers: [NamedTensor] { get }
    /// Writes the output for a batch of `batch` examples; `output` is already shaped.
    func forward(_ inputs: [Tensor], _ output: Tensor, batch: Int, training: Bool)
    /// Adds parameter gradients and, for every non-nil entry of `inputGradients`, the
    /// gradient with respect to that input.
    func backward(_ inputs: [Tensor], _ output: Tensor, _ outputGradient: Tensor,
                  _ inputGradients: [Tensor?], batch: Int)
    /// As `backward`, but *writes* the input gradients whose entry of `overwrite` is true
    /// instead of adding into them (their contents on entry are unspecified). The model sets
    /// it for the first consumer of an activation to reach its gradient on the way back, so
    /// no gradient is zero-filled only to be added into once. The default zero-fills the
    /// flagged gradients and adds; kernels that can write directly override it.
    func backward(_ inputs: [Tensor], _ output: Tensor, _ outputGradient: Tensor,
                  _ inputGradients: [Tensor?], overwrite: [Bool], batch: Int)
}

/// `overwrite` for a backward pass that adds into both of at most two input gradients.
let addingToInputs = [false, false]

extension Operation {
    public var parameters: [Parameter] { [] }
    public var buffers: [NamedTensor] { [] }

    public func backward(_ inputs: [Tensor], _ output: Tensor, _ outputGradient: Tensor,
                         _ inputGradients: [Tensor?], overwrite: [Bool], batch: Int) {
        for (gradient, write) in zip(inputGradients, overwrite) where write { gradient?.fill(0) }
        backward(inputs, output, outputGradient, inputGradients, batch: batch)
    }
}
