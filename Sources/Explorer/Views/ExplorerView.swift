import Canvas
import Pruning

// render(state, size) → Grid: the whole screen. This file draws what every view shares
// (header, target line, step note, status line, key hints, overlays) and hands the body
// to the view in use. Text is laid out in whole parts (segments, list items, words): when
// a line is too short, the least important parts are left out rather than cut mid-word.

public enum ExplorerView {
    /// The screen for `state` on a terminal of `size`.
    public static func render(_ state: ExplorerState, size: Size) -> Grid {
        var grid = Grid(size: size)
        var state = state
        if state.size != size { state.send(.resize(size)) }
        let layout = state.layout
        if layout.isTooSmall {
            drawTooSmall(state, into: &grid)
            return grid
        }
        switch state.phase {
        case .training:
            TrainingView.draw(state, layout: layout, into: &grid)
        case .exploring:
            drawHeader(state, layout: layout, into: &grid)
            drawTargetLine(state, area: layout.target, into: &grid)
            switch state.view {
            case .overview:
                OverviewView.draw(state, layout: layout, into: &grid)
                if let side = layout.side { Panels.drawSide(state, area: side, into: &grid) }
            case .group: GroupView.draw(state, layout: layout, into: &grid)
            case .sensitivity: SensitivityView.draw(state, layout: layout, into: &grid)
            case .results: ResultsView.draw(state, layout: layout, into: &grid)
            case .compare: CompareView.draw(state, layout: layout, into: &grid)
            }
            let longMessage = drawStatus(state, layout: layout, into: &grid)
            if !longMessage { drawNote(state, area: layout.note, into: &grid) }
            grid.render(KeyHints(ExplorerKeys.hints(for: state)), in: layout.hints)
        }
        drawOverlay(state, into: &grid)
        return grid
    }

    // MARK: Shared lines

    /// The view tabs and where they are drawn in the header (the mouse picks them).
    static func tabs(_ state: ExplorerState, area: Rect) -> [(view: ExplorerState.View, rect: Rect)] {
        let views = state.availableViews
        let width = views.reduce(0) { $0 + tabTitle($1).count + 2 }
        var x = area.maxX - width
        return views.map { view in
            defer { x += tabTitle(view).count + 2 }
            return (view, Rect(x: x, y: area.y, width: tabTitle(view).count + 2, height: 1))
        }
    }

    /// "3 Sensitivity": the key that shows the view, and its name.
    static func tabTitle(_ view: ExplorerState.View) -> String {
        "\(view.rawValue + 1) \(view.title)"
    }

    private static func drawHeader(_ state: ExplorerState, layout: ScreenLayout, into grid: inout Grid) {
        let area = layout.header
        let tabs = tabs(state, area: area)
        for (view, rect) in tabs {
            grid.put(" \(tabTitle(view)) ", x: rect.x, y: rect.y, style: view == state.view ? .selected : .dim, clip: area)
        }
        let left = Rect(x: area.x, y: area.y, width: (tabs.first?.rect.x ?? area.maxX) - area.x - 1, height: 1)
        let x = grid.put(" oicsr ", x: left.x, y: left.y, style: .title, clip: left)
        let model = state.model
        let trained = model.regularizer.kind == .l2 ? "L2" : "\(model.regularizer.kind.rawValue) λ \(Format.significant(model.regularizer.lambda))"
        var parts: [(String, Style)] = [(model.name, .normal), (trained, .dim), (model.dataset, .dim), (fileName(model.path), .dim)]
        if let comparison = state.comparison { parts.append(("vs " + fileName(comparison.model.path), .dim)) }
        drawSegments(parts, area: Rect(x: x, y: left.y, width: left.maxX - x, height: 1), indent: 1, into: &grid)
    }

