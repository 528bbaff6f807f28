import Engine

/// Which channels go: per group, the removed indices (sorted).
public struct PruningPlan: Equatable, Sendable, Codable {
    public var widths: [Int]
    public var removed: [[Int]]

    public init(widths: [Int], removed: [[Int]]) {
        self.widths = widths
        self.removed = removed
    }

    /// Kept indices per group, ascending.
    public var kept: [[Int]] {
        zip(widths, removed).map { width, removed in
            let gone = Set(removed)
            return (0..<width).filter { !gone.contains($0) }
        }
    }

    public var removedCount: Int { removed.reduce(0) { $0 + $1.count } }
    public var isEmpty: Bool { removedCount == 0 }
}
