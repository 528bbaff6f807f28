/// Test-set metrics.
public struct Evaluation: Codable, Equatable, Sendable {
    public var top1: Double
    public var loss: Double
    public var perClassAccuracy: [Double]
    public var count: Int
}
