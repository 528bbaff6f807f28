import Engine

/// What to remove: a share of one metric of the source model.
public struct PruningTarget: Equatable, Sendable {
    public var metric: TargetMetric
    /// 0…1 of the source model's `metric`.
    public var share: Double

    public init(metric: TargetMetric, share: Double) {
        self.metric = metric
        self.share = share
    }
}
