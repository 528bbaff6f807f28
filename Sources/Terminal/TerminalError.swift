import Canvas
import Glibc

public enum TerminalError: Error, Hashable, CustomStringConvertible {
    /// Standard input or output is not a terminal (piped, redirected, or in a CI job).
    case notATerminal
    /// curses could not set up the terminal type, usually an unknown or unset TERM.
    case cannotInitialize(terminal: String)
    /// The terminal type is known but cannot be drawn on: no cursor addressing (TERM=dumb,
    /// an editor's shell buffer) or a hard-copy or generic type.
    case unsupported(terminal: String)

    public var description: String {
        switch self {
        case .notATerminal:
            "the explorer needs a terminal: standard input and output must not be redirected"
        case .cannotInitialize(let terminal):
            terminal.isEmpty
                ? "TERM is not set, so the terminal type is unknown (e.g. TERM=xterm-256color)"
                : "cannot use the terminal type '\(terminal)' (check TERM; e.g. TERM=xterm-256color)"
        case .unsupported(let terminal):
            "the terminal type '\(terminal)' cannot move the cursor, which the explorer needs; use a full-screen terminal (e.g. TERM=xterm-256color), or the commands (oicsr --help)"
        }
    }
}
