import Foundation
import Testing
import Engine
import TestSupport
@testable import Pruning

// The channel flow of the kinds torchvision's classic CNNs need, as pruning sees it: a
// depthwise convolution prunes a channel on both its sides, a concatenation lays groups one
// after another, squeeze-excitation gates join the excitation's channels to the main ones
// without coupling them, grouped convolutions fix their channels. For each, the pruned
// model computes what the unpruned one computes with the removed channels forced to zero.

@Suite("Pruning depthwise, concatenated, gated and grouped channels")
struct LayerKindPruningTests {
    static func parse(_ layers: String, input: [Int] = [3, 16, 16]) throws -> Architecture {
        let json = #"{"name": "t", "input": \#(input), "classes": 5, "layers": [\#(layers)]}"#
        return try Architecture.parse(Data(json.utf8), source: "t.json")
    }

    /// An inverted-residual block with squeeze-excitation (MobileNetV3), then a classifier
    /// with dropout after a flatten.
    static let mobile = """
        {"name": "stem", "kind": "conv2d", "out": 8, "kernel": 3, "stride": 2, "padding": 1},
        {"name": "stem.bn", "kind": "batchnorm", "eps": 0.001, "momentum": 0.01}, {"name": "stem.act", "kind": "hardswish"},
        {"name": "expand", "kind": "conv2d", "out": 24, "kernel": 1}, {"name": "expand.bn", "kind": "batchnorm"},
        {"name": "expand.act", "kind": "relu6"},
        {"name": "dw", "kind": "conv2d", "out": 24, "kernel": 3, "padding": 2, "dilation": 2, "groups": 24},
        {"name": "dw.bn", "kind": "batchnorm"}, {"name": "dw.act", "kind": "silu"},
        {"name": "se.pool", "kind": "adaptiveavgpool", "size": [1, 1]},
        {"name": "se.fc1", "kind": "conv2d", "out": 6, "kernel": 1, "bias": true}, {"name": "se.act", "kind": "relu"},
        {"name": "se.fc2", "kind": "conv2d", "out": 24, "kernel": 1, "bias": true}, {"name": "se.gate", "kind": "hardsigmoid"},
        {"name": "se.mul", "kind": "mul", "inputs": ["dw.act", "se.gate"]},
        {"name": "project", "kind": "conv2d", "out": 8, "kernel": 1}, {"name": "project.bn", "kind": "batchnorm"},
        {"name": "drop", "kind": "stochasticdepth", "p": 0.2},
        {"name": "add", "kind": "add", "inputs": ["drop", "stem.act"]},
        {"name": "pool", "kind": "adaptiveavgpool", "size": [2, 2]}, {"name": "flat", "kind": "flatten"},
        {"name": "fc1", "kind": "linear", "in": 32, "out": 12}, {"name": "fc1.act", "kind": "hardswish"},
        {"name": "fc.drop", "kind": "dropout", "p": 0.3}, {"name": "fc2", "kind": "linear", "out": 5}
        """

    /// Two dense layers and a transition (DenseNet): each dense layer reads the concatenation
    /// of everything before it, through a BatchNorm that spans several groups.
    static let dense = """
        {"name": "conv0", "kind": "conv2d", "out": 8, "kernel": 3, "padding": 1}, {"name": "norm0", "kind": "batchnorm"},
        {"name": "relu0", "kind": "relu"}, {"name": "pool0", "kind": "maxpool", "kernel": 3, "stride": 2, "padding": 1, "ceil": true},
        {"name": "d1.norm", "kind": "batchnorm"}, {"name": "d1.relu", "kind": "relu"},
        {"name": "d1.conv", "kind": "conv2d", "out": 4, "kernel": 3, "padding": 1},
        {"name": "cat1", "kind": "concat", "inputs": ["pool0", "d1.conv"]},
        {"name": "d2.norm", "kind": "batchnorm"}, {"name": "d2.relu", "kind": "relu"},
        {"name": "d2.conv", "kind": "conv2d", "out": 4, "kernel": 3, "padding": 1},
        {"name": "cat2", "kind": "concat", "inputs": ["pool0", "d1.conv", "d2.conv"]},
        {"name": "t.norm", "kind": "batchnorm"}, {"name": "t.relu", "kind": "relu"},
        {"name": "t.conv", "kind": "conv2d", "out": 6, "kernel": 1},
        {"name": "t.pool", "kind": "avgpool", "kernel": 2, "ceil": true, "count_pad": false},
        {"name": "gap", "kind": "globalavgpool"}, {"name": "fc", "kind": "linear", "out": 5}
        """

    /// A grouped convolution between two ordinary ones.
    static let grouped = """
        {"name": "a", "kind": "conv2d", "out": 8, "kernel": 3, "padding": 1}, {"name": "a.bn", "kind": "batchnorm"},
        {"name": "g", "kind": "conv2d", "out": 8, "kernel": 3, "padding": 1, "groups": 2}, {"name": "g.bn", "kind": "batchnorm"},
        {"name": "relu", "kind": "relu"}, {"name": "b", "kind": "conv2d", "out": 6, "kernel": 1}, {"name": "b.act", "kind": "sigmoid"},
        {"name": "gap", "kind": "globalavgpool"}, {"name": "fc", "kind": "linear", "out": 5}
        """

