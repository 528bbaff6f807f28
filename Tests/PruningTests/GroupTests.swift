import Testing
import Engine
@testable import Pruning

@Suite("Channel groups from the graph")
struct GroupTests {
    @Test func convnetS() throws {
        let groups = try ChannelGroups(architecture: BuiltInModel.convnetS.architecture())
        #expect(groups.groups.map(\.name) == ["conv1", "conv2", "conv3", "conv4", "conv5"])
        #expect(groups.groups.map(\.width) == [32, 32, 64, 64, 128])
        #expect(groups.groups[1].batchNorms == [ChannelSlice(layer: "bn2")])
        #expect(groups.groups[1].consumers == [ChannelSlice(layer: "conv3", featuresPerChannel: 1)])
        #expect(groups.groups[4].consumers == [ChannelSlice(layer: "fc", featuresPerChannel: 1)])
        #expect(groups.groups[1].members.map(\.layer) == ["conv2", "bn2", "relu2", "pool1"])
        #expect(groups.fixed.map(\.name) == ["fc"])
    }

    @Test func resnet20BlockInternalByDefault() throws {
        let groups = try ChannelGroups(architecture: BuiltInModel.resnet20.architecture())
        #expect(groups.groups.count == 9)
        #expect(groups.groups.allSatisfy { $0.name.hasSuffix(".conv1") && !$0.isCoupled })
        #expect(groups.groups[3].consumers == [ChannelSlice(layer: "layer2.0.conv2", featuresPerChannel: 1)])
        #expect(groups.fixed.count == 4)  // three stages and the logits
    }

    @Test func resnet20CoupledStages() throws {
        let groups = try ChannelGroups(architecture: BuiltInModel.resnet20.architecture(), includeCoupled: true)
        #expect(groups.groups.count == 12)
        let stage1 = try #require(groups.groups.first { $0.producers.first == "conv1" })
        #expect(stage1.producers == ["conv1", "layer1.0.conv2", "layer1.1.conv2", "layer1.2.conv2"])
        #expect(stage1.consumers.map(\.layer) == ["layer1.0.conv1", "layer1.1.conv1", "layer1.2.conv1",
                                                  "layer2.0.conv1", "layer2.0.shortcut.0"])
        let stage3 = try #require(groups.groups.first { $0.producers.contains("layer3.0.shortcut.0") })
        #expect(stage3.consumers.last == ChannelSlice(layer: "fc", featuresPerChannel: 1))
        #expect(stage3.width == 64)
    }

    @Test func flattenFeedsHWColumnsPerChannel() throws {
        let architecture = Architecture(name: "flat", input: [1, 8, 8], classes: 3, layers: [
            LayerSpec(name: "conv1", kind: .conv2d, outChannels: 4, kernel: 3, padding: 1),
            LayerSpec(name: "pool", kind: .maxpool, kernel: 2),
            LayerSpec(name: "flatten", kind: .flatten),
            LayerSpec(name: "fc1", kind: .linear, outChannels: 6),
            LayerSpec(name: "relu", kind: .relu),
            LayerSpec(name: "fc2", kind: .linear, outChannels: 3),
        ])
        let groups = try ChannelGroups(architecture: architecture)
        #expect(groups.groups.map(\.name) == ["conv1", "fc1"])
        #expect(groups.groups[0].consumers == [ChannelSlice(layer: "fc1", featuresPerChannel: 16)])
        #expect(groups.groups[1].consumers == [ChannelSlice(layer: "fc2", featuresPerChannel: 1)])
    }
}
