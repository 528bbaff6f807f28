// Golden screens of every view at the minimum size (80x24) and a larger one (120x40), and
// of the too-small screen. Re-record with OICSR_RECORD_SNAPSHOTS=1 (see Support/Snapshot.swift).

import Canvas
import Explorer
import Testing

@Suite("Explorer screens")
struct ScreenTests {
    static let sizes = [Fixtures.small, Fixtures.large]

    @Test(arguments: sizes) func overview(size: Size) {
        var state = Fixtures.state(size: size)
        Fixtures.press(Array(repeating: ">", count: 3) + ["j", "j"], on: &state)
        assertSnapshot(ExplorerView.render(state, size: size), named: "overview-\(size)")
    }

    @Test(arguments: sizes) func layerMidStepping(size: Size) {
        var state = Fixtures.state(size: size)
        Fixtures.press([">", ">", "+", "+", .tab] + Array(repeating: "]", count: 5) + ["["], on: &state)
        #expect(state.view == .group)
        assertSnapshot(ExplorerView.render(state, size: size), named: "layer-stepping-\(size)")
    }

    @Test(arguments: sizes) func layerByIndexScrolled(size: Size) {
        var state = Fixtures.state(size: size)
        Fixtures.press([">", ">", ">", "G", .enter, "o", "G"], on: &state)
        assertSnapshot(ExplorerView.render(state, size: size), named: "layer-by-index-\(size)")
    }

    @Test(arguments: sizes) func beforeAfterPanel(size: Size) {
        var state = Fixtures.state(size: size)
        Fixtures.press([">", ">", ">"], on: &state)
        Fixtures.pruneAndEvaluate(&state)
        #expect(state.view == .results)
        assertSnapshot(ExplorerView.render(state, size: size), named: "results-\(size)")
    }

    @Test(arguments: sizes) func jobInProgress(size: Size) {
        var state = Fixtures.state(size: size)
        Fixtures.press([">", ">", ">"], on: &state)
        Fixtures.pruneAndEvaluate(&state)
        state.send(.key("f"))
        state.send(.job(.progress(JobProgress(share: 0.42, phase: "epoch 1/1", rate: 1_530, elapsedSeconds: 16,
                                              detail: "loss 0.371  acc 86.9%"))))
        state.send(.key("p"))
        assertSnapshot(ExplorerView.render(state, size: size), named: "job-running-\(size)")
    }

    @Test(arguments: sizes) func helpOverlay(size: Size) {
        var state = Fixtures.state(size: size)
        Fixtures.press(["+", "?"], on: &state)
        assertSnapshot(ExplorerView.render(state, size: size), named: "help-\(size)")
    }

    @Test(arguments: sizes) func quitDialog(size: Size) {
        var state = Fixtures.state(size: size)
        Fixtures.press([">", ">"], on: &state)
        Fixtures.pruneAndEvaluate(&state)
        Fixtures.press(["q"], on: &state)
        assertSnapshot(ExplorerView.render(state, size: size), named: "quit-dialog-\(size)")
    }

    @Test(arguments: sizes) func trainingScreen(size: Size) {
        var state = ExplorerState(training: Fixtures.description("convnet-s"), size: size)
        state.send(.job(.progress(JobProgress(share: 0.02, phase: "epoch 1/2 at 4%", rate: 1_320, elapsedSeconds: 9,
                                              detail: "loss 1.930  acc 31.0%  lr 0.05", scope: "of all"))))
        state.send(.job(.progress(JobProgress(share: 0.31, phase: "epoch 1/2 at 62%", rate: 1_480, elapsedSeconds: 25,
                                              detail: "loss 0.612  acc 78.4%  lr 0.0461", scope: "of all"))))
        let screen = ExplorerView.render(state, size: size).lines.joined(separator: "\n")
        #expect(screen.contains("epoch 1/2 at 62%") && screen.contains("31% of all"), "the epoch's share and the whole job's, labelled")
        #expect(screen.contains("ETA    38s"), "counted from the first report: 29% in 16 s, 69% to go")
        assertSnapshot(ExplorerView.render(state, size: size), named: "training-\(size)")
    }

    @Test(arguments: sizes) func filteringTheLayers(size: Size) {
        var state = Fixtures.state(.resnet20, size: size)
        Fixtures.press(["/", "2", "."], on: &state)
        assertSnapshot(ExplorerView.render(state, size: size), named: "filtering-\(size)")
    }

    @Test func tooSmall() {
        let size = Size(width: 60, height: 20)
        var state = Fixtures.state(size: size)
        assertSnapshot(ExplorerView.render(state, size: size), named: "too-small")
        Fixtures.press([">"], on: &state)
        Fixtures.pruneAndEvaluate(&state)
        state.send(.resize(size))
        Fixtures.press(["q"], on: &state)
        assertSnapshot(ExplorerView.render(state, size: size), named: "too-small-quit")
    }

    @Test func resnetWithCoupledChannels() {
        var state = Fixtures.state(.resnet20, size: Fixtures.large)
        Fixtures.press(["c", ">", ">", "j", "j"], on: &state)
        assertSnapshot(ExplorerView.render(state, size: Fixtures.large), named: "overview-resnet20-coupled")
    }
}
