// The always-visible hint line and the `?` help overlay, both generated from the same key
// table that dispatches keys, so what the screen says is what the keys do.

/// "q quit  ? help  ←→ channel  …": every binding with a label, in table order, on as many
/// lines as the area has. Hints are whole or absent: when they do not all fit two cells
/// apart, they close up to one cell apart, and only then are the last ones (the least
/// important, by table order) left out; the help overlay lists them all.
public struct KeyHints<Action>: Widget {
    public var table: KeyTable<Action>
    public var keyStyle: Style
    public var labelStyle: Style

    public init(_ table: KeyTable<Action>, keyStyle: Style = .accent, labelStyle: Style = .hint) {
        self.table = table
        self.keyStyle = keyStyle
        self.labelStyle = labelStyle
    }

    private var hints: [(keys: String, label: String)] {
        table.bindings.filter { !$0.label.isEmpty }.map { ($0.hintKeyText, $0.label) }
    }

    /// Lines needed to show every hint at `width` (with the wider spacing when it fits in
    /// that many lines), at most `maximum`.
    public func lineCount(width: Int, maximum: Int) -> Int {
        for lines in 1..<max(1, maximum) {
            if Self.place(hints.map { $0.keys.count + 1 + $0.label.count }, width: width, lines: lines, gap: 1).count == hints.count {
                return lines
            }
        }
        return max(1, maximum)
    }

    /// Where each hint goes: (line, column) for as many hints as fit, in order.
    static func place(_ widths: [Int], width: Int, lines: Int, gap: Int) -> [(line: Int, x: Int)] {
        var result: [(line: Int, x: Int)] = []
        var line = 0, x = 0
        for hint in widths {
            var start = x == 0 ? 0 : x + gap
            if start + hint > width {
                line += 1
                start = 0
                guard line < lines, hint <= width else { break }
            }
            result.append((line, start))
            x = start + hint
        }
        return result
    }

    public func render(into grid: inout Grid, area: Rect) {
        guard !area.isEmpty else { return }
        let hints = self.hints
        let widths = hints.map { $0.keys.count + 1 + $0.label.count }
        var placed = Self.place(widths, width: area.width, lines: area.height, gap: 2)
        if placed.count < hints.count { placed = Self.place(widths, width: area.width, lines: area.height, gap: 1) }
        for ((keys, label), spot) in zip(hints, placed) {
            let x = grid.put(keys, x: area.x + spot.x, y: area.y + spot.line, style: keyStyle, clip: area)
            grid.put(" " + label, x: x, y: area.y + spot.line, style: labelStyle, clip: area)
        }
    }
}

extension KeyHints: Sendable where Action: Sendable {}

/// A centred box listing every binding: its keys, then what it does.
///
///     ┌─ Keys ────────────────────────────┐
///     │ ↑ k    previous layer             │
///     │ q      quit (asks if unsaved)     │
///     └────────────────────── Esc closes ─┘
///
/// Rows past the box's height scroll with `scrollOffset`; the footer then says so.
public struct HelpOverlay<Action>: Widget {
    public var table: KeyTable<Action>
    public var title: String
    public var footer: String
    /// Index of the first binding shown when not all fit.
    public var scrollOffset: Int
    /// How to scroll, said in the footer when not every binding fits.
    public var scrollHint: String

    public init(_ table: KeyTable<Action>, title: String = "Keys", footer: String = "Esc closes",
                scrollOffset: Int = 0, scrollHint: String = "↑↓ scroll") {
        self.table = table
        self.title = title
        self.footer = footer
        self.scrollOffset = scrollOffset
        self.scrollHint = scrollHint
    }

    /// Bindings shown at once in `area`.
    public func visibleCount(in area: Rect) -> Int {
        layout(in: area).visible
    }

    /// The box's rectangle when drawn centred in `area` (one cell of margin kept around it).
    public func frame(in area: Rect) -> Rect {
        layout(in: area).frame
    }

    public func render(into grid: inout Grid, area: Rect) {
        let layout = layout(in: area)
        Box(title: title, footer: layout.footer, clearsInterior: true).render(into: &grid, area: layout.frame)
        let inside = Box.inner(layout.frame).inset(horizontal: 1, vertical: 0)
        let (keys, help) = inside.splitLeft(layout.keyWidth + 2)
        for line in 0..<layout.visible {
            let binding = table.bindings[layout.first + line]
            grid.put(binding.helpKeyText, in: keys.row(line), style: .accent)
            grid.put(binding.help, in: help.row(line))
        }
    }

    private func layout(in area: Rect) -> (frame: Rect, first: Int, visible: Int, footer: String, keyWidth: Int) {
        let count = table.bindings.count
        let room = area.inset(by: 1)
        let height = min(room.height, count + 2)
        let visible = max(0, height - 2)
        let first = Scroll.offset(keeping: nil, visible: visible, count: count, current: scrollOffset)
        let footerText = visible < count ? "\(first + 1)-\(first + visible) of \(count) · \(scrollHint) · " + footer : footer
        let keyWidth = table.bindings.map(\.helpKeyText.count).max() ?? 0
        let helpWidth = table.bindings.map(\.help.count).max() ?? 0
        // Border and one space of padding on each side; labels need two more cells (Box).
        let width = max(keyWidth + 2 + helpWidth, title.count + 4, footerText.count + 4) + 4
        return (room.centered(width: width, height: height), first, visible, footerText, keyWidth)
    }
}

extension HelpOverlay: Sendable where Action: Sendable {}
