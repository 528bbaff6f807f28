// A model: the layers of an architecture, their parameters, and the activation buffers
// reused from batch to batch.

/// One layer in the graph with its output and, when something upstream of it is
/// trainable, the gradient of the loss with respect to that output.
final class Node {
    let spec: LayerSpec
    let op: any Operation
    let producers: [Int]
    let output = Tensor(shape: [0])
    let gradient: Tensor?
    /// Filled once the graph is wired, so a batch never builds arrays.
    var inputs: [Tensor] = []
    var inputGradients: [Tensor?] = []

    init(spec: LayerSpec, op: any Operation, producers: [Int], needsGradient: Bool) {
        self.spec = spec
        self.op = op
        self.producers = producers
        self.gradient = needsGradient ? Tensor(shape: [0]) : nil
    }
}

public final class Model {
    /// The architecture, resolved: shapes, producers, consumers and costs of every layer.
    public let graph: ModelGraph
    public let architecture: Architecture
    /// Output shape of every layer, in `architecture.layers` order.
    public let shapes: [FeatureShape]
    public let parameters: [Parameter]
    /// BatchNorm running statistics.
    public let buffers: [NamedTensor]
    let nodes: [Node]
    /// The model's own copy of the images of the last forward pass (the first layer's input).
    private let image: Tensor
    private var batch = 0

    /// Per-channel multipliers applied to a layer's output after its forward pass, keyed by
    /// layer name. Setting a channel to 0 simulates removing it without surgery; the pruning
    /// tests compare against this.
    public var outputMasks: [String: [Float]] = [:]

    /// Builds the model with PyTorch's default initialisation, drawn from `seed`.
    public convenience init(architecture: Architecture, seed: UInt64 = 0) throws(ArchitectureError) {
        self.init(graph: try ModelGraph(architecture), seed: seed)
    }

    /// Builds the model of a resolved graph with PyTorch's default initialisation, drawn from
    /// `seed` (which also seeds the layers that draw random numbers in training).
    public init(graph: ModelGraph, seed: UInt64 = 0) {
        self.graph = graph
        self.architecture = graph.architecture
        self.shapes = graph.layers.map(\.output)
        var nodes: [Node] = []
        var trainableUpstream: [Bool] = []
        for layer in graph.layers {
            let op = layer.rule.makeOperation(layer, seed: seed &+ UInt64(layer.index) &* 0x9E37_79B9_7F4A_7C15)
            let dependsOnParameters = !op.parameters.isEmpty || layer.producers.contains { $0 >= 0 && trainableUpstream[$0] }
            trainableUpstream.append(dependsOnParameters)
            nodes.append(Node(spec: layer.spec, op: op, producers: layer.producers, needsGradient: dependsOnParameters))
        }
        let image = Tensor(shape: [0])
        self.image = image
        for node in nodes {
            node.inputs = node.producers.map { $0 < 0 ? image : nodes[$0].output }
            node.inputGradients = node.producers.map { $0 < 0 ? nil : nodes[$0].gradient }
        }
        self.nodes = nodes
        self.parameters = nodes.flatMap { $0.op.parameters }
        self.buffers = nodes.flatMap { $0.op.buffers }
        var generator = SeededGenerator(seed: seed)
        Initialization.pytorchDefault(parameters, generator: &generator)
    }

    public var classes: Int { architecture.classes }

    public func parameter(named name: String) -> Parameter? { parameters.first { $0.name == name } }

    /// A layer's parameters, then its buffers, each with its layout, in checkpoint order.
    public func tensors(ofLayer index: Int) -> [(tensor: Tensor, role: ParameterRole)] {
        let op = nodes[index].op
        return op.parameters.map { ($0.value, $0.role) } + op.buffers.map { ($0.tensor, ParameterRole.perChannel) }
    }

    /// Logits (N, classes) for images (N, H, W, C). In training mode BatchNorm uses batch
    /// statistics and updates its running averages. The returned tensor is reused by the
    /// next call.
    @discardableResult
    public func forward(_ images: Tensor, training: Bool) -> Tensor {
        let input = architecture.inputShape
        precondition(images.shape.count == 4 && Array(images.shape[1...]) == [input.height, input.width, input.channels],
                     "images \(images.shape) do not match the model input \(input)")
        batch = images.shape[0]
        image.reshape(images.shape)
        image.copy(from: images)
        for (i, node) in nodes.enumerated() {
            node.output.reshape(shapes[i].batchShape(batch))
            node.op.forward(node.inputs, node.output, batch: batch, training: training)
            if let mask = outputMasks[node.spec.name] { Self.applyMask(mask, to: node.output) }
        }
        return nodes[nodes.count - 1].output
    }

    private static func applyMask(_ mask: [Float], to output: Tensor) {
        let channels = mask.count
        precondition(output.count % channels == 0)
        output.withUnsafeMutableBufferPointer { values in
            for i in 0..<values.count { values[i] *= mask[i % channels] }
        }
    }

    /// Back-propagates the gradient of the loss with respect to the logits of the last
    /// forward pass, adding into every parameter's gradient.
    public func backward(logitsGradient: Tensor) {
        for (i, node) in nodes.enumerated() {
            guard let gradient = node.gradient else { continue }
            gradient.reshape(shapes[i].batchShape(batch))
            gradient.fill(0)
        }
        nodes[nodes.count - 1].gradient?.copy(from: logitsGradient)
        for node in nodes.reversed() {
            guard let gradient = node.gradient else { continue }
            if let mask = outputMasks[node.spec.name] { Self.applyMask(mask, to: gradient) }
            node.op.backward(node.inputs, node.output, gradient, node.inputGradients, batch: batch)
        }
    }

    /// Whether every parameter and BatchNorm statistic is a finite number (false once
    /// training has diverged; such a model could not be loaded again).
    public var hasFiniteWeights: Bool {
        (parameters.map(\.value) + buffers.map(\.tensor)).allSatisfy { $0.withUnsafeBufferPointer { $0.allSatisfy(\.isFinite) } }
    }

    public func zeroGradients() {
        for parameter in parameters { parameter.gradient.fill(0) }
    }

    /// The output of a layer from the last forward pass.
    public func activation(of layerName: String) -> Tensor? {
        nodes.first { $0.spec.name == layerName }?.output
    }
}

enum Initialization {
    /// PyTorch's defaults: conv and linear weights and biases uniform in ±1/√fan_in
    /// (kaiming_uniform_ with a = √5), BatchNorm γ = 1, β = 0.
    static func pytorchDefault(_ parameters: [Parameter], generator: inout SeededGenerator) {
        var fanIn = 1
        for parameter in parameters {
            switch parameter.role {
            case .convolutionWeight(_, let kh, let kw, let input): fanIn = kh * kw * input
            case .linearWeight(_, let input): fanIn = input
            case .perChannel:
                // Biases follow their weight (same fan-in); BatchNorm keeps its constants.
                guard parameter.name.hasSuffix(".bias"), !isBatchNorm(parameter, in: parameters) else { continue }
            }
            let bound = 1 / Float(fanIn).squareRoot()
            parameter.value.withUnsafeMutableBufferPointer { values in
                for i in 0..<values.count { values[i] = generator.nextUniform(-bound, bound) }
            }
        }
    }

    private static func isBatchNorm(_ parameter: Parameter, in parameters: [Parameter]) -> Bool {
        let layer = parameter.name.dropLast(".bias".count)
        return parameters.contains { $0.name == layer + ".weight" && $0.role == .perChannel }
    }
}
