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
