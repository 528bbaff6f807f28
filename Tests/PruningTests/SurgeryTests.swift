import Testing
import Engine
import TestSupport
@testable import Pruning

@Suite("Surgery keeps what the pruned channels did not touch")
struct SurgeryTests {
    /// A model with non-trivial BatchNorm statistics (a few training-mode passes).
    static func model(_ architecture: Architecture, seed: UInt64 = 3) throws -> Model {
        let model = try Model(architecture: architecture, seed: seed)
        let shape = architecture.inputShape
        for s in 0..<3 { model.forward(Fixtures.random([8, shape.height, shape.width, shape.channels], seed: UInt64(s)), training: true) }
        return model
    }

    /// docs/design.md §4: pruned logits = unpruned logits with the pruned channels forced to zero.
    @Test("pruned logits equal masked logits", arguments: [
        (BuiltInModel.convnetS, false, 0.2), (.convnetS, false, 0.5), (.convnetS, false, 0.7),
        (.resnet20, false, 0.15), (.resnet20, false, 0.3), (.resnet20, true, 0.3), (.resnet20, true, 0.55),
    ])
    func invariant(builtIn: BuiltInModel, coupled: Bool, target: Double) throws {
        let model = try Self.model(builtIn.architecture())
        let groups = try ChannelGroups(architecture: model.architecture, includeCoupled: coupled)
        let energies = Energies(model: model, groups: groups, criterion: .outIn).normalized(.layerMean)
        let selection = GreedySelection.walk(energies: energies, cost: WidthCostModel(groups: groups), metric: .flops)
        let count = try #require(selection.stepCount(toReach: target))
        let plan = selection.plan(steps: count)
        if coupled { #expect(plan.removed.enumerated().contains { groups.groups[$0.offset].isCoupled && !$0.element.isEmpty }) }

        let pruned = try Surgery.prune(model, groups: groups, plan: plan)
        let images = Fixtures.random([4, 28, 28, 1], seed: 42)
        let expected = model.forward(images, training: false).values
        model.outputMasks = plan.masks(groups: groups)
        let masked = model.forward(images, training: false).values
        let actual = pruned.forward(images, training: false).values
        let worst = zip(masked, actual).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-4, "largest logit difference \(worst)")
        #expect(masked != expected, "the masks changed something")
        // The figures the selection promised are those of the pruned model.
        let cost = pruned.graph.cost
        #expect(cost.macs == selection.figures(after: count).macs)
        #expect(cost.parameters == selection.figures(after: count).parameters)
        #expect(selection.removedShare(after: count) >= target)
    }

    @Test func sourceModelIsUntouched() throws {
        let model = try Self.model(BuiltInModel.convnetS.architecture())
        let before = model.parameters.map(\.value.values)
        let groups = try ChannelGroups(architecture: model.architecture)
        var removed = groups.groups.map { _ in [Int]() }
        removed[2] = [0, 5, 9]
        _ = try Surgery.prune(model, groups: groups, plan: PruningPlan(widths: groups.groups.map(\.width), removed: removed))
        #expect(model.parameters.map(\.value.values) == before)
        #expect(model.architecture == BuiltInModel.convnetS.architecture())
    }

    /// Hand-computed: conv2 32→16 and conv5 128→96.
    @Test func figuresAfterPruningByHand() throws {
        let model = try Self.model(BuiltInModel.convnetS.architecture())
        let groups = try ChannelGroups(architecture: model.architecture)
        var removed = groups.groups.map { _ in [Int]() }
        removed[1] = Array(0..<16)
        removed[4] = Array(stride(from: 0, to: 64, by: 2))
        let plan = PruningPlan(widths: groups.groups.map(\.width), removed: removed)
        let pruned = try Surgery.prune(model, groups: groups, plan: plan)
        let cost = pruned.graph.cost
        // conv1 225,792 + conv2 28·28·16·288 + conv3 14·14·64·144 + conv4 7,225,344 + conv5 7·7·96·576 + fc 96·10
        #expect(cost.macs == 225_792 + 3_612_672 + 1_806_336 + 7_225_344 + 2_709_504 + 960)
        #expect(cost.macs == 15_580_608)
        // 288+64 + 4608+32 + 9216+128 + 36864+128 + 55296+192 + 960+10
        #expect(cost.parameters == 107_786)
        #expect(WidthCostModel(groups: groups).figures(widths: plan.kept.map(\.count)).macs == 15_580_608)
        #expect(pruned.architecture.layers.first { $0.name == "conv5" }?.outChannels == 96)
    }

    @Test func flattenConsumersLoseTheirHWColumns() throws {
        let architecture = Architecture(name: "flat", input: [1, 28, 28], classes: 3, layers: [
            LayerSpec(name: "conv1", kind: .conv2d, outChannels: 4, kernel: 3, padding: 1),
            LayerSpec(name: "bn1", kind: .batchnorm), LayerSpec(name: "relu1", kind: .relu),
            LayerSpec(name: "pool", kind: .maxpool, kernel: 7),
            LayerSpec(name: "flatten", kind: .flatten),
            LayerSpec(name: "fc1", kind: .linear, outChannels: 6),
            LayerSpec(name: "relu2", kind: .relu),
            LayerSpec(name: "fc2", kind: .linear, outChannels: 3),
        ])
        let model = try Self.model(architecture)
        let groups = try ChannelGroups(architecture: architecture)
        let plan = PruningPlan(widths: [4, 6], removed: [[1, 2], [4]])
        let pruned = try Surgery.prune(model, groups: groups, plan: plan)
        #expect(pruned.parameter(named: "fc1.weight")?.value.shape == [5, 2 * 16])
        let images = Fixtures.random([3, 28, 28, 1], seed: 8)
        model.outputMasks = plan.masks(groups: groups)
        let masked = model.forward(images, training: false).values
        let actual = pruned.forward(images, training: false).values
        #expect(zip(masked, actual).allSatisfy { abs($0 - $1) < 1e-5 })
    }
}
