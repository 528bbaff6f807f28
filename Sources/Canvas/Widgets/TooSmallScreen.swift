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
