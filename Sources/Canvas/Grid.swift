// The character grid every view renders into, and the geometry used to cut it up.
// The explorer never talks to the terminal: it fills a `Grid`, and the curses backend copies
// the grid to the screen. Coordinates are in cells, x to the right and y down, origin top left.
// Every character is assumed to occupy one cell; box drawing (─│┌), block elements (▁…█ ░ ▒)
// and the arrows used in key names are single width, which is all the widgets draw.

/// A width × height buffer of cells, row-major. Writes outside the grid are dropped, so
/// widgets can draw without checking bounds.
public struct Grid: Hashable, Sendable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]

    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: .blank, count: self.width * self.height)
    }

    public init(size: Size) {
        self.init(width: size.width, height: size.height)
    }

    public var size: Size { Size(width: width, height: height) }
    public var bounds: Rect { Rect(x: 0, y: 0, width: width, height: height) }

    /// The cell at column `x`, row `y`; reading outside gives a blank cell, writing outside
    /// does nothing.
    public subscript(x: Int, y: Int) -> Cell {
        get { bounds.contains(x: x, y: y) ? cells[y * width + x] : .blank }
        set { if bounds.contains(x: x, y: y) { cells[y * width + x] = newValue } }
    }

    /// Writes `text` on row `y` from column `x`, one character per cell, cut off at the edges
    /// of `clip` (default: the whole grid). Control characters (newlines, tabs) become spaces
    /// so that they can never move the terminal's cursor.
    /// - Returns: the column after the last character, whether or not it was visible.
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, style: Style = .normal, clip: Rect? = nil) -> Int {
        let area = (clip ?? bounds).intersection(bounds)
        var column = x
        guard y >= area.y, y < area.maxY else { return x + text.count }
        for character in text {
            if column >= area.x, column < area.maxX {
                cells[y * width + column] = Cell(Grid.printable(character), style: style)
            }
            column += 1
        }
        return column
    }

    /// Writes `text` on the first row of `rect`, aligned within its width and shortened with
    /// "…" when it does not fit.
    public mutating func put(_ text: String, in rect: Rect, alignment: Alignment = .left, style: Style = .normal) {
        guard !rect.isEmpty else { return }
        let fitted = Text.truncated(text, width: rect.width)
        let x: Int
        switch alignment {
        case .left: x = rect.x
        case .right: x = rect.maxX - fitted.count
        case .center: x = rect.x + (rect.width - fitted.count) / 2
        }
        put(fitted, x: x, y: rect.y, style: style, clip: rect)
    }

    /// Sets every cell of `rect` to `character` in `style`.
    public mutating func fill(_ rect: Rect, with character: Character = " ", style: Style = .normal) {
        let area = rect.intersection(bounds)
        let cell = Cell(Grid.printable(character), style: style)
        for y in area.y..<area.maxY {
            for x in area.x..<area.maxX { cells[y * width + x] = cell }
        }
    }

    /// Changes the style of every cell of `rect`, keeping the characters (highlighting a row).
    public mutating func restyle(_ rect: Rect, style: Style) {
        let area = rect.intersection(bounds)
        for y in area.y..<area.maxY {
            for x in area.x..<area.maxX { cells[y * width + x].style = style }
        }
    }

    /// Draws `widget` into `area` (clipped to the grid).
    public mutating func render(_ widget: some Widget, in area: Rect) {
        widget.render(into: &self, area: area.intersection(bounds))
    }

    /// The text of every row, trailing spaces trimmed: what a test compares when only the
    /// characters matter.
    public var lines: [String] {
        (0..<height).map { y in
            var line = String(cells[(y * width)..<((y + 1) * width)].map(\.character))
            while line.last == " " { line.removeLast() }
            return line
        }
    }

    /// The rows as golden-file text that also pins styles. Each row gives
    /// - its text, trailing spaces trimmed;
    /// - a line of `Role.code` letters, one per cell, full width;
    /// - only when some cell of the row is bold or reversed, a line marking them:
    ///   `B` bold, `R` reversed, `#` both, space neither (trailing spaces trimmed).
    public var styledLines: [String] {
        var result: [String] = []
        result.reserveCapacity(height * 2)
        for (y, text) in lines.enumerated() {
            let row = cells[(y * width)..<((y + 1) * width)]
            result.append(text)
            result.append(String(row.map(\.style.role.code)))
            if row.contains(where: { $0.style.isBold || $0.style.isReversed }) {
                var flags = String(row.map { cell -> Character in
                    switch (cell.style.isBold, cell.style.isReversed) {
                    case (true, true): "#"
                    case (true, false): "B"
                    case (false, true): "R"
                    case (false, false): " "
                    }
                })
                while flags.last == " " { flags.removeLast() }
                result.append(flags)
            }
        }
        return result
    }

    private static func printable(_ character: Character) -> Character {
        character.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) } ? " " : character
    }
}
