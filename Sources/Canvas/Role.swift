/// What a cell means; the theme turns it into colours and attributes. Widgets and views only
/// ever say what a cell is, never which colour it has.
public enum Role: Hashable, Sendable, CaseIterable {
    case normal, dim, accent, header, title, border
    case selected, cursor
    case pruned, kept, bar, threshold
    case good, bad, warning, hint

    /// The one-letter code used by `Grid.styledLines` in golden files.
    public var code: Character {
        switch self {
        case .normal: "."
        case .dim: "d"
        case .accent: "a"
        case .header: "h"
        case .title: "t"
        case .border: "f"
        case .selected: "s"
        case .cursor: "c"
        case .pruned: "p"
        case .kept: "k"
        case .bar: "r"
        case .threshold: "l"
        case .good: "g"
        case .bad: "b"
        case .warning: "w"
        case .hint: "i"
        }
    }
}
