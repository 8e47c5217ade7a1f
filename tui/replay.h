/* SPDX-License-Identifier: MIT */
/*
 * Replay of a saved timeline: the recorded events in memory, and the state of every
 * process at any position, rebuilt by applying the events to one ms_space per pid.
 *
 * Position p means events [0, p) are applied: 0 is before the first event, nev is the end.
 * Processes live in lib/proctab.h, whose rules (the tracer's and export/'s playback's) say
 * what procFork, procExec and procExit do: a fork's child gets a copy of its parent's
 * space unless its own events came first, an exec clears the map (counters stay), and the
 * other events go to their pid's space. Seeking forward applies events; seeking backward
 * restores the nearest checkpoint (clones of every space, taken every `every` events on the
 * way forward) and applies the rest, so a seek never replays more than `every` events.
 *
 * Counters shown for a process are rebuilt from the recorded events (a violation the
 * tracer raised that a replay cannot see, such as api-mismatch, still counts); bytes come
 * from the replayed space. No curses, no reader: filled by whoever loaded the timeline.
 */
#ifndef MEMSTATE_TUI_REPLAY_H
#define MEMSTATE_TUI_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memstate/space.h"
#include "lib/proctab.h"

struct ms_rp_proc {
	struct ms_proc base;  /* pid, ppid; its map at the current position (base.sp: NULL
				 before it appears; replaced by seeks: never keep it across
				 one); its exit status there (the processes section's before) */
	char *exe;	      /* owned; NULL when unknown */
	uint64_t dropped;     /* events the capture lost for it (whole run) */
	struct ms_totals tot; /* counters at the current position */
	bool alive;	      /* it has appeared and not exited at the current position */
	bool seen;	      /* it has appeared at or before the current position */
};

struct ms_rp_ckpt;

struct ms_replay {
	uint32_t page_size;	    /* bytes */
	struct ms_event *ev;	    /* recorded events, file order; ev.stat is a global stat id */
	size_t nev, ev_cap;	    /* events, allocated */
	char **stats;		    /* global stat names, [0] unused */
	unsigned nstats, stats_cap; /* names, allocated */
	struct ms_rp_msg *msgs;	    /* violation messages by event index, index order */
	size_t nmsgs, msgs_cap;	    /* messages, allocated */
	struct ms_proctab pt;	    /* every pid seen (struct ms_rp_proc), order of appearance */
	size_t pos;		    /* events applied */
	struct ms_rp_ckpt *ckpts;   /* checkpoints, position order; [0] is position 0 */
	size_t nckpts, ckpts_cap;   /* checkpoints, allocated */
	size_t every;		    /* events between checkpoints */
	uint64_t ckpt_regions;	    /* regions held by all checkpoints */
	uint64_t ckpt_budget;	    /* above this, checkpoints are thinned out */
	struct ms_totals summary;   /* the file's summary (zero when absent) */
	bool has_summary;	    /* a summary was read */
	bool truncated;		    /* the file ended early (killed run) */
	uint64_t lost;		    /* events a replay space could not apply (ENOMEM) */
};

struct ms_rp_msg {
	size_t index; /* event index */
	char *text;   /* owned */
};

struct ms_replay *ms_replay_new(uint32_t page_size);
void ms_replay_free(struct ms_replay *rp);

/* ---- loading (in file order, before any seek) ---- */

/* Append a recorded event; stat and message may be NULL. 0 or -ENOMEM. */
int ms_replay_add_event(struct ms_replay *rp, const struct ms_event *ev, const char *stat,
			const char *message);
/* What the processes section says about pid (exe may be NULL). 0 or -ENOMEM. */
int ms_replay_add_process(struct ms_replay *rp, uint32_t pid, uint32_t ppid, const char *exe,
			  int exit_code, int exit_signal, uint64_t dropped);
/* A message for the event with recorded seq, when its inline one was missing. */
int ms_replay_add_message(struct ms_replay *rp, uint64_t seq, const char *message);

/* ---- playing ---- */

/* Move to position pos (clamped to nev). 0, or -ENOMEM (position unchanged). */
int ms_replay_seek(struct ms_replay *rp, size_t pos);
/* The process table entry of pid, NULL when pid never appears. */
struct ms_rp_proc *ms_replay_proc(struct ms_replay *rp, uint32_t pid);
/* Processes in order of appearance: how many, and entry i (i < count). */
size_t ms_replay_nprocs(const struct ms_replay *rp);
struct ms_rp_proc *ms_replay_proc_at(const struct ms_replay *rp, size_t i);
/* Stat name of a global stat id (as stored in ev.stat), NULL for none. */
const char *ms_replay_stat_name(const struct ms_replay *rp, unsigned id);
/* The violation message of event index i, NULL when none was recorded. */
const char *ms_replay_message(const struct ms_replay *rp, size_t i);
/* Index of the next (dir > 0, after i) or previous (dir < 0, before i) violation event of
 * pid (0: any pid); SIZE_MAX when none. */
size_t ms_replay_find_violation(const struct ms_replay *rp, size_t i, int dir, uint32_t pid);
/* Index of the first event with t_ns >= t (nev when none). Events are in time order. */
size_t ms_replay_find_time(const struct ms_replay *rp, uint64_t t);
/* Index of the event with recorded seq, SIZE_MAX when none. */
size_t ms_replay_find_seq(const struct ms_replay *rp, uint64_t seq);

#endif /* MEMSTATE_TUI_REPLAY_H */
