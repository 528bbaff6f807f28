/// A role plus the two emphasis flags a widget may add on top of what the theme gives the role.
public struct Style: Hashable, Sendable {
    public var role: Role
    public var isBold: Bool
    public var isReversed: Bool

    public init(_ role: Role = .normal, bold: Bool = false, reversed: Bool = false) {
        self.role = role
        self.isBold = bold
        self.isReversed = reversed
    }

    /// This style, bold.
    public func bold(_ on: Bool = true) -> Style {
        var copy = self
        copy.isBold = on
        return copy
    }

    /// This style, in reverse video.
    public func reversed(_ on: Bool = true) -> Style {
        var copy = self
        copy.isReversed = on
        return copy
    }

    public static let normal = Style(.normal)
    public static let dim = Style(.dim)
    public static let accent = Style(.accent)
    public static let header = Style(.header)
    public static let title = Style(.title)
    public static let border = Style(.border)
    public static let selected = Style(.selected)
    public static let cursor = Style(.cursor)
    public static let pruned = Style(.pruned)
    public static let kept = Style(.kept)
    public static let bar = Style(.bar)
    public static let threshold = Style(.threshold)
    public static let good = Style(.good)
    public static let bad = Style(.bad)
    public static let warning = Style(.warning)
    public static let hint = Style(.hint)
}
