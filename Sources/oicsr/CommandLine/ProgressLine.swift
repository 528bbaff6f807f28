import Canvas
import Foundation

/// Progress of long work on stderr: a bar redrawn in place on a terminal, plain lines
/// (about every 10%, no escape codes) otherwise; both with the time left once there is an
/// estimate (`EtaEstimator`: the pace since the first report, so start-up does not count).
final class ProgressLine {
    private let interactive = Console.stderrIsTerminal
    private var lastDraw = 0.0
    private var lastPlainShare = -1.0
    private let start = Date()
    private var eta = EtaEstimator()

    /// `share` 0…1 of the whole job; `detail` is appended after the bar.
    func update(label: String, share: Double, detail: String) {
        let now = Date().timeIntervalSince(start)
        eta.add(share: share, elapsedSeconds: now)
        if interactive {
            guard now - lastDraw >= 0.1 || share >= 1 else { return }
            lastDraw = now
            // The explorer's progress bar widget, drawn into a one-line grid.
            let bar = ProgressBar(label: label, fraction: share, etaSeconds: eta.secondsLeft, showsEta: true,
                                  cancelHint: "Ctrl-C stops")
            let barWidth = 64
            var grid = Grid(width: barWidth, height: 1)
            grid.render(bar, in: Rect(x: 0, y: 0, width: barWidth, height: 1))
            Console.status("\r\u{1B}[2K\(grid.lines[0]) \(detail)")
        } else {
            guard share - lastPlainShare >= 0.1 || share >= 1 else { return }
            lastPlainShare = share
            let left = eta.secondsLeft.map { " ETA " + Format.duration(seconds: $0) } ?? ""
            Console.error("\(label) \(Int(share * 100))%\(left) \(detail)")
        }
    }

    /// Ends the bar's line (a terminal needs a newline after the redrawn line).
    func finish(_ message: String? = nil) {
        if interactive { Console.status("\r\u{1B}[2K") }
        if let message { Console.error(message) }
    }
}
