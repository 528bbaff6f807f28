import Engine

/// Figures of a model at some widths. `macs`: multiply-accumulates of conv and linear
/// layers per input (the FLOPs of docs/design.md §5).
public struct CostFigures: Equatable, Sendable, Codable {
    public var macs: Int
    public var parameters: Int
    /// Prunable channels still present.
    public var channels: Int

    public init(macs: Int, parameters: Int, channels: Int) {
        self.macs = macs
        self.parameters = parameters
        self.channels = channels
    }

    public func value(_ metric: TargetMetric) -> Int {
        switch metric {
        case .flops: return macs
        case .parameters: return parameters
        case .channels: return channels
        }
    }
}
