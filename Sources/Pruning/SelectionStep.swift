import Engine

/// One channel taken by the walk, and the model's figures once it is gone.
public struct SelectionStep: Equatable, Sendable, Codable {
    public var group: Int
    public var channel: Int
    public var normalizedEnergy: Double
    public var after: CostFigures
}
