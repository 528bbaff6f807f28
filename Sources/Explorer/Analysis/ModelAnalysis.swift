import Canvas
import Engine
import Pruning

// Everything the explorer shows about a model that does not depend on the user's choices:
// its channel groups, cost model and channel energies under every importance criterion,
// computed once from the weights. The model object itself stays with whoever loaded it;
// this is plain data, so the state machine can hold it and jobs can hand it across threads.

public struct ModelAnalysis: Sendable {
    /// The groups with or without the residual channels coupled across a stage.
    public struct Variant: Sendable {
        public let groups: ChannelGroups
        public let cost: WidthCostModel
        /// Raw energies of every group's channels, per criterion.
        public let energies: [ImportanceCriterion: Energies]
        /// Per group: the share (0…1) of the dense model's MACs spent in the layers whose
        /// width the group sets (its producers and consumers). Layers shared by two groups
        /// count in both, so the shares add up to more than 1.
        public let macsShare: [Double]
    }

    public let architecture: Architecture
    /// Block-internal groups only (the paper's setting, and the default).
    public let plain: Variant
    /// Every prunable space including residual stages; nil when no residual sum couples
    /// channels (e.g. convnet-s).
    public let coupled: Variant?
    /// Identifies the weights (a hash of every channel's energies under every criterion),
    /// so figures measured on them can be cached and recognised.
    public let fingerprint: String

    public init(model: Model) throws(ArchitectureError) {
        architecture = model.architecture
        let macs = model.graph.cost
        plain = try Self.variant(model: model, includeCoupled: false, cost: macs)
        let withCoupled = try Self.variant(model: model, includeCoupled: true, cost: macs)
        coupled = withCoupled.groups.groups.contains(where: \.isCoupled) ? withCoupled : nil
        // FNV-1a over the energies' bits and the architecture's description.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ value: UInt64) {
            hash = (hash ^ value) &* 0x100_0000_01b3
        }
        for byte in architecture.jsonString().utf8 { mix(UInt64(byte)) }
        for criterion in ImportanceCriterion.allCases {
            for energies in withCoupled.energies[criterion]?.raw ?? [] {
                for energy in energies { mix(energy.bitPattern) }
            }
        }
        fingerprint = String(hash, radix: 16)
    }

    /// The variant for the coupled switch; the plain one when the model has no coupled spaces.
    public func variant(coupled includeCoupled: Bool) -> Variant {
        includeCoupled ? coupled ?? plain : plain
    }

    private static func variant(model: Model, includeCoupled: Bool, cost report: CostReport) throws(ArchitectureError) -> Variant {
        let groups = ChannelGroups(graph: model.graph, includeCoupled: includeCoupled)
        var energies: [ImportanceCriterion: Energies] = [:]
        for criterion in ImportanceCriterion.allCases {
            energies[criterion] = Energies(model: model, groups: groups, criterion: criterion)
        }
        var macsOfLayer: [String: Int] = [:]
        for layer in report.layers { macsOfLayer[layer.name] = layer.macs }
        let total = Double(max(report.macs, 1))
        let shares = groups.groups.map { group -> Double in
            let layers = Set(group.producers + group.consumers.map(\.layer))
            return Double(layers.reduce(0) { $0 + (macsOfLayer[$1] ?? 0) }) / total
        }
        return Variant(groups: groups, cost: WidthCostModel(groups: groups), energies: energies, macsShare: shares)
    }
}