    /// The target, where the walk's cursor is, and the settings in use; trailing parts are
    /// dropped when the line is too short.
    static func drawTargetLine(_ state: ExplorerState, area: Rect, into grid: inout Grid) {
        guard let walk = state.walk else { return }
        let settings = state.settings
        let selection = walk.selection
        var parts: [(String, Style)] = []
        if state.isTargetUnreachable {
            parts.append(("target \(Format.percent(settings.target)) FLOPs: out of reach, stops at \(Format.percent(selection.reachableShare, decimals: 1))", .warning))
        } else {
            let whole = (settings.target * 100 - (settings.target * 100).rounded()).magnitude < 1e-9
            parts.append(("target \(Format.percent(settings.target, decimals: whole ? 0 : 1)) FLOPs", .accent))
        }
        parts.append(("step \(settings.steps)/\(selection.steps.count) = \(Format.percent(state.removedShare, decimals: 1))", .normal))
        parts.append(("\(settings.criterion.rawValue)/\(settings.normalization.rawValue)", .normal))
        parts.append(("cap \(Format.percent(Walk.limits.capShare)), floor \(Walk.limits.floor)", .dim))
        if state.hasCoupledChannels { parts.append((settings.coupled ? "coupled on" : "coupled off", .normal)) }
        drawSegments(parts, area: area, into: &grid)
    }

    /// Segments separated by " · ", as many whole ones as fit (the first is always shown,
    /// cut with "…" only when it alone is too long), from `indent` cells into `area`.
    static func drawSegments(_ parts: [(String, Style)], area: Rect, indent: Int = 1, into grid: inout Grid) {
        var x = area.x + indent
        for (index, (text, style)) in parts.enumerated() {
            let separator = index == 0 ? "" : " · "
            if index > 0, x + separator.count + text.count > area.maxX { break }
            x = grid.put(separator, x: x, y: area.y, style: .dim, clip: area)
            if index == 0 {
                grid.put(text, in: Rect(x: x, y: area.y, width: area.maxX - x, height: 1), style: style)
                x += text.count
            } else {
                x = grid.put(text, x: x, y: area.y, style: style, clip: area)
            }
        }
    }

    /// The first of `variants` (longest first) that fits `width`; the last one otherwise.
    static func firstFitting(_ variants: [String], width: Int) -> String {
        variants.first { $0.count <= width } ?? variants.last ?? ""
    }

    /// "prefix a, b, c, +2 more": whole items only, saying how many are left out.
    static func drawList(_ prefix: String, _ items: [String], area: Rect, style: Style = .dim, into grid: inout Grid) {
        var shown = items.count
        func text(_ count: Int) -> String {
            prefix + items.prefix(count).joined(separator: ", ") + (count < items.count ? (count > 0 ? ", " : "") + "+\(items.count - count) more" : "")
        }
        while shown > 0, text(shown).count > area.width { shown -= 1 }
        grid.put(text(shown), in: area, style: style)
    }

    /// What the last step took and why.
    private static func drawNote(_ state: ExplorerState, area: Rect, into grid: inout Grid) {
        guard let walk = state.walk else { return }
        let steps = state.settings.steps
        guard steps > 0 else {
            drawSegments([("nothing selected yet: + raises the target", .dim), ("] steps the greedy walk one channel", .dim)], area: area, into: &grid)
            return
        }
        let step = walk.selection.steps[steps - 1]
        let before = Double(walk.selection.before.macs)
        let parts: [(String, Style)] = [
            ("step \(steps): \(state.groups[step.group].name) #\(step.channel) went", .accent),
            ("normalised energy \(Format.significant(step.normalizedEnergy)) (\(walk.key.normalization.summary))", .normal),
            ("MACs after \(Format.compact(Double(step.after.macs))) (\(Format.change(from: before, to: Double(step.after.macs))))", .normal),
        ]
        drawSegments(parts, area: area, into: &grid)
    }

