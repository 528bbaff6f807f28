import Canvas
// The explorer's commands and the one key table that dispatches them, draws the hint line
// and fills the help overlay. Table order is hint priority: what comes first is shown first
// when the line runs out of room. Which hints show depends on the view and on what can be
// done now (no "save" without an unsaved pruned model), so every hint has a visible effect.

public enum ExplorerKeys {
    /// Small and large moves of the target, in percentage points of FLOPs.
    public static let smallTargetStep = 1
    public static let largeTargetStep = 10

    public static let table: KeyTable<Command> = [
        KeyBinding(["q", .interrupt], label: "quit", help: "quit (asks first if a pruned model is unsaved)", action: .quit),
        KeyBinding(["?"], label: "help", help: "this help", action: .help),
        KeyBinding([.up, "k"], label: "layer", help: "previous layer; scroll up (results, help)", action: .previousGroup, hintKeys: "↑↓"),
        KeyBinding([.down, "j"], label: "", help: "next layer; scroll down (results, help)", action: .nextGroup),
        KeyBinding([.left, "h"], label: "channel", help: "previous channel (layer view)", action: .previousChannel, hintKeys: "←→"),
        KeyBinding([.right, "l"], label: "", help: "next channel (layer view)", action: .nextChannel),
        KeyBinding([.enter], label: "open", help: "open the layer under the cursor", action: .openGroup),
        KeyBinding(["+", "="], label: "target", help: "target +\(smallTargetStep)% of FLOPs", action: .targetUp, hintKeys: "+-<>"),
        KeyBinding(["-"], label: "", help: "target -\(smallTargetStep)% of FLOPs", action: .targetDown),
        KeyBinding([">"], label: "", help: "target +\(largeTargetStep)% of FLOPs", action: .targetUpLarge),
        KeyBinding(["<"], label: "", help: "target -\(largeTargetStep)% of FLOPs", action: .targetDownLarge),
        KeyBinding(["]"], label: "step", help: "step the greedy walk forward one channel", action: .stepForward, hintKeys: "[]"),
        KeyBinding(["["], label: "", help: "step the greedy walk back one channel", action: .stepBack),
        KeyBinding(["p"], label: "prune", help: "prune the selection into a smaller model", action: .prune),
        KeyBinding(["e"], label: "eval", help: "evaluate: accuracy, latency, throughput", action: .evaluate),
        KeyBinding(["b"], label: "BN", help: "re-estimate BatchNorm statistics of the pruned model", action: .reestimate),
        KeyBinding(["f"], label: "tune", help: "fine-tune the pruned model 1 epoch (lr 0.01, cosine)", action: .fineTune),
        KeyBinding(["s"], label: "save", help: "save the pruned model next to the source", action: .save),
        KeyBinding(["m"], label: "model", help: "next of the session's pruned models", action: .nextModel, hintKeys: "mM"),
        KeyBinding(["M"], label: "", help: "previous of the session's pruned models", action: .previousModel),
        KeyBinding(["n"], label: "norm", help: "next energy normalisation", action: .cycleNormalization),
        KeyBinding(["N"], label: "", help: "rank by what keeps the most top-1 once pruned",
                   action: .calibrate),
        KeyBinding(["i"], label: "criterion", help: "next importance criterion (out-in, out, bn-scale)", action: .cycleCriterion),
        KeyBinding(["c"], label: "coupled", help: "also prune residual channels coupled across a stage", action: .toggleCoupled),
        KeyBinding(["o"], label: "sort", help: "sort layers by a column; channels by energy/index", action: .toggleOrder),
        KeyBinding(["/"], label: "filter", help: "filter the layers by name (Enter keeps, Esc clears)", action: .filter),
        KeyBinding(["a"], label: "analyse", help: "measure top-1 per layer and along the walk (cached)", action: .analyseSensitivity),
        KeyBinding(["y"], label: "copy", help: "copy the command line that reproduces the selection", action: .copyCommand),
        KeyBinding(["u"], label: "undo", help: "undo the last change to the selection", action: .undo),
        KeyBinding([.control("r"), "U"], label: "redo", help: "redo", action: .redo),
        KeyBinding([.tab], label: "view", help: "next view", action: .nextView),
        KeyBinding([.backTab], label: "", help: "previous view", action: .previousView),
        KeyBinding(["r"], label: "", help: "results: before/after of the pruned models", action: .showResults),
        KeyBinding(["1"], label: "", help: "overview", action: .show(.overview)),
        KeyBinding(["2"], label: "", help: "layer view", action: .show(.group)),
        KeyBinding(["3"], label: "", help: "sensitivity view", action: .show(.sensitivity)),
        KeyBinding(["4"], label: "", help: "results view", action: .show(.results)),
        KeyBinding(["5"], label: "", help: "comparison view (with --compare)", action: .show(.compare)),
        KeyBinding([.pageUp], label: "", help: "a page up", action: .pageUp),
        KeyBinding([.pageDown, " "], label: "", help: "a page down", action: .pageDown),
        KeyBinding([.home, "g"], label: "", help: "first layer / channel / line", action: .first),
        KeyBinding([.end, "G"], label: "", help: "last layer / channel / line", action: .last),
        KeyBinding([.escape], label: "", help: "cancel the job; clear the filter; back to overview", action: .back),
    ]

    /// The keys of the first run's training screen, where there is nothing else to do.
    public static let training: KeyTable<Command> = [
        KeyBinding([.escape], label: "cancel and quit", help: "stop training and quit; nothing is cached", action: .back),
        KeyBinding(["q", .interrupt], label: "quit", action: .quit),
    ]

    /// The keys while typing a filter.
    public static let filtering: KeyTable<Command> = [
        KeyBinding([.enter], label: "keep filter", action: .openGroup),
        KeyBinding([.escape], label: "clear", action: .back),
        KeyBinding([.backspace], label: "delete", action: .back),
    ]

    /// The bindings worth a hint now: each does something visible in this view and state.
    /// `resultsScrollable` overrides whether the results page scrolls (the layout asks
    /// before it knows).
    public static func hints(for state: ExplorerState, resultsScrollable: Bool? = nil) -> KeyTable<Command> {
        if state.filterInput != nil { return filtering }
        let view = state.view
        let lists = view == .overview || view == .sensitivity || view == .compare
        let pruned = state.results.pruned
        return KeyTable(table.bindings.compactMap { binding -> KeyBinding<Command>? in
            var shown = binding
            switch binding.action {
            case .previousGroup:
                if view == .results {
                    guard resultsScrollable ?? state.resultsScrollable else { return nil }
                    shown.label = "scroll"
                }
            case .nextGroup: break
            case .previousChannel, .nextChannel: guard view == .group else { return nil }
            case .openGroup: guard lists, !state.rows.isEmpty else { return nil }
            case .reestimate, .fineTune: guard pruned != nil else { return nil }
            case .save: guard pruned.map({ !$0.isSaved }) ?? false else { return nil }
            case .nextModel: guard state.results.models.count > 1 else { return nil }
            case .toggleCoupled: guard state.hasCoupledChannels else { return nil }
            case .toggleOrder:
                guard view != .results else { return nil }
                if view == .group { shown.label = "order" }
            case .filter: guard lists else { return nil }
            case .analyseSensitivity: guard !state.isSensitivityComplete, state.job?.kind != .sensitivity else { return nil }
            case .copyCommand: guard state.settings.steps > 0 else { return nil }
            case .undo: guard state.canUndo else { return nil }
            case .redo: guard state.canRedo else { return nil }
            case .showResults: guard view != .results else { return nil }
            default: break
            }
            return shown
        })
    }
}
