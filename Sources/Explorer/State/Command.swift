import Canvas

/// Everything a key can ask of the explorer.
public enum Command: Hashable, Sendable {
    case quit, help, nextView, previousView, openGroup, showResults, show(ExplorerState.View), back
    case previousGroup, nextGroup, previousChannel, nextChannel, first, last, pageUp, pageDown
    case targetUp, targetDown, targetUpLarge, targetDownLarge
    case stepForward, stepBack
    case cycleNormalization, cycleCriterion, calibrate, toggleCoupled, toggleOrder
    case filter, analyseSensitivity, copyCommand
    case undo, redo
    case prune, evaluate, reestimate, fineTune, save, nextModel, previousModel
}
