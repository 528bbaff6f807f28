import Canvas
// Where each part of the screen goes, for a terminal size. Shared by the views, which draw
// into these rectangles, and by the state machine, which needs to know how many rows and
// channels are visible to keep its scroll positions steady.
//
//   header        title, model, view tabs
//   target        the target, the walk's cursor, the settings in use
//   body          main box (a view) | side panel (cost, before/after) when wide enough;
//                 narrower screens put a two-line cost strip under the main box instead
//   note          what the last step of the walk took, and why
//   status        a running job's progress bar, or a message
//   hints         the key hints

public struct ScreenLayout: Equatable, Sendable {
    /// The smallest terminal the views are laid out for.
    public static let minimum = TooSmallScreen.defaultMinimum
    /// From this width on, the cost and before/after panels sit beside the main box.
    public static let sidePanelFromWidth = 110
    public static let sidePanelWidth = 42

    public let size: Size
    public let header: Rect
    public let target: Rect
    public let main: Rect
    /// Beside the main box on wide screens, else nil.
    public let side: Rect?
    /// Under the main box on narrow screens, else nil.
    public let costStrip: Rect?
    public let note: Rect
    public let status: Rect
    public let hints: Rect

    public init(size: Size) {
        self.size = size
        let screen = Rect(size: size)
        let (top, rest) = screen.splitTop(2)
        header = top.row(0)
        target = top.row(1)
        let (body, bottom) = rest.splitBottom(3)
        note = bottom.row(0)
        status = bottom.row(1)
        hints = bottom.row(2)
        if size.width >= Self.sidePanelFromWidth {
            let split = body.splitRight(Self.sidePanelWidth)
            main = split.rest
            side = split.right
            costStrip = nil
        } else {
            let split = body.splitBottom(2)
            main = split.rest
            side = nil
            costStrip = split.bottom
        }
    }

    public var isTooSmall: Bool { !size.contains(Self.minimum) }

    /// Inside the main box's border.
    public var mainInner: Rect { Box.inner(main) }

    /// Layer rows the overview shows at once (below its header row).
    public var overviewRows: Int { max(1, mainInner.height - 1) }

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
