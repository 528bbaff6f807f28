import Canvas
import Engine
import Pruning

/// What the saved checkpoint records besides its recipe (which travels with the pruned model).
public struct PruningFacts: Equatable, Sendable {
    /// Share of FLOPs (MACs) removed, 0…1.
    public var removedShare: Double
    /// Test metrics of the model being saved ("top1", "loss", "macs", …).
    public var metrics: [String: Double]
}
