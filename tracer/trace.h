/* SPDX-License-Identifier: MIT */
/*
 * A tracing session: every record the capture sources deliver goes through here.
 *
 * Records are merged into one time-ordered stream (a min-heap on the CLOCK_MONOTONIC
 * timestamp, released once they are older than a short window, as perf orders events), then
 * applied to one shadow space per process: syscalls through the inference, API and kernel
 * events as they are, forks as clones of the parent's space, execs as a cleared map. The
 * events each space records are streamed to the timeline writer and the live view.
 *
 * API events win on the ranges the library manages: a syscall made by a thread inside one
 * of its own libmemstate calls (the API event's window, [t_ns, t_ns + aux]) is the library's
 * own and is not applied twice; if it does not match what the call declared, the call is
 * flagged api-mismatch. A raw syscall followed within a moment by an ms_note() over the
 * same range is the allocator's own and the note stands for it.
 */
#ifndef MEMSTATE_TRACER_TRACE_H
#define MEMSTATE_TRACER_TRACE_H

#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>

#include "memstate/timeline.h"
#include "memstate/capture.h"
#include "memstate/space.h"

struct ms_live;
struct ms_trace;

struct ms_trace_opts {
	struct ms_tl_writer *writer; /* where events stream (owned by the caller), may be NULL */
	struct ms_live *live;	     /* live view to publish to, may be NULL */
	bool files;		     /* keep file-backed mappings in the map */
	bool seed_exec;		     /* at exec, seed what the kernel mapped (stack, bss...) */
	uint64_t window_ns;	     /* how long records wait for slower sources (0: 30 ms) */
	uint32_t page_size;	     /* 0: the system's */
	bool no_residency;	     /* spaces do not track residency (SPEC section 8) */
};

struct ms_trace *ms_trace_new(const struct ms_trace_opts *opts);
void ms_trace_free(struct ms_trace *t);
/* Spaces made from now on track no residency: the capture sees no page faults. Before any
 * process is traced. */
void ms_trace_no_residency(struct ms_trace *t);

/* The sink to open capture sources with. */
const struct ms_sink *ms_trace_sink(struct ms_trace *t);

/* Declare a process known before any record (the one `run` starts, or `attach` targets). */
int ms_trace_add_process(struct ms_trace *t, uint32_t pid, uint32_t ppid, const char *exe);
/* Seed a process's map with what already exists (attach): events flagged MS_EVF_SEED. */
int ms_trace_seed(struct ms_trace *t, uint32_t pid, struct ms_event *ev);
/* Record an exit learned outside the sources (waitpid of the child). */
void ms_trace_exited(struct ms_trace *t, uint32_t pid, int exit_code, int exit_signal);

/* Apply every queued record older than the window (all of them when drain is true). */
void ms_trace_flush(struct ms_trace *t, bool drain);
/* Until changed: release no record stamped at or after t_ns (0: no such bound). */
void ms_trace_hold(struct ms_trace *t, uint64_t t_ns);
/* pid's exit as learned: true with code (-1 if killed) and signal (0 if none). */
bool ms_trace_exit_status(struct ms_trace *t, uint32_t pid, int *code, int *sig);
/* Whether every process seen so far has exited. */
bool ms_trace_all_exited(const struct ms_trace *t);
/* Every process has ended (those not seen exiting are looked up: gone or zombie = ended)
 * and no record waits in the merge. */
bool ms_trace_settled(struct ms_trace *t);
/* Every traced process, and every child a fork in the merge names, has ended: no record
 * still to come can sort before those held, and the merge may drain now. */
bool ms_trace_quiet(struct ms_trace *t);
/* Sources' lost records, added to the summary. */
void ms_trace_lost(struct ms_trace *t, uint64_t n);

/*
 * One line of /proc/PID/maps as a seed event (op reserve / alloc / fileMap, addr, len,
 * kind); false for lines that are not memory of the process's own (vdso...).
 */
bool ms_maps_line(const char *line, struct ms_event *ev);
/* Seed pid's map from its /proc/PID/maps now. Returns mappings seeded or -errno. */
int ms_trace_seed_from_proc(struct ms_trace *t, uint32_t pid);
/*
 * Compare pid's anonymous memory in the shadow map with /proc/PID/maps (the process must
 * be stopped, and every record up to now applied). Differences go to f, at most a few
 * lines. Returns the number of differing ranges, or -errno when maps cannot be read.
 */
int ms_trace_verify_maps(struct ms_trace *t, uint32_t pid, FILE *f);

/* Finish the timeline (closing sections) and print the summary table to f (may be NULL). */
int ms_trace_finish(struct ms_trace *t, FILE *summary, const char *what);

/* jemalloc (--alloc-marks): its stats at each epoch refresh and at exit, beside the map's. */
struct ms_alloc_mark {
	uint32_t pid, tid;
	uint32_t at;				     /* 0 an epoch refresh, 1 the wrap, 2 exit */
	uint64_t t_ns, seq;			     /* when, and the events applied before */
	uint64_t mapped, retained, active, resident; /* jemalloc's stats.* */
	struct ms_extent_totals ext;		     /* the registry's extents in the map */
	uint64_t prepared, ready;		     /* the whole process's map */
};
const struct ms_alloc_mark *ms_trace_alloc_marks(const struct ms_trace *t, size_t *n);
/* One JSON line per mark; t0 makes t_ns relative. 0 or -errno. */
int ms_trace_alloc_marks_write(const struct ms_trace *t, FILE *f, uint64_t t0);

/* Counters for tests and the summary. */
struct ms_trace_stats {
	uint64_t records;      /* records received from sources */
	uint64_t suppressed;   /* library syscalls folded into their API events */
	uint64_t mismatches;   /* api-mismatch flags raised */
	uint64_t lost;	       /* records sources could not deliver */
	uint64_t invalid;      /* records refused as malformed (channel) */
	uint64_t events;       /* events written */
	uint64_t violations;   /* violations in all processes */
	uint64_t maps_checked; /* processes whose map was verified at exit */
	uint64_t maps_diffs;   /* ranges that differed */
	uint64_t res_checked;  /* processes whose residency was compared with pagemap */
	uint64_t res_diffs;    /* page runs where they differed */
};
void ms_trace_get_stats(const struct ms_trace *t, struct ms_trace_stats *out);
void ms_trace_count_invalid(struct ms_trace *t, uint64_t n);

/* ---- Go runtime calls (bpf/go.c delivers them through the sink's on_go) */

/* What one ReadMemStats mark saw in a process's map (tracer side, exact integers). */
struct ms_go_mark {
	uint32_t pid, tid;
	uint64_t t_ns;	    /* CLOCK_MONOTONIC ns */
	uint64_t seq;	    /* events of the timeline before it */
	uint64_t prepared;  /* Prepared bytes charged to a runtime stat */
	uint64_t ready;	    /* Ready bytes charged to a runtime stat */
	uint64_t sys;	    /* the runtime's own sum of its stats, from the calls' arguments */
	uint64_t rounding;  /* bytes the kernel mapped beyond unaligned sysAlloc lengths */
	uint64_t unstatted; /* Prepared + Ready bytes of no stat (sysAllocOS, syscalls) */
};

/* Marks taken so far, in order; NULL when none. */
const struct ms_go_mark *ms_trace_go_marks(const struct ms_trace *t, size_t *n);
/* Write the marks as JSON Lines to f, t_ns relative to t0. 0 or -errno. */
int ms_trace_go_marks_write(const struct ms_trace *t, FILE *f, uint64_t t0);

#endif /* MEMSTATE_TRACER_TRACE_H */
