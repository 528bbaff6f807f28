// One-line charts for overview rows: a sparkline of values, and a distribution strip that
// histograms values (e.g. the energies of a layer's channels) into one column per bin.

import Foundation

/// One row of eighth blocks, one value per column. When there are more values than columns,
/// each column shows the largest of the values it stands for (so a spike never disappears).
public struct Sparkline: Widget, Sendable {
    public var values: [Double]
    /// The value of a full cell; nil uses the largest value.
    public var maximum: Double?
    public var style: Style
    /// Per-value styles, parallel to `values`; empty uses `style` everywhere. A column that
    /// stands for several values takes the style of the one it shows.
    public var styles: [Style]

    public init(values: [Double], maximum: Double? = nil, style: Style = .bar, styles: [Style] = []) {
        self.values = values
        self.maximum = maximum
        self.style = style
        self.styles = styles
    }

    public func render(into grid: inout Grid, area: Rect) {
        guard !area.isEmpty, !values.isEmpty else { return }
        let columns = min(area.width, values.count)
        let top = maximum ?? values.filter(\.isFinite).max() ?? 0
        for column in 0..<columns {
            let bucket = (column * values.count / columns)..<((column + 1) * values.count / columns)
            let shown = bucket.max { Self.sortable(values[$0]) < Self.sortable(values[$1]) } ?? bucket.lowerBound
            let eighths = BarChart.eighths(values[shown], top: top, rows: 1)
            let cellStyle = shown < styles.count ? styles[shown] : style
            grid[area.x + column, area.maxY - 1] = Cell(verticalEighths[eighths], style: cellStyle)
        }
    }

    private static func sortable(_ value: Double) -> Double { value.isFinite ? value : -.infinity }
}
