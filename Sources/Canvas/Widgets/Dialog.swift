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
