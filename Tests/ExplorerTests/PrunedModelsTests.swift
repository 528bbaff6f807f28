// The session's pruned models: pruning again keeps the earlier ones (fine-tuned or not) to
// compare and return to; the results and the panels say which figures are the selection's
// and which the pruned model's.

import Canvas
import Engine
import Explorer
import Pruning
import Testing

@Suite("The session's pruned models")
struct PrunedModelsTests {
    /// Prunes the current selection, answering the job.
    static func prune(_ state: inout ExplorerState) -> Int {
        let effects = state.send(.key("p"))
        guard case .start(.prune(_, _, _, let id))? = effects.last else {
            Issue.record("expected a prune job, got \(effects)")
            return -1
        }
        let after = state.figuresAfter!
        state.send(.job(.finished(.pruned(model: id, macs: after.macs, parameters: after.parameters))))
        return id
    }

    static func fineTune(_ state: inout ExplorerState, id: Int, top1: Double) {
        #expect(state.send(.key("f")) == [.start(.fineTune(model: id))])
        state.send(.job(.finished(.fineTuned(model: id, EvaluationSummary(top1: top1, loss: 0.3, count: 10_000)))))
    }

    @Test func pruningAgainKeepsTheFineTunedModel() throws {
        var state = Fixtures.state()
        Fixtures.press([">", ">", ">"], on: &state)
        let first = Self.prune(&state)
        Self.fineTune(&state, id: first, top1: 0.902)
        Fixtures.press([">", ">"], on: &state)
        let second = Self.prune(&state)
        #expect(second != first)
        #expect(state.results.models.map(\.id) == [first, second])
        #expect(state.results.current == second)
        #expect(state.results.models[0].afterFineTuning?.top1 == 0.902, "the fine-tuned model is still there")
        let screen = ExplorerView.render(state, size: Fixtures.large).lines.joined(separator: "\n")
        #expect(screen.contains("#1 · 30.4%") && screen.contains("fine-tuned 1 ep.") && screen.contains("top-1 90.2%"))

        // m returns to it; the jobs then work on it.
        Fixtures.press(["m"], on: &state)
        #expect(state.results.current == first)
        #expect(state.send(.key("b")) == [.start(.reestimateBatchNorm(model: first))])
        state.send(.job(.finished(.reestimated(model: first, EvaluationSummary(top1: 0.9, loss: 0.3, count: 10_000)))))
        #expect(state.results.models[0].afterBatchNorm?.top1 == 0.9 && state.results.models[1].afterBatchNorm == nil)
        Fixtures.press(["M"], on: &state)
        #expect(state.results.current == second)
    }

    @Test func aResultArrivingForAnotherModelLandsOnIt() throws {
        var state = Fixtures.state()
        Fixtures.press([">"], on: &state)
        let first = Self.prune(&state)
        Fixtures.press(["f"], on: &state)
        // While #1 fine-tunes, the user looks at nothing else; the result lands on #1 even
        // if another model is current by then.
        state.send(.job(.finished(.fineTuned(model: first, EvaluationSummary(top1: 0.8, loss: 0.5, count: 100)))))
        #expect(state.results.models.first { $0.id == first }?.afterFineTuning?.top1 == 0.8)
    }

    @Test func theSameSelectionIsNotPrunedTwice() {
        var state = Fixtures.state()
        Fixtures.press([">", ">"], on: &state)
        let first = Self.prune(&state)
        Fixtures.press([">"], on: &state)
        _ = Self.prune(&state)
        Fixtures.press(["<"], on: &state)
        #expect(state.send(.key("p")).isEmpty)
        #expect(state.results.current == first && state.results.models.count == 2)
        #expect(state.message?.text.contains("already") == true)
    }

