// Vertical bars with eighth-block precision: a column of h rows shows 8·h levels, the top
// cell of a bar being one of ▁▂▃▄▅▆▇ and the cells under it █. Used for the energy of every
// channel of a layer, with the channels selected for pruning marked in a row underneath.

/// The eighth blocks from empty to full, index = eighths of a cell filled from the bottom.
let verticalEighths: [Character] = [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

public struct BarChart: Widget, Sendable {
    public struct Bar: Hashable, Sendable {
        /// The bar's height in chart units (0…maximum); negatives and NaN draw as 0.
        public var value: Double
        public var style: Style
        /// Drawn under the bar (repeated across its width) in the marker row, e.g. "×" for a
        /// channel selected for pruning and "·" for one kept.
        public var marker: Character?
        public var markerStyle: Style

        public init(_ value: Double, style: Style = .bar, marker: Character? = nil, markerStyle: Style = .dim) {
            self.value = value
            self.style = style
            self.marker = marker
            self.markerStyle = markerStyle
        }
    }

    public var bars: [Bar]
    /// The value of a full-height bar; nil uses the largest value.
    public var maximum: Double?
    /// Columns per bar, at least 1.
    public var barWidth: Int
    /// Empty columns between bars.
    public var gap: Int
    /// A value at which a horizontal line crosses the chart, drawn wherever no bar covers
    /// the row the value falls in. Values above the maximum draw on the top row.
    public var threshold: Double?
    public var thresholdStyle: Style
    /// The highlighted bar, kept in view when scrolling; its marker cell is reversed so it
    /// stays visible even when the bar has no height.
    public var cursor: Int?
    public var cursorStyle: Style
    /// Index of the first bar shown when not all fit (adjusted to keep the cursor visible).
    public var scrollOffset: Int

    public init(bars: [Bar], maximum: Double? = nil, barWidth: Int = 1, gap: Int = 0,
                threshold: Double? = nil, thresholdStyle: Style = .threshold,
                cursor: Int? = nil, cursorStyle: Style = .cursor, scrollOffset: Int = 0) {
        self.bars = bars
        self.maximum = maximum
        self.barWidth = barWidth
        self.gap = gap
        self.threshold = threshold
        self.thresholdStyle = thresholdStyle
        self.cursor = cursor
        self.cursorStyle = cursorStyle
        self.scrollOffset = scrollOffset
    }

    /// Whether the bottom row of the area is given to markers: when any bar has one.
    public var hasMarkerRow: Bool { bars.contains { $0.marker != nil } }

    /// How many bars fit in `width` columns.
    public func visibleBarCount(width: Int) -> Int {
        let pitch = max(1, barWidth) + max(0, gap)
        return max(0, (width + max(0, gap)) / pitch)
    }

    /// The bars shown in `area`, after scrolling to keep the cursor visible.
    public func visibleRange(in area: Rect) -> Range<Int> {
        let visible = visibleBarCount(width: area.width)
        let first = Scroll.offset(keeping: cursor, visible: visible, count: bars.count, current: scrollOffset)
        return first..<min(bars.count, first + visible)
    }

    public func render(into grid: inout Grid, area: Rect) {
        let chart = hasMarkerRow ? area.splitBottom(1).rest : area
        let markerRow = hasMarkerRow ? area.maxY - 1 : nil
        let rows = chart.height
        let width = max(1, barWidth), pitch = width + max(0, gap)
        let top = maximum ?? bars.map(\.value).filter(\.isFinite).max() ?? 0
        let thresholdRow = threshold.flatMap { rowOf(level: $0, top: top, rows: rows) }

        // The threshold first, across the whole width; bars then overwrite the cells they cover.
        if let row = thresholdRow {
            grid.fill(Rect(x: chart.x, y: chart.maxY - 1 - row, width: chart.width, height: 1),
                      with: "─", style: thresholdStyle)
        }
        for (slot, index) in visibleRange(in: area).enumerated() {
            let bar = bars[index]
            let x = chart.x + slot * pitch
            let style = index == cursor ? cursorStyle : bar.style
            let eighths = Self.eighths(bar.value, top: top, rows: rows)
            for row in 0..<rows {
                let filled = min(8, max(0, eighths - row * 8))
                guard filled > 0 else { continue }
                grid.fill(Rect(x: x, y: chart.maxY - 1 - row, width: width, height: 1),
                          with: verticalEighths[filled], style: style)
            }
            if let y = markerRow {
                let markerStyle = index == cursor ? bar.markerStyle.reversed() : bar.markerStyle
                grid.fill(Rect(x: x, y: y, width: width, height: 1), with: bar.marker ?? " ", style: markerStyle)
            }
        }
    }

    /// Height of `value` in eighths of a cell, out of `8 · rows`. A positive value never
    /// rounds to nothing: a channel with a tiny energy still shows a sliver, which is what
    /// tells it apart from one that is exactly zero.
    public static func eighths(_ value: Double, top: Double, rows: Int) -> Int {
        guard value.isFinite, value > 0, top > 0, rows > 0 else { return 0 }
        let levels = Double(8 * rows)
        let scaled = Int((min(value / top, 1) * levels).rounded())
        return max(1, scaled)
    }

    /// The row, counted from the bottom, that the level `value` falls in.
    private func rowOf(level value: Double, top: Double, rows: Int) -> Int? {
        guard value.isFinite, rows > 0 else { return nil }
        guard top > 0 else { return 0 }
        let position = max(0, value / top) * Double(rows)
        return min(rows - 1, Int(position.rounded(.down)))
    }
}
