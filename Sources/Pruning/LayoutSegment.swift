import Engine

/// A run of a layer's channels that belongs to one group (or to no prunable group).
public struct LayoutSegment: Equatable, Sendable {
    /// The group, or nil when the channels cannot be pruned.
    public var group: Int?
    public var width: Int
    /// Features per channel once flattened; 1 for a map.
    public var featuresPerChannel: Int
}
