import Testing
import Engine
@testable import Pruning

@Suite("A ranking chosen on held-out images")
struct CalibrationTests {
    /// Random images with random labels: what matters is that candidates score differently
    /// and that the scores are what an independent evaluation finds.
    static func images(count: Int) -> Dataset {
        var random = SeededGenerator(seed: 11)
        let pixels = (0..<count * 28 * 28).map { _ in UInt8.random(in: 0...255, using: &random) }
        let labels = (0..<count).map { _ in Int32.random(in: 0..<10, using: &random) }
        return Dataset(name: "noise", channels: 1, height: 28, width: 28, classes: 10, classNames: (0..<10).map(String.init),
                       images: pixels, labels: labels)
    }

    @Test("every candidate, each way of compensating, is scored as an independent prune and evaluation scores it, and the best is chosen")
    func choosesTheBestCandidate() throws {
        let model = try Model(architecture: BuiltInModel.convnetS.architecture(), seed: 3)
        let images = Self.images(count: 64)
        let policy = SelectionPolicy(criterion: .outIn, alternatives: [.layerMean, .lamp, .perWeight].map {
            Ranking(criterion: .outIn, normalization: $0)
        } + [Ranking(criterion: .outChannel, normalization: .raw)])
        let schedule = PruningSchedule(target: PruningTarget(metric: .flops, share: 0.4), policy: policy)
        var reported: [Int] = []
        let plan = try schedule.plan(model, calibration: Calibration(images: images, normalization: .identity(channels: 1)) { done, _ in
            reported.append(done)
            return true
        })
        // Each ranking with the compensation a plan without images uses first, then the other way.
        let ways = [CompensationChoice.uncalibrated, !CompensationChoice.uncalibrated]
        #expect(plan.calibration.map(\.ranking) == policy.candidates.flatMap { [$0, $0] })
        #expect(plan.calibration.map(\.compensated) == policy.candidates.flatMap { _ in ways })
        let count = 2 * policy.candidates.count
        #expect(reported.last == count && reported == reported.sorted(), "\(reported)")
        #expect(Set(reported).isSuperset(of: 1...count))
        #expect(plan.calibrationExamples == 64)

        for score in plan.calibration {
            let selection = GreedySelection.walk(model: model, groups: plan.groups, criterion: score.ranking.criterion,
                                                 normalization: score.ranking.normalization, metric: .flops)
            let steps = try #require(selection.stepCount(toReach: 0.4))
            let pruned = try Surgery.prune(model, groups: plan.groups, plan: selection.plan(steps: steps), compensating: score.compensated)
            let evaluation = try #require(Evaluator.evaluate(pruned, dataset: images, normalization: .identity(channels: 1)))
            #expect(score.top1 == evaluation.top1 && score.loss == evaluation.loss && score.examples == 64, "\(score.name)")
            #expect(score.removedShare == selection.removedShare(after: steps))
        }
        let chosen = try #require(plan.chosen).ranking
        let best = plan.calibration.max { ($0.top1, -$0.loss) < ($1.top1, -$1.loss) }!
        #expect(plan.calibration.first { $0.ranking == chosen && $0.compensated == plan.compensates }!.top1 == best.top1)
        // The scores differ, also between the two ways of one ranking, or the test could not
        // tell a choice from the default.
        #expect(Set(plan.calibration.map(\.loss)).count > 1)
        #expect(plan.calibration[0].loss != plan.calibration[1].loss)
        // The plan is the chosen walk's, and later rounds and the record use its ranking.
        let walk = GreedySelection.walk(model: model, groups: plan.groups, criterion: chosen.criterion,
                                        normalization: chosen.normalization, metric: .flops)
        #expect(plan.firstRound == walk.plan(steps: try #require(walk.stepCount(toReach: 0.4))))
        let result = try schedule.run(model, plan: plan, train: nil, normalization: .identity(channels: 1), events: .init())
        let record = schedule.record(result, plan: plan, source: "m.safetensors")
        #expect(record.criterion == chosen.criterion && record.normalization == chosen.normalization)
        #expect(record.calibration == Recipe.PruningRun.Calibration(examples: 64, candidates: count))
        #expect(record.compensated == (plan.compensates ? true : nil))
    }

