// One layer of an architecture as written in its JSON (docs/architecture-json.md §1). Fields a
// kind does not use stay nil; which fields each kind accepts, and their defaults, are in that
// kind's rule (Sources/Engine/Model/Kinds/).

public struct LayerSpec: Codable, Equatable, Sendable {
    public var name: String
    public var kind: LayerKind
    /// Producers of this layer's input; nil means the previous layer (or the image).
    public var inputs: [String]?
    /// Channels (or features) the layer expects to read, for checking.
    public var inChannels: Int?
    public var outChannels: Int?
    public var kernel: Int?
    public var stride: Int?
    public var padding: Int?
    public var dilation: Int?
    public var groups: Int?
    public var bias: Bool?
    /// BatchNorm's ε and running-average momentum.
    public var eps: Double?
    public var momentum: Double?
    /// Pooling: round the output size up (PyTorch's `ceil_mode`).
    public var ceil: Bool?
    /// Average pooling: padding counts in the divisor (PyTorch's `count_include_pad`).
    public var countPadding: Bool?
    /// Adaptive pooling: output (height, width).
    public var size: [Int]?
    /// Dropout and stochastic depth: probability of dropping.
    public var p: Double?

    enum CodingKeys: String, CodingKey {
        case name, kind, inputs, inChannels = "in", outChannels = "out", kernel, stride, padding, dilation, groups, bias
        case eps, momentum, ceil, countPadding = "count_pad", size, p
    }

    public init(name: String, kind: LayerKind, inputs: [String]? = nil, inChannels: Int? = nil, outChannels: Int? = nil,
                kernel: Int? = nil, stride: Int? = nil, padding: Int? = nil, dilation: Int? = nil, groups: Int? = nil,
                bias: Bool? = nil) {
        self.name = name; self.kind = kind; self.inputs = inputs; self.inChannels = inChannels
        self.outChannels = outChannels; self.kernel = kernel; self.stride = stride; self.padding = padding
        self.dilation = dilation; self.groups = groups; self.bias = bias
    }

    /// Whether the layer has a bias: as written, else conv2d without (BatchNorm follows) and
    /// linear with.
    public var hasBias: Bool { bias ?? (kind == .linear) }
}
