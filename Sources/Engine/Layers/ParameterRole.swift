/// How a parameter tensor is laid out, so checkpoints and pruning can index it.
public enum ParameterRole: Sendable, Equatable {
    /// Convolution filters stored (out, kh, kw, in); PyTorch stores (out, in, kh, kw).
    case convolutionWeight(out: Int, kernelHeight: Int, kernelWidth: Int, in: Int)
    /// Linear weights (out, in), as PyTorch.
    case linearWeight(out: Int, in: Int)
    /// One value per channel: biases, BatchNorm scale and shift.
    case perChannel
}
