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