    @Test func makingRoomDropsTheOldestSavedModelOrAsksFirst() throws {
        var state = Fixtures.state()
        var ids: [Int] = []
        for _ in 0..<ExplorerState.keptModels {
            Fixtures.press(["+", "+"], on: &state)
            ids.append(Self.prune(&state))
        }
        // None saved: the next prune asks before dropping the oldest.
        Fixtures.press(["+", "+"], on: &state)
        #expect(state.send(.key("p")).isEmpty)
        #expect(state.overlay == .confirmDiscard(model: ids[0]))
        let question = ExplorerView.render(state, size: Fixtures.small).lines.joined(separator: "\n")
        #expect(question.contains("Drop the oldest") && question.contains("#1"))
        Fixtures.press(["n"], on: &state)
        #expect(state.results.models.count == ExplorerState.keptModels && state.overlay == nil)
        // Yes: it goes (the session forgets its weights) and the new one is made.
        Fixtures.press(["p"], on: &state)
        let effects = Fixtures.press(["y"], on: &state)
        #expect(effects.first == .forget(model: ids[0]))
        guard case .start(.prune)? = effects.last else {
            Issue.record("expected the prune to start, got \(effects)")
            return
        }
        // A saved model goes without asking.
        let after = state.figuresAfter!
        state.send(.job(.finished(.pruned(model: state.job!.model!, macs: after.macs, parameters: after.parameters))))
        state.send(.job(.finished(.saved(model: ids[1], path: "/models/x.safetensors"))))
        Fixtures.press(["+", "+"], on: &state)
        let next = Fixtures.press(["p"], on: &state)
        #expect(next.first == .forget(model: ids[1]) && state.overlay == nil)
    }

    @Test func quittingAsksWhileAnyModelIsUnsaved() throws {
        var state = Fixtures.state()
        Fixtures.press([">"], on: &state)
        let first = Self.prune(&state)
        Fixtures.press([">"], on: &state)
        let second = Self.prune(&state)
        state.send(.job(.finished(.saved(model: second, path: "/models/y.safetensors"))))
        Fixtures.press(["q"], on: &state)
        guard case .confirmQuit(let reason)? = state.overlay else {
            Issue.record("expected the quit question")
            return
        }
        #expect(reason.contains("#\(first)"))
        Fixtures.press(["n"], on: &state)
        state.send(.job(.finished(.saved(model: first, path: "/models/z.safetensors"))))
        #expect(Fixtures.press(["q"], on: &state) == [.quit])
    }

    @Test(arguments: [Fixtures.small, Fixtures.large])
    func theTwoMacsFiguresAreLabelled(size: Size) throws {
        var state = Fixtures.state(size: size)
        Fixtures.press([">", ">", ">", ">", ">"], on: &state)
        _ = Self.prune(&state)
        Fixtures.press(["+", "1"], on: &state)
        let pruned = try #require(state.results.pruned)
        let selection = try #require(state.figuresAfter)
        #expect(pruned.after.macs != selection.macs, "the selection moved on after pruning")
        let overview = ExplorerView.render(state, size: size).lines
        let selectionMacs = Format.compact(Double(selection.macs)), prunedMacs = Format.compact(Double(pruned.after.macs))
        #expect(overview.contains { $0.contains("Selection ·") }, "the selection's panel is titled")
        #expect(overview.contains { $0.contains("│ MACs ") && $0.contains("→  " + selectionMacs) }, "the selection's MACs")
        #expect(overview.contains { $0.contains("│ model MACs ") && $0.contains("→  " + prunedMacs) }, "the pruned model's, labelled apart")
        Fixtures.press(["2"], on: &state)
        let layer = ExplorerView.render(state, size: size).lines.joined(separator: "\n")
        #expect(layer.contains("selection: MACs") || layer.contains("Selection ·"))
        Fixtures.press(["r"], on: &state)
        let results = ExplorerView.render(state, size: size).lines.joined(separator: "\n")
        #expect(results.contains("MACs, pruned model") && results.contains(prunedMacs))
        assertSnapshot(ExplorerView.render(state, size: size), named: "results-after-the-target-moved-\(size)")
    }
}
