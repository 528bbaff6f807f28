// Keys as the explorer sees them, independent of how the terminal encodes them, and key
// tables that drive both dispatch and the on-screen hints and help, so the three never
// disagree.

/// A key press. Printable keys are `.character`; Ctrl with a letter is `.control` (Ctrl-C
/// arrives as `.control("c")` when the terminal delivers it as a key rather than a signal).
/// A character literal is a key: `let quit: Key = "q"`.
public enum Key: Hashable, Sendable, ExpressibleByExtendedGraphemeClusterLiteral {
    case character(Character)
    case control(Character)
    case up, down, left, right
    case pageUp, pageDown, home, end
    case enter, escape, tab, backTab, backspace, delete, insert
    case function(Int)
    /// The terminal changed size; not typed by the user.
    case resize
    /// A click or a turn of the wheel, where the terminal reports the mouse.
    case mouse(Mouse)

    public init(extendedGraphemeClusterLiteral value: Character) {
        self = .character(value)
    }

    /// Ctrl-C, the universal "stop".
    public static let interrupt = Key.control("c")

    /// The key's name in hints and help: "q", "?", "Space", "←", "PgUp", "Esc", "Ctrl-C", "F1".
    public var name: String {
        switch self {
        case .character(" "): "Space"
        case .character(let c): String(c)
        case .control(let c): "Ctrl-" + String(c).uppercased()
        case .up: "↑"
        case .down: "↓"
        case .left: "←"
        case .right: "→"
        case .pageUp: "PgUp"
        case .pageDown: "PgDn"
        case .home: "Home"
        case .end: "End"
        case .enter: "Enter"
        case .escape: "Esc"
        case .tab: "Tab"
        case .backTab: "S-Tab"
        case .backspace: "Bksp"
        case .delete: "Del"
        case .insert: "Ins"
        case .function(let n): "F\(n)"
        case .resize: "Resize"
        case .mouse(let mouse): mouse.action == .press ? "Click" : "Wheel"
        }
    }
}
