import Canvas
import Pruning

// Cursors and the selection: moving through the lists, the channels and the results page;
// the target, the walk's steps, the switches (normalisation, criterion, coupled channels)
// and their undo history. A switch that leaves the selection as it was says so, and why.

extension ExplorerState {
    // MARK: Cursors

    /// Moves the cursor `delta` rows through the list as shown (filtered, sorted).
    mutating func moveRow(by delta: Int) {
        let rows = self.rows
        guard !rows.isEmpty else {
            if !filter.isEmpty { message = Message(.warning, "no layer matches '\(filter)'; Esc clears the filter") }
            return
        }
        let position = rows.firstIndex(of: group) ?? 0
        moveGroup(to: rows[min(max(position + delta, 0), rows.count - 1)])
    }

    mutating func moveGroup(to index: Int) {
        guard !groups.isEmpty else { return }
        let clamped = min(max(index, 0), groups.count - 1)
        guard clamped != group else { return }
        group = clamped
        channel = channelOrder.first ?? 0
        channelScroll = 0
        keepCursorsVisible()
    }

    mutating func moveChannel(by delta: Int) {
        let order = channelOrder
        guard !order.isEmpty else { return }
        let position = order.firstIndex(of: channel) ?? 0
        channel = order[min(max(position + delta, 0), order.count - 1)]
        keepCursorsVisible()
    }

    /// A page up or down in whatever the view shows.
    mutating func page(by direction: Int) {
        switch view {
        case .group:
            moveChannel(by: direction * max(1, layout.visibleChannels(channels: channelOrder.count)))
        case .results:
            scrollResults(by: direction * max(1, layout.mainInner.height - 1))
        default:
            moveRow(by: direction * max(1, visibleListRows - 1))
        }
    }

    /// Lines of the results page.
    public var resultsLineCount: Int { ResultsView.lineCount(self) }

    mutating func scrollResults(by delta: Int) {
        let visible = layout.mainInner.height
        let last = max(0, resultsLineCount - visible)
        guard last > 0 else {
            message = Message(.info, "the whole page is shown")
            return
        }
        resultsScroll = min(max(resultsScroll + delta, 0), last)
    }

    /// Rows the current view's list shows at once.
    var visibleListRows: Int {
        switch view {
        case .sensitivity: SensitivityView.visibleRows(self)
        case .compare: CompareView.visibleRows(self)
        default: OverviewView.visibleRows(self)
        }
    }

    /// Scrolls the lists and the layer view just enough to show the cursors.
    mutating func keepCursorsVisible() {
        group = min(group, max(0, groups.count - 1))
        let rows = self.rows
        if let position = rows.firstIndex(of: group) {
            groupScroll = Scroll.offset(keeping: position, visible: visibleListRows, count: rows.count, current: groupScroll)
        } else {
            groupScroll = Scroll.offset(keeping: nil, visible: visibleListRows, count: rows.count, current: groupScroll)
        }
        let order = channelOrder
        if !order.contains(channel) { channel = order.first ?? 0 }
        let position = order.firstIndex(of: channel) ?? 0
        let layout = self.layout
        channelScroll = Scroll.offset(keeping: position, visible: layout.visibleChannels(channels: order.count),
                                      count: order.count, current: channelScroll)
        if view == .results { resultsScroll = min(resultsScroll, max(0, resultsLineCount - layout.mainInner.height)) }
    }

    // MARK: The selection

    /// The walk for `key`, computed on first use and kept.
    mutating func walk(for key: WalkKey) -> Walk {
        if let known = walks[key] { return known }
        let computed = Walk(analysis: analysis!, key: key)
        walks[key] = computed
        return computed
    }

    /// The comparison model's walk for `key`, computed on first use and kept.
    mutating func comparisonWalk(for key: WalkKey) -> Walk? {
        guard let comparison else { return nil }
        if let known = comparisonWalks[key] { return known }
        let computed = Walk(analysis: comparison.analysis, key: key)
        comparisonWalks[key] = computed
        return computed
    }

    /// Makes `new` current without touching the undo history.
    mutating func applySettings(_ new: SelectionSettings) {
        settings = new
        walk = walk(for: new.walkKey)
        _ = comparisonWalk(for: new.walkKey)
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

    /// The channels `settings` selects, by layer name and index, so that selections on
    /// different groupings (coupled or not) compare.
    private mutating func selectedChannels(_ settings: SelectionSettings) -> Set<String> {
        let walk = walk(for: settings.walkKey)
        let groups = analysis!.variant(coupled: settings.coupled).groups.groups
        return Set(walk.selection.steps.prefix(settings.steps).map { "\(groups[$0.group].name)#\($0.channel)" })
    }

    /// Runs a switch (`what` names it, `detail` says more when the selection changes);
    /// when the selection comes out the same, says so and why.
    private mutating func switchWalk(_ what: String, detail: String = "", _ change: (inout SelectionSettings) -> Void) {
        let old = settings
        let before = selectedChannels(old)
        retarget(change)
        let after = selectedChannels(settings)
        guard before == after else {
            message = Message(.info, what + detail + "; the walk now takes \(settings.steps) channels")
            return
        }
        let oldWalk = walk(for: old.walkKey), newWalk = walk(for: settings.walkKey)
        if settings.steps == 0 {
            message = Message(.info, what + ": nothing selected yet; + raises the target")
        } else if settings.steps <= oldWalk.deadSteps && settings.steps <= newWalk.deadSteps {
            let free = Format.percent(newWalk.selection.removedShare(after: newWalk.deadSteps), decimals: 1)
            message = Message(.info, what + ": the same \(settings.steps) channels, all at zero energy, which every ranking puts first; rankings differ past \(free) of FLOPs")
        } else {
            message = Message(.info, what + ": the same \(settings.steps) channels; the two rankings agree that far")
        }
    }

    mutating func switchNormalization() {
        let normalization = Self.next(settings.normalization)
        switchWalk("normalisation \(normalization.rawValue)", detail: " (\(normalization.summary))") { $0.normalization = normalization }
    }

    mutating func switchCriterion() {
        let criterion = Self.next(settings.criterion)
        let matching = criterion == model.matchingCriterion ? "matches the training" : "the model was trained with \(model.regularizer.kind.rawValue)"
        switchWalk("importance \(criterion.rawValue)", detail: " (\(matching))") { $0.criterion = criterion }
    }

    /// Ranks by `ranking` from now on (undoable), the cursor where the target falls on its walk.
    mutating func useRanking(_ ranking: Ranking, compensating: Bool) {
        retarget { $0.criterion = ranking.criterion; $0.normalization = ranking.normalization; $0.compensates = compensating }
    }

    mutating func switchCoupled() {
        guard hasCoupledChannels else {
            message = Message(.warning, "\(model.name) has no residual channels coupled across a stage")
            return
        }
        switchWalk(settings.coupled ? "only block-internal channels are prunable" : "coupled residual channels are prunable too") {
            $0.coupled.toggle()
        }
    }

    mutating func moveTarget(byPoints points: Int) {
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

    mutating func step(by delta: Int) {
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
        if !rows.contains(moved.group) { setFilter("") }
        group = moved.group
        channel = moved.channel
        keepCursorsVisible()
        if delta < 0 {
            message = Message(.info, "step \(steps + 1) undone: \(groups[moved.group].name) #\(moved.channel) is kept again")
        }
    }

    mutating func undo() {
        guard let previous = undoStack.popLast() else {
            message = Message(.warning, "nothing to undo")
            return
        }
        redoStack.append(settings)
        applySettings(previous)
        message = Message(.info, "undo: " + describe(settings))
    }

    mutating func redo() {
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
}
