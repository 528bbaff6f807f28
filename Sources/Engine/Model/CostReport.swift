public struct CostReport: Equatable, Sendable {
    public var layers: [LayerCost]
    public var macs: Int { layers.reduce(0) { $0 + $1.macs } }
    public var parameters: Int { layers.reduce(0) { $0 + $1.parameters } }
}
