import Canvas
import Pruning

// The state machine: state + action → state + effects. Effects are requests to the world
// (start or cancel a background job, drop a pruned model, copy text, close the explorer)
// that the session carries out; job progress and results come back in as actions.

extension ExplorerState {
    /// Applies `action`; returns what the session must do.
    @discardableResult
    public mutating func send(_ action: Action) -> [Effect] {
        switch action {
        case .resize(let newSize):
            size = newSize
            keepCursorsVisible()
            return []
        case .job(let event):
            return handle(event)
        case .command(let command):
            message = nil
            return perform(command)
        case .key(let key):
            return handle(key)
        }
    }

    // MARK: Keys

    private mutating func handle(_ key: Key) -> [Effect] {
        if key == .resize { return [] }
        if phase == .training { return handleWhileTraining(key) }
        switch overlay {
        case .confirmQuit?:
            switch key {
            case "y", "Y", .enter, .interrupt: return finish()
            case "n", "N", .escape, "q": overlay = nil
            default: break
            }
            return []
        case .confirmDiscard(let id)?:
            switch key {
            case "y", "Y", .enter:
                overlay = nil
                return discard(id) + prune()
            case "n", "N", .escape, "q":
                overlay = nil
                message = Message(.info, "nothing pruned; s saves a model, then p makes room by dropping it")
            case .interrupt:
                overlay = nil
                return requestQuit()
            default: break
            }
            return []
        case .help(let scroll)?:
            return handleHelp(key, scroll: scroll)
        case nil:
            break
        }
        if layout.isTooSmall {
            // Nothing else is visible to act on; quitting still works.
            return key == "q" || key == .interrupt ? requestQuit() : []
        }
        if filterInput != nil { return handleFilterInput(key) }
        if case .mouse(let mouse) = key { return handle(mouse) }
        guard let command = ExplorerKeys.table.action(for: key) else { return [] }
        message = nil
        return perform(command)
    }

    private mutating func handleWhileTraining(_ key: Key) -> [Effect] {
        switch ExplorerKeys.training.action(for: key) {
        case .back?:
            guard let running = job, !running.isCancelling else { return [] }
            job?.isCancelling = true
            message = Message(.info, "cancelling training; nothing will be cached")
            return [.cancelJob]
        case .quit?:
            isFinished = true
            ending = .trainingCancelled
            return job == nil ? [.quit] : [.cancelJob, .quit]
        default:
            return []
        }
    }

    /// Help rows shown at once.
    var helpVisibleRows: Int {
        HelpOverlay(ExplorerKeys.table).visibleCount(in: Rect(size: size))
    }

    private mutating func handleHelp(_ key: Key, scroll: Int) -> [Effect] {
        let count = ExplorerKeys.table.bindings.count
        let visible = max(1, helpVisibleRows)
        let last = max(0, count - visible)
        switch key {
        case .up, "k": overlay = .help(scroll: max(0, scroll - 1))
        case .down, "j": overlay = .help(scroll: min(last, scroll + 1))
        case .pageUp: overlay = .help(scroll: max(0, scroll - visible))
        case .pageDown, " ": overlay = .help(scroll: min(last, scroll + visible))
        case .home, "g": overlay = .help(scroll: 0)
        case .end, "G": overlay = .help(scroll: last)
        case .mouse(let mouse) where mouse.action == .wheelUp: overlay = .help(scroll: max(0, scroll - 3))
        case .mouse(let mouse) where mouse.action == .wheelDown: overlay = .help(scroll: min(last, scroll + 3))
        case .escape, "?", "q", .enter: overlay = nil
        case .interrupt:
            overlay = nil
            return requestQuit()
        default: break
        }
        return []
    }

    /// Typing a filter after `/`: the list follows every keystroke; Enter keeps the
    /// filter, Esc clears it.
    private mutating func handleFilterInput(_ key: Key) -> [Effect] {
        guard var text = filterInput else { return [] }
        switch key {
        case .enter:
            filterInput = nil
            message = rows.isEmpty ? Message(.warning, "no layer matches '\(filter)'; / edits the filter, Esc clears it") : nil
            return []
        case .escape:
            filterInput = nil
            setFilter("")
            return []
        case .backspace, .delete:
            if !text.isEmpty { text.removeLast() }
        case .interrupt:
            filterInput = nil
            return requestQuit()
        case .character(let character):
            text.append(character)
        default:
            return []
        }
        filterInput = text
        setFilter(text)
        return []
    }

    mutating func setFilter(_ text: String) {
        filter = text
        let rows = self.rows
        if !rows.contains(group), let first = rows.first { moveGroup(to: first) }
        groupScroll = 0
        keepCursorsVisible()
    }

    // MARK: Commands

