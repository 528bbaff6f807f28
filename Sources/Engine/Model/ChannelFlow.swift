/// How a layer's output channels relate to its input channels.
public enum ChannelFlow: Equatable, Sendable {
    /// New channels made from all the input's (conv, linear): the layer is a consumer of its
    /// input's channels and the producer of its output's.
    case opens
    /// Output channel i is input channel i (BatchNorm, activations, pooling, dropout); `weighted`
    /// when the layer holds weights of its own per channel that live and die with it
    /// (BatchNorm, a depthwise convolution).
    case passes(weighted: Bool)
    /// A map (C, H, W) becomes C·H·W features, each channel owning H·W consecutive ones.
    case flattens
    /// Output channel i combines channel i of every input: a residual sum (`residual`, which
    /// couples the inputs' channels) or a gate (squeeze-excitation, which does not).
    case joins(residual: Bool)
    /// The inputs' channels one after another.
    case concatenates
    /// Reads and writes channels that cannot be removed one at a time, and why.
    case fixes(reason: String)
}
