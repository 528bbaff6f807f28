// A table with a header row, per-column alignment, widths taken from the content and shrunk
// (widest column first, text cut with "…") to fit, a highlighted selected row, and vertical
// scrolling that keeps the selected row in view.

public struct Table: Widget, Sendable {
    public struct Column: Hashable, Sendable {
        public var title: String
        public var alignment: Alignment
        /// The narrowest this column gets when the table is shrunk to fit.
        public var minimumWidth: Int

        public init(_ title: String, alignment: Alignment = .left, minimumWidth: Int = 3) {
            self.title = title
            self.alignment = alignment
            self.minimumWidth = max(1, minimumWidth)
        }
    }

    /// A cell's text and, optionally, its own style (else the row's).
    public struct Cell: Hashable, Sendable, ExpressibleByStringInterpolation {
        public var text: String
        public var style: Style?

        public init(_ text: String, style: Style? = nil) {
            self.text = text
            self.style = style
        }

        public init(stringLiteral text: String) {
            self.init(text)
        }
    }

    public struct Row: Hashable, Sendable {
        public var cells: [Cell]
        public var style: Style

        public init(_ cells: [Cell], style: Style = .normal) {
            self.cells = cells
            self.style = style
        }
    }

    public var columns: [Column]
    public var rows: [Row]
    /// The highlighted row, kept in view.
    public var selected: Int?
    /// Index of the first row shown (adjusted to keep `selected` visible).
    public var scrollOffset: Int
    /// Blank cells between columns.
    public var columnSpacing: Int
    public var headerStyle: Style
    public var selectedStyle: Style

    public init(columns: [Column], rows: [Row], selected: Int? = nil, scrollOffset: Int = 0,
                columnSpacing: Int = 2, headerStyle: Style = .header, selectedStyle: Style = .selected) {
        self.columns = columns
        self.rows = rows
        self.selected = selected
        self.scrollOffset = scrollOffset
        self.columnSpacing = columnSpacing
        self.headerStyle = headerStyle
        self.selectedStyle = selectedStyle
    }

    /// Whether the first line is a header: when any column has a title.
    public var hasHeader: Bool { columns.contains { !$0.title.isEmpty } }

    /// Column widths: each the widest of its title and cells, then narrowed one cell at a
    /// time from the widest column (the rightmost of equals) until the table, spacing
    /// included, fits `maximumWidth` or every column is at its minimum.
    public func columnWidths(maximumWidth: Int) -> [Int] {
        var widths = columns.enumerated().map { index, column in
            rows.reduce(column.title.count) { max($0, index < $1.cells.count ? $1.cells[index].text.count : 0) }
        }
        let spacing = max(0, columns.count - 1) * max(0, columnSpacing)
        var excess = widths.reduce(spacing, +) - maximumWidth
        while excess > 0 {
            let shrinkable = widths.indices.filter { widths[$0] > columns[$0].minimumWidth }
            guard let widest = shrinkable.max(by: { (widths[$0], $0) < (widths[$1], $1) }) else { break }
            widths[widest] -= 1
            excess -= 1
        }
        return widths
    }

    /// The rows shown in `area`, after scrolling to keep the selected row visible.
    public func visibleRows(in area: Rect) -> Range<Int> {
        let visible = max(0, area.height - (hasHeader ? 1 : 0))
        let first = Scroll.offset(keeping: selected, visible: visible, count: rows.count, current: scrollOffset)
        return first..<min(rows.count, first + visible)
    }

    public func render(into grid: inout Grid, area: Rect) {
        guard !area.isEmpty else { return }
        let widths = columnWidths(maximumWidth: area.width)
        var body = area
        if hasHeader {
            let header: Rect
            (header, body) = area.splitTop(1)
            draw(columns.map { Cell($0.title) }, widths: widths, style: headerStyle, forceStyle: true,
                 line: header, grid: &grid)
        }
        for (line, index) in visibleRows(in: area).enumerated() {
            let rect = body.row(line)
            let row = rows[index]
            if index == selected {
                grid.fill(rect, style: selectedStyle)
                draw(row.cells, widths: widths, style: selectedStyle, forceStyle: true, line: rect, grid: &grid)
            } else {
                draw(row.cells, widths: widths, style: row.style, forceStyle: false, line: rect, grid: &grid)
            }
        }
    }

    private func draw(_ cells: [Cell], widths: [Int], style: Style, forceStyle: Bool, line: Rect, grid: inout Grid) {
        var x = line.x
        for (index, width) in widths.enumerated() {
            if index < cells.count {
                let cell = cells[index]
                grid.put(cell.text, in: Rect(x: x, y: line.y, width: width, height: 1).intersection(line),
                         alignment: columns[index].alignment, style: forceStyle ? style : cell.style ?? style)
            }
            x += width + columnSpacing
        }
    }
}
