/// How much of a row or column split one part takes.
public enum Extent: Hashable, Sendable {
    /// Exactly this many cells (fewer when the space runs out; earlier extents win).
    case fixed(Int)
    /// This share (0…1) of the whole, rounded down.
    case fraction(Double)
    /// An equal part of whatever the fixed and fractional extents leave; the leftover cells of
    /// an uneven division go to the first fills.
    case fill

    /// Cell counts for `extents` out of `total`; they never sum to more than `total`.
    static func lengths(_ extents: [Extent], total: Int) -> [Int] {
        var remaining = max(0, total)
        var lengths = extents.map { extent -> Int in
            let wanted: Int
            switch extent {
            case .fixed(let n): wanted = max(0, n)
            case .fraction(let share): wanted = Int((Double(total) * min(max(share, 0), 1)).rounded(.down))
            case .fill: return 0
            }
            let granted = min(wanted, remaining)
            remaining -= granted
            return granted
        }
        let fills = extents.indices.filter { extents[$0] == .fill }
        guard !fills.isEmpty else { return lengths }
        let share = remaining / fills.count, extra = remaining % fills.count
        for (rank, index) in fills.enumerated() {
            lengths[index] = share + (rank < extra ? 1 : 0)
        }
        return lengths
    }
}