    /// The running job's progress, or the message (over the note too when it needs two
    /// lines). Returns whether the note's line was used.
    private static func drawStatus(_ state: ExplorerState, layout: ScreenLayout, into grid: inout Grid) -> Bool {
        let inner = layout.status.inset(horizontal: 1, vertical: 0)
        if let typing = state.filterInput {
            grid.put("filter: /\(typing)▏  (Enter keeps it, Esc clears it)", in: inner, style: .accent)
            return false
        }
        if let job = state.job {
            var usedNote = false
            if let message = state.message {
                grid.put(" " + message.text, in: layout.note, style: style(of: message))
                usedNote = true
            }
            let progress = job.progress
            var label = job.kind.label
            if let phase = progress?.phase, !phase.isEmpty { label += " " + phase }
            if job.isCancelling { label += " (stopping)" }
            let bar = ProgressBar(label: label, fraction: progress?.share ?? 0, scope: progress?.scope, rate: progress?.rate,
                                  unit: progress?.unit ?? "img", etaSeconds: job.eta.secondsLeft, showsEta: true,
                                  cancelHint: job.isCancelling ? nil : "Esc cancels")
            if let detail = progress?.detail, !detail.isEmpty, inner.width >= 100 {
                let (barArea, detailArea) = inner.splitRight(min(34, detail.count + 2))
                grid.put("  " + detail, in: detailArea, style: .dim)
                grid.render(bar, in: barArea)
            } else {
                grid.render(bar, in: inner)
            }
            return usedNote
        }
        guard let message = state.message else { return false }
        let text = (message.kind == .error ? "error: " : "") + message.text
        if text.count <= inner.width {
            grid.put(text, in: inner, style: style(of: message))
            return false
        }
        let lines = Text.wrapped(text, width: inner.width)
        let two = Rect(x: inner.x, y: layout.note.y, width: inner.width, height: 2)
        for (index, line) in lines.prefix(2).enumerated() {
            grid.put(index == 1 && lines.count > 2 ? Text.truncated(line + " " + lines[2...].joined(separator: " "), width: inner.width) : line,
                     in: two.row(index), style: style(of: message))
        }
        return true
    }

    static func style(of message: ExplorerState.Message) -> Style {
        switch message.kind {
        case .info: .normal
        case .warning: .warning
        case .error: .bad
        }
    }

    // MARK: Overlays and the too-small screen

    private static func drawOverlay(_ state: ExplorerState, into grid: inout Grid) {
        guard !ScreenLayout(size: grid.size, view: .overview).isTooSmall else { return }
        switch state.overlay {
        case .help(let scroll)?:
            grid.render(HelpOverlay(ExplorerKeys.table, title: "Keys", footer: "Esc closes", scrollOffset: scroll,
                                    scrollHint: "j/k, g/G scroll"), in: grid.bounds)
        case .confirmQuit(let reason)?:
            grid.render(Dialog(title: "Quit", message: reason, choices: [.init("y", "quit"), .init("n", "stay")]), in: grid.bounds)
        case .confirmDiscard(let id)?:
            let name = state.results.models.first { $0.id == id }?.name ?? "#\(id)"
            grid.render(Dialog(title: "Prune again",
                               message: "The session keeps \(ExplorerState.keptModels) pruned models and none is saved. Drop the oldest, \(name) (unsaved), to make room?",
                               choices: [.init("y", "drop it"), .init("n", "keep it")]), in: grid.bounds)
        case nil:
            break
        }
    }

    private static func drawTooSmall(_ state: ExplorerState, into grid: inout Grid) {
        guard case .confirmQuit? = state.overlay else {
            grid.render(TooSmallScreen(current: grid.size, minimum: ScreenLayout.minimum), in: grid.bounds)
            return
        }
        let lines: [(String, Style)] = [("Unsaved pruned model", .warning), ("y quits, n stays", .hint)]
        let block = grid.bounds.centered(width: grid.width, height: lines.count)
        for (index, (text, style)) in lines.enumerated() {
            grid.put(text, in: block.row(index), alignment: .center, style: style)
        }
    }

    /// The last path component, for the header.
    static func fileName(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }
}
