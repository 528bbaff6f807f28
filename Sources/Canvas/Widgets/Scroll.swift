// The one scrolling rule shared by lists and charts, kept pure so the explorer's state can
// apply it when the cursor moves and the widgets can apply it again when the size changes.

public enum Scroll {
    /// The first visible index for a window of `visible` items over `count`, starting from
    /// `current` and moving as little as possible so that `index` (when given) is visible.
    /// The window never shows empty space past the end when it could show more items.
    public static func offset(keeping index: Int?, visible: Int, count: Int, current: Int) -> Int {
        guard visible > 0, count > visible else { return 0 }
        var offset = min(max(0, current), count - visible)
        if let index = index.map({ min(max(0, $0), count - 1) }) {
            if index < offset { offset = index }
            if index >= offset + visible { offset = index - visible + 1 }
        }
        return offset
    }
}
