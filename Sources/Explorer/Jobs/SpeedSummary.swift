import Canvas
import Engine
import Pruning

/// Measured inference speed of one model on this machine.
public struct SpeedSummary: Equatable, Sendable {
    /// Best time of one forward pass of a single image, in milliseconds.
    public var latencyMilliseconds: Double
    /// Images per second in batches of `SpeedSummary.throughputBatch`.
    public var imagesPerSecond: Double

    public init(latencyMilliseconds: Double, imagesPerSecond: Double) {
        self.latencyMilliseconds = latencyMilliseconds
        self.imagesPerSecond = imagesPerSecond
    }

    public static let throughputBatch = 256
}
