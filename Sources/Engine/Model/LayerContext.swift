// What a kind's rule sees while the architecture is checked: the layer, what arrives at it,
// and helpers that read a field with its default and limits, failing with the field's name.

public struct LayerContext {
    public let spec: LayerSpec
    public let inputs: [FeatureShape]
    /// Names of the layers it reads ("input" for the image), for messages.
    public let producerNames: [String]
    let source: String

    public var input: FeatureShape { inputs[0] }

    public func fail(_ field: String?, _ problem: String) -> ArchitectureError {
        ArchitectureError(source: source, layer: spec.name, field: field, problem: problem)
    }

    /// An integer field: the given value or `fallback`, within `minimum…maximum`.
    public func integer(_ field: LayerField, _ value: Int?, default fallback: Int? = nil, minimum: Int = 1,
                        maximum: Int = ArchitectureLimits.dimension) throws(ArchitectureError) -> Int {
        guard let v = value ?? fallback else { throw fail(field.rawValue, "missing") }
        guard v >= minimum else { throw fail(field.rawValue, "must be at least \(minimum), found \(v)") }
        guard v <= maximum else { throw fail(field.rawValue, "must be at most \(maximum), found \(v)") }
        return v
    }

    /// A number field within `range`.
    public func number(_ field: LayerField, _ value: Double?, default fallback: Double, in range: Range<Double>) throws(ArchitectureError) -> Double {
        let v = value ?? fallback
        guard range.contains(v) else { throw fail(field.rawValue, "must be at least \(range.lowerBound) and below \(range.upperBound), found \(v)") }
        return v
    }

    /// Fails unless the (first) input is a spatial map.
    public func requireMap() throws(ArchitectureError) {
        if input.isFlat {
            throw fail("inputs", "\(spec.kind.rawValue) needs a spatial map, but '\(producerNames[0])' gives a flat vector")
        }
    }

    /// A map shape, checked against the limits.
    public func map(height: Int, width: Int, channels: Int) throws(ArchitectureError) -> FeatureShape {
        let shape = FeatureShape.map(height, width, channels)
        guard ArchitectureLimits.elements(shape) != nil else {
            throw fail(nil, "its output \(channels)x\(height)x\(width) has more than \(ArchitectureLimits.activation) values per example")
        }
        return shape
    }

    /// Output length of a sliding window (PyTorch's formula) over `length` with the given
    /// padding, kernel, stride and dilation, rounded down or (`ceil`) up; with `ceil` the last
    /// window must start inside the input or the left padding, as PyTorch.
    public func slidingOutput(length: Int, kernel: Int, stride: Int, padding: Int, dilation: Int = 1, ceil: Bool = false) throws(ArchitectureError) -> Int {
        // Every value is bounded by the limits, so none of this overflows.
        let span = dilation * (kernel - 1) + 1
        let padded = length + 2 * padding
        guard padded >= span else {
            throw fail("kernel", "\(kernel)\(dilation > 1 ? " dilated by \(dilation)" : "") is larger than the padded \(length)-long input")
        }
        var count = (padded - span + (ceil ? stride - 1 : 0)) / stride + 1
        if ceil && (count - 1) * stride >= length + padding { count -= 1 }
        return count
    }
}
