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
