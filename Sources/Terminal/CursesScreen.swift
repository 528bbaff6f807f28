// The curses backend: copies an Explorer `Grid` to the terminal, writing only the cells
// that changed since the previous frame, and turns key presses into `Key`s. The explorer
// decides everything else.

import Canvas

#if canImport(Glibc)
import Glibc
#endif

/// The screen, in curses mode between `start()` and `stop()`. Use from one thread.
///
///     let screen = CursesScreen()
///     try screen.start()
///     defer { screen.stop() }
///     while running {
///         screen.draw(render(state, screen.size), theme: theme)
///         if let key = screen.readKey(timeoutMilliseconds: 80) { … }   // nil: poll jobs
///     }
public final class CursesScreen {
    /// Between `start()` and `stop()`.
    public private(set) var isActive = false
    /// Whether colours are in use: the terminal has them and `NO_COLOR` is unset or empty.
    /// Pass it to `Theme.automatic(environment:terminalHasColors:)`.
    public private(set) var supportsColor = false

    private let interruptAsKey: Bool
    private let mouse: Bool
    private var hasBeenOpened = false
    private var defaultColors = false
    /// The last frame drawn; nil forces a full redraw.
    private var previous: Grid?
    private var previousTheme: Theme?
    private var pairs: [PairKey: Int] = [:]
    /// Reused for every run of cells written, to avoid an allocation per run.
    private var scratch: [wchar_t] = []

    private struct PairKey: Hashable {
        var foreground: TerminalColor
        var background: TerminalColor
    }

    /// - Parameter interruptAsKey: deliver Ctrl-C as `Key.interrupt` instead of SIGINT (raw
    ///   mode; this also turns off Ctrl-Z and Ctrl-\). By default Ctrl-C raises SIGINT and
    ///   `TerminalGuard` restores the terminal and exits with status 130.
    /// - Parameter mouse: report clicks and the wheel as `Key.mouse` (the terminal's own
    ///   text selection then needs Shift, as in htop).
    public init(interruptAsKey: Bool = false, mouse: Bool = false) {
        self.interruptAsKey = interruptAsKey
        self.mouse = mouse
    }

    deinit {
        stop()
    }

    /// Enters curses mode (again, after `stop()`), installing `TerminalGuard` first.
    public func start() throws(TerminalError) {
        guard !isActive else { return }
        if hasBeenOpened {
            Curses.resume()
        } else {
            TerminalGuard.install()
            try Curses.open(interruptAsKey: interruptAsKey, mouse: mouse)
            (supportsColor, defaultColors) = Curses.startColor()
            hasBeenOpened = true
        }
        isActive = true
        previous = nil
    }

    /// Leaves curses mode and restores the terminal. Safe to call more than once.
    public func stop() {
        guard isActive else { return }
        Curses.close()
        isActive = false
    }

    /// The terminal's size in cells, current after a `.resize` key.
    public var size: Size { Curses.size }

    /// Shows `grid`: cells beyond the screen are cut off, and after a resize, a theme change
    /// or a change of grid size the whole screen is repainted; otherwise only changed cells
    /// are written.
    public func draw(_ grid: Grid, theme: Theme) {
        guard isActive else { return }
        let full = previous == nil || previous?.size != grid.size || previousTheme != theme
        if full { Curses.clear() }
        let screen = size
        let width = min(grid.width, screen.width), height = min(grid.height, screen.height)
        let cells = grid.cells, old = full ? nil : previous?.cells
        func changed(_ index: Int) -> Bool { old.map { $0[index] != cells[index] } ?? true }

        for y in 0..<height {
            var x = 0
            while x < width {
                let start = y * grid.width + x
                guard changed(start) else { x += 1; continue }
                // A run: consecutive changed cells of one style, written in one call.
                let style = cells[start].style
                var end = x + 1
                while end < width, cells[y * grid.width + end].style == style, changed(y * grid.width + end) {
                    end += 1
                }
                scratch.removeAll(keepingCapacity: true)
                for index in start..<(y * grid.width + end) {
                    for scalar in cells[index].character.unicodeScalars { scratch.append(wchar_t(scalar.value)) }
                }
                apply(theme.appearance(for: style), colors: theme.usesColor)
                Curses.write(scratch, x: x, y: y)
                x = end
            }
        }
        Curses.refresh()
        previous = grid
        previousTheme = theme
    }

    /// The next key, waiting at most `timeoutMilliseconds`; nil when none came in time (poll
    /// background jobs then). A `.resize` makes the next `draw` repaint everything.
    public func readKey(timeoutMilliseconds: Int) -> Key? {
        guard isActive else { return nil }
        let key = Curses.readKey(timeoutMilliseconds: timeoutMilliseconds)
        if key == .resize { previous = nil }
        return key
    }

    /// Puts `text` on the terminal's clipboard, where the terminal allows it (OSC 52).
    public func copyToClipboard(_ text: String) {
        guard isActive else { return }
        Curses.copyToClipboard(text)
    }

    private func apply(_ appearance: Appearance, colors: Bool) {
        let pair = colors && supportsColor ? pairNumber(appearance.foreground, appearance.background) : 0
        Curses.setAttributes(appearance.attributes, pair: pair)
    }

    /// The colour pair for a foreground and background, defined on first use. Pair 0 is the
    /// terminal's default; when the pairs run out, colours fall back to it.
    private func pairNumber(_ foreground: TerminalColor, _ background: TerminalColor) -> Int {
        if foreground == .default, background == .default { return 0 }
        let key = PairKey(foreground: foreground, background: background)
        if let pair = pairs[key] { return pair }
        let pair = pairs.count + 1
        guard pair <= Curses.maximumPair else { return 0 }
        // Without default-colour support, "default" means white text on black.
        let fg = foreground.ansiIndex ?? (defaultColors ? -1 : 7)
        let bg = background.ansiIndex ?? (defaultColors ? -1 : 0)
        Curses.definePair(pair, foreground: fg, background: bg)
        pairs[key] = pair
        return pair
    }
}
