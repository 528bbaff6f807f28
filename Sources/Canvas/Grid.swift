// The character grid every view renders into, and the geometry used to cut it up.
// The explorer never talks to the terminal: it fills a `Grid`, and the curses backend copies
// the grid to the screen. Coordinates are in cells, x to the right and y down, origin top left.
// Every character is assumed to occupy one cell; box drawing (─│┌), block elements (▁…█ ░ ▒)
// and the arrows used in key names are single width, which is all the widgets draw.

/// A width × height extent, in cells.
public struct Size: Hashable, Sendable, CustomStringConvertible {
    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// Whether a rectangle of this size can hold one of `other`'s size.
    public func contains(_ other: Size) -> Bool {
        width >= other.width && height >= other.height
    }

    /// "80x24".
    public var description: String { "\(width)x\(height)" }
}

/// A rectangle of cells. Negative sizes are clamped to zero, so arithmetic on rectangles that
/// run out of room yields empty rectangles instead of traps.
public struct Rect: Hashable, Sendable, CustomStringConvertible {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = max(0, width)
        self.height = max(0, height)
    }

    public init(size: Size) {
        self.init(x: 0, y: 0, width: size.width, height: size.height)
    }

    /// One past the last column.
    public var maxX: Int { x + width }
    /// One past the last row.
    public var maxY: Int { y + height }
    public var size: Size { Size(width: width, height: height) }
    public var isEmpty: Bool { width == 0 || height == 0 }

    public var description: String { "(\(x),\(y) \(width)x\(height))" }

    public func contains(x px: Int, y py: Int) -> Bool {
        px >= x && px < maxX && py >= y && py < maxY
    }

    /// The overlap of two rectangles; empty (at this rectangle's origin) when they do not meet.
    public func intersection(_ other: Rect) -> Rect {
        let left = max(x, other.x), top = max(y, other.y)
        let right = min(maxX, other.maxX), bottom = min(maxY, other.maxY)
        guard right > left, bottom > top else { return Rect(x: x, y: y, width: 0, height: 0) }
        return Rect(x: left, y: top, width: right - left, height: bottom - top)
    }

    /// Shrinks every side by `cells` (a frame's border is `inset(by: 1)`).
    public func inset(by cells: Int) -> Rect {
        inset(horizontal: cells, vertical: cells)
    }

    /// Shrinks the left and right sides by `horizontal` cells, top and bottom by `vertical`.
    public func inset(horizontal: Int, vertical: Int) -> Rect {
        let dx = min(horizontal, width / 2), dy = min(vertical, height / 2)
        return Rect(x: x + dx, y: y + dy, width: width - 2 * horizontal, height: height - 2 * vertical)
    }

    /// A rectangle of at most `width` × `height` cells centred in this one (odd leftovers go
    /// right and down).
    public func centered(width w: Int, height h: Int) -> Rect {
        let cw = min(max(0, w), width), ch = min(max(0, h), height)
        return Rect(x: x + (width - cw) / 2, y: y + (height - ch) / 2, width: cw, height: ch)
    }

    /// The single line `index` rows below the top, empty when outside.
    public func row(_ index: Int) -> Rect {
        guard index >= 0, index < height else { return Rect(x: x, y: y, width: 0, height: 0) }
        return Rect(x: x, y: y + index, width: width, height: 1)
    }

    /// Splits off the top `rows` rows.
    public func splitTop(_ rows: Int) -> (top: Rect, rest: Rect) {
        let n = min(max(0, rows), height)
        return (Rect(x: x, y: y, width: width, height: n),
                Rect(x: x, y: y + n, width: width, height: height - n))
    }

    /// Splits off the bottom `rows` rows.
    public func splitBottom(_ rows: Int) -> (rest: Rect, bottom: Rect) {
        let n = min(max(0, rows), height)
        return (Rect(x: x, y: y, width: width, height: height - n),
                Rect(x: x, y: maxY - n, width: width, height: n))
    }

    /// Splits off the leftmost `columns` columns.
    public func splitLeft(_ columns: Int) -> (left: Rect, rest: Rect) {
        let n = min(max(0, columns), width)
        return (Rect(x: x, y: y, width: n, height: height),
                Rect(x: x + n, y: y, width: width - n, height: height))
    }

    /// Splits off the rightmost `columns` columns.
    public func splitRight(_ columns: Int) -> (rest: Rect, right: Rect) {
        let n = min(max(0, columns), width)
        return (Rect(x: x, y: y, width: width - n, height: height),
                Rect(x: maxX - n, y: y, width: n, height: height))
    }

    /// Stacks rectangles top to bottom, one per extent, covering this rectangle's height.
    public func rows(_ extents: [Extent]) -> [Rect] {
        var top = y
        return Extent.lengths(extents, total: height).map { length in
            defer { top += length }
            return Rect(x: x, y: top, width: width, height: length)
        }
    }

    /// Places rectangles left to right, one per extent, covering this rectangle's width.
    public func columns(_ extents: [Extent]) -> [Rect] {
        var left = x
        return Extent.lengths(extents, total: width).map { length in
            defer { left += length }
            return Rect(x: left, y: y, width: length, height: height)
        }
    }
}

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

