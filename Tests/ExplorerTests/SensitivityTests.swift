// Sensitivity analysis: what the state asks the job for, how the figures fill the screen
// as they arrive, how another job pauses it, and the real job on a tiny data set, cached
// beside the checkpoint.

import Canvas
import Engine
import Explorer
import Foundation
import Pruning
import Testing

@Suite("Sensitivity analysis", .serialized)
struct SensitivityTests {
    @Test func aAsksForWhatIsMissingOnly() throws {
        var state = Fixtures.state()
        let effects = Fixtures.press(["a"], on: &state)
        guard case .start(.sensitivity(let request))? = effects.first else {
            Issue.record("expected the sensitivity job, got \(effects)")
            return
        }
        #expect(state.job?.kind == .sensitivity)
        #expect(request.layers.count == state.groups.count && request.table.denseTop1 == nil)
        #expect(request.table.examples == 1000, "a thousand test images unless --eval-limit says otherwise")
        let reachable = try #require(state.walk).selection.reachableShare
        #expect(request.walkPoints.count == SensitivityTable.walkTargets(reachable: reachable).count)
        #expect(request.layers[2].ascending == state.walk?.ascending[2], "lowest energy first")

        // Half of it arrives, then the job is cancelled: asking again asks for the rest.
        let partial = Fixtures.sensitivity(for: state, layers: 2, walkPoints: 3)
        state.send(.job(.progress(JobProgress(share: 0.4, phase: "conv3", elapsedSeconds: 3, sensitivity: partial))))
        #expect(state.sensitivity == partial)
        Fixtures.press([.escape], on: &state)
        state.send(.job(.cancelled))
        #expect(state.message?.text.contains("what is measured is kept") == true)
        guard case .start(.sensitivity(let rest))? = Fixtures.press(["a"], on: &state).first else {
            Issue.record("expected the rest")
            return
        }
        #expect(rest.layers.map(\.group) == [2, 3, 4] && rest.walkPoints.count == request.walkPoints.count - 3)
        #expect(rest.table == partial)

        // Everything known: nothing to do, and a says so.
        state.send(.job(.finished(.sensitivity(Fixtures.sensitivity(for: state)))))
        #expect(state.isSensitivityComplete)
        #expect(Fixtures.press(["a"], on: &state).isEmpty && state.message?.text.contains("measured") == true)
        #expect(!ExplorerKeys.hints(for: state).bindings.contains { $0.action == .analyseSensitivity })
    }

    @Test func anotherJobPausesItAndItResumesAfter() throws {
        var state = Fixtures.state()
        Fixtures.press([">", ">", "a"], on: &state)
        #expect(state.job?.kind == .sensitivity)
        // p pauses the analysis (cancels it), and starts once it has stopped.
        #expect(Fixtures.press(["p"], on: &state) == [.cancelJob])
        #expect(state.message?.text.contains("sensitivity paused for pruning") == true)
        let effects = state.send(.job(.cancelled))
        guard case .start(.prune(_, _, _, let id))? = effects.first else {
            Issue.record("expected the prune to start, got \(effects)")
            return
        }
        #expect(state.job?.kind == .prune)
        let after = try #require(state.figuresAfter)
        let resumed = state.send(.job(.finished(.pruned(model: id, macs: after.macs, parameters: after.parameters))))
        guard case .start(.sensitivity)? = resumed.first else {
            Issue.record("expected the analysis to resume, got \(resumed)")
            return
        }
        #expect(state.job?.kind == .sensitivity && state.results.models.count == 1)
        // Esc stops it for good.
        Fixtures.press([.escape], on: &state)
        #expect(state.send(.job(.cancelled)).isEmpty)
    }

