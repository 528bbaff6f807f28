import Engine

public struct SelectionLimits: Equatable, Sendable {
    /// Largest share of a group's original width that may go (cumulative over iterations).
    public var capShare: Double = 0.5
    /// Fewest channels a group keeps.
    public var floor: Int = 1

    public init(capShare: Double = 0.5, floor: Int = 1) {
        self.capShare = capShare
        self.floor = floor
    }
}
