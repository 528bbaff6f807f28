// ncursesw (Debian: libncurses-dev). Swift 6 rejects mutable C globals such as `stdscr`,
// `LINES` and `COLS`, and cannot import function-like macros: they are reached through
// these prefixed accessors instead.
#ifndef OICSR_CURSES_SHIM_H
#define OICSR_CURSES_SHIM_H
#define NCURSES_WIDECHAR 1
#define _XOPEN_SOURCE_EXTENDED 1
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <ncursesw/curses.h>
#include <ncursesw/term.h>

static inline WINDOW *oicsr_stdscr(void) { return stdscr; }
static inline int oicsr_lines(void) { return LINES; }
static inline int oicsr_cols(void) { return COLS; }
static inline int oicsr_colors(void) { return COLORS; }
static inline int oicsr_color_pair(int n) { return (int)COLOR_PAIR(n); }
static inline int oicsr_attr_bold(void) { return (int)A_BOLD; }
static inline int oicsr_attr_reverse(void) { return (int)A_REVERSE; }
static inline int oicsr_attr_dim(void) { return (int)A_DIM; }
static inline int oicsr_key_resize(void) { return KEY_RESIZE; }
static inline int oicsr_attr_underline(void) { return (int)A_UNDERLINE; }
static inline int oicsr_color_pairs(void) { return COLOR_PAIRS; }
static inline int oicsr_key_f(int n) { return KEY_F(n); }
static inline FILE *oicsr_stdout(void) { return stdout; }
static inline FILE *oicsr_stdin(void) { return stdin; }

// The mouse: presses of the first button and the wheel (buttons 4 and 5), reported at once.
static inline int oicsr_key_mouse(void) { return KEY_MOUSE; }
static inline void oicsr_enable_mouse(void) {
    mouseinterval(0);
    mousemask(BUTTON1_PRESSED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
}
// The pending mouse event: 1 press, 2 wheel up, 3 wheel down (0: none or another button).
static inline int oicsr_read_mouse(int *x, int *y) {
    MEVENT event;
    if (getmouse(&event) != OK) return 0;
    *x = event.x;
    *y = event.y;
    if (event.bstate & BUTTON4_PRESSED) return 2;
    if (event.bstate & BUTTON5_PRESSED) return 3;
    if (event.bstate & BUTTON1_PRESSED) return 1;
    return 0;
}

// Whether the terminal named by TERM can be driven by curses, looked up in terminfo without
// touching the terminal (setupterm only reads the database and the tty's size): 1 when it
// can, 0 when it has no cursor addressing (cup) or is a hard-copy or generic type (dumb,
// unknown), -1 when TERM is unset or not in the database.
static inline int oicsr_terminal_is_addressable(void) {
    int status = 0;
    if (setupterm(NULL, STDOUT_FILENO, &status) != OK) return -1;
    const char *cup = tigetstr("cup");
    int usable = cup != NULL && cup != (char *)-1 && tigetflag("hc") <= 0 && tigetflag("gn") <= 0;
    del_curterm(cur_term);
    return usable;
}

// Attributes and colour pair of what is written next; a function here so that Swift never
// depends on whether curses.h declares wattr_set as a function or a macro.
static inline int oicsr_set_attributes(WINDOW *window, int attributes, int pair) {
    return wattr_set(window, (attr_t)attributes, (short)pair, NULL);
}

// Terminal restoration on every way out. endwin() is what ncurses' own SIGINT handler calls;
// it is not formally async-signal-safe, but it only writes the reset sequences and restores
// the saved tty modes, and the process ends right after.
static inline void oicsr_restore_terminal(void) {
    if (!isendwin()) endwin();
}

static inline void oicsr_restore_at_exit(void) { oicsr_restore_terminal(); }

// Interrupt, terminate, hang-up: restore, then exit with the shell's 128 + signal status.
static inline void oicsr_restore_and_exit(int signal_number) {
    oicsr_restore_terminal();
    _exit(128 + signal_number);
}

// The handlers that were installed before ours for crash signals, so that a crash still
// reaches them (the Swift runtime's backtracer, or the default core dump).
static inline struct sigaction *oicsr_previous_action(int signal_number) {
    static struct sigaction previous[NSIG];
    return &previous[signal_number];
}

// Crashes (a Swift trap is SIGILL or SIGTRAP): restore, put the previous handler back, and
// raise again; the signal stays blocked until this handler returns and then goes there.
static inline void oicsr_restore_and_reraise(int signal_number) {
    oicsr_restore_terminal();
    sigaction(signal_number, oicsr_previous_action(signal_number), NULL);
    raise(signal_number);
}

static inline void oicsr_install_terminal_guard(void) {
    static const int terminating[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
    static const int crashing[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP };
    struct sigaction action;
    memset(&action, 0, sizeof action);
    sigemptyset(&action.sa_mask);
    action.sa_handler = oicsr_restore_and_exit;
    for (size_t i = 0; i < sizeof terminating / sizeof terminating[0]; i++) {
        sigaction(terminating[i], &action, NULL);
    }
    action.sa_handler = oicsr_restore_and_reraise;
    for (size_t i = 0; i < sizeof crashing / sizeof crashing[0]; i++) {
        sigaction(crashing[i], &action, oicsr_previous_action(crashing[i]));
    }
    atexit(oicsr_restore_at_exit);
}
#endif
