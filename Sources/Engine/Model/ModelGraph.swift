// An architecture resolved once: every layer with what it reads, its input and output
// shapes, who reads it, and what it costs. Checking an architecture is resolving it, and
// everything downstream (the model, the cost model, channel groups, surgery) takes the
// graph instead of inferring shapes again.

public struct ModelGraph: Sendable {
    public let architecture: Architecture
    /// In `architecture.layers` order.
    public let layers: [ResolvedLayer]
    /// Indices of the layers that read each layer's output.
    public let consumers: [[Int]]
    /// MACs and parameters of every layer at its widths.
    public let cost: CostReport

    /// Checks the wiring and every layer's fields against the limits, failing with an error
    /// that names the layer and the field.
    public init(_ architecture: Architecture, source: String = "architecture") throws(ArchitectureError) {
        func fail(_ layer: String?, _ field: String?, _ problem: String) -> ArchitectureError {
            ArchitectureError(source: source, layer: layer, field: field, problem: problem)
        }
        let input = architecture.input
        guard input.count == 3, input.allSatisfy({ (1...ArchitectureLimits.dimension).contains($0) }),
              ArchitectureLimits.elements(architecture.inputShape) != nil else {
            throw fail(nil, "input", "expected [channels, height, width] of positive integers up to \(ArchitectureLimits.dimension)")
        }
        var layers: [ResolvedLayer] = []
        var consumers: [[Int]] = []
        var index: [String: Int] = [:]
        var costs: [LayerCost] = []
        var totalMacs = 0, totalParameters = 0
        for (i, spec) in architecture.layers.enumerated() {
            guard index[spec.name] == nil, spec.name != Architecture.imageName else { throw fail(spec.name, "name", "used twice") }
            let rule = spec.kind.rule
            let names = spec.inputs ?? [i == 0 ? Architecture.imageName : architecture.layers[i - 1].name]
            var producers: [Int] = [], shapes: [FeatureShape] = []
            for name in names {
                if name == Architecture.imageName { producers.append(-1); shapes.append(architecture.inputShape); continue }
                guard let j = index[name] else { throw fail(spec.name, "inputs", "'\(name)' is not an earlier layer") }
                producers.append(j)
                shapes.append(layers[j].output)
            }
            guard rule.arity.contains(shapes.count) else {
                let expected = rule.arity.count == 1 ? "\(rule.arity.lowerBound)" : "at least \(rule.arity.lowerBound)"
                throw fail(spec.name, "inputs", "\(spec.kind.rawValue) takes \(expected) input(s), found \(shapes.count)")
            }
            if let declared = spec.inChannels, declared != shapes[0].channels {
                throw fail(spec.name, "in", "expected \(shapes[0].channels) (what '\(names[0])' produces), found \(declared)")
            }
            try Self.checkFields(spec, accepted: rule.fields, source: source)
            let context = LayerContext(spec: spec, inputs: shapes, producerNames: names, source: source)
            let output = try rule.outputShape(context)
            guard ArchitectureLimits.elements(output) != nil else {
                throw fail(spec.name, nil, "its output \(output) has more than \(ArchitectureLimits.activation) values per example")
            }
            let layer = ResolvedLayer(index: i, spec: spec, producers: producers, inputs: shapes, output: output)
            guard let cost = Self.checkedCost(layer) else {
                throw fail(spec.name, nil, "its size overflows the cost model (more than \(ArchitectureLimits.parameters) parameters)")
            }
            totalParameters += cost.parameters
            let (macs, overflow) = totalMacs.addingReportingOverflow(cost.macs)
            guard !overflow else { throw fail(spec.name, nil, "the model's MACs overflow the cost model") }
            totalMacs = macs
            guard totalParameters <= ArchitectureLimits.parameters else {
                throw fail(spec.name, nil, "the model would hold more than \(ArchitectureLimits.parameters) parameters")
            }
            costs.append(LayerCost(name: spec.name, kind: spec.kind, outputShape: output, macs: cost.macs, parameters: cost.parameters))
            for j in producers where j >= 0 { consumers[j].append(i) }
            consumers.append([])
            layers.append(layer)
            index[spec.name] = i
        }
        guard let last = layers.last else { throw fail(nil, "layers", "missing or empty") }
        guard last.output == .vector(architecture.classes) else {
            throw fail(last.name, "out", "the last layer must give \(architecture.classes) class scores, found \(last.output)")
        }
        self.architecture = architecture
        self.layers = layers
        self.consumers = consumers
        self.cost = CostReport(layers: costs)
    }

    /// The layer called `name`, if any.
    public func layer(named name: String) -> ResolvedLayer? { layers.first { $0.name == name } }

    /// A field the kind does not take is an error, never ignored.
    private static func checkFields(_ spec: LayerSpec, accepted: Set<LayerField>, source: String) throws(ArchitectureError) {
        let given: [(LayerField, Bool)] = [
            (.out, spec.outChannels != nil), (.kernel, spec.kernel != nil), (.stride, spec.stride != nil),
            (.padding, spec.padding != nil), (.dilation, spec.dilation != nil), (.groups, spec.groups != nil),
            (.bias, spec.bias != nil), (.eps, spec.eps != nil), (.momentum, spec.momentum != nil), (.ceil, spec.ceil != nil),
            (.countPadding, spec.countPadding != nil), (.size, spec.size != nil), (.p, spec.p != nil),
        ]
        if let (field, _) = given.first(where: { $1 && !accepted.contains($0) }) {
            throw ArchitectureError(source: source, layer: spec.name, field: field.rawValue,
                                    problem: "unknown field for \(spec.kind.rawValue)")
        }
    }

    /// The layer's MACs and parameters at its widths, or nil if they overflow.
    private static func checkedCost(_ layer: ResolvedLayer) -> (macs: Int, parameters: Int)? {
        let form = layer.rule.cost(layer)
        let i = layer.input.channels, o = layer.output.channels
        func evaluate(_ perPair: Int, _ perOutput: Int) -> Int? {
            guard let pairs = ArchitectureLimits.product([perPair, i, o]), let outputs = ArchitectureLimits.product([perOutput, o]) else { return nil }
            let (sum, overflow) = (pairs / form.divisor).addingReportingOverflow(outputs)
            return overflow ? nil : sum
        }
        guard let macs = evaluate(form.macsPerPair, form.macsPerOutput),
              let parameters = evaluate(form.parametersPerPair, form.parametersPerOutput),
              parameters <= ArchitectureLimits.parameters else { return nil }
        return (macs, parameters)
    }
}
