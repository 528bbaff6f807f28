// A line chart with axes: each series is drawn as a line in braille dots (2 × 4 dots per
// cell, so a 60-column chart has 120 positions across), with an optional glyph at each of
// its data points so that series differ without colour; a vertical marker line (e.g. the
// current target) with its label; tick labels on both axes.
//
//      91% ┤•⠒⠒⠒•⠤⠤⠤•⠤⠤⠤⠤•│⠤⠤•
//          │               │    ⠑⠢•
//      50% ┤               │        ⠑⠢⠤•
//          └┬──────────┬───┴ target 30% ┬───
//           0%        25%         50%

public struct LineChart: Widget, Sendable {
    public struct Point: Hashable, Sendable {
        public var x: Double
        public var y: Double

        public init(_ x: Double, _ y: Double) {
            self.x = x
            self.y = y
        }
    }

    public struct Series: Hashable, Sendable {
        public var points: [Point]
        public var style: Style
        /// Drawn over the line at each data point; nil draws the line alone.
        public var pointGlyph: Character?

        public init(points: [Point], style: Style, pointGlyph: Character? = nil) {
            self.points = points
            self.style = style
            self.pointGlyph = pointGlyph
        }
    }

    public struct Tick: Hashable, Sendable {
        public var value: Double
        public var label: String

        public init(_ value: Double, _ label: String) {
            self.value = value
            self.label = label
        }
    }

    /// A vertical line across the plot at `x`, labelled on the x axis.
    public struct Marker: Hashable, Sendable {
        public var x: Double
        public var label: String
        public var style: Style

        public init(x: Double, label: String, style: Style = .threshold) {
            self.x = x
            self.label = label
            self.style = style
        }
    }

    public var series: [Series]
    public var xRange: ClosedRange<Double>
    public var yRange: ClosedRange<Double>
    public var xTicks: [Tick]
    public var yTicks: [Tick]
    public var marker: Marker?
    public var axisStyle: Style

    public init(series: [Series], xRange: ClosedRange<Double>, yRange: ClosedRange<Double>, xTicks: [Tick] = [],
                yTicks: [Tick] = [], marker: Marker? = nil, axisStyle: Style = .dim) {
        self.series = series
        self.xRange = xRange
        self.yRange = yRange
        self.xTicks = xTicks
        self.yTicks = yTicks
        self.marker = marker
        self.axisStyle = axisStyle
    }

    /// The plotting area inside `area`: right of the y labels and their axis, above the x
    /// axis and its labels.
    public func plotArea(in area: Rect) -> Rect {
        let labelWidth = yTicks.map(\.label.count).max() ?? 0
        return Rect(x: area.x + labelWidth + 2, y: area.y, width: area.width - labelWidth - 2, height: area.height - 2)
    }

    /// The plot column of `x`, or nil outside the range.
    public func column(of x: Double, in plot: Rect) -> Int? {
        guard plot.width > 0, x.isFinite, xRange.contains(x) else { return nil }
        let span = xRange.upperBound - xRange.lowerBound
        let position = span > 0 ? (x - xRange.lowerBound) / span : 0
        return plot.x + min(plot.width - 1, Int((position * Double(plot.width * 2 - 1)).rounded()) / 2)
    }

