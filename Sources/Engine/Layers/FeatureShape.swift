/// Per-example shape of an activation: a spatial map (H, W, C) or a flat vector of
/// `channels` features.
public struct FeatureShape: Equatable, Sendable, CustomStringConvertible {
    public var height: Int
    public var width: Int
    public var channels: Int
    public var isFlat: Bool

    public static func map(_ height: Int, _ width: Int, _ channels: Int) -> FeatureShape {
        FeatureShape(height: height, width: width, channels: channels, isFlat: false)
    }
    public static func vector(_ features: Int) -> FeatureShape {
        FeatureShape(height: 1, width: 1, channels: features, isFlat: true)
    }

    public var count: Int { height * width * channels }
    public var pixels: Int { height * width }
    /// Tensor shape for a batch: (N, H, W, C) or (N, F).
    public func batchShape(_ n: Int) -> [Int] { isFlat ? [n, channels] : [n, height, width, channels] }
    public var description: String { isFlat ? "\(channels)" : "\(channels)x\(height)x\(width)" }
}