    @Test("every candidate is screened on the last images, the best few are measured on all, and the choice is among them")
    func screensThenMeasuresTheFinalists() throws {
        let model = try Model(architecture: BuiltInModel.convnetS.architecture(), seed: 3)
        let images = Self.images(count: 64)
        let policy = SelectionPolicy(criterion: .outIn, alternatives: SelectionPolicy.rankings(criteria: [.outIn, .outChannel]))
        let schedule = PruningSchedule(target: PruningTarget(metric: .flops, share: 0.4), policy: policy)
        var calibration = Calibration(images: images, normalization: .identity(channels: 1))
        calibration.screening = 16
        calibration.finalists = 3
        let plan = try schedule.plan(model, calibration: calibration)

        let screened = images.subset(last: 16)
        var prunings: [String: Bool] = [:]  // kept channels and compensation → a finalist
        var finalistsOnScreen: [(top1: Double, loss: Double)] = [], othersOnScreen: [(top1: Double, loss: Double)] = []
        for score in plan.calibration {
            let selection = GreedySelection.walk(model: model, groups: plan.groups, criterion: score.ranking.criterion,
                                                 normalization: score.ranking.normalization, metric: .flops)
            let pruning = selection.plan(steps: try #require(selection.stepCount(toReach: 0.4)))
            let pruned = try Surgery.prune(model, groups: plan.groups, plan: pruning, compensating: score.compensated)
            let onScreen = try #require(Evaluator.evaluate(pruned, dataset: screened, normalization: .identity(channels: 1)))
            let isFinalist = score.examples == 64
            if isFinalist {
                // Screened and the rest put together: the measure on all 64 (the loss summed in another
                // order, so to rounding).
                let all = try #require(Evaluator.evaluate(pruned, dataset: images, normalization: .identity(channels: 1)))
                #expect(abs(score.top1 - all.top1) < 1e-12 && abs(score.loss - all.loss) < 1e-5 * all.loss, "\(score.name)")
                finalistsOnScreen.append((onScreen.top1, onScreen.loss))
            } else {
                #expect(score.examples == 16 && score.top1 == onScreen.top1 && score.loss == onScreen.loss, "\(score.name)")
                othersOnScreen.append((onScreen.top1, onScreen.loss))
            }
            prunings["\(pruning.kept) \(score.compensated)"] = isFinalist
        }
        #expect(prunings.values.filter { $0 }.count == 3, "three distinct prunings are finalists")
        #expect(prunings.count > 3, "some are screened out, or the test could not tell")
        // No candidate screened out did better on the screening images than a finalist.
        let worstFinalist = try #require(finalistsOnScreen.min { ($0.top1, -$0.loss) < ($1.top1, -$1.loss) })
        #expect(othersOnScreen.allSatisfy { ($0.top1, -$0.loss) <= (worstFinalist.top1, -worstFinalist.loss) })
        // The chosen one is the best finalist on all the images.
        let chosen = try #require(plan.calibration.first { $0.ranking == plan.chosen?.ranking && $0.compensated == plan.compensates })
        #expect(chosen.examples == 64)
        #expect(plan.calibration.filter { $0.examples == 64 }.allSatisfy { ($0.top1, -$0.loss) <= (chosen.top1, -chosen.loss) })
        #expect(plan.calibrationExamples == 64)
    }

    @Test("without images, or with one candidate, the policy's own ranking and compensation are used and nothing is measured")
    func nothingToChoose() throws {
        let model = try Model(architecture: BuiltInModel.convnetS.architecture(), seed: 3)
        let target = PruningTarget(metric: .flops, share: 0.3)
        let open = SelectionPolicy(criterion: .outIn, normalization: .lamp, alternatives: SelectionPolicy.rankings(criteria: [.outIn]))
        let plain = try PruningSchedule(target: target, policy: open).plan(model)
        #expect(plain.chosen?.ranking == open.ranking && plain.calibration.isEmpty && plain.calibrationExamples == 0)
        #expect(plain.compensates == CompensationChoice.uncalibrated)
        #expect(try PruningSchedule(target: target, policy: open, compensation: .off).plan(model).compensates == false)

        let fixed = SelectionPolicy(criterion: .outIn, normalization: .lamp)
        let images = Self.images(count: 16)
        let calibration = Calibration(images: images, normalization: .identity(channels: 1))
        let one = try PruningSchedule(target: target, policy: fixed, compensation: .on).plan(model, calibration: calibration)
        #expect(one.chosen?.ranking == fixed.ranking && one.calibration.isEmpty && one.compensates)
        #expect(one.firstRound == plain.firstRound)
        // One ranking, compensation open: the two ways are measured.
        let two = try PruningSchedule(target: target, policy: fixed).plan(model, calibration: calibration)
        #expect(two.calibration.map(\.ranking) == [fixed.ranking, fixed.ranking] && Set(two.calibration.map(\.compensated)) == [false, true])
        #expect(two.firstRound == plain.firstRound)
    }

    @Test("a progress that says stop cancels the plan")
    func cancelled() throws {
        let model = try Model(architecture: BuiltInModel.convnetS.architecture(), seed: 3)
        let policy = SelectionPolicy(criterion: .outIn, alternatives: SelectionPolicy.rankings(criteria: [.outIn]))
        #expect(throws: PruningCancelled.self) {
            try PruningSchedule(target: PruningTarget(metric: .flops, share: 0.3), policy: policy)
                .plan(model, calibration: Calibration(images: Self.images(count: 16), normalization: .identity(channels: 1)) { _, _ in false })
        }
    }

    @Test("when the cap stops every candidate short of the target, the error is the one without calibration")
    func unreachableCandidates() throws {
        let model = try Model(architecture: BuiltInModel.convnetS.architecture(), seed: 3)
        let policy = SelectionPolicy(criterion: .outIn, alternatives: SelectionPolicy.rankings(criteria: [.outIn]),
                                     limits: SelectionLimits(capShare: 0.2))
        let images = Self.images(count: 16)
        #expect(throws: PruningError.self) {
            try PruningSchedule(target: PruningTarget(metric: .flops, share: 0.9), policy: policy)
                .plan(model, calibration: Calibration(images: images, normalization: .identity(channels: 1)))
        }
    }

    @Test("the ranking candidates: what training leaves open, every normalisation, the defaults first")
    func rankings() {
        #expect(ImportanceCriterion.open(by: .l2) == [.outIn, .outChannel])
        #expect(ImportanceCriterion.open(by: .oicsrGL) == [.outIn])
        #expect(ImportanceCriterion.open(by: .l1BN) == [.batchNormScale])
        let all = SelectionPolicy.rankings(criteria: [.outIn, .outChannel])
        #expect(all.count == 2 * EnergyNormalization.allCases.count && Set(all).count == all.count)
        #expect(all[0] == Ranking(criterion: .outIn, normalization: .standard))
        #expect(EnergyNormalization.byPreference.first == .standard && Set(EnergyNormalization.byPreference) == Set(EnergyNormalization.allCases))
    }
}