    public func render(into grid: inout Grid, area: Rect) {
        let plot = plotArea(in: area)
        guard plot.width >= 2, plot.height >= 1 else { return }
        let axisX = plot.x - 1, axisY = plot.maxY

        // Axes and ticks.
        grid.fill(Rect(x: axisX, y: plot.y, width: 1, height: plot.height), with: "│", style: axisStyle)
        grid[axisX, axisY] = Cell("└", style: axisStyle)
        grid.fill(Rect(x: plot.x, y: axisY, width: plot.width, height: 1), with: "─", style: axisStyle)
        for tick in yTicks {
            guard let row = row(of: tick.value, in: plot) else { continue }
            grid.put(tick.label, in: Rect(x: area.x, y: row, width: axisX - 1 - area.x, height: 1), alignment: .right, style: axisStyle)
            grid[axisX, row] = Cell("┤", style: axisStyle)
        }
        var labelEnd = Int.min
        for tick in xTicks {
            guard let column = column(of: tick.value, in: plot) else { continue }
            grid[column, axisY] = Cell("┬", style: axisStyle)
            let start = max(area.x, min(column - tick.label.count / 2, area.maxX - tick.label.count))
            guard start > labelEnd else { continue }
            labelEnd = grid.put(tick.label, x: start, y: axisY + 1, style: axisStyle, clip: area)
        }

        // The marker under the lines.
        var markerColumn: Int?
        if let marker, let column = column(of: marker.x, in: plot) {
            markerColumn = column
            grid.fill(Rect(x: column, y: plot.y, width: 1, height: plot.height), with: "│", style: marker.style)
        }

        // Braille dots, per cell, the later series on top.
        let dotsWide = plot.width * 2, dotsHigh = plot.height * 4
        var bits = [UInt8](repeating: 0, count: plot.width * plot.height)
        var owner = [Int](repeating: -1, count: plot.width * plot.height)
        func dot(_ dx: Int, _ dy: Int, series: Int) {
            guard dx >= 0, dx < dotsWide, dy >= 0, dy < dotsHigh else { return }
            let cell = (dy / 4) * plot.width + dx / 2
            bits[cell] |= Self.brailleBit(column: dx % 2, row: dy % 4)
            owner[cell] = series
        }
        for (index, line) in series.enumerated() {
            let dots = line.points.compactMap { dotPosition(of: $0, wide: dotsWide, high: dotsHigh) }
            if dots.count == 1 { dot(dots[0].0, dots[0].1, series: index) }
            for (a, b) in zip(dots, dots.dropFirst()) {
                Self.segment(from: a, to: b) { dot($0, $1, series: index) }
            }
        }
        for cell in bits.indices where bits[cell] != 0 {
            let x = plot.x + cell % plot.width, y = plot.y + cell / plot.width
            let glyph = Character(Unicode.Scalar(0x2800 + UInt32(bits[cell]))!)
            grid[x, y] = Cell(glyph, style: series[owner[cell]].style)
        }
        for line in series {
            guard let glyph = line.pointGlyph else { continue }
            for point in line.points {
                guard let (dx, dy) = dotPosition(of: point, wide: dotsWide, high: dotsHigh) else { continue }
                grid[plot.x + dx / 2, plot.y + dy / 4] = Cell(glyph, style: line.style)
            }
        }

        // The marker meets the x axis, and its label runs along the axis beside it, where
        // it hides no data.
        if let marker, let column = markerColumn {
            grid[column, axisY] = Cell("┴", style: marker.style)
            if !marker.label.isEmpty {
                let text = " " + marker.label + " "
                let x = column + 1 + text.count <= plot.maxX ? column + 1 : column - text.count
                grid.put(text, x: max(plot.x, x), y: axisY, style: marker.style, clip: Rect(x: plot.x, y: axisY, width: plot.width, height: 1))
            }
        }
    }

    private func row(of y: Double, in plot: Rect) -> Int? {
        guard y.isFinite, plot.height > 0 else { return nil }
        let span = yRange.upperBound - yRange.lowerBound
        let position = span > 0 ? (min(max(y, yRange.lowerBound), yRange.upperBound) - yRange.lowerBound) / span : 0
        return plot.y + (plot.height - 1) - Int((position * Double(plot.height * 4 - 1)).rounded()) / 4
    }

    private func dotPosition(of point: Point, wide: Int, high: Int) -> (Int, Int)? {
        guard point.x.isFinite, point.y.isFinite else { return nil }
        let xSpan = xRange.upperBound - xRange.lowerBound, ySpan = yRange.upperBound - yRange.lowerBound
        let px = xSpan > 0 ? (point.x - xRange.lowerBound) / xSpan : 0
        let py = ySpan > 0 ? (min(max(point.y, yRange.lowerBound), yRange.upperBound) - yRange.lowerBound) / ySpan : 0
        guard px >= -1e-9, px <= 1 + 1e-9 else { return nil }
        return (Int((min(max(px, 0), 1) * Double(wide - 1)).rounded()), (high - 1) - Int((py * Double(high - 1)).rounded()))
    }

    /// The dot for (column 0…1, row 0…3) of a braille cell (Unicode's dot numbering).
    static func brailleBit(column: Int, row: Int) -> UInt8 {
        switch (column, row) {
        case (0, 0): 0x01
        case (0, 1): 0x02
        case (0, 2): 0x04
        case (1, 0): 0x08
        case (1, 1): 0x10
        case (1, 2): 0x20
        case (0, 3): 0x40
        default: 0x80
        }
    }

    /// Every dot of the straight segment from `a` to `b` (Bresenham).
    static func segment(from a: (Int, Int), to b: (Int, Int), _ plot: (Int, Int) -> Void) {
        var (x, y) = a
        let dx = abs(b.0 - x), dy = -abs(b.1 - y)
        let sx = x < b.0 ? 1 : -1, sy = y < b.1 ? 1 : -1
        var error = dx + dy
        while true {
            plot(x, y)
            if x == b.0 && y == b.1 { return }
            let twice = 2 * error
            if twice >= dy { error += dy; x += sx }
            if twice <= dx { error += dx; y += sy }
        }
    }
}
