import Canvas
import Pruning

// The state machine: state + action → state + effects. Effects are requests to the world
// (start or cancel a background job, close the explorer) that the session carries out; job
// progress and results come back in as actions.

public enum Action: Sendable {
    case key(Key)
    /// A command without going through the key table (tests, scripts).
    case command(Command)
    case resize(Size)
    case job(JobEvent)
}

public enum Effect: Equatable, Sendable {
    case start(JobRequest)
    case cancelJob
    case quit
}

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
        case .help(let scroll)?:
            return handleHelp(key, scroll: scroll)
        case nil:
            break
        }
        if layout.isTooSmall {
            // Nothing else is visible to act on; quitting still works.
            return key == "q" || key == .interrupt ? requestQuit() : []
        }
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
            return job == nil ? [.quit] : [.cancelJob, .quit]
        default:
            return []
        }
    }

    private mutating func handleHelp(_ key: Key, scroll: Int) -> [Effect] {
        let count = ExplorerKeys.table.bindings.count
        let visible = max(1, min(size.height - 2, count + 2) - 2)
        let last = max(0, count - visible)
        switch key {
        case .up, "k": overlay = .help(scroll: max(0, scroll - 1))
        case .down, "j": overlay = .help(scroll: min(last, scroll + 1))
        case .pageUp: overlay = .help(scroll: max(0, scroll - visible))
        case .pageDown, " ": overlay = .help(scroll: min(last, scroll + visible))
        case .escape, "?", "q", .enter: overlay = nil
        case .interrupt:
            overlay = nil
            return requestQuit()
        default: break
        }
        return []
    }

    // MARK: Commands

    private mutating func perform(_ command: Command) -> [Effect] {
        guard phase == .exploring else { return command == .quit ? finish() : [] }
        switch command {
        case .quit: return requestQuit()
        case .help: overlay = .help(scroll: 0)
        case .nextView: view = View(rawValue: (view.rawValue + 1) % View.allCases.count)!
        case .openGroup: if view == .overview { view = .group }
        case .showResults: view = .results
        case .back: return back()
        case .previousGroup: moveGroup(to: group - 1)
        case .nextGroup: moveGroup(to: group + 1)
        case .previousChannel: moveChannel(by: -1)
        case .nextChannel: moveChannel(by: 1)
        case .first: view == .group ? moveChannel(by: -channelOrder.count) : moveGroup(to: 0)
        case .last: view == .group ? moveChannel(by: channelOrder.count) : moveGroup(to: groups.count - 1)
        case .targetUp: moveTarget(byPoints: ExplorerKeys.smallTargetStep)
        case .targetDown: moveTarget(byPoints: -ExplorerKeys.smallTargetStep)
        case .targetUpLarge: moveTarget(byPoints: ExplorerKeys.largeTargetStep)
        case .targetDownLarge: moveTarget(byPoints: -ExplorerKeys.largeTargetStep)
        case .stepForward: step(by: 1)
        case .stepBack: step(by: -1)
        case .cycleNormalization:
            retarget { $0.normalization = Self.next($0.normalization) }
            message = Message(.info, "normalisation \(settings.normalization.rawValue): \(settings.normalization.summary); the walk now takes \(settings.steps) channels")
        case .cycleCriterion:
            retarget { $0.criterion = Self.next($0.criterion) }
            message = Message(.info, "importance \(settings.criterion.rawValue)" + (settings.criterion == model.matchingCriterion ? " (matches the \(model.regularizer.kind.rawValue) training)" : " (the model was trained with \(model.regularizer.kind.rawValue))"))
        case .toggleCoupled:
            guard hasCoupledChannels else {
                message = Message(.warning, "\(model.name) has no residual channels coupled across a stage")
                break
            }
            retarget { $0.coupled.toggle() }
            message = Message(.info, settings.coupled ? "coupled residual channels are prunable too" : "only block-internal channels are prunable")
        case .toggleOrder:
            order = order == .energy ? .index : .energy
            keepCursorsVisible()
        case .undo: undo()
        case .redo: redo()
        case .prune: return prune()
        case .evaluate: return evaluate()
        case .reestimate: return startOnPruned(.reestimateBatchNorm)
        case .fineTune: return startOnPruned(.fineTune)
        case .save: return save()
        }
        return []
    }

    private mutating func back() -> [Effect] {
        if let running = job, !running.isCancelling {
            job?.isCancelling = true
            message = Message(.info, "cancelling \(running.kind.label)…")
            return [.cancelJob]
        }
        view = .overview
        return []
    }

    private mutating func requestQuit() -> [Effect] {
        if hasUnsavedWork {
            overlay = .confirmQuit(reason: "The pruned model is not saved. Quit anyway?")
            return []
        }
        return finish()
    }

    private mutating func finish() -> [Effect] {
        isFinished = true
        overlay = nil
        return job == nil ? [.quit] : [.cancelJob, .quit]
    }

    // MARK: Cursors

    private mutating func moveGroup(to index: Int) {
        guard !groups.isEmpty else { return }
        let clamped = min(max(index, 0), groups.count - 1)
        guard clamped != group else { return }
        group = clamped
        channel = channelOrder.first ?? 0
        channelScroll = 0
        keepCursorsVisible()
    }

    private mutating func moveChannel(by delta: Int) {
        let order = channelOrder
        guard !order.isEmpty else { return }
        let position = order.firstIndex(of: channel) ?? 0
        channel = order[min(max(position + delta, 0), order.count - 1)]
        keepCursorsVisible()
    }

    /// Scrolls the overview and the layer view just enough to show the cursors.
    mutating func keepCursorsVisible() {
        let layout = layout
        group = min(group, max(0, groups.count - 1))
        groupScroll = Scroll.offset(keeping: group, visible: layout.overviewRows, count: groups.count, current: groupScroll)
        let order = channelOrder
        if !order.contains(channel) { channel = order.first ?? 0 }
        let position = order.firstIndex(of: channel) ?? 0
        channelScroll = Scroll.offset(keeping: position, visible: layout.visibleChannels(channels: order.count),
                                      count: order.count, current: channelScroll)
    }

    // MARK: The selection

    /// The walk for `key`, computed on first use and kept.
    private mutating func walk(for key: WalkKey) -> Walk {
        if let known = walks[key] { return known }
        let computed = Walk(analysis: analysis!, key: key)
        walks[key] = computed
        return computed
    }

    /// Makes `new` current without touching the undo history.
    mutating func applySettings(_ new: SelectionSettings) {
        settings = new
        walk = walk(for: new.walkKey)
        keepCursorsVisible()
    }

    /// Makes `new` current, remembering the old settings for undo.
    private mutating func commit(_ new: SelectionSettings) {
        guard new != settings else { return }
        undoStack.append(settings)
        redoStack.removeAll()
        applySettings(new)
    }

    /// Changes what the walk depends on and moves the cursor to where the target falls on
    /// the new walk.
    private mutating func retarget(_ change: (inout SelectionSettings) -> Void) {
        var new = settings
        change(&new)
        let selection = walk(for: new.walkKey).selection
        new.steps = selection.stepCount(toReach: new.target) ?? selection.steps.count
        commit(new)
    }

    private mutating func moveTarget(byPoints points: Int) {
        // From a target the cursor left between whole percents, the first move lands on one.
        let percent = settings.target * 100
        let base = points > 0 ? (percent + 1e-6).rounded(.down) : (percent - 1e-6).rounded(.up)
        let target = min(max(base + Double(points), 0), 99) / 100
        guard target != settings.target else {
            message = Message(.warning, target == 0 ? "the target is already 0%" : "the target is already 99%")
            return
        }
        retarget { $0.target = target }
        if isTargetUnreachable, let walk {
            message = Message(.warning, "\(Format.percent(target)) is out of reach: the \(Format.percent(Walk.limits.capShare)) cap per layer stops the walk at \(Format.percent(walk.selection.reachableShare, decimals: 1))")
        }
    }

    private mutating func step(by delta: Int) {
        guard let walk else { return }
        let steps = settings.steps + delta
        guard steps >= 0 else {
            message = Message(.warning, "at the start of the walk: nothing selected")
            return
        }
        guard steps <= walk.selection.steps.count else {
            message = Message(.warning, "the walk ends here: every layer is at its \(Format.percent(Walk.limits.capShare)) cap or its floor")
            return
        }
        var new = settings
        new.steps = steps
        new.target = walk.selection.removedShare(after: steps)
        commit(new)
        let moved = walk.selection.steps[delta > 0 ? steps - 1 : steps]
        group = moved.group
        channel = moved.channel
        keepCursorsVisible()
        if delta < 0 {
            message = Message(.info, "step \(steps + 1) undone: \(groups[moved.group].name) #\(moved.channel) is kept again")
        }
    }

    private mutating func undo() {
        guard let previous = undoStack.popLast() else {
            message = Message(.warning, "nothing to undo")
            return
        }
        redoStack.append(settings)
        applySettings(previous)
        message = Message(.info, "undo: " + describe(settings))
    }

    private mutating func redo() {
        guard let next = redoStack.popLast() else {
            message = Message(.warning, "nothing to redo")
            return
        }
        undoStack.append(settings)
        applySettings(next)
        message = Message(.info, "redo: " + describe(settings))
    }

    func describe(_ settings: SelectionSettings) -> String {
        "target \(Format.percent(settings.target, decimals: 1)), step \(settings.steps), \(settings.criterion.rawValue) energy, \(settings.normalization.rawValue)"
            + (settings.coupled ? ", coupled" : "")
    }

    static func next<T: CaseIterable & Equatable>(_ value: T) -> T {
        let all = Array(T.allCases)
        return all[(all.firstIndex(of: value)! + 1) % all.count]
    }

    // MARK: Jobs

    /// True (and says so) when a job is already running: one job at a time.
    private mutating func refuseWhileBusy() -> Bool {
        guard let running = job else { return false }
        message = Message(.warning, "\(running.kind.label) is running; wait, or Esc cancels it")
        return true
    }

    private mutating func prune() -> [Effect] {
        guard !refuseWhileBusy(), let walk else { return [] }
        guard settings.steps > 0 else {
            message = Message(.warning, "nothing selected: raise the target (+) or step the walk (])")
            return []
        }
        job = RunningJob(kind: .prune, pruning: settings)
        return [.start(.prune(plan: walk.selection.plan(steps: settings.steps), settings: settings,
                              removedShare: walk.selection.removedShare(after: settings.steps)))]
    }

    private mutating func evaluate() -> [Effect] {
        guard !refuseWhileBusy() else { return [] }
        let dense = results.dense == nil || results.denseSpeed == nil
        let pruned = results.pruned != nil
        guard dense || pruned else {
            message = Message(.info, "the dense model is evaluated; prune (p) to compare")
            return []
        }
        job = RunningJob(kind: .evaluate)
        return [.start(.evaluate(dense: dense, pruned: pruned))]
    }

    private mutating func startOnPruned(_ request: JobRequest) -> [Effect] {
        guard !refuseWhileBusy() else { return [] }
        guard results.pruned != nil else {
            message = Message(.warning, "no pruned model yet: p prunes the current selection")
            return []
        }
        job = RunningJob(kind: request.kind)
        return [.start(request)]
    }

    private mutating func save() -> [Effect] {
        guard let pruned = results.pruned else {
            message = Message(.warning, "no pruned model yet: p prunes the current selection")
            return []
        }
        if pruned.isSaved, let path = pruned.savedPath {
            message = Message(.info, "already saved as \(path)")
            return []
        }
        var metrics: [String: Double] = [
            "macs": Double(pruned.after.macs), "parameters": Double(pruned.after.parameters),
            "flops_removed": pruned.removedShare,
        ]
        if let latest = pruned.latest {
            metrics["top1"] = latest.top1
            metrics["loss"] = latest.loss
        }
        if let dense = results.dense { metrics["dense_top1"] = dense.top1 }
        return startOnPruned(.save(PruningFacts(removedShare: pruned.removedShare, metrics: metrics)))
    }

    // MARK: Job events

    private mutating func handle(_ event: JobEvent) -> [Effect] {
        switch event {
        case .progress(let progress):
            job?.progress = progress
        case .failed(let problem):
            let label = job?.kind.label ?? "job"
            job = nil
            message = Message(.error, "\(label) failed: \(problem)")
        case .cancelled:
            let label = job?.kind.label ?? "job"
            job = nil
            if phase == .training {
                isFinished = true
                return [.quit]
            }
            message = Message(.info, "\(label) cancelled")
        case .finished(let outcome):
            let finished = job
            job = nil
            apply(outcome, pruning: finished?.pruning)
        }
        return []
    }

    private mutating func apply(_ outcome: JobOutcome, pruning: SelectionSettings?) {
        switch outcome {
        case .trained(let analysis, let description, let evaluation):
            self.analysis = analysis
            model = description
            phase = .exploring
            results.dense = evaluation
            applySettings(SelectionSettings(criterion: description.matchingCriterion))
            message = Message(.info, "trained and cached \(description.path): top-1 \(Format.percent(evaluation.top1, decimals: 1))")
        case .pruned(let macs, let parameters):
            let made = pruning ?? settings
            let before = walk(for: made.walkKey).selection.before
            let after = CostFigures(macs: macs, parameters: parameters, channels: before.channels - made.steps)
            results.pruned = PrunedModel(settings: made, before: before, after: after)
            view = .results
            message = Message(.info, "pruned: \(Format.compact(Double(before.macs))) → \(Format.compact(Double(macs))) MACs; e evaluates, b re-estimates BN, f fine-tunes, s saves")
        case .evaluated(let dense, let denseSpeed, let pruned, let prunedSpeed):
            if let dense { results.dense = dense }
            if let denseSpeed { results.denseSpeed = denseSpeed }
            if let pruned {
                switch results.pruned?.stage {
                case .pruned?: results.pruned?.afterPruning = pruned
                case .batchNormReestimated?: results.pruned?.afterBatchNorm = pruned
                case .fineTuned?: results.pruned?.afterFineTuning = pruned
                case nil: break
                }
            }
            if let prunedSpeed { results.pruned?.speed = prunedSpeed }
            let summary = [results.dense.map { "dense \(Format.percent($0.top1, decimals: 1))" },
                           pruned.map { "pruned \(Format.percent($0.top1, decimals: 1))" }].compactMap { $0 }
            message = Message(.info, "evaluated: top-1 " + summary.joined(separator: ", "))
        case .reestimated(let evaluation):
            results.pruned?.afterBatchNorm = evaluation
            results.pruned?.stage = .batchNormReestimated
            results.pruned?.isSaved = false
            message = Message(.info, "BN statistics re-estimated: top-1 \(Format.percent(evaluation.top1, decimals: 1))")
        case .fineTuned(let evaluation):
            results.pruned?.afterFineTuning = evaluation
            results.pruned?.stage = .fineTuned
            results.pruned?.isSaved = false
            message = Message(.info, "fine-tuned one epoch: top-1 \(Format.percent(evaluation.top1, decimals: 1))")
        case .saved(let path):
            results.pruned?.savedPath = path
            results.pruned?.isSaved = true
            message = Message(.info, "saved \(path)")
        }
    }
}
