import Canvas
import Engine
import Pruning

public struct SensitivityLayer: Equatable, Sendable {
    public var group: Int
    public var name: String
    public var ascending: [Int]
}
