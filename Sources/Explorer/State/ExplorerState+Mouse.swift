import Canvas

// The mouse, as htop and lazygit use it: a click on a view's tab shows it, on a layer
// moves the cursor there (a second click opens it), on a column title sorts by it, on a
// channel's bar puts the cursor on it, on a pruned model in the results makes it current;
// the wheel scrolls whatever is under it, three rows at a time.

extension ExplorerState {
    /// Rows the wheel moves per notch.
    static let wheelRows = 3

    mutating func handle(_ mouse: Mouse) -> [Effect] {
        message = nil
        let layout = self.layout
        switch mouse.action {
        case .wheelUp, .wheelDown:
            let delta = mouse.action == .wheelUp ? -Self.wheelRows : Self.wheelRows
            switch view {
            case .results: scrollResults(by: delta)
            case .group: moveChannel(by: delta)
            default: moveRow(by: delta)
            }
            return []
        case .press:
            break
        }
        if mouse.y == layout.header.y {
            if let tab = ExplorerView.tabs(self, area: layout.header).first(where: { $0.rect.contains(x: mouse.x, y: mouse.y) }) {
                show(tab.view)
            }
            return []
        }
        guard layout.main.contains(x: mouse.x, y: mouse.y) else { return [] }
        switch view {
        case .overview:
            if mouse.y == layout.mainInner.y {
                if let sort = OverviewView.sort(at: mouse.x, self) { sortBy(sort) }
            } else if let position = OverviewView.row(at: mouse.y, self) {
                click(row: position)
            }
        case .sensitivity:
            if let position = SensitivityView.row(at: mouse.y, self) { click(row: position) }
        case .compare:
            if let position = CompareView.row(at: mouse.y, self) { click(row: position) }
        case .group:
            if layout.layerParts.chart.contains(x: mouse.x, y: mouse.y), let clicked = GroupView.channel(at: mouse.x, self) {
                channel = clicked
                keepCursorsVisible()
            }
        case .results:
            let line = mouse.y - layout.mainInner.y + resultsScroll
            if let id = ResultsView.model(atLine: line, self), id != results.current {
                results.current = id
                let name = results.pruned?.name ?? "#\(id)"
                message = Message(.info, "pruned model \(name) is the current one: e, b, f, s work on it")
            }
        }
        return []
    }

    /// A click on list row `position`: the cursor goes there; on the cursor's row, the layer opens.
    private mutating func click(row position: Int) {
        let rows = self.rows
        guard position < rows.count else { return }
        if rows[position] == group {
            view = .group
            keepCursorsVisible()
        } else {
            moveGroup(to: rows[position])
        }
    }
}
