import Engine

/// The channels of one space: what lives and dies with each of them.
public struct ChannelGroup: Equatable, Sendable, Identifiable {
    /// Position among the model's groups (graph order of the first layer whose output holds it).
    public var id: Int
    /// A short name: "conv2", or "layer1.0.conv1", or for a coupled residual space "stage
    /// of conv1" naming its first producer.
    public var name: String
    public var width: Int
    /// Convolution (or linear) layers whose output channels these are.
    public var producers: [String]
    /// BatchNorm layers normalising these channels.
    public var batchNorms: [ChannelSlice]
    /// Depthwise convolutions filtering each of these channels on its own.
    public var depthwise: [ChannelSlice]
    /// Layers that read these channels.
    public var consumers: [ChannelSlice]
    /// Layers whose output holds these channels (producers, per-channel layers, activations,
    /// pools, sums, concatenations); masking their outputs simulates removing channels.
    public var members: [ChannelSlice]
    /// True when a residual sum joins several producers into this space.
    public var isCoupled: Bool
}
