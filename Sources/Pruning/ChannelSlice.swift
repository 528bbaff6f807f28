import Engine

/// Where a group's channels sit in one layer.
public struct ChannelSlice: Equatable, Sendable, Codable {
    public var layer: String
    /// Position of the group's channel 0 among the layer's channels: its input channels for a
    /// consumer, its output channels otherwise.
    public var offset: Int
    /// Input features each channel feeds: H·W for a linear layer after a flatten, else 1.
    public var featuresPerChannel: Int

    public init(layer: String, offset: Int = 0, featuresPerChannel: Int = 1) {
        self.layer = layer
        self.offset = offset
        self.featuresPerChannel = featuresPerChannel
    }
}
