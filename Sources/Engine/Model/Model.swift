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
    /// Layer by layer; with chains fused for training; with chains fused for inference.
    private(set) var layerPlan, trainingPlan, inferencePlan: ModelPlan
    /// The plan of the last forward pass, which the backward pass follows.
    private var lastPlan: ModelPlan.Kind = .layers
    /// Images per slice of an inference pass (see `forward`): as many as keep the largest
    /// layer's input and output within `inferenceSliceBytes`.
    public var inferenceSliceImages: Int

    /// What one slice of an inference pass may hold in activations from one layer to the
    /// next: a quarter of a 32 MiB L3 cache, which the weights and other programs share. At
    /// batch 256 convnet-s (7 slices of 36 or 37 images) ran 1.3 times the images/s of the
    /// whole batch, resnet20 and resnet56 (5 of 51 or 52) 1.1 times.
    public static let inferenceSliceBytes = 8 << 20

    /// Where a run of the inference plan in slices may stop, as counts of leading steps: before
    /// the first fully connected layer (whose BLAS GEMM rounds a row differently with the
    /// number of rows), and where no later step reads an activation from before the last
    /// sliced one (which would hold only the last slice). Ascending; for a classifier the
    /// last is its global pool.
    private let sliceBoundaries: [Int]
    /// The sliced steps' last output, for the whole batch.
    private let slicedOutput = Tensor(shape: [0])

    /// Whether passes fuse chains of layers (ModelPlan): on by default; off runs every layer
    /// on its own, as do models with output masks. Outputs agree to float rounding.
    public var fusesLayers = true

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
        layerPlan = ModelPlan(.layers, nodes: nodes, consumers: graph.consumers)
        trainingPlan = ModelPlan(.training, nodes: nodes, consumers: graph.consumers)
        inferencePlan = ModelPlan(.inference, nodes: nodes, consumers: graph.consumers)
        self.parameters = nodes.flatMap { $0.op.parameters }
        self.buffers = nodes.flatMap { $0.op.buffers }
        let largestLayer = max(1, graph.layers.map(Self.activationsPerImage).max() ?? 1)
        inferenceSliceImages = max(1, Self.inferenceSliceBytes / (MemoryLayout<Float>.size * largestLayer))
        let steps = inferencePlan.steps
        let beforeClassifier = steps.prefix { !(nodes[$0.last].op is LinearOp) }.count
        sliceBoundaries = (0..<beforeClassifier).map { $0 + 1 }.filter { count in
            let boundary = steps[count - 1].last
            return nodes.indices.allSatisfy { i in i <= boundary || nodes[i].producers.allSatisfy { $0 >= boundary } }
        }
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
    /// next call. With fused chains (`fusesLayers`), the outputs of layers inside a chain
    /// are not written (`activation(of:)` of such a layer is stale), and an inference pass
    /// over more than `inferenceSliceImages` images runs its convolutional part in slices,
    /// each through every layer before the next (`activation(of:)` there holds the last
    /// slice's): a layer's output is still in cache when the next layer reads it, where a
    /// whole batch's goes out to memory and back. The layers that would compute a slice
    /// otherwise than the whole batch run on the whole batch (`slicing`), so the logits are
    /// the whole batch's, bit for bit.
    @discardableResult
    public func forward(_ images: Tensor, training: Bool) -> Tensor {
        let input = architecture.inputShape
        precondition(images.shape.count == 4 && Array(images.shape[1...]) == [input.height, input.width, input.channels],
                     "images \(images.shape) do not match the model input \(input)")
        batch = images.shape[0]
        let plan = !fusesLayers || !outputMasks.isEmpty ? layerPlan : training ? trainingPlan : inferencePlan
        lastPlan = plan.kind
        if plan.kind == .inference, let (slices, steps) = slicing(batch) {
            // Copies the images slice by slice, and whole at the end.
            runInSlices(slices, steps: steps, images: images)
            run(plan.steps[steps...], training: false)
        } else {
            image.reshape(images.shape)
            image.copy(from: images)
            run(plan.steps[...], training: training)
        }
        return nodes[nodes.count - 1].output
    }

    /// Runs the inference plan's first `steps` steps on `slices` slices of the batch in turn,
    /// then leaves the last step's output for the whole batch, and the image and batch as
    /// they were (a backward pass after an inference pass reruns the layers on them).
    private func runInSlices(_ slices: Int, steps: Int, images: Tensor) {
        let whole = batch, perImage = architecture.inputShape.count
        // The weights stay as they are until the last slice: Winograd's filters are
        // transformed for the first and kept for the others.
        let convolutions = inferencePlan.steps[..<steps].compactMap { convolution(in: $0)?.1 }
        for conv in convolutions { conv.keepsFilters = true }
        defer { for conv in convolutions { conv.keepsFilters = false } }
        let boundary = nodes[inferencePlan.steps[steps - 1].last], outputShape = shapes[inferencePlan.steps[steps - 1].last]
        slicedOutput.reshape(outputShape.batchShape(whole))
        for s in 0..<slices {
            let first = s * whole / slices
            batch = (s + 1) * whole / slices - first
            image.reshape(architecture.inputShape.batchShape(batch))
            image.storage.update(from: images.storage + first * perImage, count: batch * perImage)
            run(inferencePlan.steps[..<steps], training: false)
            (slicedOutput.storage + first * outputShape.count).update(from: boundary.output.storage, count: batch * outputShape.count)
        }
        batch = whole
        image.reshape(images.shape)
        image.copy(from: images)
        boundary.output.reshape(outputShape.batchShape(whole))
        boundary.output.copy(from: slicedOutput)
    }

    /// How an inference pass over `batch` images runs in slices of about
    /// `inferenceSliceImages` images: their count, and how many leading steps of the plan
    /// run slice by slice. Those end at a slice boundary, and take no convolution that would
    /// run another kernel on a slice than on the whole batch, nor one whose weights, read
    /// again for every slice (up to 4 times their size, as Winograd's 4×4 tiles transform
    /// them; transformed once per pass, the first slice keeping them for the others), outweigh
    /// a slice's activations in and out of it: deep layers with few pixels and many weights
    /// run on the whole batch (resnet18 at 64×64 ran 9% slower with its second stage in
    /// slices, and as fast as whole without). Nil: the batch runs whole.
    func slicing(_ batch: Int) -> (slices: Int, steps: Int)? {
        let slices = (batch + inferenceSliceImages - 1) / max(inferenceSliceImages, 1)
        guard slices > 1, let largest = sliceBoundaries.last else { return nil }
        let sizes = Set([batch / slices, (batch + slices - 1) / slices])
        let sliceable = inferencePlan.steps[..<largest].prefix { step in
            guard let (i, conv) = convolution(in: step) else { return true }
            let kernel = conv.forwardKernel(batch: batch)
            let activations = Self.activationsPerImage(graph.layers[i]) * sizes.min()!
            return sizes.allSatisfy { conv.forwardKernel(batch: $0) == kernel } && 4 * conv.weight.value.count <= activations
        }.count
        return sliceBoundaries.last { $0 <= sliceable }.map { (slices, $0) }
    }

    /// Floats a layer reads and writes per image.
    private static func activationsPerImage(_ layer: ResolvedLayer) -> Int {
        layer.inputs.reduce(layer.output.count) { $0 + $1.count }
    }

    /// The most leading steps an inference pass may run in slices (for the tests).
    var largestSlicedSteps: Int? { sliceBoundaries.last }

    /// The convolution a step runs, if any, with its layer index.
    private func convolution(in step: ModelPlan.Step) -> (Int, Conv2dOp)? {
        let layer: Int?
        switch step.work {
        case .layer(let i): layer = i
        case .chain(let chain): layer = chain.convolution
        }
        return layer.flatMap { i in (nodes[i].op as? Conv2dOp).map { (i, $0) } }
    }

    private func run(_ steps: ArraySlice<ModelPlan.Step>, training: Bool) {
        for step in steps {
            let last = nodes[step.last]
            last.output.reshape(shapes[step.last].batchShape(batch))
            switch step.work {
            case .layer:
                last.op.forward(last.inputs, last.output, batch: batch, training: training)
                if let mask = outputMasks[last.spec.name] { Self.applyMask(mask, to: last.output) }
            case .chain(let chain):
                let normalization = nodes[chain.batchNorm], bn = normalization.op as! BatchNorm2dOp
                let residual = chain.residual.map { $0 < 0 ? image : nodes[$0].output }
                let relu = chain.relu != nil
                if let c = chain.convolution {
                    let convolution = nodes[c], conv = convolution.op as! Conv2dOp
                    let (scale, shift) = bn.prepareEvaluation()
                    let y = last.output.storage, channels = shapes[step.last].channels
                    let r = residual.map { UnsafePointer($0.storage) }
                    conv.forward(input: convolution.inputs[0], output: last.output, batch: batch) { rows in
                        BatchNormKernels.affineRows(rows, x: y, channels: channels, scale: scale, shift: shift,
                                                    residual: r, relu: relu, y: y)
                    }
                } else if training {
                    bn.forwardChain(input: normalization.inputs[0], residual: residual, relu: relu, output: last.output, batch: batch)
                } else {
                    bn.forwardChainEvaluation(input: normalization.inputs[0], residual: residual, relu: relu,
                                              output: last.output, batch: batch)
                }
            }
        }
    }

    private static func applyMask(_ mask: [Float], to output: Tensor) {
        let channels = mask.count
        precondition(output.count % channels == 0)
        output.withUnsafeMutableBufferPointer { values in
            for i in 0..<values.count { values[i] *= mask[i % channels] }
        }
    }

    /// Back-propagates the gradient of the loss with respect to the logits of the last
    /// forward pass, adding into every parameter's gradient. Activation gradients are written
    /// by the first consumer to reach them and added into by the others, never zero-filled
    /// first (but for outputs nothing back-propagates into).
    public func backward(logitsGradient: Tensor) {
        // The inference plan leaves the activations inside its chains unwritten: redo the
        // pass layer by layer (in eval mode, as it was) so the backward has what it reads.
        if lastPlan == .inference { run(layerPlan.steps[...], training: false) }
        let plan = lastPlan == .training ? trainingPlan : layerPlan
        for (i, node) in nodes.enumerated() {
            node.gradient?.reshape(shapes[i].batchShape(batch))
        }
        nodes[nodes.count - 1].gradient?.copy(from: logitsGradient)
        for step in plan.steps.reversed() {
            let last = nodes[step.last]
            guard let gradient = last.gradient else { continue }
            if step.zeroesGradient { gradient.fill(0) }
            switch step.work {
            case .layer:
                if let mask = outputMasks[last.spec.name] { Self.applyMask(mask, to: gradient) }
                last.op.backward(last.inputs, last.output, gradient, last.inputGradients, overwrite: step.overwrite, batch: batch)
            case .chain(let chain):
                let normalization = nodes[chain.batchNorm], bn = normalization.op as! BatchNorm2dOp
                let residualGradient = chain.residual.flatMap { $0 < 0 ? nil : nodes[$0].gradient }
                let hasResidual = chain.residual != nil
                bn.backwardChain(input: normalization.inputs[0], output: last.output, outputGradient: gradient,
                                 relu: chain.relu != nil, inputGradient: normalization.inputGradients[0],
                                 overwriteInput: step.overwrite[hasResidual ? 1 : 0], residualGradient: residualGradient,
                                 overwriteResidual: hasResidual && step.overwrite[0], batch: batch)
            }
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
