// Every key does something visible where it is offered, and says where it works when it
// does not: o sorts the overview, ←→ in the overview point to the layer view, g/G scroll
// the help, j scrolls the results. Then the conventions of htop, k9s and lazygit: / to
// filter, sortable columns, the mouse.

import Canvas
import Engine
import Explorer
import Pruning
import Testing

@Suite("Keys and the mouse")
struct KeysAndMouseTests {
    @Test func oSortsTheOverviewAndOrdersTheLayerView() {
        var state = Fixtures.state()
        Fixtures.press([">", ">", ">"], on: &state)
        #expect(state.rows == [0, 1, 2, 3, 4])
        Fixtures.press(["o"], on: &state)
        #expect(state.sort == .taken && state.order == .energy, "the overview's o leaves the layer view alone")
        #expect(state.rows.first == 4, "conv5, half taken, first")
        #expect(ExplorerView.render(state, size: state.size).lines[2].contains("by share taken"))
        #expect(ExplorerView.render(state, size: state.size).lines[3].contains("taken▼"))
        Fixtures.press(["o"], on: &state)
        #expect(state.sort == .freed && state.rows.first == 0, "conv1 frees the most")
        Fixtures.press(["o", "o", "o"], on: &state)
        #expect(state.sort == .model)
        Fixtures.press([.enter, "o"], on: &state)
        #expect(state.order == .index && state.sort == .model)
    }

    @Test func leftAndRightInTheOverviewSayWhereTheyWork() {
        var state = Fixtures.state()
        let before = state.channel
        Fixtures.press(["l"], on: &state)
        #expect(state.channel == before)
        #expect(state.message?.text.contains("layer view") == true)
    }

    @Test func gAndGScrollTheHelp() {
        var state = Fixtures.state()
        Fixtures.press(["?", "G"], on: &state)
        guard case .help(let scroll)? = state.overlay else {
            Issue.record("the help is open")
            return
        }
        #expect(scroll > 0)
        let screen = ExplorerView.render(state, size: state.size).lines.joined(separator: "\n")
        #expect(screen.contains("of \(ExplorerKeys.table.bindings.count) · j/k, g/G scroll"), "the footer says how to scroll")
        Fixtures.press(["g"], on: &state)
        #expect(state.overlay == .help(scroll: 0))
    }

    @Test func jScrollsTheResultsOnlyWhereTheyDoNotFit() {
        var small = Fixtures.state()
        Fixtures.press([">", ">", ">"], on: &small)
        Fixtures.pruneAndEvaluate(&small)
        #expect(small.resultsScrollable && small.resultsScroll == 0)
        Fixtures.press(["j", "j"], on: &small)
        #expect(small.resultsScroll == 2)
        #expect(ExplorerKeys.hints(for: small).bindings.contains { $0.label == "scroll" })

        var large = Fixtures.state(size: Size(width: 120, height: 60))
        Fixtures.press([">", ">", ">"], on: &large)
        Fixtures.pruneAndEvaluate(&large)
        #expect(!large.resultsScrollable)
        #expect(!ExplorerKeys.hints(for: large).bindings.contains { $0.action == .previousGroup }, "not offered")
        Fixtures.press(["j"], on: &large)
        #expect(large.message?.text == "the whole page is shown")
    }

    @Test func slashFiltersTheLayersAsYouType() throws {
        var state = Fixtures.state(.resnet56)
        Fixtures.press(["/", "l", "a", "y", "e", "r", "3", ".", "4"], on: &state)
        #expect(state.filterInput == "layer3.4")
        #expect(state.rows.map { state.groups[$0].name } == ["layer3.4.conv1"])
        #expect(state.groups[state.group].name == "layer3.4.conv1", "the cursor follows the filter")
        let typing = ExplorerView.render(state, size: state.size).lines
        #expect(typing.contains { $0.contains("filter: /layer3.4") })
        assertSnapshot(ExplorerView.render(state, size: state.size), named: "overview-filtering-80x24")
        Fixtures.press([.backspace, .backspace, .enter], on: &state)
        #expect(state.filterInput == nil && state.filter == "layer3")
        #expect(state.rows.count == 9)
        Fixtures.press(["G"], on: &state)
        #expect(state.groups[state.group].name == "layer3.8.conv1", "G goes to the last layer listed")
        Fixtures.press(["+"], on: &state)
        #expect(state.settings.target == 0.01, "keys work again")
        Fixtures.press([.escape], on: &state)
        #expect(state.filter.isEmpty && state.rows.count == state.groups.count)

        Fixtures.press(["/", "x", "y", "z", .enter], on: &state)
        #expect(state.rows.isEmpty && state.message?.kind == .warning)
        #expect(ExplorerView.render(state, size: state.size).lines.contains { $0.contains("no layer matches 'xyz'") })
    }

