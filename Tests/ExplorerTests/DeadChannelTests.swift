// Channels at exactly zero energy (a group lasso switched them off): the screen says how
// many there are and what they free, a switch that leaves the selection as it was says so
// and why, and the walk takes the dead channels that free the most FLOPs first.

import Canvas
import Engine
import Explorer
import Pruning
import Testing

@Suite("Dead channels and ties")
struct DeadChannelTests {
    static let deadCount = Fixtures.deadChannels.values.reduce(0) { $0 + $1.count }

    @Test func theWalkCountsTheDeadChannelsAndTakesThemFirst() throws {
        let state = Fixtures.deadState()
        let walk = try #require(state.walk)
        #expect(walk.deadCount == Self.deadCount)
        #expect(walk.deadCounts == [12, 10, 0, 20, 0])
        // The cap lets the walk take 12 of conv1 (16 allowed), 10 of conv2, 20 of conv4.
        #expect(walk.deadSteps == Self.deadCount)
        #expect(walk.selection.steps.prefix(walk.deadSteps).allSatisfy { $0.normalizedEnergy == 0 })
    }

    @Test func tiesGoToTheChannelsThatFreeTheMostFlopsFirst() throws {
        let walk = try #require(Fixtures.deadState().walk)
        // MACs one channel frees: conv2 339k (its 32-input filters at 28x28, conv3's input
        // at 14x14), conv1 233k (a one-input filter, conv2's input at 28x28), conv4 169k.
        let order = walk.selection.steps.prefix(walk.deadSteps).map(\.group)
        #expect(order == Array(repeating: 1, count: 10) + Array(repeating: 0, count: 12) + Array(repeating: 3, count: 20))
        // Within a layer, by index.
        #expect(walk.selection.steps.prefix(10).map(\.channel) == Array(0..<10))
    }

    @Test(arguments: [Fixtures.small, Fixtures.large])
    func theOverviewSaysHowManyAreDeadAndWhatTheyFree(size: Size) throws {
        let state = Fixtures.deadState(size: size)
        let walk = try #require(state.walk)
        let free = Format.percent(walk.selection.removedShare(after: walk.deadSteps), decimals: 1)
        let screen = ExplorerView.render(state, size: size).lines.joined(separator: "\n")
        #expect(screen.contains("dead: \(Self.deadCount) channels at zero energy; taking") && screen.contains("frees \(free) of the MACs"))
        assertSnapshot(ExplorerView.render(state, size: size), named: "overview-dead-channels-\(size)")
    }

    @Test func aSwitchInsideTheDeadChannelsSaysTheSelectionStaysAndWhy() throws {
        var state = Fixtures.deadState()
        Fixtures.press(["+", "+", "+"], on: &state)
        let before = try #require(state.walk).selection.plan(steps: state.settings.steps)
        #expect(state.settings.steps <= state.walk!.deadSteps)
        Fixtures.press(["n"], on: &state)
        #expect(state.walk?.selection.plan(steps: state.settings.steps) == before)
        let message = try #require(state.message?.text)
        #expect(message.contains("the same \(state.settings.steps) channels, all at zero energy"), "\(message)")
        #expect(message.contains("rankings differ past"))
        Fixtures.press(["i"], on: &state)
        #expect(state.message?.text.contains("all at zero energy") == true, "the criterion too")
        // The message fits the screen (two lines at most, whole words).
        let lines = ExplorerView.render(state, size: Fixtures.small).lines
        #expect(lines[20].contains("importance out") && !hasCutWord(lines), "\(lines.joined(separator: "\n"))")
    }

    @Test func aSwitchPastTheDeadChannelsThatChangesTheSelectionSaysSo() throws {
        var state = Fixtures.deadState()
        Fixtures.press(Array(repeating: ">", count: 4), on: &state)
        #expect(state.settings.steps > state.walk!.deadSteps)
        var changed = false
        for _ in 0..<3 {
            Fixtures.press(["n"], on: &state)
            let text = try #require(state.message?.text)
            if text.contains("the walk now takes") { changed = true }
            #expect(text.hasPrefix("normalisation "))
        }
        #expect(changed, "some normalisation selects other channels past the dead ones")
    }

    @Test func nothingSelectedYetIsSaidToo() {
        var state = Fixtures.deadState()
        Fixtures.press(["n"], on: &state)
        #expect(state.message?.text.contains("nothing selected yet") == true)
    }
}