    @Test(arguments: [Fixtures.small, Fixtures.large])
    func theFiguresShowInTheOverviewAndTheChart(size: Size) throws {
        var state = Fixtures.state(size: size)
        Fixtures.press([">", ">", ">"], on: &state)
        state.send(.job(.finished(.sensitivity(Fixtures.sensitivity(for: state)))))
        let overview = ExplorerView.render(state, size: size)
        let unmeasured = try Regex(#"[^·]·{9}\s+\d+\.\d%"#)
        #expect(!overview.lines.contains { $0.contains(unmeasured) }, "every layer's line is drawn")
        var before = Fixtures.state(size: size)
        Fixtures.press([">"], on: &before)
        #expect(ExplorerView.render(before, size: size).lines.contains { $0.contains(unmeasured) }, "dots before")
        Fixtures.press(["3"], on: &state)
        let view = ExplorerView.render(state, size: size)
        let text = view.lines.joined(separator: "\n")
        #expect(text.contains("Top-1 along the walk") && text.contains("• as pruned · ◦ after BN re-estimation"))
        #expect(text.contains("target 30%"), "the target is marked")
        #expect(text.contains("91.2%"), "the dense accuracy heads the axis")
        assertSnapshot(view, named: "sensitivity-\(size)")
    }

    @Test(arguments: [Fixtures.small, Fixtures.large])
    func beforeItIsMeasuredTheViewSaysHow(size: Size) {
        var state = Fixtures.state(size: size)
        Fixtures.press([">", ">", ">", "3"], on: &state)
        let view = ExplorerView.render(state, size: size)
        #expect(view.lines.contains { $0.contains("not measured: a measures it") })
        assertSnapshot(view, named: "sensitivity-not-measured-\(size)")
    }

    @Test func theRealJobMeasuresCachesAndIsReadBack() throws {
        let folder = try SessionTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try Model(architecture: BuiltInModel.convnetS.architecture(widths: [4, 4, 8, 8, 8]), seed: 1)
        var info = CheckpointInfo(architecture: model.architecture, normalization: .identity(channels: 1), dataset: "synthetic",
                                  classNames: (0..<10).map(String.init))
        info.record(Recipe(regularizer: Recipe.Regularization(kind: .oicsrGL, lambda: 1e-4)))
        let source = folder.appendingPathComponent("tiny.safetensors").path
        try Checkpoint.save(model, info: info, to: source)
        let data = SessionTests.data(train: 40, test: 20)
        let session = try ExplorerSession(model: model, info: info, path: source, data: data, size: Fixtures.small,
                                          evaluationLimit: 12)
        session.handle("a")
        #expect(session.state.job?.kind == .sensitivity)
        SessionTests.waitForJob(session)
        let table = try #require(session.state.sensitivity)
        #expect(table.examples == 12 && table.denseTop1 != nil)
        #expect(session.state.isSensitivityComplete)
        #expect(session.state.layerSensitivity.allSatisfy { $0?.count == SensitivityTable.layerShares.count })
        // Removing nothing would give the dense figure; removing channels changes the model.
        let cached = SensitivityTable.cachePath(forCheckpoint: source)
        #expect(FileManager.default.fileExists(atPath: cached))

        // A new session on the same weights reads the figures back; other weights do not.
        let again = try ExplorerSession(model: model, info: info, path: source, data: data, size: Fixtures.small, evaluationLimit: 12)
        #expect(again.state.sensitivity == table && again.state.isSensitivityComplete)
        let other = try Model(architecture: model.architecture, seed: 2)
        let fresh = try ExplorerSession(model: other, info: info, path: source, data: data, size: Fixtures.small, evaluationLimit: 12)
        #expect(fresh.state.sensitivity == nil)
        let otherCount = try ExplorerSession(model: model, info: info, path: source, data: data, size: Fixtures.small, evaluationLimit: 10)
        #expect(otherCount.state.sensitivity == nil, "figures on other images are not these")

        // A quick evaluation uses the same first images, and says how many.
        session.handle("e")
        #expect(session.state.job?.kind == .evaluate)
        SessionTests.waitForJob(session)
        #expect(session.state.results.dense?.count == 12)
        #expect(session.state.message?.text.hasPrefix("evaluated on 12 images") == true)
    }
}
