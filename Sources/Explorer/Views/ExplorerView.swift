import Canvas
import Pruning

// render(state, size) → Grid: the whole screen. This file draws what every view shares
// (header, target line, step note, status line, key hints, overlays) and hands the main
// box to the view in use.

public enum ExplorerView {
    /// The screen for `state` on a terminal of `size`.
    public static func render(_ state: ExplorerState, size: Size) -> Grid {
        var grid = Grid(size: size)
        let layout = ScreenLayout(size: size)
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
            case .overview: OverviewView.draw(state, layout: layout, into: &grid)
            case .group: GroupView.draw(state, layout: layout, into: &grid)
            case .results: ResultsView.drawMain(state, area: layout.main, into: &grid)
            }
            if let side = layout.side { ResultsView.drawSidePanel(state, area: side, into: &grid) }
            if let strip = layout.costStrip { ResultsView.drawCostStrip(state, area: strip, into: &grid) }
            drawNote(state, area: layout.note, into: &grid)
            drawStatus(state, area: layout.status, into: &grid)
            grid.render(KeyHints(ExplorerKeys.hints(for: state.view, hasCoupled: state.hasCoupledChannels)), in: layout.hints)
        }
        drawOverlay(state, into: &grid)
        return grid
    }

    // MARK: Shared lines

    private static func drawHeader(_ state: ExplorerState, layout: ScreenLayout, into grid: inout Grid) {
        let area = layout.header
        var tabs: [(String, Style)] = []
        for view in ExplorerState.View.allCases {
            tabs.append((" \(view.title) ", view == state.view ? .selected : .dim))
        }
        let tabsWidth = tabs.reduce(0) { $0 + $1.0.count }
        let (left, right) = area.splitRight(tabsWidth)
        var x = grid.put(" oicsr ", x: left.x, y: left.y, style: .title, clip: left)
        let model = state.model
        let trained = model.regularizer.kind == .l2 ? "L2" : "\(model.regularizer.kind.rawValue) λ \(Format.significant(model.regularizer.lambda))"
        grid.put(" \(model.name) · \(trained) · \(model.dataset) · \(fileName(model.path))",
                 in: Rect(x: x, y: left.y, width: left.maxX - x, height: 1), style: .dim)
        x = right.x
        for (text, style) in tabs { x = grid.put(text, x: x, y: right.y, style: style, clip: right) }
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

    /// Segments separated by " · ", as many whole ones as fit (the first is always shown),
    /// from `indent` cells into `area`.
    static func drawSegments(_ parts: [(String, Style)], area: Rect, indent: Int = 1, into grid: inout Grid) {
        var x = area.x + indent
        for (index, (text, style)) in parts.enumerated() {
            let separator = index == 0 ? "" : " · "
            if index > 0, x + separator.count + text.count > area.maxX { break }
            x = grid.put(separator, x: x, y: area.y, style: .dim, clip: area)
            x = grid.put(text, x: x, y: area.y, style: style, clip: area)
        }
    }

    /// What the last step took and why; a message instead while a job holds the status line.
    private static func drawNote(_ state: ExplorerState, area: Rect, into grid: inout Grid) {
        if state.job != nil, let message = state.message {
            grid.put(" " + message.text, in: area, style: style(of: message))
            return
        }
        guard let walk = state.walk else { return }
        let steps = state.settings.steps
        guard steps > 0 else {
            grid.put(" nothing selected yet: + raises the target, ] steps the greedy walk one channel", in: area, style: .dim)
            return
        }
        let step = walk.selection.steps[steps - 1]
        let before = Double(walk.selection.before.macs)
        let parts: [(String, Style)] = [
            ("step \(steps): \(state.groups[step.group].name) #\(step.channel) went", .accent),
            ("normalised energy \(Format.significant(step.normalizedEnergy)) (\(walk.key.normalization.summary))", .normal),
            ("FLOPs after \(Format.compact(Double(step.after.macs))) MACs (\(Format.change(from: before, to: Double(step.after.macs))))", .normal),
        ]
        drawSegments(parts, area: area, into: &grid)
    }

    private static func drawStatus(_ state: ExplorerState, area: Rect, into grid: inout Grid) {
        let inner = area.inset(horizontal: 1, vertical: 0)
        if let job = state.job {
            let progress = job.progress
            var label = job.kind.label
            if let phase = progress?.phase, !phase.isEmpty { label += " " + phase }
            if job.isCancelling { label += " (cancelling)" }
            let bar = ProgressBar(label: label, fraction: progress?.share ?? 0, rate: progress?.rate,
                                  unit: progress?.unit ?? "img", etaSeconds: progress?.etaSeconds,
                                  cancelHint: job.isCancelling ? nil : "Esc cancels")
            if let detail = progress?.detail, !detail.isEmpty, inner.width >= 100 {
                let (barArea, detailArea) = inner.splitRight(min(34, detail.count + 2))
                grid.put("  " + detail, in: detailArea, style: .dim)
                grid.render(bar, in: barArea)
            } else {
                grid.render(bar, in: inner)
            }
            return
        }
        if let message = state.message {
            let prefix = message.kind == .error ? "error: " : ""
            grid.put(prefix + message.text, in: inner, style: style(of: message))
        }
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
        guard !ScreenLayout(size: grid.size).isTooSmall else { return }
        switch state.overlay {
        case .help(let scroll)?:
            grid.render(HelpOverlay(ExplorerKeys.table, title: "Keys", footer: "Esc closes", scrollOffset: scroll), in: grid.bounds)
        case .confirmQuit(let reason)?:
            grid.render(Dialog(title: "Quit", message: reason, choices: [.init("y", "quit"), .init("n", "stay")]), in: grid.bounds)
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
