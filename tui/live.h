/* SPDX-License-Identifier: MIT */
/*
 * The contract between a producer of memory-state data (the tracer while it captures, or
 * a replay of a saved timeline) and the TUI that shows it.
 *
 * The TUI only reads: per-process spaces through ms_space_snapshot() (a consistent copy
 * taken under the space's lock, htop's scan-then-draw) and the recent-event ring below.
 * The producer never waits for the TUI: it overwrites the oldest recent events, and the
 * TUI, when it falls behind, skips ahead (it drops frames, never events: the timeline on
 * disk keeps them all).
 */
#ifndef MEMSTATE_TUI_LIVE_H
#define MEMSTATE_TUI_LIVE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "memstate/space.h"

#define MS_LIVE_MAX_PROCS 256
#define MS_LIVE_RECENT	  8192 /* power of two */

struct ms_live_proc {
	uint32_t pid;
	uint32_t ppid;
	char exe[128];		/* program path or comm, NUL-terminated */
	struct ms_space *space; /* its shadow space; stays valid until ms_live is torn down */
	bool exited;
	int exit_code;	 /* -1 when killed or unknown */
	int exit_signal; /* 0 when none */
};

struct ms_live {
	pthread_mutex_t lock; /* guards everything below but the spaces */
	struct ms_live_proc procs[MS_LIVE_MAX_PROCS];
	unsigned nprocs;
	struct ms_event recent[MS_LIVE_RECENT]; /* the last events, with messages below */
	char recent_msg[MS_LIVE_RECENT][96];	/* violation message (empty when none) */
	uint64_t recent_head;			/* events ever published; slot = head % size */
	uint64_t events;			/* events applied in all */
	uint64_t dropped;			/* events lost before the tracer (probe, channel) */
	uint64_t t0_ns;				/* start of the trace, CLOCK_MONOTONIC */
	char command[256];			/* the traced command line, for the title */
	bool replay;				/* a saved timeline, not a live program */
	bool done;				/* the traced program has ended */
	bool no_color;				/* producer: draw without colours (--no-color) */
	int quit_signal;			/* ms_tui_run: the signal that ended it, 0 when
						   the user quit */
};

/*
 * Producer side (the tracer): set up, register a process, publish an applied event.
 * ms_live_add_proc with the pid of a registered, still running process replaces its space
 * (exec); a pid that exited comes back as a new entry. NULL when the table is full.
 * ms_live_publish counts the event in events and recent_head, and a procExit event marks
 * its process exited (exit code from ev->result, signal from ev->aux): no other call needed.
 */
void ms_live_init(struct ms_live *live);
struct ms_live_proc *ms_live_add_proc(struct ms_live *live, uint32_t pid, uint32_t ppid,
				      const char *exe, struct ms_space *space);
void ms_live_publish(struct ms_live *live, const struct ms_event *ev, const char *message);
void ms_live_set_done(struct ms_live *live);

/*
 * Consumer side: run the TUI on the calling thread until the user quits (q) or SIGINT,
 * SIGTERM, SIGHUP or SIGQUIT arrives. While it runs it owns those four signals; once the
 * terminal is restored it puts the previous handlers back and raises the signal again, so
 * the handler that was there before (or the default action) gets it as if no TUI had been
 * in between; live->quit_signal says which one it was. Restores the terminal on every way
 * out, and meanwhile keeps memstate's own stderr in a buffer that it writes out afterwards.
 * Returns 0, or a negative errno when no terminal could be set up (then nothing was drawn
 * and the caller goes on without a TUI).
 */
int ms_tui_run(struct ms_live *live);
/*
 * Whether the curses part is built in (tui/ui.c); without it (no curses headers, TUI=0)
 * tui/noui.c stands in: false here, and ms_tui_run returns -ENOTSUP.
 */
bool ms_tui_available(void);

#endif /* MEMSTATE_TUI_LIVE_H */
