import Engine

// Channel groups, derived from the model graph (docs/design.md §4, §5).
//
// Every activation tensor lives in a "channel space": a conv or linear layer opens a new
// space for its output; BatchNorm, ReLU and pooling keep their input's space; global pooling
// and flatten carry it into a vector (flatten with h·w features per channel); a residual
// sum joins the spaces of its two inputs into one. A space is one set of prunable channels
// when nothing outside the engine's control depends on its width: not the image, not the
// logits. Channel i of a space is an out-in-channel: the i-th filter of every producer, the
// i-th entries of every BatchNorm on the space, and the i-th input slice of every consumer.

/// A layer that reads a space, and how many input features each channel feeds.
public struct Consumer: Equatable, Sendable {
    public var layer: String
    /// 1 for a conv, or a linear layer after global pooling; h·w after a flatten.
    public var featuresPerChannel: Int
}

/// The channels of one space: what lives and dies with each of them.
public struct ChannelGroup: Equatable, Sendable, Identifiable {
    /// Position among the model's groups (graph order of the first producer).
    public var id: Int
    /// A short name: "conv2", or "layer1.0.conv1", or for a coupled residual space "stage
    /// of conv1" naming its first producer.
    public var name: String
    public var width: Int
    /// Convolution (or linear) layers whose output channels these are.
    public var producers: [String]
    /// BatchNorm layers normalising these channels.
    public var batchNorms: [String]
    public var consumers: [Consumer]
    /// Layers whose output lies in this space (producers, BatchNorms, ReLUs, pools, sums);
    /// masking their outputs simulates removing channels.
    public var members: [String]
    /// True when a residual sum joins several producers into this space.
    public var isCoupled: Bool { producers.count > 1 }
}

/// The channel groups of a model.
public struct ChannelGroups: Sendable {
    public let architecture: Architecture
    /// Prunable groups (block-internal, plus coupled residual spaces when asked for).
    public let groups: [ChannelGroup]
    /// Spaces that are never pruned, with the reason, for `oicsr groups`.
    public let fixed: [(name: String, reason: String)]
    /// Channel space of each layer's output, as an index into `spaces` (internal).
    let spaceOfLayer: [Int]
    /// Channel space of each layer's (first) input; -1 for the image.
    let inputSpaceOfLayer: [Int]
    /// Group id per space, or nil if the space is not prunable.
    let groupOfSpace: [Int?]

    /// Derives the groups. `includeCoupled` also offers the spaces joined by residual sums.
    public init(architecture: Architecture, includeCoupled: Bool = false) throws(ArchitectureError) {
        self.architecture = architecture
        let shapes = try architecture.inferShapes()
        let layers = architecture.layers
        var index: [String: Int] = [:]
        for (i, layer) in layers.enumerated() { index[layer.name] = i }

        // Union-find over spaces. Space 0 is the image.
        var parent = [0]
        func find(_ x: Int) -> Int {
            var x = x
            while parent[x] != x { parent[x] = parent[parent[x]]; x = parent[x] }
            return x
        }
        func newSpace() -> Int { parent.append(parent.count); return parent.count - 1 }

        var space = [Int](repeating: 0, count: layers.count)
        var inputSpace = [Int](repeating: 0, count: layers.count)
        var flattenFeatures = [Int](repeating: 1, count: layers.count)   // features per channel of a vector
        for (i, layer) in layers.enumerated() {
            let producers = (layer.inputs ?? [i == 0 ? Architecture.imageName : layers[i - 1].name]).map { index[$0] ?? -1 }
            let inSpace = producers[0] < 0 ? 0 : space[producers[0]]
            inputSpace[i] = inSpace
            switch layer.kind {
            case .conv2d, .linear:
                space[i] = newSpace()
            case .add:
                let other = producers[1] < 0 ? 0 : space[producers[1]]
                parent[find(other)] = find(inSpace)
                space[i] = inSpace
            case .flatten:
                let input = producers[0] < 0 ? architecture.inputShape : shapes[producers[0]]
                flattenFeatures[i] = input.isFlat ? 1 : input.pixels
                space[i] = inSpace
            case .batchnorm, .relu, .maxpool, .avgpool, .globalavgpool:
                flattenFeatures[i] = producers[0] < 0 ? 1 : flattenFeatures[producers[0]]
                space[i] = inSpace
            }
        }
        let roots = space.map(find)
        let inputRoots = inputSpace.map(find)
        let imageRoot = find(0)
        let logitsRoot = roots[layers.count - 1]

        // Collect each space's producers, BatchNorms, consumers and members in graph order.
        var order: [Int] = []
        var producersOf: [Int: [String]] = [:], batchNormsOf: [Int: [String]] = [:]
        var consumersOf: [Int: [Consumer]] = [:], membersOf: [Int: [String]] = [:], widthOf: [Int: Int] = [:]
        for (i, layer) in layers.enumerated() {
            let root = roots[i]
            if membersOf[root] == nil { order.append(root) }
            membersOf[root, default: []].append(layer.name)
            switch layer.kind {
            case .conv2d, .linear:
                producersOf[root, default: []].append(layer.name)
                widthOf[root] = shapes[i].channels
            case .batchnorm: batchNormsOf[root, default: []].append(layer.name)
            default: break
            }
            if layer.kind == .conv2d || layer.kind == .linear {
                let producer = (layer.inputs ?? [i == 0 ? Architecture.imageName : layers[i - 1].name]).first.flatMap { index[$0] }
                let perChannel = producer.map { flattenFeatures[$0] } ?? 1
                consumersOf[inputRoots[i], default: []].append(Consumer(layer: layer.name, featuresPerChannel: perChannel))
            }
        }

        var groups: [ChannelGroup] = []
        var fixed: [(String, String)] = []
        var groupOfRoot: [Int: Int] = [:]
        for root in order where root != imageRoot {
            let producers = producersOf[root] ?? []
            let name = producers.count > 1 ? "stage of \(producers[0])" : (producers.first ?? "?")
            if root == logitsRoot { fixed.append((name, "the class scores")); continue }
            if producers.count > 1 && !includeCoupled {
                fixed.append((name, "joined by residual sums across \(producers.count) layers; prune with coupled channels on"))
                continue
            }
            groupOfRoot[root] = groups.count
            groups.append(ChannelGroup(id: groups.count, name: name, width: widthOf[root] ?? 0, producers: producers,
                                       batchNorms: batchNormsOf[root] ?? [], consumers: consumersOf[root] ?? [],
                                       members: membersOf[root] ?? []))
        }
        self.groups = groups
        self.fixed = fixed
        self.spaceOfLayer = roots
        self.inputSpaceOfLayer = inputRoots.map { $0 == imageRoot ? -1 : $0 }
        self.groupOfSpace = (0..<parent.count).map { groupOfRoot[$0] }
    }

    /// Group whose channels a layer outputs, if prunable.
    public func outputGroup(ofLayer i: Int) -> Int? { groupOfSpace[spaceOfLayer[i]] }
    /// Group whose channels a layer reads, if prunable.
    public func inputGroup(ofLayer i: Int) -> Int? { inputSpaceOfLayer[i] < 0 ? nil : groupOfSpace[inputSpaceOfLayer[i]] }

    public var totalChannels: Int { groups.reduce(0) { $0 + $1.width } }
}
