/// A width × height extent, in cells.
public struct Size: Hashable, Sendable, CustomStringConvertible {
    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// Whether a rectangle of this size can hold one of `other`'s size.
    public func contains(_ other: Size) -> Bool {
        width >= other.width && height >= other.height
    }

    /// "80x24".
    public var description: String { "\(width)x\(height)" }
}
