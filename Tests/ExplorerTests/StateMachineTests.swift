// The state machine driven by key sequences, as a user would: moving, moving the target,
// stepping the walk, switching the normalisation, undo and redo, jobs, quitting, resizing.

import Engine
import Canvas
import Explorer
import Pruning
import Testing

@Suite("Explorer state machine")
struct StateMachineTests {
    @Test func movesBetweenLayersAndViews() {
        var state = Fixtures.state()
        let groups = state.groups.count
        Fixtures.press(["j", .down, "j"], on: &state)
        #expect(state.group == 3)
        Fixtures.press(Array(repeating: "j", count: 10), on: &state)
        #expect(state.group == groups - 1, "stops at the last layer")
        Fixtures.press(["k", .up], on: &state)
        #expect(state.group == groups - 3)
        Fixtures.press(["g"], on: &state)
        #expect(state.group == 0)

        Fixtures.press([.enter], on: &state)
        #expect(state.view == .group)
        let first = state.channel
        Fixtures.press(["l", .right], on: &state)
        #expect(state.channel == state.channelOrder[2] && state.channel != first)
        Fixtures.press(["o"], on: &state)
        #expect(state.order == .index && state.channelOrder == Array(0..<32))
        Fixtures.press(["G"], on: &state)
        #expect(state.channel == 31)
        Fixtures.press([.tab], on: &state)
        #expect(state.view == .sensitivity)
        Fixtures.press([.tab, .tab], on: &state)
        #expect(state.view == .overview, "no comparison view without --compare")
        Fixtures.press(["r", .escape], on: &state)
        #expect(state.view == .overview)
    }

    @Test func targetMovesInSmallAndLargeStepsAndTheSelectionFollows() throws {
        var state = Fixtures.state()
        #expect(state.settings.steps == 0)
        Fixtures.press(["+"], on: &state)
        #expect(state.settings.target == 0.01)
        let selection = try #require(state.walk?.selection)
        #expect(state.settings.steps == selection.stepCount(toReach: 0.01))
        #expect(state.removedShare >= 0.01)

        Fixtures.press([">", ">"], on: &state)
        #expect(abs(state.settings.target - 0.21) < 1e-12)
        #expect(state.settings.steps == selection.stepCount(toReach: 0.21))
        Fixtures.press(["<", "-"], on: &state)
        #expect(abs(state.settings.target - 0.10) < 1e-12)
        #expect(state.removedShare >= 0.10 && selection.removedShare(after: state.settings.steps - 1) < 0.10)
        Fixtures.press(Array(repeating: "<", count: 3), on: &state)
        #expect(state.settings.target == 0 && state.settings.steps == 0)
        #expect(state.message?.kind == .warning, "already at 0%")
    }

    @Test func anUnreachableTargetSaysHowFarTheWalkGoes() throws {
        var state = Fixtures.state()
        Fixtures.press(Array(repeating: ">", count: 9), on: &state)
        let selection = try #require(state.walk?.selection)
        #expect(state.isTargetUnreachable)
        #expect(state.settings.steps == selection.steps.count)
        let message = try #require(state.message)
        #expect(message.kind == .warning && message.text.contains("out of reach"))
        #expect(ExplorerView.render(state, size: state.size).lines[1].contains("stops at"))
    }

    @Test func steppingTakesOneChannelAtATimeAndTheTargetFollows() throws {
        var state = Fixtures.state()
        let walk = try #require(state.walk)
        Fixtures.press(["]", "]", "]"], on: &state)
        #expect(state.settings.steps == 3)
        #expect(state.settings.target == walk.selection.removedShare(after: 3))
        let third = walk.selection.steps[2]
        #expect(state.group == third.group && state.channel == third.channel, "the cursor follows the walk")
        let screen = ExplorerView.render(state, size: state.size).lines.joined(separator: "\n")
        #expect(screen.contains("step 3: \(state.groups[third.group].name) #\(third.channel) went"))

        Fixtures.press(["["], on: &state)
        #expect(state.settings.steps == 2)
        #expect(state.message?.text.contains("kept again") == true)
        Fixtures.press(["[", "[", "["], on: &state)
        #expect(state.settings.steps == 0)
        #expect(state.message?.text.contains("start of the walk") == true)
    }

    @Test func switchingTheNormalisationChangesTheSelection() throws {
        var state = Fixtures.state()
        Fixtures.press([">", ">", ">"], on: &state)
        #expect(state.settings.normalization == .standard)
        let before = try #require(state.walk).selection.plan(steps: state.settings.steps)
        var plans: [EnergyNormalization: PruningPlan] = [state.settings.normalization: before]
        for _ in 1..<EnergyNormalization.allCases.count {
            Fixtures.press(["n"], on: &state)
            let walk = try #require(state.walk)
            #expect(walk.key.normalization == state.settings.normalization)
            #expect(abs(state.settings.target - 0.30) < 1e-12, "the target stays")
            #expect(state.removedShare >= 0.30)
            plans[state.settings.normalization] = walk.selection.plan(steps: state.settings.steps)
        }
        #expect(plans.count == EnergyNormalization.allCases.count)
        #expect(Set(plans.values.map(\.removed)).count > 1, "some normalisation selects other channels")
        Fixtures.press(["n"], on: &state)
        #expect(state.settings.normalization == .standard)
        #expect(state.walk?.selection.plan(steps: state.settings.steps) == before)
    }

