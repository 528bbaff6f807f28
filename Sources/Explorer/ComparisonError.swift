import Canvas
import Engine
import Pruning

/// Two checkpoints that cannot be compared.
public struct ComparisonError: Error, CustomStringConvertible {
    public var path: String
    public var problem: String
    public var description: String { "\(path): \(problem)" }
}
