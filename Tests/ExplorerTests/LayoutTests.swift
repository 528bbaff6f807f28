// What the screen shows at 80x24 and 120x40: no information lost (panels and lists scroll
// and say so), no word cut where a shorter wording fits, the key hints of the view on one
// or two lines, a FLOPs column that adds up, histograms with an axis and a zero column,
// and a layer view that says which channels it shows.

import Canvas
import Engine
import Explorer
import Pruning
import Testing

@Suite("Layout at 80x24 and 120x40")
struct LayoutTests {
    static let sizes = [Fixtures.small, Fixtures.large]

    /// Every view of convnet-s and resnet56 in a state with something to show.
    static func everyView(_ builtIn: BuiltInModel, size: Size) -> [(String, ExplorerState)] {
        var state = Fixtures.state(builtIn, size: size)
        Fixtures.press([">", ">", ">"], on: &state)
        Fixtures.pruneAndEvaluate(&state)
        state.send(.job(.finished(.sensitivity(Fixtures.sensitivity(for: state)))))
        var views: [(String, ExplorerState)] = []
        for (key, name) in [("1", "overview"), ("2", "layer"), ("3", "sensitivity"), ("4", "results")] as [(Key, String)] {
            Fixtures.press([key], on: &state)
            views.append((name, state))
        }
        var help = state
        Fixtures.press(["?"], on: &help)
        views.append(("help", help))
        return views
    }

    @Test(arguments: sizes) func noWordIsCutAnywhere(size: Size) {
        for builtIn in [BuiltInModel.convnetS, .resnet56] {
            for (name, state) in Self.everyView(builtIn, size: size) {
                let lines = ExplorerView.render(state, size: size).lines
                #expect(!hasCutWord(lines), "\(builtIn.rawValue) \(name) at \(size):\n\(lines.joined(separator: "\n"))")
            }
        }
    }

    @Test(arguments: sizes) func everyHintOfTheViewIsShown(size: Size) {
        for builtIn in [BuiltInModel.convnetS, .resnet56] {
            for (name, state) in Self.everyView(builtIn, size: size) where state.overlay == nil {
                let lines = ExplorerView.render(state, size: size).lines
                let hints = lines.suffix(2).joined(separator: " ")
                for binding in ExplorerKeys.hints(for: state).bindings where !binding.label.isEmpty {
                    #expect(hints.contains("\(binding.hintKeyText) \(binding.label)"), "\(name) at \(size): \(binding.label)")
                }
            }
        }
    }

    @Test func hintsFollowTheViewAndWhatCanBeDone() {
        var state = Fixtures.state()
        func labels() -> [String] { ExplorerKeys.hints(for: state).bindings.map(\.label) }
        #expect(!labels().contains("save") && !labels().contains("tune") && !labels().contains("channel"))
        #expect(!labels().contains("undo"), "nothing to undo yet")
        Fixtures.press([">"], on: &state)
        #expect(labels().contains("undo") && labels().contains("copy"))
        Fixtures.press([.enter], on: &state)
        #expect(labels().contains("channel") && labels().contains("order") && !labels().contains("open"))
        Fixtures.pruneAndEvaluate(&state)
        #expect(labels().contains("save") && labels().contains("tune") && labels().contains("BN"))
        #expect(!labels().contains("sort") && !labels().contains("filter"), "no list in the results")
    }

    @Test func resnet56ResultsScrollToEveryLayersWidth() throws {
        var state = Fixtures.state(.resnet56, size: Fixtures.small)
        Fixtures.press([">", ">", ">"], on: &state)
        Fixtures.pruneAndEvaluate(&state)
        #expect(state.view == .results && state.resultsScrollable)
        var seen = Set<String>()
        for _ in 0..<60 {
            seen.formUnion(ExplorerView.render(state, size: state.size).lines)
            Fixtures.press(["j"], on: &state)
        }
        let text = seen.joined(separator: "\n")
        for group in state.groups {
            #expect(text.contains(group.name + " "), "the widths list reaches \(group.name)")
        }
        #expect(text.contains("oicsr prune"), "and the command line under it")
        let bottom = ExplorerView.render(state, size: state.size).lines.joined(separator: "\n")
        #expect(bottom.contains("of \(state.resultsLineCount)") && bottom.contains("↑"))
        Fixtures.press(["g"], on: &state)
        #expect(ExplorerView.render(state, size: state.size).lines[3].contains("Pruned models"))
        assertSnapshot(ExplorerView.render(state, size: state.size), named: "results-resnet56-80x24")
    }

