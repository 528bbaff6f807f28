// Two checkpoints side by side, the explorer on dozens of layers, and the command line that
// reproduces a selection.

import Canvas
import Engine
import Explorer
import Foundation
import Pruning
import Testing

@Suite("Comparison, big models, the reproducing command")
struct CompareAndBigModelTests {
    /// convnet-s with dead channels (as OICSR-GL leaves them) against the same architecture
    /// with graded energies (as L2 leaves them).
    static func comparing(size: Size) -> ExplorerState {
        var l2 = Fixtures.description("convnet-s")
        l2.path = "/models/convnet-s-l2.safetensors"
        l2.regularizer = Recipe.Regularization(kind: .l2, lambda: 0)
        let comparison = ExplorerState.Comparison(model: l2, analysis: Fixtures.analysis(seed: 3))
        var a = Fixtures.description("convnet-s")
        a.path = "/models/convnet-s-oicsr-gl.safetensors"
        return ExplorerState(model: a, analysis: try! ModelAnalysis(model: Fixtures.deadModel()), size: size, comparison: comparison)
    }

    @Test(arguments: [Fixtures.small, Fixtures.large])
    func twoCheckpointsSideBySide(size: Size) throws {
        var state = Self.comparing(size: size)
        Fixtures.press([">", ">", ">", "5"], on: &state)
        #expect(state.view == .compare)
        let lines = ExplorerView.render(state, size: size).lines
        let text = lines.joined(separator: "\n")
        #expect(text.contains("A: convnet-s-oicsr-gl.safetensors · B: convnet-s-l2.safetensors"))
        #expect(text.contains("A energy") && text.contains("B energy"))
        #expect(text.contains("42 at zero energy") && text.contains("0 at zero energy"), "the dead channels of each")
        #expect(text.contains("A, oicsr-gl λ 1e-4: 30.") && text.contains("B, L2: 30."), "each selection at the same target")
        #expect(!hasCutWord(lines), "\(text)")
        assertSnapshot(ExplorerView.render(state, size: size), named: "compare-\(size)")
        // The list moves with the cursor as elsewhere.
        Fixtures.press(["j", "j"], on: &state)
        #expect(ExplorerView.render(state, size: size).lines.contains { $0.contains("▸ conv3") })
    }

    @Test func compareIsOnlyOfferedWithASecondCheckpoint() {
        var state = Fixtures.state()
        Fixtures.press(["5"], on: &state)
        #expect(state.view == .overview && state.message?.text.contains("--compare") == true)
        #expect(!ExplorerView.render(state, size: state.size).lines[0].contains("Compare"))
        var both = Self.comparing(size: Fixtures.small)
        Fixtures.press([.tab, .tab, .tab, .tab], on: &both)
        #expect(both.view == .compare)
    }

    @Test func aCheckpointOfAnotherArchitectureIsRefused() throws {
        let folder = try SessionTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try Model(architecture: BuiltInModel.convnetS.architecture(), seed: 1)
        var info = CheckpointInfo(architecture: model.architecture, normalization: .identity(channels: 1), dataset: "synthetic",
                                  classNames: (0..<10).map(String.init))
        info.record(Recipe(regularizer: Recipe.Regularization(kind: .oicsrGL, lambda: 1e-4)))
        let other = try Model(architecture: BuiltInModel.resnet20.architecture(), seed: 1)
        var otherInfo = info
        otherInfo.architecture = other.architecture
        #expect(throws: ComparisonError.self) {
            _ = try ExplorerSession(model: model, info: info, path: "/a.safetensors", data: SessionTests.data(), size: Fixtures.small,
                                    comparison: (other, otherInfo, "/b.safetensors"))
        }
    }

    @Test func resnet50IsTheReferenceModel() throws {
        let architecture = ResNet50.architecture()
        let graph = try ModelGraph(architecture)
        // 4.09 G MACs (docs/design.md §5), 25.6 M parameters.
        #expect(abs(Double(graph.cost.macs) - 4.089e9) / 4.089e9 < 0.002, "\(graph.cost.macs)")
        #expect(abs(Double(graph.cost.parameters) - 25.557e6) / 25.557e6 < 0.002, "\(graph.cost.parameters)")
        let groups = ChannelGroups(graph: graph)
        #expect(groups.groups.count == 33, "two inside each of 16 bottlenecks, and the stem")
        #expect(ChannelGroups(graph: graph, includeCoupled: true).groups.count == 37, "and four stages when coupled")
    }

    @Test func theReproducingCommandStopsTheWalkWhereTheExplorerDid() throws {
        var state = Fixtures.state()
        Fixtures.press([">", ">", ">", "n"], on: &state)
        let command = try #require(state.reproducingCommand())
        let words = command.split(separator: " ").map(String.init)
        #expect(Array(words.prefix(3)) == ["oicsr", "prune", "/models/convnet-s.safetensors"])
        #expect(words.contains("--criterion") && words.contains("out-in") && words.contains("per-weight"), "n moved past the default")
        // Surgery as the explorer's `p` does it, with nothing left for a calibration to choose.
        #expect(words.firstIndex(of: "--compensate").map { words[$0 + 1] } == (state.settings.compensates ? "on" : "off"))
        let share = try #require(words.firstIndex(of: "--flops").flatMap { Double(words[$0 + 1]) })
        let selection = try #require(state.walk).selection
        #expect(selection.stepCount(toReach: share) == state.settings.steps, "--flops \(share) stops at the explorer's step")
        #expect(words.last == "/models/convnet-s-pruned-\(Int((state.removedShare * 100).rounded())).safetensors")

        // What `oicsr prune` plans with those options is the explorer's selection.
        let model = try Model(architecture: BuiltInModel.convnetS.architecture(), seed: 1)
        let schedule = PruningSchedule(target: PruningTarget(metric: .flops, share: share),
                                       policy: SelectionPolicy(criterion: .outIn, normalization: .perWeight))
        #expect(try schedule.plan(model).firstRound == selection.plan(steps: state.settings.steps))
    }

    @Test func theCommandCarriesTheRepairsAndTheData() throws {
        var description = Fixtures.description("convnet-s")
        description.path = "/my models/m.safetensors"
        description.dataArguments = ["--data", "/data/fashion", "--limit", "1000"]
        var state = ExplorerState(model: description, analysis: Fixtures.analysis(), size: Fixtures.small)
        Fixtures.press([">", ">"], on: &state)
        Fixtures.pruneAndEvaluate(&state)
        let id = try #require(state.results.current)
        state.send(.key("f"))
        state.send(.job(.finished(.fineTuned(model: id, EvaluationSummary(top1: 0.9, loss: 0.3, count: 100)))))
        let command = try #require(state.reproducingCommand())
        #expect(command.contains("oicsr prune '/my models/m.safetensors' --flops "))
        #expect(command.contains("--finetune-epochs 1 --lr 0.01 --data /data/fashion --limit 1000 --out '/my models/m-pruned-"))
    }
}
