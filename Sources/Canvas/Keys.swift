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

/// What the mouse did, and where (cell coordinates, origin top left).
public struct Mouse: Hashable, Sendable {
    public enum Action: Hashable, Sendable {
        /// A button-1 press or click.
        case press
        case wheelUp, wheelDown
    }

    public var action: Action
    public var x: Int
    public var y: Int

    public init(_ action: Action, x: Int, y: Int) {
        self.action = action
        self.x = x
        self.y = y
    }
}

/// One entry of a key table: the keys that trigger an action, a short label for the hint
/// line, and a sentence for the help overlay. The explorer supplies its own action type.
public struct KeyBinding<Action> {
    /// Every key that triggers the action; the first is the one shown in the hint line.
    public var keys: [Key]
    /// One or two words for the always-visible hint line ("quit", "target +1%"); empty keeps
    /// the binding out of the hint line.
    public var label: String
    /// What the action does, for the help overlay; defaults to the label.
    public var help: String
    public var action: Action
    /// Overrides the key text in the hint line, e.g. "←→" for a pair of bindings shown as one.
    public var hintKeys: String?

    public init(_ keys: [Key], label: String, help: String = "", action: Action, hintKeys: String? = nil) {
        self.keys = keys
        self.label = label
        self.help = help.isEmpty ? label : help
        self.action = action
        self.hintKeys = hintKeys
    }

    /// The key text of the hint line.
    public var hintKeyText: String { hintKeys ?? keys.first?.name ?? "" }

    /// The key text of the help overlay: every key, e.g. "↑ k".
    public var helpKeyText: String { keys.map(\.name).joined(separator: " ") }
}

extension KeyBinding: Sendable where Action: Sendable {}

/// An ordered key table. Earlier bindings win when two claim the same key, and come first
/// in hints and help.
public struct KeyTable<Action>: ExpressibleByArrayLiteral {
    public var bindings: [KeyBinding<Action>]

    public init(_ bindings: [KeyBinding<Action>]) {
        self.bindings = bindings
    }

    public init(arrayLiteral bindings: KeyBinding<Action>...) {
        self.bindings = bindings
    }

    /// The first binding that lists `key`.
    public func binding(for key: Key) -> KeyBinding<Action>? {
        bindings.first { $0.keys.contains(key) }
    }

    /// The action `key` triggers, if any.
    public func action(for key: Key) -> Action? {
        binding(for: key)?.action
    }
}

extension KeyTable: Sendable where Action: Sendable {}
