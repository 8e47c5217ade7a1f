/* SPDX-License-Identifier: MIT */
/*
 * The process table: one entry per pid, each with its shadow space, and the one place
 * that decides what procFork, procExec and procExit do to a process and its space. The
 * tracer (tracer/trace.c), the timeline playback (export/playback.c) and the state map's
 * replay (tui/replay.c) keep their processes here, so a timeline replays as it was traced.
 *
 * What ms_proctab_apply() does with an event of pid:
 * - any event of a pid without a space (first event, or a pid only listed so far): an empty
 *   space (attach, a missed fork: nothing is known of its map).
 * - procFork (ev.arg is the parent): the child's space becomes a copy of the parent's
 *   (empty when the parent is unknown or has none), with fresh counters. A child that is
 *   already alive with a space keeps it: it was announced before (the traced child the
 *   tracer registers itself, or its own events merged ahead of its fork) and what they did
 *   is already in it. A pid that exited and forks again is another process that reused the
 *   pid: the entry starts a new life (status reset, the copy replaces the old space).
 *   ppid is set from every procFork.
 * - procExec: the map is cleared in place; counters, peaks and stat names stay. SPEC: an
 *   exec replaces the address space, not the process: the pid, its summary, its metrics
 *   (`PID:` scope) and its named counters run on, and the cleared map takes every stat
 *   down to zero bytes, so the invariants hold. The exit status is left alone: a status
 *   learned ahead of the merge (the tracer's waitpid) must survive the process's own
 *   late exec record.
 * - procExit: exited, with exit code (ev.result, -1 when killed) and signal (ev.aux); a
 *   known status is never overwritten by an unknown one.
 * The event itself is not applied: the caller applies it to the space as it wants.
 *
 * Entries: callers embed struct ms_proc in their own entry (ops.entry_size, the member at
 * ops.offset) for their extra per-process data; the table allocates each entry zeroed, so
 * pointers stay valid until ms_proctab_destroy(). Lookup is a chained hash whose buckets
 * double as the table grows: O(1) per event. Order: creation order, for closing sections.
 *
 * Not thread safe: one thread (the merge, the reader) drives a table. Functions return 0
 * or a negative errno.
 */
#ifndef MEMSTATE_LIB_PROCTAB_H
#define MEMSTATE_LIB_PROCTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memstate/space.h"

/* The common part of a process entry. */
struct ms_proc {
	uint32_t pid;	       /* process id */
	uint32_t ppid;	       /* parent (procFork, or the caller), 0 when unknown */
	struct ms_space *sp;   /* its shadow space now; NULL until an event gives it one */
	bool exited;	       /* a procExit (or an exit status) was seen */
	int exit_code;	       /* -1 when unknown or killed */
	int exit_signal;       /* 0 when none */
	struct ms_proc *hnext; /* hash chain */
};

/* The caller's entry that holds p as its member. */
#define ms_proc_entry(p, type, member) ((type *)((char *)(p)-offsetof(type, member)))

struct ms_proctab_ops {
	size_t entry_size; /* bytes of the caller's entry (sizeof(struct ms_proc) when none) */
	size_t offset;	   /* where struct ms_proc is in it */
	/*
	 * Make p's space: a copy of parent (ms_space_clone) when not NULL, else an empty one.
	 * NULL on ENOMEM.
	 */
	struct ms_space *(*space_new)(void *ctx, struct ms_proc *p, struct ms_space *parent);
	/* A space a new life replaced; NULL: ms_space_free(). It may keep it (others point
	 * to it) and free it later. */
	void (*space_old)(void *ctx, struct ms_proc *p, struct ms_space *sp);
	/* A new entry, before its space is made (must not allocate: an entry whose space
	 * cannot be made is freed without a word). NULL: none. */
	void (*init)(void *ctx, struct ms_proc *p);
	void *ctx; /* their first argument */
};

struct ms_proctab {
	struct ms_proctab_ops ops; /* how entries and spaces are made */
	struct ms_proc **buckets;  /* pid -> entry, chained */
	uint32_t bits;		   /* log2 of the buckets */
	struct ms_proc **order;	   /* creation order */
	size_t n, cap;		   /* entries, allocated */
};

/* What ms_proctab_apply() did (flags). */
#define MS_PT_CREATED  0x01 /* the entry is new: the caller fills its own fields */
#define MS_PT_SPACE    0x02 /* the entry got a new space (the old one, if any, is gone) */
#define MS_PT_CLONED   0x04 /* that space is a copy of parent's */
#define MS_PT_NEW_LIFE 0x08 /* a fork over an exited pid: a new process, status reset */
#define MS_PT_CLEARED  0x10 /* procExec cleared the map */
#define MS_PT_EXITED   0x20 /* procExit marked it exited */

struct ms_pt_change {
	struct ms_proc *proc;	/* the event's process; NULL when it could not be made */
	struct ms_proc *parent; /* procFork: the parent's entry, NULL when unknown */
	unsigned what;		/* MS_PT_* */
};

/* 0 or -ENOMEM. destroy frees every entry and space: free the caller's parts first. */
int ms_proctab_init(struct ms_proctab *t, const struct ms_proctab_ops *ops);
void ms_proctab_destroy(struct ms_proctab *t);

static inline struct ms_proc *ms_proctab_find(const struct ms_proctab *t, uint32_t pid)
{
	struct ms_proc *p = t->buckets[(pid * 2654435761u) >> (32 - t->bits)];

	while (p && p->pid != pid)
		p = p->hnext;
	return p;
}

/* The entry of pid, made without a space when new (a listed process). NULL on ENOMEM. */
struct ms_proc *ms_proctab_add(struct ms_proctab *t, uint32_t pid);
/*
 * Give ev's process what ev means for it (see the top). c says what was done; on
 * -ENOMEM nothing changed, but c->proc is the entry when one existed before.
 */
int ms_proctab_apply(struct ms_proctab *t, const struct ms_event *ev, struct ms_pt_change *c);
/* ms_proctab_apply() for an event that is not a process event: find, or make with a space. */
int ms_proctab_get(struct ms_proctab *t, uint32_t pid, struct ms_pt_change *c);
/* Mark p exited (code -1 when unknown or killed; a known status is kept over an unknown). */
void ms_proc_set_exit(struct ms_proc *p, int code, int sig);
/* Has an exit status (not just "ended"). */
static inline bool ms_proc_status_known(const struct ms_proc *p)
{
	return p->exit_code >= 0 || p->exit_signal;
}

static inline size_t ms_proctab_count(const struct ms_proctab *t)
{
	return t->n;
}

/* Entry i in creation order (i < count). */
static inline struct ms_proc *ms_proctab_at(const struct ms_proctab *t, size_t i)
{
	return t->order[i];
}

#endif /* MEMSTATE_LIB_PROCTAB_H */
