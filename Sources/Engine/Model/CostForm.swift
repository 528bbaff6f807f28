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