/// What a cell means; the theme turns it into colours and attributes. Widgets and views only
/// ever say what a cell is, never which colour it has.
public enum Role: Hashable, Sendable, CaseIterable {
    case normal, dim, accent, header, title, border
    case selected, cursor
    case pruned, kept, bar, threshold
    case good, bad, warning, hint

    /// The one-letter code used by `Grid.styledLines` in golden files.
    public var code: Character {
        switch self {
        case .normal: "."
        case .dim: "d"
        case .accent: "a"
        case .header: "h"
        case .title: "t"
        case .border: "f"
        case .selected: "s"
        case .cursor: "c"
        case .pruned: "p"
        case .kept: "k"
        case .bar: "r"
        case .threshold: "l"
        case .good: "g"
        case .bad: "b"
        case .warning: "w"
        case .hint: "i"
        }
    }
}

/// A role plus the two emphasis flags a widget may add on top of what the theme gives the role.
public struct Style: Hashable, Sendable {
    public var role: Role
    public var isBold: Bool
    public var isReversed: Bool

    public init(_ role: Role = .normal, bold: Bool = false, reversed: Bool = false) {
        self.role = role
        self.isBold = bold
        self.isReversed = reversed
    }

    /// This style, bold.
    public func bold(_ on: Bool = true) -> Style {
        var copy = self
        copy.isBold = on
        return copy
    }

    /// This style, in reverse video.
    public func reversed(_ on: Bool = true) -> Style {
        var copy = self
        copy.isReversed = on
        return copy
    }

    public static let normal = Style(.normal)
    public static let dim = Style(.dim)
    public static let accent = Style(.accent)
    public static let header = Style(.header)
    public static let title = Style(.title)
    public static let border = Style(.border)
    public static let selected = Style(.selected)
    public static let cursor = Style(.cursor)
    public static let pruned = Style(.pruned)
    public static let kept = Style(.kept)
    public static let bar = Style(.bar)
    public static let threshold = Style(.threshold)
    public static let good = Style(.good)
    public static let bad = Style(.bad)
    public static let warning = Style(.warning)
    public static let hint = Style(.hint)
}

/// One screen cell: a single-width character and how it looks.
public struct Cell: Hashable, Sendable {
    public var character: Character
    public var style: Style

    public init(_ character: Character = " ", style: Style = .normal) {
        self.character = character
        self.style = style
    }

    public static let blank = Cell()
}

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

/// Anything that draws itself into a rectangle of a grid. Widgets must stay inside `area`.
public protocol Widget {
    func render(into grid: inout Grid, area: Rect)
}
