import Canvas
// Where each part of the screen goes, for a terminal size and what the view holds. Shared
// by the views, which draw into these rectangles, and by the state machine, which needs to
// know how many rows and channels are visible to keep its scroll positions steady and
// where things are to answer the mouse.
//
//   header        title, model, view tabs
//   target        the target, the walk's cursor, the settings in use
//   body          the view (see below)
//   note          what the last step of the walk took, and why
//   status        a running job's progress bar, or a message
//   hints         the key hints, on one line or two
//
// The body, by view:
//   overview   the layer list, as tall as its rows need (it scrolls when they do not fit);
//              beside it on wide screens, else under it, the selection and pruned-model
//              panels; what height is left goes to the chart of the walk.
//   layer      the channel chart, the same side panel on wide screens, else a two-line strip.
//   others     the whole body.

public struct ScreenLayout: Equatable, Sendable {
    /// The smallest terminal the views are laid out for.
    public static let minimum = TooSmallScreen.defaultMinimum
    /// From this width on, the panels sit beside the main box.
    public static let sidePanelFromWidth = 110
    public static let sidePanelWidth = 42
    /// Rows of the two panels under the layer list on narrow screens: at least five lines
    /// inside their borders, at most eight.
    public static let infoHeights = 7...10
    /// The smallest chart worth drawing, borders included.
    public static let chartMinimumHeight = 8

    public let size: Size
    public let header: Rect
    public let target: Rect
    public let body: Rect
    /// The view's main box.
    public let main: Rect
    /// The overview's chart of the walk, under the layer list, when there is room.
    public let chart: Rect?
    /// Beside the main box on wide screens (overview and layer view).
    public let side: Rect?
    /// Under the layer list on narrow screens (overview): the selection and pruned-model panels.
    public let info: Rect?
    /// Under the channel chart on narrow screens (layer view): two lines of figures.
    public let strip: Rect?
    public let note: Rect
    public let status: Rect
    public let hints: Rect

    /// - Parameters:
    ///   - listLines: lines the overview's list box needs inside its border (header, rows
    ///     and the lines under them).
    ///   - hintLines: lines of key hints (1 or 2).
    public init(size: Size, view: ExplorerState.View, listLines: Int = 0, hintLines: Int = 1) {
        self.size = size
        let screen = Rect(size: size)
        let (top, rest) = screen.splitTop(2)
        header = top.row(0)
        target = top.row(1)
        let lines = min(max(hintLines, 1), 2)
        let (body, bottom) = rest.splitBottom(2 + lines)
        self.body = body
        note = bottom.row(0)
        status = bottom.row(1)
        hints = Rect(x: bottom.x, y: bottom.y + 2, width: bottom.width, height: lines)
        let wide = size.width >= Self.sidePanelFromWidth

        var main = body, chart: Rect? = nil, side: Rect? = nil, info: Rect? = nil, strip: Rect? = nil
        switch view {
        case .overview:
            var column = body
            if wide {
                let split = body.splitRight(Self.sidePanelWidth)
                column = split.rest
                side = split.right
            }
            let listNeed = listLines + 2
            var infoHeight = wide ? 0 : Self.infoHeights.lowerBound
            var listHeight = min(listNeed, column.height - infoHeight)
            var left = column.height - infoHeight - listHeight
            if !wide {
                let grow = min(left, Self.infoHeights.upperBound - infoHeight)
                infoHeight += grow
                left -= grow
            }
            var chartHeight = 0
            if listHeight < listNeed {
                listHeight += left
            } else if left >= Self.chartMinimumHeight {
                chartHeight = left
            } else if wide {
                listHeight += left
            } else {
                infoHeight += left
            }
            let (list, under) = column.splitTop(listHeight)
            main = list
            let (chartArea, infoArea) = under.splitTop(chartHeight)
            if chartHeight > 0 { chart = chartArea }
            if !wide { info = infoArea }
        case .group:
            if wide {
                let split = body.splitRight(Self.sidePanelWidth)
                main = split.rest
                side = split.right
            } else {
                let split = body.splitBottom(2)
                main = split.rest
                strip = split.bottom
            }
        case .sensitivity, .results, .compare:
            break
        }
        self.main = main
        self.chart = chart
        self.side = side
        self.info = info
        self.strip = strip
    }

    public var isTooSmall: Bool { !size.contains(Self.minimum) }

    /// Inside the main box's border.
    public var mainInner: Rect { Box.inner(main) }

    /// The layer view's parts inside the main box: a line of facts, the chart (with its
    /// marker row at the bottom), and two lines about the channel under the cursor.
    public var layerParts: (facts: Rect, chart: Rect, detail: Rect) {
        let (facts, rest) = mainInner.splitTop(1)
        let (chart, detail) = rest.splitBottom(2)
        return (facts, chart, detail)
    }

    /// Columns per bar for a layer of `channels` channels: as wide as fits, up to 3.
    public func barWidth(channels: Int) -> Int {
        min(3, max(1, layerParts.chart.width / max(1, channels)))
    }

    /// Channels the layer view shows at once.
    public func visibleChannels(channels: Int) -> Int {
        layerParts.chart.width / barWidth(channels: channels)
    }
}

extension ScreenLayout {
    /// The layout for what `state` shows.
    public init(for state: ExplorerState) {
        let hints = KeyHints(ExplorerKeys.hints(for: state, resultsScrollable: true))
        let lines = hints.lineCount(width: state.size.width, maximum: 2)
        self.init(size: state.size, view: state.view, listLines: OverviewView.linesNeeded(state), hintLines: lines)
    }
}
