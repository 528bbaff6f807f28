import Engine

/// The caller asked a schedule or a repair to stop.
public struct PruningCancelled: Error, Sendable {}
