/// One screen cell: a single-width character and how it looks.
public struct Cell: Hashable, Sendable {
    public var character: Character
    public var style: Style

    public init(_ character: Character = " ", style: Style = .normal) {
        self.character = character
        self.style = style
    }

    public static let blank = Cell()
}