    @Test func depthwiseAndSqueezeExcitation() throws {
        let groups = ChannelGroups(graph: try ModelGraph(try Self.parse(Self.mobile)))
        let expand = try #require(groups.groups.first { $0.name == "expand" })
        #expect(expand.producers == ["expand", "se.fc2"], "the excitation's output joins the channels it gates")
        #expect(!expand.isCoupled, "a gate is not a residual stage")
        #expect(expand.depthwise == [ChannelSlice(layer: "dw")])
        #expect(expand.batchNorms.map(\.layer) == ["expand.bn", "dw.bn"])
        #expect(expand.consumers.map(\.layer) == ["se.fc1", "project"])
        #expect(groups.groups.map(\.name).contains("se.fc1"))
        #expect(groups.groups.first { $0.name == "fc1" }?.consumers == [ChannelSlice(layer: "fc2")])
        // The stem's channels are joined to the block's output by the residual sum.
        #expect(groups.fixed.contains { $0.name == "stage of stem" })
        let flat = try #require(ChannelGroups(graph: try ModelGraph(try Self.parse(Self.mobile)), includeCoupled: true)
            .groups.first { $0.name == "stage of stem" })
        #expect(flat.consumers.contains(ChannelSlice(layer: "fc1", featuresPerChannel: 4)))
    }

    @Test func concatenationLaysGroupsOneAfterAnother() throws {
        let groups = ChannelGroups(graph: try ModelGraph(try Self.parse(Self.dense)))
        #expect(groups.groups.map(\.name) == ["conv0", "d1.conv", "d2.conv", "t.conv"])
        let d1 = groups.groups[1]
        #expect(d1.consumers == [ChannelSlice(layer: "d2.conv", offset: 8), ChannelSlice(layer: "t.conv", offset: 8)])
        #expect(d1.batchNorms == [ChannelSlice(layer: "d2.norm", offset: 8), ChannelSlice(layer: "t.norm", offset: 8)])
        #expect(groups.groups[0].consumers.map(\.offset) == [0, 0, 0])
        #expect(groups.groups[2].batchNorms == [ChannelSlice(layer: "t.norm", offset: 12)])
    }

    @Test func groupedConvolutionsFixTheirChannels() throws {
        let groups = ChannelGroups(graph: try ModelGraph(try Self.parse(Self.grouped)))
        #expect(groups.groups.map(\.name) == ["b"])
        #expect(groups.fixed.contains { $0.name == "a" && $0.reason.contains("grouped convolution 'g'") })
        #expect(groups.fixed.contains { $0.name == "g" && $0.reason.contains("written by") })
    }

    /// docs/design.md §4 on each architecture: random channels of every group removed.
    @Test("pruned logits equal masked logits", arguments: [("mobile", false), ("mobile", true), ("dense", false), ("grouped", false)])
    func invariant(name: String, coupled: Bool) throws {
        let text = ["mobile": Self.mobile, "dense": Self.dense, "grouped": Self.grouped][name]!
        let model = try SurgeryTests.model(try Self.parse(text))
        let groups = ChannelGroups(graph: model.graph, includeCoupled: coupled)
        var generator = SeededGenerator(seed: 7)
        let removed = groups.groups.map { group -> [Int] in
            let count = max(1, group.width / 3)
            var channels = Array(0..<group.width)
            for i in 0..<count { channels.swapAt(i, i + generator.nextIndex(below: group.width - i)) }
            return Array(channels.prefix(count)).sorted()
        }
        let plan = PruningPlan(widths: groups.groups.map(\.width), removed: removed)
        let pruned = try Surgery.prune(model, groups: groups, plan: plan)
        let images = Fixtures.random([3, 16, 16, 3], seed: 42)
        let dense = model.forward(images, training: false).values
        model.outputMasks = plan.masks(groups: groups)
        let masked = model.forward(images, training: false).values
        let actual = pruned.forward(images, training: false).values
        let worst = zip(masked, actual).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-4, "largest logit difference \(worst)")
        #expect(masked != dense, "the masks changed something")
        #expect(pruned.graph.cost.macs == WidthCostModel(groups: groups).figures(widths: plan.kept.map(\.count)).macs)
        #expect(pruned.graph.cost.parameters == WidthCostModel(groups: groups).figures(widths: plan.kept.map(\.count)).parameters)
    }

    @Test func everyKindRoundTripsThroughJSONAndCheckpoints() throws {
        for text in [Self.mobile, Self.dense, Self.grouped] {
            let architecture = try Self.parse(text)
            #expect(try Architecture.parse(Data(architecture.jsonString().utf8), source: "again") == architecture)
            let model = try SurgeryTests.model(architecture)
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("oicsr-kinds-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let path = folder.appendingPathComponent("m.safetensors").path
            try Checkpoint.save(model, info: CheckpointInfo(architecture: architecture, normalization: .identity(channels: 3),
                                                            dataset: "t", classNames: (0..<5).map(String.init)), to: path)
            let (loaded, _) = try Checkpoint.load(path: path)
            let images = Fixtures.random([2, 16, 16, 3], seed: 5)
            #expect(loaded.forward(images, training: false).values == model.forward(images, training: false).values)
        }
    }
}
