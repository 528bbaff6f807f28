// The one place where roles become colours. Views and widgets say what a cell is (`Role`);
// a theme says how that looks, in terms any terminal backend can map: the eight ANSI colours,
// the terminal's default colour, and a few attributes.

/// A mapping from every `Role` to an `Appearance`.
public struct Theme: Hashable, Sendable {
    public var name: String
    /// False for themes that use attributes only; a backend may then skip colour set-up.
    public var usesColor: Bool
    private var appearances: [Role: Appearance]

    /// A theme giving `appearance(role)` to every role.
    public init(name: String, usesColor: Bool, _ appearance: (Role) -> Appearance) {
        self.name = name
        self.usesColor = usesColor
        appearances = Dictionary(uniqueKeysWithValues: Role.allCases.map { ($0, appearance($0)) })
    }

    public subscript(role: Role) -> Appearance {
        get { appearances[role] ?? Appearance() }
        set { appearances[role] = newValue }
    }

    /// The role's appearance with the style's bold and reverse flags added.
    public func appearance(for style: Style) -> Appearance {
        var result = self[style.role]
        if style.isBold { result.attributes.insert(.bold) }
        if style.isReversed { result.attributes.insert(.reverse) }
        return result
    }

    /// Colours on the terminal's default background. Pruned red and kept green are never the
    /// only difference: bar charts also mark pruned channels with a glyph.
    public static let standard = Theme(name: "colour", usesColor: true) { role in
        switch role {
        case .normal: Appearance()
        case .dim: Appearance(.default, on: .default, .dim)
        case .accent: Appearance(.cyan, on: .default, .bold)
        case .header: Appearance(.yellow, on: .default, .bold)
        case .title: Appearance(.cyan, on: .default, .bold)
        case .border: Appearance(.blue)
        case .selected: Appearance(.black, on: .cyan)
        case .cursor: Appearance(.yellow, on: .default, .bold)
        case .pruned: Appearance(.red)
        case .kept: Appearance(.green)
        case .bar: Appearance(.cyan)
        case .threshold: Appearance(.magenta, on: .default, .bold)
        case .good: Appearance(.green, on: .default, .bold)
        case .bad: Appearance(.red, on: .default, .bold)
        case .warning: Appearance(.yellow, on: .default, .bold)
        case .hint: Appearance(.default, on: .default, .dim)
        }
    }

    /// Attributes only, for `NO_COLOR` and terminals without colours. The distinctions that
    /// matter survive: selection is reversed, pruned is dim against normal kept (and carries
    /// its own glyph), the cursor, the threshold and verdicts are bold, bad is also underlined
    /// so it differs from good. The cursor is not reversed because reversing a partial block
    /// (▃) would show the wrong height; bar charts reverse the marker under it instead.
    public static let monochrome = Theme(name: "monochrome", usesColor: false) { role in
        switch role {
        case .normal, .kept, .bar, .border: Appearance()
        case .dim, .hint, .pruned: Appearance(.default, on: .default, .dim)
        case .accent, .title, .threshold, .good, .warning, .cursor: Appearance(.default, on: .default, .bold)
        case .header: Appearance(.default, on: .default, [.bold, .underline])
        case .selected: Appearance(.default, on: .default, .reverse)
        case .bad: Appearance(.default, on: .default, [.bold, .underline])
        }
    }

    /// The colour theme, unless the terminal has no colours or `NO_COLOR` is set to a
    /// non-empty value (https://no-color.org).
    public static func automatic(environment: [String: String], terminalHasColors: Bool) -> Theme {
        let noColor = !(environment["NO_COLOR"] ?? "").isEmpty
        return terminalHasColors && !noColor ? .standard : .monochrome
    }
}