    @Test func criterionCyclesAndStartsAtTheOneMatchingTheTraining() {
        var state = Fixtures.state()
        #expect(state.settings.criterion == .outIn)
        Fixtures.press(["i"], on: &state)
        #expect(state.settings.criterion == .outChannel)
        #expect(state.walk?.key.criterion == .outChannel)
    }

    @Test func undoAndRedoRestoreTheSelection() {
        var state = Fixtures.state()
        Fixtures.press(["+", "+", "n", "]"], on: &state)
        let last = state.settings
        Fixtures.press(["u"], on: &state)
        #expect(state.settings.normalization != .standard && state.settings.steps == last.steps - 1)
        Fixtures.press(["u", "u"], on: &state)
        #expect(state.settings.target == 0.01 && state.settings.normalization == .standard)
        Fixtures.press(["u", "u"], on: &state)
        #expect(state.settings.steps == 0)
        #expect(state.message?.text == "nothing to undo")
        Fixtures.press(Array(repeating: .control("r"), count: 4), on: &state)
        #expect(state.settings == last)
        Fixtures.press(["u", "+"], on: &state)
        #expect(!state.canRedo, "a new change forgets the redo history")
    }

    @Test func coupledChannelsOnlyWhereTheyExist() {
        var convnet = Fixtures.state()
        Fixtures.press(["c"], on: &convnet)
        #expect(!convnet.settings.coupled && convnet.message?.kind == .warning)

        var resnet = Fixtures.state(.resnet20)
        let plain = resnet.groups.count
        Fixtures.press(["c"], on: &resnet)
        #expect(resnet.settings.coupled && resnet.groups.count > plain)
        #expect(resnet.groups.contains { $0.isCoupled })
    }

    @Test func jobsRunOneAtATimeWhileKeysStillAnswer() throws {
        var state = Fixtures.state()
        #expect(Fixtures.press(["p"], on: &state).isEmpty, "nothing selected, nothing to prune")
        Fixtures.press([">", ">"], on: &state)
        let effects = Fixtures.press(["p"], on: &state)
        guard case .start(.prune(let plan, let settings, _, _))? = effects.first, !settings.coupled else {
            Issue.record("expected a prune job, got \(effects)")
            return
        }
        #expect(plan == state.walk?.selection.plan(steps: state.settings.steps))
        #expect(state.job?.kind == .prune)

        // The UI keeps answering: moving and changing the target work, another job waits.
        Fixtures.press(["j", "+"], on: &state)
        #expect(state.group == 1 && abs(state.settings.target - 0.21) < 1e-12)
        #expect(Fixtures.press(["e"], on: &state).isEmpty)
        #expect(state.message?.text.contains("pruning is running") == true)
        #expect(Fixtures.press([.escape], on: &state) == [.cancelJob])
        state.send(.job(.cancelled))
        #expect(state.job == nil && state.results.pruned == nil)
        #expect(state.message?.text == "pruning cancelled")
    }

    @Test func jobResultsFillTheBeforeAfterRows() throws {
        var state = Fixtures.state()
        Fixtures.press([">", ">", ">"], on: &state)
        Fixtures.pruneAndEvaluate(&state)
        let pruned = try #require(state.results.pruned)
        #expect(pruned.afterPruning?.top1 == 0.8402 && pruned.speed != nil)
        #expect(state.results.dense == Fixtures.dense)

        let id = pruned.id
        #expect(Fixtures.press(["b"], on: &state) == [.start(.reestimateBatchNorm(model: id))])
        state.send(.job(.finished(.reestimated(model: id, EvaluationSummary(top1: 0.88, loss: 0.33, count: 10_000)))))
        #expect(Fixtures.press(["f"], on: &state) == [.start(.fineTune(model: id))])
        state.send(.job(.finished(.fineTuned(model: id, EvaluationSummary(top1: 0.905, loss: 0.27, count: 10_000)))))
        #expect(state.results.pruned?.stage == .fineTuned && state.results.pruned?.latest?.top1 == 0.905)

        guard case .start(.save(let facts, _))? = Fixtures.press(["s"], on: &state).first else {
            Issue.record("expected a save job")
            return
        }
        #expect(facts.metrics["top1"] == 0.905 && facts.removedShare == state.removedShare)
        state.send(.job(.finished(.saved(model: id, path: "/models/convnet-s-pruned-30.safetensors"))))
        #expect(state.results.pruned?.isSaved == true && !state.hasUnsavedWork)
        #expect(Fixtures.press(["s"], on: &state).isEmpty, "saved already")

        let screen = ExplorerView.render(state, size: Fixtures.large).lines.joined(separator: "\n")
        for text in ["91.2%", "84.0%", "88.0%", "90.5%", "0.512 ms", "0.384 ms", "12.3k"] {
            #expect(screen.contains(text), "the results panel shows \(text)")
        }
    }

