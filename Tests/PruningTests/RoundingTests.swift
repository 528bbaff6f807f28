import Testing
import Engine
@testable import Pruning

@Suite("Widths rounded to a multiple")
struct RoundingTests {
    @Test("every group keeps a multiple of m channels (or its whole width) and the target is still reached", arguments: [4, 8])
    func roundedSchedule(multiple: Int) throws {
        let model = try Model(architecture: BuiltInModel.convnetS.architecture(), seed: 3)
        let schedule = PruningSchedule(target: PruningTarget(metric: .flops, share: 0.4),
                                       policy: SelectionPolicy(criterion: .outIn, widthMultiple: multiple))
        let plan = try schedule.plan(model)
        let result = try schedule.run(model, plan: plan, train: nil, normalization: .identity(channels: 1), events: .init())
        for (group, kept) in zip(plan.groups.groups, result.kept) {
            #expect(kept.count % multiple == 0 || kept.count == group.width, "\(group.name) keeps \(kept.count)")
        }
        #expect(result.removedShare(.flops) >= 0.4)
        #expect(result.model.graph.cost.macs == result.after.macs)
        // The fewest steps: one step fewer no longer reaches the target once rounded.
        let selection = try #require(plan.selection), steps = try #require(plan.wholeTargetSteps)
        let fewer = selection.plan(steps: steps - 1, widthMultiple: multiple).kept.map(\.count)
        #expect(Double(WidthCostModel(groups: plan.groups).figures(widths: fewer).macs) > Double(selection.before.macs) * 0.6)
    }

    @Test func roundingGivesBackTheChannelsTakenLast() throws {
        let model = try Model(architecture: BuiltInModel.convnetS.architecture(), seed: 3)
        let groups = ChannelGroups(graph: model.graph)
        let energies = Energies(model: model, groups: groups, criterion: .outIn).normalized(.raw)
        let selection = GreedySelection.walk(energies: energies, cost: WidthCostModel(groups: groups), metric: .flops)
        let count = 40
        let plain = selection.plan(steps: count), rounded = selection.plan(steps: count, widthMultiple: 8)
        for g in groups.groups.indices {
            let takenInOrder = selection.steps.prefix(count).filter { $0.group == g }.map(\.channel)
            #expect(Set(rounded.removed[g]) == Set(takenInOrder.prefix(rounded.removed[g].count)), "group \(g) keeps its first-taken channels removed")
            #expect(rounded.removed[g].count <= plain.removed[g].count)
        }
    }
}
