import Canvas
// The explorer's commands and the one key table that dispatches them, draws the hint line
// and fills the help overlay. Table order is hint priority: what comes first is shown first
// when the line runs out of room.

/// Everything a key can ask of the explorer.
public enum Command: Hashable, Sendable {
    case quit, help, nextView, openGroup, showResults, back
    case previousGroup, nextGroup, previousChannel, nextChannel, first, last
    case targetUp, targetDown, targetUpLarge, targetDownLarge
    case stepForward, stepBack
    case cycleNormalization, cycleCriterion, toggleCoupled, toggleOrder
    case undo, redo
    case prune, evaluate, reestimate, fineTune, save
}

public enum ExplorerKeys {
    /// Small and large moves of the target, in percentage points of FLOPs.
    public static let smallTargetStep = 1
    public static let largeTargetStep = 10

    public static let table: KeyTable<Command> = [
        KeyBinding(["q", .interrupt], label: "quit", help: "quit (asks first if the pruned model is unsaved)", action: .quit),
        KeyBinding(["?"], label: "help", help: "this help", action: .help),
        KeyBinding([.up, "k"], label: "layer", help: "previous layer", action: .previousGroup, hintKeys: "↑↓"),
        KeyBinding([.down, "j"], label: "", help: "next layer", action: .nextGroup),
        KeyBinding([.left, "h"], label: "channel", help: "previous channel (layer view)", action: .previousChannel, hintKeys: "←→"),
        KeyBinding([.right, "l"], label: "", help: "next channel (layer view)", action: .nextChannel),
        KeyBinding([.enter], label: "open", help: "open the layer under the cursor", action: .openGroup),
        KeyBinding(["+", "="], label: "target", help: "target +\(smallTargetStep)% of FLOPs", action: .targetUp, hintKeys: "+-"),
        KeyBinding(["-"], label: "", help: "target -\(smallTargetStep)% of FLOPs", action: .targetDown),
        KeyBinding(["]"], label: "step", help: "step the greedy walk forward one channel", action: .stepForward, hintKeys: "[]"),
        KeyBinding(["["], label: "", help: "step the greedy walk back one channel", action: .stepBack),
        KeyBinding(["p"], label: "prune", help: "prune: build the smaller model (background job)", action: .prune),
        KeyBinding(["e"], label: "eval", help: "evaluate dense and pruned: accuracy, latency, throughput", action: .evaluate),
        KeyBinding(["n"], label: "norm", help: "next energy normalisation", action: .cycleNormalization),
        KeyBinding(["f"], label: "tune", help: "fine-tune the pruned model one epoch (lr 0.01, cosine)", action: .fineTune),
        KeyBinding(["b"], label: "BN", help: "re-estimate BatchNorm statistics of the pruned model", action: .reestimate),
        KeyBinding(["s"], label: "save", help: "save the pruned model next to the source", action: .save),
        KeyBinding(["u"], label: "undo", help: "undo the last change to the selection", action: .undo),
        KeyBinding([.control("r"), "U"], label: "redo", help: "redo", action: .redo),
        KeyBinding([.tab], label: "view", help: "next view: overview, layer, results", action: .nextView),
        KeyBinding(["r"], label: "results", help: "before/after results", action: .showResults),
        KeyBinding([">"], label: "±10%", help: "target +\(largeTargetStep)% of FLOPs", action: .targetUpLarge, hintKeys: "<>"),
        KeyBinding(["<"], label: "", help: "target -\(largeTargetStep)% of FLOPs", action: .targetDownLarge),
        KeyBinding(["i"], label: "criterion", help: "next importance criterion (out-in, out, bn-scale)", action: .cycleCriterion),
        KeyBinding(["c"], label: "coupled", help: "also prune residual channels coupled across a stage", action: .toggleCoupled),
        KeyBinding(["o"], label: "order", help: "order channels by energy or by index (layer view)", action: .toggleOrder),
        KeyBinding([.home, "g"], label: "", help: "first layer / channel", action: .first),
        KeyBinding([.end, "G"], label: "", help: "last layer / channel", action: .last),
        KeyBinding([.escape], label: "", help: "cancel the running job; close; back to the overview", action: .back),
    ]

    /// The keys of the first run's training screen, where there is nothing else to do.
    public static let training: KeyTable<Command> = [
        KeyBinding([.escape], label: "cancel and quit", help: "stop training and quit; nothing is cached", action: .back),
        KeyBinding(["q", .interrupt], label: "quit", action: .quit),
    ]

    /// The bindings worth a hint in `view`: moving between channels only where there are
    /// channels, opening a layer only from the overview, coupling only where it exists.
    public static func hints(for view: ExplorerState.View, hasCoupled: Bool) -> KeyTable<Command> {
        KeyTable(table.bindings.filter { binding in
            switch binding.action {
            case .previousChannel, .nextChannel, .toggleOrder: view == .group
            case .openGroup: view == .overview
            case .previousGroup, .nextGroup: view != .results
            case .toggleCoupled: hasCoupled
            default: true
            }
        })
    }
}
