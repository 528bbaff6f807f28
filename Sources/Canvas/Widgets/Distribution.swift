import Foundation

/// A one-line histogram: the range of `values` is cut into one bin per column and each column
/// shows how many values fall in its bin. The bins holding values at or below `threshold`
/// (and any between them) are drawn in `belowStyle`, so the strip shows how much of a layer
/// the current selection takes.
///
/// With `separatesZeros`, the first column stands for the values at exactly zero (or below)
/// and the second is left blank: a log scale has no place for zero, and channels a group
/// lasso has switched off are worth seeing apart from the smallest live ones. The zero
/// column is full when half the values or more are zero, so that it never flattens the
/// bins beside it.
///
///     █ ▁▃▅█▆▃▁
///     ^ zeros, then log10 bins over `range`
///
/// An area taller than one row draws the same counts as bars of that height.
public struct Distribution: Widget, Sendable {
    public enum Scale: Hashable, Sendable {
        case linear
        /// Bins equal in log10 of the value; zeros and negatives count in the first bin
        /// (or the zero column). Suits energies, which spread over orders of magnitude.
        case logarithmic
    }

    public var values: [Double]
    public var scale: Scale
    /// The value range of the strip; nil uses the values' own range. Share it between rows
    /// to make layers comparable.
    public var range: ClosedRange<Double>?
    public var threshold: Double?
    public var separatesZeros: Bool
    /// The count of a full cell; nil uses the largest count of the strip. Share it between
    /// rows to compare how many channels each bin holds.
    public var maximumCount: Int?
    public var style: Style
    public var belowStyle: Style

    public init(values: [Double], scale: Scale = .logarithmic, range: ClosedRange<Double>? = nil,
                threshold: Double? = nil, separatesZeros: Bool = false, maximumCount: Int? = nil,
                style: Style = .kept, belowStyle: Style = .pruned) {
        self.values = values
        self.scale = scale
        self.range = range
        self.threshold = threshold
        self.separatesZeros = separatesZeros
        self.maximumCount = maximumCount
        self.style = style
        self.belowStyle = belowStyle
    }

    /// Columns before the bins: the zero column and the gap after it.
    public var binOffset: Int { separatesZeros ? 2 : 0 }

    /// How many values fall in each of `bins` equal bins (in the chosen scale) over the range.
    /// Values outside the range count in the nearest end bin; with `separatesZeros`, values
    /// at or below zero are left out (see `zeroCount`).
    public func counts(bins: Int) -> [Int] {
        guard bins > 0 else { return [] }
        var counts = Array(repeating: 0, count: bins)
        guard let (low, high) = transformedRange() else { return counts }
        for value in values where value.isFinite && !(separatesZeros && value <= 0) {
            counts[bin(of: transform(value, floor: low), low: low, high: high, bins: bins)] += 1
        }
        return counts
    }

    /// Values at or below zero.
    public var zeroCount: Int { values.reduce(0) { $0 + ($1.isFinite && $1 <= 0 ? 1 : 0) } }

    public func render(into grid: inout Grid, area: Rect) {
        guard !area.isEmpty else { return }
        let bins = max(0, area.width - binOffset)
        let counts = counts(bins: bins)
        var styles = Array(repeating: style, count: bins)
        if let threshold, let (low, high) = transformedRange() {
            // Every bin up to the last one holding a value at or below the threshold, so that
            // a threshold inside the first bin (a cut at zero energy, say) still shows.
            let below = values.filter { $0.isFinite && $0 <= threshold && !(separatesZeros && $0 <= 0) }
            if let last = below.map({ bin(of: transform($0, floor: low), low: low, high: high, bins: bins) }).max() {
                for index in 0...last { styles[index] = belowStyle }
            }
        }
        var columns = counts.map(Double.init)
        var columnStyles = styles
        var top = maximumCount.map(Double.init) ?? columns.max() ?? 0
        if separatesZeros {
            // The zero column's height is the share of all values at zero, on the same
            // scale as the tallest bin: a layer half dead shows a zero column as tall as
            // its fullest bin, and the bins keep their shape whatever the zeros.
            let zeroStyle = threshold.map { $0 >= 0 } == true ? belowStyle : style
            let finite = values.filter(\.isFinite).count
            let zeroHeight = finite > 0 && zeroCount > 0 ? max(top, 1) * min(1, 2 * Double(zeroCount) / Double(finite)) : 0
            columns = [zeroHeight, 0] + columns
            columnStyles = [zeroStyle, style] + columnStyles
            top = max(top, zeroHeight)
        }
        guard area.height > 1 else {
            Sparkline(values: Array(columns.prefix(area.width)), maximum: top, style: style, styles: columnStyles)
                .render(into: &grid, area: area)
            return
        }
        // Taller areas draw a bar per bin, with eighth-cell precision.
        let bars = zip(columns, columnStyles).prefix(area.width).map { BarChart.Bar($0, style: $1) }
        BarChart(bars: bars, maximum: top).render(into: &grid, area: area)
    }

    /// The range in the scale's coordinates; nil when there is nothing to show.
    private func transformedRange() -> (Double, Double)? {
        let finite = values.filter(\.isFinite)
        let positive = finite.filter { $0 > 0 }
        let low: Double, high: Double
        switch scale {
        case .linear:
            guard let lower = range?.lowerBound ?? finite.min(), let upper = range?.upperBound ?? finite.max() else {
                return nil
            }
            (low, high) = (lower, upper)
        case .logarithmic:
            let lowerValue = range.map { max($0.lowerBound, Double.leastNormalMagnitude) } ?? positive.min()
            let upperValue = range.map { max($0.upperBound, Double.leastNormalMagnitude) } ?? positive.max()
            guard let lowerValue, let upperValue else { return finite.isEmpty ? nil : (0, 0) }
            (low, high) = (log10(lowerValue), log10(upperValue))
        }
        return (low, high)
    }

    private func transform(_ value: Double, floor: Double) -> Double {
        switch scale {
        case .linear: value
        case .logarithmic: value > 0 ? log10(value) : floor
        }
    }

    private func bin(of position: Double, low: Double, high: Double, bins: Int) -> Int {
        guard high > low else { return 0 }
        let index = Int(((position - low) / (high - low) * Double(bins)).rounded(.down))
        return min(bins - 1, max(0, index))
    }
}