    @Test func panelsThatDoNotFitSaySo() {
        var state = Fixtures.deadState()
        Fixtures.press([">", "n"], on: &state)
        let lines = ExplorerView.render(state, size: Fixtures.small).lines
        #expect(lines.contains { $0.contains("+2 more") || $0.contains("+1 more") }, "\(lines.joined(separator: "\n"))")
    }

    @Test(arguments: sizes) func noBlankBlockInTheOverviewOrTheLayerView(size: Size) {
        for builtIn in [BuiltInModel.convnetS, .resnet56] {
            for (name, state) in Self.everyView(builtIn, size: size) where name == "overview" || name == "layer" {
                let lines = ExplorerView.render(state, size: size).lines
                // A run of 4 or more rows with nothing but borders, across the whole width.
                var run = 0, longest = 0
                for line in lines {
                    let blank = line.allSatisfy { " │".contains($0) }
                    run = blank ? run + 1 : 0
                    longest = max(longest, run)
                }
                #expect(longest < 4, "\(builtIn.rawValue) \(name) at \(size):\n\(lines.joined(separator: "\n"))")
            }
        }
    }

    @Test func theFreedColumnAddsUpToTheTotal() throws {
        for builtIn in [BuiltInModel.convnetS, .resnet20, .resnet56] {
            var state = Fixtures.state(builtIn)
            Fixtures.press([">", ">", ">", "+", "+"], on: &state)
            let walk = try #require(state.walk)
            let sum = state.groups.indices.reduce(0) { $0 + walk.freedShare(group: $1, steps: state.settings.steps) }
            #expect(abs(sum - state.removedShare) < 1e-12, "\(builtIn.rawValue): \(sum) against \(state.removedShare)")
        }
        var state = Fixtures.state()
        Fixtures.press([">", ">", ">"], on: &state)
        let lines = ExplorerView.render(state, size: Fixtures.small).lines
        let total = try #require(lines.first { $0.contains("│  all ") })
        #expect(total.contains(Format.percent(state.removedShare, decimals: 1)), "the total row: \(total)")
        #expect(lines[3].contains("freed"))
    }

    @Test func histogramsHaveAnAxisAZeroColumnAndALegend() throws {
        let state = Fixtures.deadState()
        let lines = ExplorerView.render(state, size: Fixtures.small).lines
        let walk = try #require(state.walk)
        let positive = walk.normalized.joined().filter { $0 > 0 }
        let axis = try #require(lines.first { $0.contains("× taken · kept") })
        #expect(axis.contains(" 0 " + Format.significant(positive.min()!)) && axis.contains(Format.significant(positive.max()!)))
        #expect(lines.contains { $0.contains("red: some taken · yellow: at the 50% cap") })
        // conv1 has 12 dead channels: its strip starts with the zero column, then a gap.
        let conv1 = try #require(lines.first { $0.contains("conv1 ") })
        let column = try #require(lines[3].range(of: "energy, log")).lowerBound
        let strip = Array(conv1)[lines[3].distance(from: lines[3].startIndex, to: column)...]
        #expect(strip.first != " " && strip.dropFirst().first == " ", "\(conv1)")

        let distribution = Distribution(values: [0, 0, 0, 1e-3, 1e-2, 1e-1], separatesZeros: true)
        var grid = Grid(width: 6, height: 1)
        grid.render(distribution, in: grid.bounds)
        #expect(grid.lines == ["█ ▃▃▃▃"] || grid.lines[0].first == "█", "\(grid.lines)")
        #expect(distribution.zeroCount == 3 && distribution.counts(bins: 4).reduce(0, +) == 3, "zeros are not on the log scale")
    }

    @Test func theLayerViewSaysWhichChannelsItShowsAndStartsOnTheLeft() throws {
        var state = Fixtures.state()
        Fixtures.press(["G", .enter], on: &state)
        #expect(state.channel == state.channelOrder.first, "the cursor is on the leftmost bar")
        var lines = ExplorerView.render(state, size: Fixtures.small).lines
        #expect(lines.contains { $0.contains("1-78 of 128 ▸") })
        Fixtures.press(["G"], on: &state)
        lines = ExplorerView.render(state, size: Fixtures.small).lines
        #expect(lines.contains { $0.contains("◂ 51-128 of 128") })
        #expect(!lines.joined().contains("· ·"), "no doubled dot")
        #expect(lines.contains { $0.contains("kept until step") || $0.contains("kept: the cap") || $0.contains("taken at step") })

        var fresh = Fixtures.state()
        Fixtures.press([.enter], on: &fresh)
        #expect(fresh.channel == fresh.channelOrder.first, "also on the first layer, straight after opening")
    }
}
