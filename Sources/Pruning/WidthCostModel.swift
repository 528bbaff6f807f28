import Engine

// The cost model as a function of the groups' widths, so the greedy walk can price the
// removal of one channel in time proportional to the layers it touches.

public struct WidthCostModel: Sendable {
    /// One layer's cost as its kind's `CostForm` of the widths it reads and writes.
    struct Term: Sendable {
        var inputs: [LayoutSegment]
        var outputs: [LayoutSegment]
        var form: CostForm

        func cost(_ widths: [Int]) -> (macs: Int, parameters: Int) {
            let i = inputs.reduce(0) { $0 + ($1.group.map { widths[$0] } ?? $1.width) * $1.featuresPerChannel }
            let o = outputs.reduce(0) { $0 + ($1.group.map { widths[$0] } ?? $1.width) * $1.featuresPerChannel }
            return (form.macs(inputs: i, outputs: o), form.parameters(inputs: i, outputs: o))
        }
    }

    let terms: [Term]
    /// Terms touching each group.
    let termsOfGroup: [[Int]]
    public let originalWidths: [Int]

    public init(groups: ChannelGroups) {
        var terms: [Term] = []
        for layer in groups.graph.layers {
            let form = layer.rule.cost(layer)
            guard form != .free else { continue }
            terms.append(Term(inputs: groups.inputLayouts[layer.index], outputs: groups.outputLayouts[layer.index], form: form))
        }
        self.terms = terms
        var byGroup = [Set<Int>](repeating: [], count: groups.groups.count)
        for (t, term) in terms.enumerated() {
            for segment in term.inputs + term.outputs { if let g = segment.group { byGroup[g].insert(t) } }
        }
        self.termsOfGroup = byGroup.map { $0.sorted() }
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
