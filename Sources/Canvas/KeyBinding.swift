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