    @Test func quitAsksOnlyWhenAPrunedModelIsUnsaved() {
        var clean = Fixtures.state()
        #expect(Fixtures.press(["q"], on: &clean) == [.quit])
        #expect(clean.isFinished)

        var interrupted = Fixtures.state()
        #expect(Fixtures.press([.interrupt], on: &interrupted) == [.quit], "Ctrl-C quits like q")

        var unsaved = Fixtures.state()
        Fixtures.press([">"], on: &unsaved)
        Fixtures.pruneAndEvaluate(&unsaved)
        #expect(Fixtures.press(["q"], on: &unsaved).isEmpty)
        guard case .confirmQuit(let reason)? = unsaved.overlay else {
            Issue.record("expected the quit question, got \(String(describing: unsaved.overlay))")
            return
        }
        #expect(reason.hasPrefix("Pruned model #1 · ") && reason.hasSuffix("is not saved. Quit anyway?") && !unsaved.isFinished)
        Fixtures.press(["n"], on: &unsaved)
        #expect(unsaved.overlay == nil && !unsaved.isFinished)
        Fixtures.press([.interrupt], on: &unsaved)
        #expect(unsaved.overlay != nil, "Ctrl-C asks too")
        #expect(Fixtures.press(["y"], on: &unsaved) == [.quit])
        #expect(unsaved.isFinished)
    }

    @Test func quittingDuringAJobCancelsIt() {
        var state = Fixtures.state()
        Fixtures.press(["e"], on: &state)
        #expect(state.job?.kind == .evaluate)
        #expect(Fixtures.press(["q"], on: &state) == [.cancelJob, .quit])
    }

    @Test func helpOpensClosesAndScrolls() {
        var state = Fixtures.state()
        Fixtures.press(["?"], on: &state)
        #expect(state.overlay == .help(scroll: 0))
        Fixtures.press(["+"], on: &state)
        #expect(state.settings.target == 0, "the overlay takes the keys")
        Fixtures.press(["j", "j"], on: &state)
        #expect(state.overlay == .help(scroll: 2))
        let screen = ExplorerView.render(state, size: state.size).lines.joined(separator: "\n")
        #expect(screen.contains("3-"), "the footer says which rows are shown")
        Fixtures.press([.escape], on: &state)
        #expect(state.overlay == nil)
    }

    @Test func helpAndHintsComeFromTheSameKeyTable() {
        let state = Fixtures.state(size: Size(width: 200, height: 60))
        let lines = ExplorerView.render(state, size: state.size).lines
        let hints = lines[lines.count - 1]
        for binding in ExplorerKeys.hints(for: state).bindings where !binding.label.isEmpty {
            #expect(hints.contains("\(binding.hintKeyText) \(binding.label)"), "hint for \(binding.label)")
        }
        var help = state
        Fixtures.press(["?"], on: &help)
        let screen = ExplorerView.render(help, size: help.size).lines.joined(separator: "\n")
        for binding in ExplorerKeys.table.bindings {
            #expect(screen.contains(binding.help), "help lists \(binding.help)")
        }
    }

    @Test func tooSmallStillQuitsAndComesBack() {
        var state = Fixtures.state()
        state.send(.resize(Size(width: 70, height: 20)))
        #expect(ExplorerView.render(state, size: state.size).lines.contains { $0.contains("Terminal too small") })
        Fixtures.press(["+", "j"], on: &state)
        #expect(state.settings.target == 0 && state.group == 0, "keys wait for a usable size")
        state.send(.resize(Fixtures.small))
        #expect(ExplorerView.render(state, size: state.size).lines[0].contains("oicsr"))
        state.send(.resize(Size(width: 80, height: 10)))
        #expect(Fixtures.press(["q"], on: &state) == [.quit])
    }

    @Test func trainingScreenCancelsToQuit() {
        var state = ExplorerState(training: Fixtures.description("convnet-s"), size: Fixtures.small)
        #expect(state.job?.kind == .train)
        Fixtures.press(["+", "p"], on: &state)
        #expect(state.phase == .training)
        #expect(Fixtures.press([.escape], on: &state) == [.cancelJob])
        #expect(state.send(.job(.cancelled)) == [.quit])
        #expect(state.isFinished)
    }

    @Test func trainedModelOpensTheOverview() {
        var state = ExplorerState(training: Fixtures.description("convnet-s"), size: Fixtures.small)
        state.send(.job(.finished(.trained(analysis: Fixtures.analysis(), model: Fixtures.description("convnet-s"),
                                           evaluation: Fixtures.dense))))
        #expect(state.phase == .exploring && state.walk != nil && state.results.dense == Fixtures.dense)
        Fixtures.press(["+"], on: &state)
        #expect(state.settings.steps > 0)
    }

    @Test func failedJobsShowAMessageAndTheExplorerGoesOn() {
        var state = Fixtures.state()
        Fixtures.press(["e"], on: &state)
        state.send(.job(.failed("disk full")))
        #expect(state.job == nil && state.message == .init(.error, "evaluating failed: disk full"))
        Fixtures.press(["+"], on: &state)
        #expect(state.settings.target == 0.01)
    }
}
