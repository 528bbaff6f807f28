import Engine

// Channel groups, derived from the model graph (docs/architecture-json.md §2, docs/design.md §5).
//
// Every activation's channels come from "channel spaces": a conv or linear layer opens a new
// space for its output; layers whose channel i is their input's channel i keep their input's
// spaces; a concatenation lays its inputs' spaces one after another (its output's *layout*);
// a residual sum or a gate joins the spaces of its inputs pairwise. How a layer moves
// channels is its kind's `ChannelFlow`. A space is one set of prunable channels when nothing
// outside the engine's control depends on its width: not the image, not the logits, not a
// grouped convolution. Channel i of a space is an out-in-channel: the i-th filter of every
// producer, the i-th entry of every per-channel layer on it, the i-th input slice of every
// consumer.

/// The channel groups of a model.
public struct ChannelGroups: Sendable {
    public let graph: ModelGraph
    /// Prunable groups (block-internal, plus coupled residual spaces when asked for).
    public let groups: [ChannelGroup]
    /// Spaces that are never pruned, with the reason, for `oicsr groups`.
    public let fixed: [(name: String, reason: String)]
    /// Per layer, its output's channels as runs of groups.
    public let outputLayouts: [[LayoutSegment]]
    /// Per layer, its (first) input's channels as runs of groups.
    public let inputLayouts: [[LayoutSegment]]

    public var architecture: Architecture { graph.architecture }

    /// Derives the groups of an architecture (resolving it first).
    public init(architecture: Architecture, includeCoupled: Bool = false) throws(ArchitectureError) {
        self.init(graph: try ModelGraph(architecture), includeCoupled: includeCoupled)
    }

