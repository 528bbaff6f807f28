// Frames and the two boxes drawn over a view: a question (`Dialog`) and the "terminal too
// small" message that replaces the whole screen.

/// A frame around a rectangle, with a title in the top border ("┌─ Layers ───┐") and an
/// optional footer in the bottom one ("└── Esc closes ─┘"). Draw the content in `inner(area)`.
public struct Box: Widget, Sendable {
    public enum Border: Hashable, Sendable {
        case light, rounded, heavy, double

        /// Top left, top right, bottom left, bottom right, horizontal, vertical.
        var glyphs: (Character, Character, Character, Character, Character, Character) {
            switch self {
            case .light: ("┌", "┐", "└", "┘", "─", "│")
            case .rounded: ("╭", "╮", "╰", "╯", "─", "│")
            case .heavy: ("┏", "┓", "┗", "┛", "━", "┃")
            case .double: ("╔", "╗", "╚", "╝", "═", "║")
            }
        }
    }

    public var title: String?
    public var footer: String?
    public var border: Border
    public var borderStyle: Style
    public var titleStyle: Style
    public var footerStyle: Style
    /// Blank the inside first, for boxes drawn over other content.
    public var clearsInterior: Bool

    public init(title: String? = nil, footer: String? = nil, border: Border = .light,
                borderStyle: Style = .border, titleStyle: Style = .title, footerStyle: Style = .hint,
                clearsInterior: Bool = false) {
        self.title = title
        self.footer = footer
        self.border = border
        self.borderStyle = borderStyle
        self.titleStyle = titleStyle
        self.footerStyle = footerStyle
        self.clearsInterior = clearsInterior
    }

    /// The area inside the border.
    public static func inner(_ area: Rect) -> Rect { area.inset(by: 1) }

    public func render(into grid: inout Grid, area: Rect) {
        guard area.width >= 2, area.height >= 2 else { return }
        let (topLeft, topRight, bottomLeft, bottomRight, horizontal, vertical) = border.glyphs
        if clearsInterior { grid.fill(Box.inner(area)) }
        grid.fill(area.row(0), with: horizontal, style: borderStyle)
        grid.fill(area.row(area.height - 1), with: horizontal, style: borderStyle)
        let sides = area.inset(horizontal: 0, vertical: 1)
        grid.fill(sides.splitLeft(1).left, with: vertical, style: borderStyle)
        grid.fill(sides.splitRight(1).right, with: vertical, style: borderStyle)
        grid[area.x, area.y] = Cell(topLeft, style: borderStyle)
        grid[area.maxX - 1, area.y] = Cell(topRight, style: borderStyle)
        grid[area.x, area.maxY - 1] = Cell(bottomLeft, style: borderStyle)
        grid[area.maxX - 1, area.maxY - 1] = Cell(bottomRight, style: borderStyle)

        // Labels sit two cells in from the corners, padded by a space each side.
        let room = area.width - 6
        if let title, !title.isEmpty, room > 0 {
            grid.put(" " + Text.truncated(title, width: room) + " ", x: area.x + 2, y: area.y, style: titleStyle)
        }
        if let footer, !footer.isEmpty, room > 0 {
            let text = " " + Text.truncated(footer, width: room) + " "
            grid.put(text, x: area.maxX - 2 - text.count, y: area.maxY - 1, style: footerStyle)
        }
    }
}

/// A centred question in a box, over whatever is behind it:
///
///     ┌─ Quit ──────────────────────────────┐
///     │                                     │
///     │  Unsaved pruned model. Quit anyway? │
///     │                                     │
///     │           y quit   n stay           │
///     │                                     │
///     └─────────────────────────────────────┘
///
/// The explorer maps the keys itself; `choices` only says what they are.
public struct Dialog: Widget, Sendable {
    public struct Choice: Hashable, Sendable {
        public var key: Key
        public var label: String

        public init(_ key: Key, _ label: String) {
            self.key = key
            self.label = label
        }
    }

    public var title: String
    /// Wrapped to the box; newlines start new lines.
    public var message: String
    public var choices: [Choice]
    /// Widest the text inside gets, in cells.
    public var maximumTextWidth: Int
    public var messageStyle: Style

    public init(title: String, message: String, choices: [Choice] = [], maximumTextWidth: Int = 56,
                messageStyle: Style = .normal) {
        self.title = title
        self.message = message
        self.choices = choices
        self.maximumTextWidth = maximumTextWidth
        self.messageStyle = messageStyle
    }

    /// The box's rectangle when drawn centred in `area`.
    public func frame(in area: Rect) -> Rect {
        let layout = layout(in: area)
        return area.centered(width: layout.textWidth + 6, height: layout.lines.count + (choices.isEmpty ? 0 : 2) + 4)
    }

    public func render(into grid: inout Grid, area: Rect) {
        let layout = layout(in: area)
        let frame = frame(in: area)
        Box(title: title, clearsInterior: true).render(into: &grid, area: frame)
        let text = frame.inset(horizontal: 3, vertical: 2)
        for (index, line) in layout.lines.enumerated() where index < text.height {
            grid.put(line, in: text.row(index), style: messageStyle)
        }
        guard !choices.isEmpty else { return }
        let y = text.y + layout.lines.count + 1
        guard y < frame.maxY - 1 else { return }
        var x = text.x + max(0, (text.width - layout.choicesWidth) / 2)
        for (index, choice) in choices.enumerated() {
            if index > 0 { x = grid.put("   ", x: x, y: y, clip: text) }
            x = grid.put(choice.key.name, x: x, y: y, style: .accent, clip: text)
            x = grid.put(" " + choice.label, x: x, y: y, style: .hint, clip: text)
        }
    }

    private func layout(in area: Rect) -> (lines: [String], textWidth: Int, choicesWidth: Int) {
        let available = max(1, min(maximumTextWidth, area.width - 6))
        let choicesWidth = choices.reduce(0) { $0 + $1.key.name.count + 1 + $1.label.count } + 3 * max(0, choices.count - 1)
        let lines = Text.wrapped(message, width: available)
        let widest = max(lines.map(\.count).max() ?? 0, choicesWidth, title.count + 4)
        return (lines, min(available, widest), choicesWidth)
    }
}

/// The whole screen when the terminal is below the explorer's minimum size: a short
/// centred message with the needed and current sizes, instead of a garbled layout.
public struct TooSmallScreen: Widget, Sendable {
    /// The size the explorer's views are laid out for.
    public static let defaultMinimum = Size(width: 80, height: 24)

    public var current: Size
    public var minimum: Size

    public init(current: Size, minimum: Size = TooSmallScreen.defaultMinimum) {
        self.current = current
        self.minimum = minimum
    }

    /// A grid of `size` holding only the message.
    public static func grid(size: Size, minimum: Size = TooSmallScreen.defaultMinimum) -> Grid {
        var grid = Grid(size: size)
        grid.render(TooSmallScreen(current: size, minimum: minimum), in: grid.bounds)
        return grid
    }

    public func render(into grid: inout Grid, area: Rect) {
        var lines: [(String, Style)] = [
            ("Terminal too small", .warning),
            ("needs \(minimum), is \(current)", .normal),
            ("q quits", .hint),
        ]
        // On very short terminals the sizes matter more than the heading.
        if area.height < lines.count { lines.removeFirst(lines.count - area.height) }
        let block = area.centered(width: area.width, height: lines.count)
        for (index, (text, style)) in lines.enumerated() {
            grid.put(text, in: block.row(index), alignment: .center, style: style)
        }
    }
}
