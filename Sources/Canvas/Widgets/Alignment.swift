/// Where text sits within a wider space.
public enum Alignment: Hashable, Sendable {
    case left, right, center
}
