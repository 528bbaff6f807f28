// The cost model (docs/design.md §5): multiply-accumulates of convolution and linear layers at
// the model's input size, per example; BN, ReLU, pooling and additions are not counted.
// Parameters are the trainable ones (weights, biases, BatchNorm γ and β).

public struct LayerCost: Equatable, Sendable {
    public var name: String
    public var kind: LayerKind
    public var outputShape: FeatureShape
    public var macs: Int
    public var parameters: Int
}

public struct CostReport: Equatable, Sendable {
    public var layers: [LayerCost]
    public var macs: Int { layers.reduce(0) { $0 + $1.macs } }
    public var parameters: Int { layers.reduce(0) { $0 + $1.parameters } }
}

extension Architecture {
    public func cost() throws(ArchitectureError) -> CostReport {
        let shapes = try inferShapes()
        let producers = producerIndices()
        let layerCosts = layers.enumerated().map { i, layer -> LayerCost in
            let input = producers[i][0] < 0 ? inputShape : shapes[producers[i][0]]
            let out = shapes[i]
            var macs = 0, parameters = 0
            switch layer.kind {
            case .conv2d:
                let k = layer.kernel!
                macs = out.count * k * k * input.channels
                parameters = out.channels * k * k * input.channels + (layer.hasBias ? out.channels : 0)
            case .linear:
                macs = input.channels * out.channels
                parameters = input.channels * out.channels + (layer.hasBias ? out.channels : 0)
            case .batchnorm:
                parameters = 2 * out.channels
            default:
                break
            }
            return LayerCost(name: layer.name, kind: layer.kind, outputShape: out, macs: macs, parameters: parameters)
        }
        return CostReport(layers: layerCosts)
    }
}