    /// Derives the groups. `includeCoupled` also offers the spaces joined by residual sums.
    public init(graph: ModelGraph, includeCoupled: Bool = false) {
        self.graph = graph
        var spaces = SpaceTable()
        // A layer's output as runs of spaces: (space, width, features per channel).
        typealias Run = (space: Int, width: Int, features: Int)
        var layouts: [[Run]] = []
        let image: [Run] = [(SpaceTable.image, graph.architecture.input[0], 1)]
        func layout(_ producer: Int) -> [Run] { producer < 0 ? image : layouts[producer] }

        for layer in graph.layers {
            let input = layout(layer.producers[0])
            switch layer.rule.channelFlow(layer) {
            case .opens:
                layouts.append([(spaces.open(), layer.output.channels, 1)])
            case .passes:
                layouts.append(input)
            case .flattens:
                let pixels = layer.input.isFlat ? 1 : layer.input.pixels
                layouts.append(input.map { ($0.space, $0.width, $0.features * pixels) })
            case .concatenates:
                layouts.append(layer.producers.flatMap(layout))
            case .joins(let residual):
                let others = layer.producers.dropFirst().map(layout)
                if others.allSatisfy({ $0.map(\.width) == input.map(\.width) }) {
                    for other in others {
                        for (a, b) in zip(input, other) { spaces.join(a.space, b.space, residual: residual) }
                    }
                } else {
                    // Channels split differently on each side cannot be matched one to one.
                    for run in input + others.joined() { spaces.fix(run.space, "joined by '\(layer.name)' to channels split differently") }
                }
                layouts.append(input)
            case .fixes(let reason):
                for run in input { spaces.fix(run.space, "read by \(reason) '\(layer.name)'") }
                let space = spaces.open()
                spaces.fix(space, "written by \(reason) '\(layer.name)'")
                layouts.append([(space, layer.output.channels, 1)])
            }
        }
        if let last = layouts.last { for run in last { spaces.fix(run.space, "the class scores") } }

        // Each space's producers, per-channel layers, consumers and members, in graph order.
        var order: [Int] = []
        var found: [Int: SpaceFacts] = [:]
        for layer in graph.layers {
            let output = layouts[layer.index]
            var offset = 0
            for run in output {
                let root = spaces.root(run.space)
                if found[root] == nil { order.append(root); found[root] = SpaceFacts(width: run.width) }
                found[root]!.members.append(ChannelSlice(layer: layer.name, offset: offset, featuresPerChannel: run.features))
                offset += run.width
            }
            switch layer.rule.channelFlow(layer) {
            case .fixes:
                found[spaces.root(output[0].space)]!.producers.append(layer.name)
            case .opens:
                found[spaces.root(output[0].space)]!.producers.append(layer.name)
                var offset = 0
                for run in layout(layer.producers[0]) {
                    found[spaces.root(run.space)]?.consumers.append(ChannelSlice(layer: layer.name, offset: offset, featuresPerChannel: run.features))
                    offset += run.width
                }
            case .passes(weighted: true):
                var offset = 0
                for run in output {
                    let slice = ChannelSlice(layer: layer.name, offset: offset, featuresPerChannel: run.features)
                    if layer.kind == .batchnorm { found[spaces.root(run.space)]!.batchNorms.append(slice) }
                    else { found[spaces.root(run.space)]!.depthwise.append(slice) }
                    offset += run.width
                }
            default:
                break
            }
        }

        var groups: [ChannelGroup] = []
        var fixed: [(String, String)] = []
        var groupOfRoot: [Int: Int] = [:]
        for root in order where root != spaces.root(SpaceTable.image) {
            let facts = found[root]!
            let coupled = spaces.isCoupled(root)
            let name = coupled ? "stage of \(facts.producers.first ?? "?")" : (facts.producers.first ?? "?")
            if let reason = spaces.fixedReason(root) { fixed.append((name, reason)); continue }
            if coupled && !includeCoupled {
                fixed.append((name, "joined by residual sums across \(facts.producers.count) layers; prune with coupled channels on"))
                continue
            }
            groupOfRoot[root] = groups.count
            groups.append(ChannelGroup(id: groups.count, name: name, width: facts.width, producers: facts.producers,
                                       batchNorms: facts.batchNorms, depthwise: facts.depthwise, consumers: facts.consumers,
                                       members: facts.members, isCoupled: coupled))
        }
        self.groups = groups
        self.fixed = fixed
        let segments = layouts.map { runs in
            runs.map { LayoutSegment(group: groupOfRoot[spaces.root($0.space)], width: $0.width, featuresPerChannel: $0.features) }
        }
        self.outputLayouts = segments
        self.inputLayouts = graph.layers.map { layer in
            layer.producers[0] < 0 ? [LayoutSegment(group: nil, width: graph.architecture.input[0], featuresPerChannel: 1)]
                : segments[layer.producers[0]]
        }
    }

    public var totalChannels: Int { groups.reduce(0) { $0 + $1.width } }

    /// What is known of one space while the groups are collected.
    private struct SpaceFacts {
        var width: Int
        var producers: [String] = []
        var batchNorms: [ChannelSlice] = []
        var depthwise: [ChannelSlice] = []
        var consumers: [ChannelSlice] = []
        var members: [ChannelSlice] = []
    }
}

/// Union-find over channel spaces, remembering which joins were residual and which spaces
/// cannot be pruned. Space 0 is the image.
private struct SpaceTable {
    static let image = 0
    private var parent = [0]
    private var coupled: Set<Int> = []
    private var reasons: [Int: String] = [:]

    mutating func open() -> Int {
        parent.append(parent.count)
        return parent.count - 1
    }

    func root(_ space: Int) -> Int {
        var x = space
        while parent[x] != x { x = parent[x] }
        return x
    }

    mutating func join(_ a: Int, _ b: Int, residual: Bool) {
        let (ra, rb) = (root(a), root(b))
        let wasCoupled = coupled.contains(ra) || coupled.contains(rb)
        let reason = reasons[ra] ?? reasons[rb]
        if ra != rb { parent[rb] = ra }
        if residual || wasCoupled { coupled.insert(ra) }
        if let reason { reasons[ra] = reason }
    }

    mutating func fix(_ space: Int, _ reason: String) {
        let r = root(space)
        if reasons[r] == nil { reasons[r] = reason }
    }

    func isCoupled(_ root: Int) -> Bool { coupled.contains(root) }
    func fixedReason(_ root: Int) -> String? { reasons[root] }
}