    @Test func bigListsJumpAndPage() {
        var state = Fixtures.state(.resnet56)
        let visible = ExplorerView.render(state, size: state.size).lines.filter { $0.contains("layer") && $0.contains(".conv1") }.count
        #expect(visible < state.groups.count, "27 layers do not fit at 80x24")
        Fixtures.press([.pageDown], on: &state)
        #expect(state.group == visible - 1)
        Fixtures.press(["G"], on: &state)
        #expect(state.group == state.groups.count - 1)
        let lines = ExplorerView.render(state, size: state.size).lines
        #expect(lines.contains { $0.contains("▸ layer3.8.conv1") }, "the cursor's row is in view")
        #expect(lines.contains { $0.contains("of 27 ↑") }, "the border says where the list is")
        Fixtures.press([.pageUp, .home], on: &state)
        #expect(state.group == 0)
    }

    @Test func theMouseClicksAndScrolls() throws {
        var state = Fixtures.state(size: Fixtures.large)
        let inner = state.layout.mainInner
        // A click on the third layer's row moves the cursor there; a second one opens it.
        state.send(.key(.mouse(Mouse(.press, x: inner.x + 3, y: inner.y + 3))))
        #expect(state.group == 2 && state.view == .overview)
        state.send(.key(.mouse(Mouse(.press, x: inner.x + 3, y: inner.y + 3))))
        #expect(state.view == .group)
        // A click on a bar puts the cursor on that channel.
        let chart = state.layout.layerParts.chart
        state.send(.key(.mouse(Mouse(.press, x: chart.x + 5, y: chart.y + 2))))
        #expect(state.channel == state.channelOrder[5 / state.layout.barWidth(channels: state.channelOrder.count)])
        // The wheel moves through the channels, three at a time.
        let position = state.channelOrder.firstIndex(of: state.channel)!
        state.send(.key(.mouse(Mouse(.wheelDown, x: chart.x, y: chart.y))))
        #expect(state.channelOrder.firstIndex(of: state.channel) == position + 3)
        // A click on a tab shows its view.
        let tabs = ExplorerView.render(state, size: state.size).lines[0]
        let results = try #require(tabs.range(of: "4 Results"))
        state.send(.key(.mouse(Mouse(.press, x: tabs.distance(from: tabs.startIndex, to: results.lowerBound), y: 0))))
        #expect(state.view == .results)
        // Back in the overview, a click on a column's title sorts by it.
        Fixtures.press(["1", ">", ">", ">"], on: &state)
        let header = ExplorerView.render(state, size: state.size).lines[3]
        let freed = try #require(header.range(of: "freed"))
        state.send(.key(.mouse(Mouse(.press, x: header.distance(from: header.startIndex, to: freed.lowerBound), y: inner.y))))
        #expect(state.sort == .freed)
        Fixtures.press(["g"], on: &state)
        state.send(.key(.mouse(Mouse(.wheelDown, x: inner.x, y: inner.y + 2))))
        #expect(state.rows.firstIndex(of: state.group) == 3, "the wheel moves three rows")
    }

    @Test func aClickOnAPrunedModelMakesItCurrent() {
        var state = Fixtures.state(size: Fixtures.large)
        Fixtures.press([">"], on: &state)
        Fixtures.pruneAndEvaluate(&state)
        Fixtures.press([">"], on: &state)
        Fixtures.pruneAndEvaluate(&state)
        #expect(state.results.models.count == 2 && state.results.current == 2)
        let lines = ExplorerView.render(state, size: state.size).lines
        let row = lines.firstIndex { $0.contains("#1 · ") && $0.contains("out-in") }!
        state.send(.key(.mouse(Mouse(.press, x: 5, y: row))))
        #expect(state.results.current == 1)
    }

    @Test func copyingGivesTheCommandLine() throws {
        var state = Fixtures.state()
        #expect(Fixtures.press(["y"], on: &state).isEmpty && state.message?.kind == .warning, "nothing selected")
        Fixtures.press([">", ">", ">"], on: &state)
        let effects = Fixtures.press(["y"], on: &state)
        let command = try #require(state.reproducingCommand())
        #expect(effects == [.copy(command)])
        #expect(state.message?.text == "copied: " + command)
    }
}
