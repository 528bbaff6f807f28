import Engine

// The cost model as a function of the groups' widths, so the greedy walk can price the
// removal of one channel in time proportional to the layers it touches.

public enum TargetMetric: String, CaseIterable, Sendable, Codable {
    case flops, parameters, channels
}

/// Figures of a model at some widths. `macs`: multiply-accumulates of conv and linear
/// layers per input (the FLOPs of docs/design.md §5).
public struct CostFigures: Equatable, Sendable, Codable {
    public var macs: Int
    public var parameters: Int
    /// Prunable channels still present.
    public var channels: Int

    public init(macs: Int, parameters: Int, channels: Int) {
        self.macs = macs
        self.parameters = parameters
        self.channels = channels
    }

    public func value(_ metric: TargetMetric) -> Int {
        switch metric {
        case .flops: return macs
        case .parameters: return parameters
        case .channels: return channels
        }
    }
}

public struct WidthCostModel: Sendable {
    /// One layer's cost: macs = macFactor·in·out, parameters = weightFactor·in·out + perOut·out,
    /// with in/out the widths of its groups (or fixed widths).
    struct Term: Sendable {
        var inGroup: Int?, inWidth: Int
        var outGroup: Int?, outWidth: Int
        var macFactor: Int, weightFactor: Int, perOut: Int

        func cost(_ widths: [Int]) -> (macs: Int, parameters: Int) {
            let i = inGroup.map { widths[$0] } ?? inWidth
            let o = outGroup.map { widths[$0] } ?? outWidth
            return (macFactor * i * o, weightFactor * i * o + perOut * o)
        }
    }

    let terms: [Term]
    /// Terms touching each group.
    let termsOfGroup: [[Int]]
    public let originalWidths: [Int]

    public init(groups: ChannelGroups) throws(ArchitectureError) {
        let architecture = groups.architecture
        let shapes = try architecture.inferShapes()
        let producers = architecture.producerIndices()
        var terms: [Term] = []
        for (i, layer) in architecture.layers.enumerated() {
            let input = producers[i][0] < 0 ? architecture.inputShape : shapes[producers[i][0]]
            let out = shapes[i]
            let outGroup = groups.outputGroup(ofLayer: i)
            switch layer.kind {
            case .conv2d:
                let k = layer.kernel! * layer.kernel!
                terms.append(Term(inGroup: groups.inputGroup(ofLayer: i), inWidth: input.channels, outGroup: outGroup,
                                  outWidth: out.channels, macFactor: k * out.pixels, weightFactor: k,
                                  perOut: layer.hasBias ? 1 : 0))
            case .linear:
                // A linear layer after a flatten reads h·w features per channel of its group.
                let inGroup = groups.inputGroup(ofLayer: i)
                let perChannel = inGroup.map { g in groups.groups[g].consumers.first { $0.layer == layer.name }!.featuresPerChannel } ?? 1
                terms.append(Term(inGroup: inGroup, inWidth: input.channels / perChannel, outGroup: outGroup,
                                  outWidth: out.channels, macFactor: perChannel, weightFactor: perChannel,
                                  perOut: layer.hasBias ? 1 : 0))
            case .batchnorm:
                terms.append(Term(inGroup: nil, inWidth: 0, outGroup: outGroup, outWidth: out.channels,
                                  macFactor: 0, weightFactor: 0, perOut: 2))
            default:
                break
            }
        }
        self.terms = terms
        var byGroup = [[Int]](repeating: [], count: groups.groups.count)
        for (t, term) in terms.enumerated() {
            if let g = term.inGroup { byGroup[g].append(t) }
            if let g = term.outGroup, term.inGroup != g { byGroup[g].append(t) }
        }
        self.termsOfGroup = byGroup
        self.originalWidths = groups.groups.map(\.width)
    }

    public func figures(widths: [Int]) -> CostFigures {
        var macs = 0, parameters = 0
        for term in terms {
            let cost = term.cost(widths)
            macs += cost.macs
            parameters += cost.parameters
        }
        return CostFigures(macs: macs, parameters: parameters, channels: widths.reduce(0, +))
    }

    /// What removing one channel of group g saves at the current widths.
    func savings(removingFrom g: Int, widths: inout [Int]) -> (macs: Int, parameters: Int) {
        var before = (0, 0)
        for t in termsOfGroup[g] { let c = terms[t].cost(widths); before.0 += c.macs; before.1 += c.parameters }
        widths[g] -= 1
        var after = (0, 0)
        for t in termsOfGroup[g] { let c = terms[t].cost(widths); after.0 += c.macs; after.1 += c.parameters }
        widths[g] += 1
        return (before.0 - after.0, before.1 - after.1)
    }
}
