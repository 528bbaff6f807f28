/// A layer with everything around it resolved: what it reads, its input and output shapes.
public struct ResolvedLayer: Sendable {
    /// Position in the architecture's layers.
    public let index: Int
    public let spec: LayerSpec
    /// Indices of the layers it reads; -1 is the image.
    public let producers: [Int]
    public let inputs: [FeatureShape]
    public let output: FeatureShape

    public var name: String { spec.name }
    public var kind: LayerKind { spec.kind }
    public var rule: any LayerRule { spec.kind.rule }
    /// The first (for most kinds the only) input.
    public var input: FeatureShape { inputs[0] }
}
