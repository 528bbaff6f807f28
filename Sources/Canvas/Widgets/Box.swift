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
