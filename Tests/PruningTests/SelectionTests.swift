import Testing
import Engine
import TestSupport
@testable import Pruning

@Suite("Global greedy selection")
struct SelectionTests {
    static func setup(_ builtIn: BuiltInModel = .convnetS, coupled: Bool = false) throws -> (ChannelGroups, WidthCostModel, [[Double]]) {
        let model = try Model(architecture: builtIn.architecture(), seed: 11)
        let groups = try ChannelGroups(architecture: model.architecture, includeCoupled: coupled)
        let energies = Energies(model: model, groups: groups, criterion: .outIn).normalized(.perWeight)
        return (groups, WidthCostModel(groups: groups), energies)
    }

    @Test func walksInAscendingEnergyAndRespectsTheCap() throws {
        let (groups, cost, energies) = try Self.setup()
        let selection = GreedySelection.walk(energies: energies, cost: cost, metric: .flops)
        let values = selection.steps.map(\.normalizedEnergy)
        #expect(values == values.sorted())
        for group in groups.groups {
            let taken = selection.steps.filter { $0.group == group.id }.count
            #expect(taken == group.width / 2, "\(group.name): the 50% cap is reached at the end of the walk")
        }
        // Every step lowers the FLOPs, and a target is the first prefix that reaches it.
        #expect(zip(selection.steps, selection.steps.dropFirst()).allSatisfy { $0.after.macs > $1.after.macs })
        let count = try #require(selection.stepCount(toReach: 0.3))
        #expect(selection.removedShare(after: count) >= 0.3)
        #expect(selection.removedShare(after: count - 1) < 0.3)
    }

    @Test func unreachableTargetSaysSo() throws {
        let (_, cost, energies) = try Self.setup()
        let selection = GreedySelection.walk(energies: energies, cost: cost, metric: .flops, limits: SelectionLimits(capShare: 0.1))
        #expect(selection.stepCount(toReach: 0.5) == nil)
        #expect(selection.reachableShare > 0.1 && selection.reachableShare < 0.5)
    }

    @Test func floorKeepsChannels() throws {
        let (groups, cost, energies) = try Self.setup()
        let selection = GreedySelection.walk(energies: energies, cost: cost, metric: .channels,
                                             limits: SelectionLimits(capShare: 1, floor: 3))
        let kept = selection.plan(steps: selection.steps.count).kept
        #expect(kept.map(\.count) == groups.groups.map { _ in 3 })
    }

    @Test func tiesGoFirstToTheChannelThatFreesMoreFlopsThenByLayerThenIndex() throws {
        let (groups, cost, _) = try Self.setup()
        // conv1 and conv2 each have channels at energy 1: a conv2 channel frees more MACs
        // (its filter reads 32 channels at 28x28, conv3 reads it at 14x14) than a conv1
        // channel (one input channel), so conv2's go first, up to its cap, in index order.
        let flat = [[1.0, 1, 1, 1] + Array(repeating: 5, count: 28), Array(repeating: 1.0, count: 32),
                    Array(repeating: 9.0, count: 64), Array(repeating: 9.0, count: 64), Array(repeating: 9.0, count: 128)]
        var widths = cost.originalWidths
        let conv1 = cost.savings(removingFrom: 0, widths: &widths).macs, conv2 = cost.savings(removingFrom: 1, widths: &widths).macs
        #expect(conv2 > conv1)
        let selection = GreedySelection.walk(energies: flat, cost: cost, metric: .flops)
        let expected = (0..<groups.groups[1].width / 2).map { [1, $0] } + [[0, 0], [0, 1], [0, 2], [0, 3]]
        #expect(selection.steps.prefix(expected.count).map { [$0.group, $0.channel] } == expected)

        // Counting channels, every channel frees one: layer order decides.
        let byChannels = GreedySelection.walk(energies: flat, cost: cost, metric: .channels)
        #expect(byChannels.steps.prefix(6).map { [$0.group, $0.channel] } == [[0, 0], [0, 1], [0, 2], [0, 3], [1, 0], [1, 1]])
    }

    @Test func stepFiguresMatchTheCostModel() throws {
        let (_, cost, energies) = try Self.setup(.resnet20, coupled: true)
        let selection = GreedySelection.walk(energies: energies, cost: cost, metric: .parameters)
        for count in [1, 17, selection.steps.count / 2, selection.steps.count] {
            let widths = selection.plan(steps: count).kept.map(\.count)
            #expect(cost.figures(widths: widths) == selection.figures(after: count))
        }
    }

    @Test func normalizations() {
        let energies = Energies(criterion: .outIn, raw: [[1, 3], [2, 2, 8]], groupSizes: [10, 4])
        #expect(energies.normalized(.raw) == [[1, 3], [2, 2, 8]])
        #expect(energies.normalized(.perWeight) == [[0.1, 0.3], [0.5, 0.5, 2]])
        #expect(energies.normalized(.layerMean) == [[0.5, 1.5], [0.5, 0.5, 2]])
        let share: [[Double]] = [[0.25, 0.75], [1.0 / 6, 1.0 / 6, 4.0 / 6]]
        #expect(energies.normalized(.layerShare) == share)
    }

    @Test func energyIsTheSquaredNormOfTheWholeGroup() throws {
        let model = try Model(architecture: BuiltInModel.convnetS.architecture(), seed: 2)
        let groups = try ChannelGroups(architecture: model.architecture)
        let energies = Energies(model: model, groups: groups, criterion: .outIn)
        // Channel 7 of conv2: conv2 filter 7, bn2 γ₇ and β₇, conv3's input column 7.
        let w2 = model.parameter(named: "conv2.weight")!.value.values
        let w3 = model.parameter(named: "conv3.weight")!.value.values
        var expected = 0.0
        for k in 0..<288 { expected += Double(w2[7 * 288 + k] * w2[7 * 288 + k]) }
        for o in 0..<64 { for tap in 0..<9 { let v = w3[(o * 9 + tap) * 32 + 7]; expected += Double(v * v) } }
        expected += 1  // γ = 1, β = 0 at initialisation
        #expect(abs(energies.raw[1][7] - expected) < 1e-4)
        #expect(energies.groupSizes[1] == 288 + 2 + 64 * 9)
    }

    @Test func recomputingResnet56SelectionIsCheap() throws {
        // The benchmark lives in `oicsr bench`; here only that the walk covers every channel.
        let (groups, cost, energies) = try Self.setup(.resnet56)
        let selection = GreedySelection.walk(energies: energies, cost: cost, metric: .flops)
        #expect(selection.steps.count == groups.groups.reduce(0) { $0 + $1.width / 2 })
    }
}
