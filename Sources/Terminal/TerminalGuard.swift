// Leaving the terminal usable however the program ends. A TUI that dies in curses mode
// leaves the shell without echo and on the alternate screen; these handlers prevent that.

public enum TerminalGuard {
    private static let installation: Void = Curses.installGuard()

    /// Installs, once per process, handlers that restore the terminal (endwin) when the
    /// program exits (atexit), is interrupted, terminated or hung up (SIGINT, SIGTERM,
    /// SIGHUP, SIGQUIT: restore, then exit with status 128 + signal number), or crashes
    /// (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP: restore, then hand the signal to
    /// the handler that was there before, so crash reports still happen). Restoring is a
    /// no-op when curses is not active. `CursesScreen.start()` calls this; calling it again
    /// does nothing.
    public static func install() {
        installation
    }
}
