// N asks for the ranking that keeps the most at the current target on held-out images (the
// calibration of `oicsr prune`); its answer switches the walk like n and i do, undoably.

import Canvas
import Engine
import Explorer
import Pruning
import Testing

@Suite("Choosing the ranking on held-out images")
struct CalibrationKeyTests {
    @Test func theAnswerSwitchesTheWalkUndoably() throws {
        var state = Fixtures.state()
        #expect(state.send(.key("N")).isEmpty, "no target yet: nothing to rank for")
        Fixtures.press([">", ">", ">"], on: &state)
        let target = state.settings.target
        let effects = state.send(.key("N"))
        guard case .start(.calibrate(let asked, let settings, let criteria))? = effects.last else {
            Issue.record("expected a calibration job, got \(effects)")
            return
        }
        // The fixture was trained with OICSR-GL, which fixes the criterion.
        #expect(asked == target && settings == state.settings && criteria == [.outIn])
        #expect(state.job?.kind == .calibrate)

        let before = state.settings
        let chosen = Ranking(criterion: .outIn, normalization: .layerMean)
        let scores = [CalibrationScore(ranking: before.walkKey.ranking, compensated: before.compensates, removedShare: target, top1: 0.21, loss: 2.3,
                                       examples: 2000),
                      CalibrationScore(ranking: chosen, compensated: !before.compensates, removedShare: target, top1: 0.40, loss: 1.6,
                                       examples: 10000)]
        state.send(.job(.finished(.calibrated(chosen, compensates: !before.compensates, scores: scores, examples: 10000, target: target))))
        #expect(state.job == nil)
        #expect(state.settings.normalization == .layerMean && state.settings.criterion == .outIn)
        #expect(state.settings.compensates == !before.compensates, "the prune job compensates as the calibration chose")
        #expect(state.settings.target == target, "the target stays; the walk's cursor moves to it")
        let text = state.message?.text ?? ""
        #expect(text.contains(scores[1].name) && text.contains("40.0%") && text.contains("10000 training images")
                && text.contains("\(scores[0].name) kept 21.0% of the last 2000"), "a screened-out score names its images: \(text)")
        state.send(.key("u"))
        #expect(state.settings == before)
    }
}

extension WalkKey {
    var ranking: Ranking { Ranking(criterion: criterion, normalization: normalization) }
}
