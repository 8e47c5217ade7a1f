// SPDX-License-Identifier: MIT
/*
 * The one owner of the terminal: curses set-up and teardown, colours, and every way out
 * (normal return, exit() from any thread, SIGINT/SIGTERM/SIGHUP, a crash of memstate
 * itself) leaves the terminal as it found it.
 *
 * While the screen is up, memstate's own stderr (the library's print callback, the
 * tracer's warnings) goes to a memory file instead of over the map; it is written out
 * once the terminal is restored, so no diagnostic is lost.
 */
#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tui.h"

static const int quit_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
static const int crash_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
#define NQUIT  (sizeof(quit_signals) / sizeof(quit_signals[0]))
#define NCRASH (sizeof(crash_signals) / sizeof(crash_signals[0]))

static struct {
	SCREEN *scr;			    /* our curses screen */
	volatile sig_atomic_t active;	    /* the terminal is ours: teardown pending */
	bool color;			    /* colour pairs set up */
	int saved_err;			    /* the real stderr while it is captured, else -1 */
	int cap_fd;			    /* where stderr goes meanwhile, else -1 */
	struct sigaction old_quit[NQUIT];   /* dispositions to put back */
	struct sigaction old_crash[NCRASH]; /* same */
	bool atexit_set;		    /* the atexit hook is registered */
} scr = {.saved_err = -1, .cap_fd = -1};

static volatile sig_atomic_t got_signal;

/* ------------------------------------------------------------------ stderr */

static void capture_stderr(void)
{
	fflush(stderr);
	scr.cap_fd = memfd_create("memstate-tui-stderr", MFD_CLOEXEC);
	if (scr.cap_fd < 0)
		return;
	scr.saved_err = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	if (scr.saved_err < 0 || dup2(scr.cap_fd, STDERR_FILENO) < 0) {
		if (scr.saved_err >= 0)
			close(scr.saved_err);
		close(scr.cap_fd);
		scr.saved_err = scr.cap_fd = -1;
	}
}

/* Async-signal-safe: put stderr back and write out what was captured. */
static void release_stderr(void)
{
	char buf[4096];
	ssize_t n;

	if (scr.saved_err < 0)
		return;
	dup2(scr.saved_err, STDERR_FILENO);
	close(scr.saved_err);
	scr.saved_err = -1;
	if (lseek(scr.cap_fd, 0, SEEK_SET) == 0) {
		while ((n = read(scr.cap_fd, buf, sizeof(buf))) > 0) {
			if (write(STDERR_FILENO, buf, (size_t)n) != n)
				break;
		}
	}
	close(scr.cap_fd);
	scr.cap_fd = -1;
}

/* ------------------------------------------------------------------ signals */

static void on_quit_signal(int sig)
{
	got_signal = sig;
}

/*
 * memstate itself crashed: give the terminal back before the default action runs (the
 * handler was installed with SA_RESETHAND, so returning or raising ends the process).
 * endwin() is not async-signal-safe, but a crash leaves nothing better to try: a terminal
 * left in raw mode is the worse outcome.
 */
static void on_crash_signal(int sig)
{
	if (scr.active) {
		scr.active = 0;
		endwin();
		release_stderr();
	}
	raise(sig);
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_quit_signal;
	for (size_t i = 0; i < NQUIT; i++)
		sigaction(quit_signals[i], &sa, &scr.old_quit[i]);
	sa.sa_handler = on_crash_signal;
	sa.sa_flags = SA_RESETHAND | SA_NODEFER;
	for (size_t i = 0; i < NCRASH; i++)
		sigaction(crash_signals[i], &sa, &scr.old_crash[i]);
}

static void restore_signals(void)
{
	for (size_t i = 0; i < NQUIT; i++)
		sigaction(quit_signals[i], &scr.old_quit[i], NULL);
	for (size_t i = 0; i < NCRASH; i++)
		sigaction(crash_signals[i], &scr.old_crash[i], NULL);
}

int tui_scr_signal(void)
{
	return got_signal;
}

/* ------------------------------------------------------------------ colours */

static void init_colors(void)
{
	int bg = COLOR_BLACK;

	if (start_color() != OK || COLORS < 8)
		return; /* COLORS is only known after start_color() */
	if (use_default_colors() == OK)
		bg = -1;
	init_pair(TUI_P_TITLE, COLOR_BLACK, COLOR_CYAN);
	init_pair(TUI_P_RESERVED, COLOR_WHITE, COLOR_BLUE);
	init_pair(TUI_P_PREPARED, COLOR_BLACK, COLOR_YELLOW);
	init_pair(TUI_P_READY, COLOR_BLACK, COLOR_GREEN);
	init_pair(TUI_P_FILE, COLOR_BLACK, COLOR_MAGENTA);
	init_pair(TUI_P_HEAT_NONE, COLOR_RED, bg);
	init_pair(TUI_P_HEAT_RESERVED, COLOR_RED, COLOR_BLUE);
	init_pair(TUI_P_HEAT_PREPARED, COLOR_RED, COLOR_YELLOW);
	init_pair(TUI_P_HEAT_READY, COLOR_RED, COLOR_GREEN);
	init_pair(TUI_P_HEAT_FILE, COLOR_RED, COLOR_MAGENTA);
	init_pair(TUI_P_BREAK, COLOR_CYAN, bg);
	init_pair(TUI_P_VIOL, COLOR_WHITE, COLOR_RED);
	init_pair(TUI_P_KEYLABEL, COLOR_BLACK, COLOR_CYAN);
	init_pair(TUI_P_HEADER, COLOR_BLACK, COLOR_GREEN);
	init_pair(TUI_P_DIM, COLOR_CYAN, bg);
	scr.color = true;
}

bool tui_scr_color(void)
{
	return scr.color;
}

/* ------------------------------------------------------------------ set-up, teardown */

static void at_exit(void)
{
	tui_scr_done();
}

int tui_scr_init(bool want_color)
{
	const char *no_color = getenv("NO_COLOR");

	if (scr.active)
		return -EBUSY;
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return -ENOTTY;
	/*
	 * Our handlers go in first: curses installs its own SIGINT/SIGTERM handlers (which
	 * exit(1)) only where it finds the default, and what we save must be the caller's.
	 */
	got_signal = 0;
	install_signals();
	scr.scr = newterm(NULL, stdout, stdin);
	if (!scr.scr) {
		restore_signals();
		return -ENOTTY; /* unknown TERM: nothing was drawn */
	}
	set_term(scr.scr);
	scr.active = 1;
	if (!scr.atexit_set && atexit(at_exit) == 0)
		scr.atexit_set = true;
	capture_stderr();
	cbreak(); /* ^C still raises SIGINT, which ends the view cleanly */
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	intrflush(stdscr, FALSE);
	set_escdelay(25);
	curs_set(0);
	scr.color = false;
	if (want_color && !(no_color && *no_color) && has_colors())
		init_colors();
	return 0;
}

void tui_scr_done(void)
{
	if (!scr.active)
		return;
	scr.active = 0;
	curs_set(1);
	endwin();
	delscreen(scr.scr);
	scr.scr = NULL;
	release_stderr();
	restore_signals();
	fflush(stdout);
}
