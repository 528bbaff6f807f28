// The contract of a layer kind: everything the engine and the pruning module need to know
// about it, in one place (one rule per kind, as Torch-Pruning keeps one prune function per
// module type). `LayerKind.rule` maps every kind to its rule with an exhaustive switch, and
// the requirements below have no defaults but `slice`, so a kind cannot be added without
// saying how it is shaped, what it costs, how channels flow through it and how surgery
// resizes it.

public protocol LayerRule: Sendable {
    /// Fields beyond `name`, `kind`, `inputs` and `in` that this kind accepts.
    var fields: Set<LayerField> { get }
    /// How many inputs the layer reads.
    var arity: ClosedRange<Int> { get }
    /// The layer's output for one example; validates the fields (with their defaults) against
    /// the inputs, failing with an error that names the field.
    func outputShape(_ layer: LayerContext) throws(ArchitectureError) -> FeatureShape
    /// MACs and parameters as a function of the channels read and written.
    func cost(_ layer: ResolvedLayer) -> CostForm
    /// How channels go from the inputs to the output (what pruning one of them touches).
    func channelFlow(_ layer: ResolvedLayer) -> ChannelFlow
    /// The forward/backward implementation. `seed` feeds layers that draw random numbers.
    func makeOperation(_ layer: ResolvedLayer, seed: UInt64) -> any Operation
    /// The layer as written once surgery leaves it `outputChannels` (the common field `in` is
    /// updated by surgery itself).
    func resized(_ spec: LayerSpec, outputChannels: Int) -> LayerSpec
    /// The kept part of one of the layer's tensors (a parameter or a buffer, in the engine's
    /// layout), given the kept output channels and the kept input features (nil: all).
    func slice(_ values: [Float], role: ParameterRole, layer: ResolvedLayer, keptOutputs: [Int]?, keptInputs: [Int]?) -> [Float]
}

extension LayerRule {
    /// Rows follow the output channels and columns the input features; per-channel tensors
    /// follow the output channels.
    public func slice(_ values: [Float], role: ParameterRole, layer: ResolvedLayer, keptOutputs: [Int]?, keptInputs: [Int]?) -> [Float] {
        TensorSlicing.slice(values, role: role, rows: keptOutputs, columns: keptInputs)
    }
}

/// How a layer's output channels relate to its input channels.
public enum ChannelFlow: Equatable, Sendable {
    /// New channels made from all the input's (conv, linear): the layer is a consumer of its
    /// input's channels and the producer of its output's.
    case opens
    /// Output channel i is input channel i (BatchNorm, activations, pooling, dropout); `weighted`
    /// when the layer holds weights of its own per channel that live and die with it
    /// (BatchNorm, a depthwise convolution).
    case passes(weighted: Bool)
    /// A map (C, H, W) becomes C·H·W features, each channel owning H·W consecutive ones.
    case flattens
    /// Output channel i combines channel i of every input: a residual sum (`residual`, which
    /// couples the inputs' channels) or a gate (squeeze-excitation, which does not).
    case joins(residual: Bool)
    /// The inputs' channels one after another.
    case concatenates
    /// Reads and writes channels that cannot be removed one at a time, and why.
    case fixes(reason: String)
}

/// A layer's MACs and parameters for i input channels (features, for a linear layer) and o
/// output channels: macs = macsPerPair·i·o / divisor + macsPerOutput·o, parameters alike.
/// The divisor is a grouped convolution's group count.
public struct CostForm: Equatable, Sendable {
    public var macsPerPair = 0
    public var macsPerOutput = 0
    public var parametersPerPair = 0
    public var parametersPerOutput = 0
    public var divisor = 1

    public init(macsPerPair: Int = 0, macsPerOutput: Int = 0, parametersPerPair: Int = 0, parametersPerOutput: Int = 0, divisor: Int = 1) {
        self.macsPerPair = macsPerPair; self.macsPerOutput = macsPerOutput
        self.parametersPerPair = parametersPerPair; self.parametersPerOutput = parametersPerOutput; self.divisor = divisor
    }

    /// Layers that cost nothing under the cost model (docs/design.md §5).
    public static let free = CostForm()

    public func macs(inputs i: Int, outputs o: Int) -> Int { macsPerPair * i * o / divisor + macsPerOutput * o }
    public func parameters(inputs i: Int, outputs o: Int) -> Int { parametersPerPair * i * o / divisor + parametersPerOutput * o }
}

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
