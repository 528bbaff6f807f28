import Foundation

/// Progress of long work on stderr: a bar redrawn in place on a terminal, plain lines
/// (about every 10%, no escape codes) otherwise.
final class ProgressLine {
    private let interactive = Console.stderrIsTerminal
    private var lastDraw = 0.0
    private var lastPlainShare = -1.0
    private let start = Date()

    /// `share` 0…1 of the whole job; `detail` is appended after the bar.
    func update(label: String, share: Double, detail: String) {
        let now = Date().timeIntervalSince(start)
        if interactive {
            guard now - lastDraw >= 0.1 || share >= 1 else { return }
            lastDraw = now
            let width = 24
            let filled = Int((share * Double(width)).rounded(.down))
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            let eta = share > 0 ? Format.duration(now / share - now) : "--"
            Console.status("\r\u{1B}[2K\(label) \(bar) \(Int(share * 100))% \(detail) ETA \(eta)")
        } else {
            guard share - lastPlainShare >= 0.1 || share >= 1 else { return }
            lastPlainShare = share
            Console.error("\(label) \(Int(share * 100))% \(detail)")
        }
    }

    /// Ends the bar's line (a terminal needs a newline after the redrawn line).
    func finish(_ message: String? = nil) {
        if interactive { Console.status("\r\u{1B}[2K") }
        if let message { Console.error(message) }
    }
}

enum Format {
    /// "42s", "3m05s", "1h02m".
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--" }
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m" + String(format: "%02ds", s % 60) }
        return "\(s / 3600)h" + String(format: "%02dm", (s % 3600) / 60)
    }

    static func percent(_ share: Double, digits: Int = 2) -> String { String(format: "%.\(digits)f%%", share * 100) }
}
