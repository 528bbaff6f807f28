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
