// The only file that talks to ncursesw. Everything curses-specific (codes, attribute bits,
// wide-character calls) stays here; the rest of the module works with Explorer's `Key`,
// `Appearance` and plain Swift values.

internal import CNCurses
import Canvas

#if canImport(Glibc)
import Glibc
#endif

enum Curses {
    /// Whether standard input and output are both terminals.
    static var isInteractive: Bool { isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1 }

    /// Enters curses mode on the controlling terminal: the user's locale (so UTF-8 box
    /// drawing works through the wide-character calls), keys unbuffered and unechoed, arrow
    /// and function keys decoded, cursor hidden. Fails instead of exiting, unlike `initscr`.
    /// - Parameter interruptAsKey: raw mode, in which Ctrl-C arrives as a key instead of SIGINT.
    /// - Parameter mouse: report clicks and the wheel as keys.
    static func open(interruptAsKey: Bool, mouse: Bool = false) throws(TerminalError) {
        setlocale(LC_ALL, "")
        guard isInteractive else { throw .notATerminal }
        let terminal = getenv("TERM").map { String(cString: $0) } ?? ""
        // Checked before newterm, which already switches the screen and the tty's modes: a
        // terminal that cannot place the cursor (TERM=dumb) would get a blank, stuck screen.
        switch oicsr_terminal_is_addressable() {
        case 1: break
        case 0: throw .unsupported(terminal: terminal)
        default: throw .cannotInitialize(terminal: terminal)
        }
        guard newterm(nil, oicsr_stdout(), oicsr_stdin()) != nil else {
            throw .cannotInitialize(terminal: terminal)
        }
        if interruptAsKey { raw() } else { cbreak() }
        noecho()
        nonl()
        keypad(oicsr_stdscr(), true)
        // A lone Esc is a key here (cancel, close); waiting the default second to tell it
        // from an escape sequence would make it feel broken.
        set_escdelay(25)
        curs_set(0)
        if mouse { oicsr_enable_mouse() }
    }

    /// Back in curses mode after `close()`.
    static func resume() {
        wrefresh(oicsr_stdscr())
    }

    static func close() {
        oicsr_restore_terminal()
    }

    static func installGuard() {
        oicsr_install_terminal_guard()
    }

    static var size: Size { Size(width: Int(oicsr_cols()), height: Int(oicsr_lines())) }

    /// Starts colour if the terminal has it and `NO_COLOR` is unset or empty.
    /// - Returns: whether colours can be used; `defaultColors` says whether the terminal's own
    ///   default foreground and background can be used in pairs (else white on black).
    static func startColor() -> (available: Bool, defaultColors: Bool) {
        let noColor = getenv("NO_COLOR").map { $0.pointee != 0 } ?? false
        guard has_colors(), !noColor, start_color() != ERR, oicsr_colors() >= 8 else { return (false, false) }
        return (true, use_default_colors() != ERR)
    }

    /// Highest usable colour-pair number.
    static var maximumPair: Int { Int(oicsr_color_pairs()) - 1 }

    /// Defines colour pair `pair` (1…maximumPair); colours are ANSI numbers, -1 the default.
    static func definePair(_ pair: Int, foreground: Int, background: Int) {
        init_pair(Int16(pair), Int16(foreground), Int16(background))
    }

    static func setAttributes(_ attributes: TextAttributes, pair: Int) {
        var bits: Int32 = 0
        if attributes.contains(.bold) { bits |= oicsr_attr_bold() }
        if attributes.contains(.dim) { bits |= oicsr_attr_dim() }
        if attributes.contains(.reverse) { bits |= oicsr_attr_reverse() }
        if attributes.contains(.underline) { bits |= oicsr_attr_underline() }
        oicsr_set_attributes(oicsr_stdscr(), bits, Int32(pair))
    }

    /// Writes UTF-32 `text` from column `x` of row `y`. At the bottom-right cell curses
    /// reports an error because the cursor cannot advance; the character is drawn anyway.
    static func write(_ text: [wchar_t], x: Int, y: Int) {
        text.withUnsafeBufferPointer { buffer in
            _ = mvwaddnwstr(oicsr_stdscr(), Int32(y), Int32(x), buffer.baseAddress, Int32(buffer.count))
        }
    }

    /// Forgets what is on the physical screen, so the next refresh repaints everything.
    static func clear() {
        wclear(oicsr_stdscr())
    }

    static func refresh() {
        wrefresh(oicsr_stdscr())
    }

    /// The next key, waiting at most `timeoutMilliseconds` (negative: forever); nil on timeout
    /// and for keys the explorer has no name for.
    static func readKey(timeoutMilliseconds: Int) -> Key? {
        wtimeout(oicsr_stdscr(), Int32(clamping: timeoutMilliseconds))
        var code: wint_t = 0
        switch wget_wch(oicsr_stdscr(), &code) {
        case OK: return character(code)
        case KEY_CODE_YES: return functionKey(Int32(bitPattern: code))
        default: return nil
        }
    }

    private static func mouse() -> Key? {
        var x: Int32 = 0, y: Int32 = 0
        switch oicsr_read_mouse(&x, &y) {
        case 1: return .mouse(Mouse(.press, x: Int(x), y: Int(y)))
        case 2: return .mouse(Mouse(.wheelUp, x: Int(x), y: Int(y)))
        case 3: return .mouse(Mouse(.wheelDown, x: Int(x), y: Int(y)))
        default: return nil
        }
    }

    /// Asks the terminal to put `text` on the system clipboard (OSC 52, which xterm, kitty,
    /// iTerm2, WezTerm and tmux with set-clipboard understand; others ignore it).
    static func copyToClipboard(_ text: String) {
        let sequence = "\u{1B}]52;c;" + base64(Array(text.utf8)) + "\u{07}"
        fputs(sequence, oicsr_stdout())
        fflush(oicsr_stdout())
    }

    private static func base64(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var out = ""
        for start in stride(from: 0, to: bytes.count, by: 3) {
            let chunk = bytes[start..<min(start + 3, bytes.count)]
            let value = chunk.enumerated().reduce(0) { $0 | Int($1.element) << (16 - 8 * $1.offset) }
            for index in 0..<4 {
                out.append(index <= chunk.count ? alphabet[(value >> (18 - 6 * index)) & 63] : "=")
            }
        }
        return out
    }

    private static func character(_ code: wint_t) -> Key? {
        switch code {
        case 27: return .escape
        case 9: return .tab
        case 10, 13: return .enter
        case 8, 127: return .backspace
        case 1...26: return .control(Character(Unicode.Scalar(UInt8(code) + 96)))
        default: return Unicode.Scalar(code).map { .character(Character($0)) }
        }
    }

    private static func functionKey(_ code: Int32) -> Key? {
        switch code {
        case KEY_UP: return .up
        case KEY_DOWN: return .down
        case KEY_LEFT: return .left
        case KEY_RIGHT: return .right
        case KEY_PPAGE: return .pageUp
        case KEY_NPAGE: return .pageDown
        case KEY_HOME: return .home
        case KEY_END: return .end
        case KEY_ENTER: return .enter
        case KEY_BACKSPACE: return .backspace
        case KEY_DC: return .delete
        case KEY_IC: return .insert
        case KEY_BTAB: return .backTab
        case oicsr_key_resize(): return .resize
        case oicsr_key_mouse(): return mouse()
        case oicsr_key_f(1)...oicsr_key_f(24): return .function(Int(code - oicsr_key_f(0)))
        default: return nil
        }
    }
}
