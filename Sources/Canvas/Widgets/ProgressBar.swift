// A one-line progress bar for long jobs (evaluation, fine-tuning, training):
//   evaluate ██████████▍░░░░░░░░░  52%  583 img/s  ETA  1m05s  Esc cancels
// The bar has eighth-cell precision (▏▎▍▌▋▊▉█). The rate and the ETA take a fixed width
// whatever their value ("ETA      …" before there is an estimate), so the bar does not jump
// as they change. When the line is short, the rate goes first, then the ETA, then the
// cancel hint; the label is shortened last.

/// Left-aligned eighth blocks, index = eighths of a cell filled from the left.
private let horizontalEighths: [Character] = [" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉", "█"]

public struct ProgressBar: Widget, Sendable {
    public var label: String
    /// Share done, 0…1 (clamped).
    public var fraction: Double
    /// Says what the percentage is a share of, e.g. "of all" when the label names a part
    /// ("epoch 1/2"); nil shows the bare percentage.
    public var scope: String?
    /// Work units per second, e.g. images per second; nil hides the rate.
    public var rate: Double?
    /// The unit of `rate`, e.g. "img" or "batch".
    public var unit: String
    /// Estimated seconds left; nil shows "…" when `showsEta`, else nothing.
    public var etaSeconds: Double?
    /// Whether the line has an ETA slot (filled with "…" until there is an estimate).
    public var showsEta: Bool
    /// e.g. "Esc cancels"; nil hides it.
    public var cancelHint: String?
    public var barStyle: Style

    /// Narrowest bar worth drawing, in cells.
    public static let minimumBarWidth = 10
    /// Cells of the number in a rate ("12.3k", " 583", " 5.8"), whatever its value.
    static let rateNumberWidth = 5
    /// Cells of a duration ("59m59s", "2h03m", "<1s").
    static let durationWidth = 6

    public init(label: String, fraction: Double, scope: String? = nil, rate: Double? = nil, unit: String = "img",
                etaSeconds: Double? = nil, showsEta: Bool? = nil, cancelHint: String? = "Esc cancels", barStyle: Style = .bar) {
        self.label = label
        self.fraction = fraction
        self.scope = scope
        self.rate = rate
        self.unit = unit
        self.etaSeconds = etaSeconds
        self.showsEta = showsEta ?? (etaSeconds != nil)
        self.cancelHint = cancelHint
        self.barStyle = barStyle
    }

    /// Seconds left if the rest goes as fast as what is done: elapsed · (1 − f) / f; nil
    /// before any progress. `EtaEstimator` does better when the start is slow.
    public static func estimatedSecondsLeft(fraction: Double, elapsedSeconds: Double) -> Double? {
        guard fraction > 0, fraction.isFinite, elapsedSeconds.isFinite else { return nil }
        return elapsedSeconds * max(0, 1 - fraction) / fraction
    }

    /// "ETA  1m05s", "ETA      …": always `4 + durationWidth` cells.
    static func etaText(_ seconds: Double?) -> String {
        "ETA " + Text.padded(seconds.map { Format.duration(seconds: $0) } ?? "…", width: durationWidth, alignment: .right)
    }

    /// " 583 img/s": the number right-aligned in a fixed width.
    static func rateText(_ perSecond: Double, unit: String) -> String {
        let text = Format.rate(perSecond, unit: unit)
        let number = text.prefix { $0 != " " }
        return Text.padded(String(number), width: rateNumberWidth, alignment: .right) + text.dropFirst(number.count)
    }

    public func render(into grid: inout Grid, area: Rect) {
        guard !area.isEmpty else { return }
        let done = fraction.isFinite ? min(max(fraction, 0), 1) : 0
        let percent = Text.padded(Format.percent(done), width: 4, alignment: .right) + (scope.map { " " + $0 } ?? "")

        // The trailing parts, most expendable first, dropped until the bar fits.
        var extras: [(text: String, style: Style)] = []
        if let cancelHint { extras.append((cancelHint, .hint)) }
        if showsEta { extras.append((Self.etaText(etaSeconds), .dim)) }
        if let rate { extras.append((Self.rateText(rate, unit: unit), .dim)) }
        func tailWidth() -> Int { 1 + percent.count + extras.reduce(0) { $0 + 2 + $1.text.count } }
        let labelWidth = label.isEmpty ? 0 : label.count + 1
        while !extras.isEmpty, labelWidth + Self.minimumBarWidth + tailWidth() > area.width {
            extras.removeLast()
        }
        let shownLabel = Text.truncated(label, width: max(0, area.width - Self.minimumBarWidth - tailWidth() - 1))

        let y = area.y
        var x = area.x
        if !shownLabel.isEmpty {
            x = grid.put(shownLabel + " ", x: x, y: y, clip: area)
        }
        let barWidth = max(0, area.maxX - x - tailWidth())
        let eighths = Int((done * Double(barWidth * 8)).rounded(.down))
        for cell in 0..<barWidth {
            let filled = min(8, max(0, eighths - cell * 8))
            let (glyph, style) = filled > 0 ? (horizontalEighths[filled], barStyle) : ("░", Style.dim)
            grid[x + cell, y] = Cell(glyph, style: style)
        }
        x = grid.put(" " + percent, x: x + barWidth, y: y, clip: area)
        for extra in extras.reversed() {
            x = grid.put("  ", x: x, y: y, clip: area)
            x = grid.put(extra.text, x: x, y: y, style: extra.style, clip: area)
        }
    }
}