    mutating func perform(_ command: Command) -> [Effect] {
        guard phase == .exploring else { return command == .quit ? finish() : [] }
        switch command {
        case .quit: return requestQuit()
        case .help: overlay = .help(scroll: 0)
        case .nextView: cycleView(by: 1)
        case .previousView: cycleView(by: -1)
        case .show(let target): show(target)
        case .openGroup:
            switch view {
            case .overview, .sensitivity, .compare:
                guard !rows.isEmpty else {
                    message = Message(.warning, "no layer listed; Esc clears the filter")
                    break
                }
                view = .group
                keepCursorsVisible()
            case .group, .results: break
            }
        case .showResults: show(.results)
        case .back: return back()
        case .previousGroup: view == .results ? scrollResults(by: -1) : moveRow(by: -1)
        case .nextGroup: view == .results ? scrollResults(by: 1) : moveRow(by: 1)
        case .pageUp: page(by: -1)
        case .pageDown: page(by: 1)
        case .previousChannel, .nextChannel:
            guard view == .group else {
                let name = group < groups.count ? groups[group].name : "a layer"
                message = Message(.info, "←→ move between channels in the layer view: Enter opens \(name)")
                break
            }
            moveChannel(by: command == .previousChannel ? -1 : 1)
        case .first:
            switch view {
            case .group: moveChannel(by: -channelOrder.count)
            case .results: scrollResults(by: -resultsLineCount)
            default: moveRow(by: -groups.count)
            }
        case .last:
            switch view {
            case .group: moveChannel(by: channelOrder.count)
            case .results: scrollResults(by: resultsLineCount)
            default: moveRow(by: groups.count)
            }
        case .targetUp: moveTarget(byPoints: ExplorerKeys.smallTargetStep)
        case .targetDown: moveTarget(byPoints: -ExplorerKeys.smallTargetStep)
        case .targetUpLarge: moveTarget(byPoints: ExplorerKeys.largeTargetStep)
        case .targetDownLarge: moveTarget(byPoints: -ExplorerKeys.largeTargetStep)
        case .stepForward: step(by: 1)
        case .stepBack: step(by: -1)
        case .cycleNormalization: switchNormalization()
        case .cycleCriterion: switchCriterion()
        case .calibrate: return calibrate()
        case .toggleCoupled: switchCoupled()
        case .toggleOrder:
            switch view {
            case .group:
                order = order == .energy ? .index : .energy
                keepCursorsVisible()
                message = Message(.info, order == .energy ? "channels by energy, lowest (first taken) on the left" : "channels by index")
            case .overview, .sensitivity, .compare:
                sortBy(Self.next(sort))
            case .results:
                message = Message(.info, "o sorts the layer lists and orders the channels of the layer view")
            }
        case .filter:
            if view != .overview && view != .sensitivity && view != .compare { view = .overview }
            filterInput = filter
        case .analyseSensitivity: return analyseSensitivity()
        case .copyCommand:
            guard settings.steps > 0, let line = reproducingCommand() else {
                message = Message(.warning, "nothing selected to reproduce: + raises the target")
                break
            }
            message = Message(.info, "copied: " + line)
            return [.copy(line)]
        case .undo: undo()
        case .redo: redo()
        case .prune: return prune()
        case .evaluate: return evaluate()
        case .reestimate: return startOnPruned { .reestimateBatchNorm(model: $0) }
        case .fineTune: return startOnPruned { .fineTune(model: $0) }
        case .save: return save()
        case .nextModel: cycleModel(by: 1)
        case .previousModel: cycleModel(by: -1)
        }
        return []
    }

    /// The views Tab goes through: the comparison only when there is one.
    var availableViews: [View] {
        View.allCases.filter { $0 != .compare || comparison != nil }
    }

    private mutating func cycleView(by delta: Int) {
        let views = availableViews
        let index = views.firstIndex(of: view) ?? 0
        show(views[(index + delta + views.count) % views.count])
    }

    mutating func show(_ target: View) {
        guard target != .compare || comparison != nil else {
            message = Message(.warning, "nothing to compare: open with --compare OTHER.safetensors")
            return
        }
        view = target
        keepCursorsVisible()
    }

    mutating func sortBy(_ newSort: Sort) {
        sort = newSort
        groupScroll = 0
        keepCursorsVisible()
        var text = "layers by \(sort.title)"
        if sort == .sensitivity && sensitivity == nil { text += ": not measured yet, a measures it" }
        message = Message(.info, text)
    }

    private mutating func back() -> [Effect] {
        if let running = job, !running.isCancelling {
            job?.isCancelling = true
            queued = nil
            resumesSensitivity = false
            message = Message(.info, "cancelling \(running.kind.label)…")
            return [.cancelJob]
        }
        if !filter.isEmpty, view != .group, view != .results {
            setFilter("")
            message = Message(.info, "filter cleared")
            return []
        }
        view = .overview
        keepCursorsVisible()
        return []
    }

    private mutating func requestQuit() -> [Effect] {
        let unsaved = results.models.filter { !$0.isSaved }
        if !unsaved.isEmpty {
            let which = unsaved.count == 1 ? "Pruned model \(unsaved[0].name) is not saved." : "\(unsaved.count) pruned models are not saved."
            overlay = .confirmQuit(reason: which + " Quit anyway?")
            return []
        }
        return finish()
    }

    private mutating func finish() -> [Effect] {
        isFinished = true
        ending = .quit
        overlay = nil
        return job == nil ? [.quit] : [.cancelJob, .quit]
    }
}
