/* SPDX-License-Identifier: MIT */
/*
 * Inside the tracing session (trace.h): the merge's records and queues, the tracer's part
 * of the process table (lib/proctab.h), and what its parts share. trace.c: the merge queues,
 * per-thread queues, applying records, the sink, life cycle; trace_go.c: Go runtime calls
 * matched to their syscalls, Go marks; procmaps.c: /proc/PID/maps and pagemap seeding, the
 * --verify-maps checks; trace_summary.c: the closing table.
 */
#ifndef MEMSTATE_TRACER_TRACE_INT_H
#define MEMSTATE_TRACER_TRACE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bpf/go.h"
#include "lib/proctab.h"
#include "trace.h"

#define DEFAULT_WINDOW_NS 30000000ull	/* how long a record waits for slower sources */
#define NOTE_WINDOW_NS	  2000000ull	/* an ms_note() follows its allocator's syscall within */
#define SLACK_NS	  2000ull	/* the kernel's and the vDSO's reads of CLOCK_MONOTONIC */
#define SUMMARY_ROWS	  20		/* processes listed in the summary table */
#define GO_WAIT_NS	  1000000000ull /* longest a Go call waits for its syscall */

enum item_kind { IT_SYS, IT_EVENT, IT_API, IT_PROC, IT_GO };

/* One record waiting in the merge. */
struct item {
	struct item *next_free; /* pool link: in the line the next user writes anyway */
	uint64_t t;		/* order key: CLOCK_MONOTONIC ns */
	uint64_t arrival;	/* tie-break: order of arrival */
	uint8_t kind;		/* enum item_kind */
	bool claimed;		/* IT_SYS: the library's (or Go runtime's) own syscall, folded in */
	char stat[32];		/* IT_API: the name of u.ev.stat */
	union {
		struct ms_sysrec sys;
		struct ms_event ev;
		struct ms_proc_event proc;
		struct ms_go_call go; /* IT_GO: a Go runtime function entry */
	} u;
};

/* A small deque of items, per thread. */
struct deque {
	struct item **v;
	size_t head, n, cap; /* ring buffer */
};

/* Records of one thread still in the merge, for matching API calls with their syscalls. */
struct tidq {
	uint32_t tid;	  /* 0 for a free slot */
	struct deque sys; /* IT_SYS items, oldest first */
	struct deque api; /* IT_API items, oldest first */
	struct deque go;  /* IT_GO items, oldest first */
};

/* A traced process: the table's entry (lib/proctab.h) and what the tracer adds to it. */
struct tproc {
	struct ms_proc base;	   /* pid, ppid, space, exit status: the process table's */
	char exe[256];		   /* executable or comm, "" when unknown */
	struct ms_infer_state inf; /* syscall inference state of the current image */
	struct ms_trace *t;	   /* for the space's log hook */
	/* Go: the runtime's own sum of its sysMemStats, mirrored from its calls' arguments,
	 * and the bytes the kernel mapped beyond unaligned sysAlloc lengths (addr, extra). */
	uint64_t go_sys;
	struct go_slack {
		uint64_t addr, extra;
	} * slack;
	size_t nslack, slack_cap;
	struct ms_res_check *resck; /* --verify-maps: residency against pagemap at exit */
};

/* A record waiting in the merge, with its key inline (sorting never follows the pointer). */
struct hent {
	uint64_t t, arrival;
	struct item *it;
};

/* The merge's streams: records of one come nearly in order (the kernel's ring, ptrace's
 * stops; the program's channel; the Go runtime's uprobes). */
enum { MQ_KERNEL, MQ_API, MQ_GO, MQ_COUNT };

/* Records of one stream in (t, arrival) order, oldest at v[head]. */
struct mqueue {
	struct hent *v;
	size_t head, n, cap;
};

struct ms_trace {
	struct ms_trace_opts o;
	struct ms_sink sink;
	uint64_t seq;		    /* one sequence for all spaces: one timeline */
	struct mqueue mq[MQ_COUNT]; /* the merge: one sorted queue per stream (trace.c) */
	size_t nqueued;		    /* records in them all */
	uint64_t arrivals;
	uint64_t hold_ns;	 /* ms_trace_hold(): release nothing stamped from then on */
	uint64_t loss_since_ns;	 /* events may be missing from then on (0: none lost) */
	struct item *free_items; /* pool */
	struct tidq *tids;	 /* open addressing on tid */
	size_t ntids_cap, ntids;
	struct ms_proctab pt;	   /* the processes (struct tproc), creation order */
	struct ms_space **retired; /* spaces of pids' past lives, which the live view shows */
	size_t nretired, retired_cap;
	struct ms_trace_stats st;
	struct ms_go_mark *marks; /* Go: one per ReadMemStats, in order */
	size_t nmarks, marks_cap;
	uint64_t go_calls;	      /* Go runtime calls applied */
	uint64_t go_unplaced;	      /* sysAlloc/sysReserve whose mmap never came */
	struct ms_alloc_mark *amarks; /* jemalloc: one per epoch refresh and at exit */
	size_t namarks, amarks_cap;
};

static inline struct tproc *tr_proc_of(struct ms_proc *p)
{
	return p ? ms_proc_entry(p, struct tproc, base) : NULL;
}

/* Process i in creation order (i < ms_proctab_count(&t->pt)). */
static inline struct tproc *tr_proc_at(const struct ms_trace *t, size_t i)
{
	return tr_proc_of(ms_proctab_at(&t->pt, i));
}

/* Shared by the parts (trace.c unless said). */
void tr_dq_remove(struct deque *d, struct item *it);
bool tr_item_before(const struct item *a, const struct item *b);
struct tproc *tr_proc_get(struct ms_trace *t, uint32_t pid);
/* trace_merge.c: items and the merge's queues. */
void tr_item_free(struct ms_trace *t, struct item *it);
int tr_merge_push(struct ms_trace *t, struct item *it); /* 0 or -ENOMEM */
struct hent *tr_merge_top(struct ms_trace *t);		/* the oldest (t->nqueued > 0) */
struct item *tr_merge_pop(struct ms_trace *t, const struct hent *top); /* top: tr_merge_top()'s */
uint64_t tr_mono_ns(void);
struct item *tr_item_new(struct ms_trace *t, uint8_t kind, uint64_t ts);
struct tproc *tr_proc_find(struct ms_trace *t, uint32_t pid);
void tr_apply_event(struct ms_trace *t, struct tproc *p, struct ms_event *ev, unsigned flag,
		    const char *flag_msg);
int tr_dq_push(struct deque *d, struct item *it);
struct tidq *tr_tidq_find(struct ms_trace *t, uint32_t tid, bool create);
struct item *tr_dq_at(const struct deque *d, size_t i);
void tr_queue(struct ms_trace *t, struct item *it);
void tr_go_copy(struct tproc *p, const struct tproc *parent); /* trace_go.c */
bool tr_go_ready(struct ms_trace *t, struct item *it, uint64_t now);
void tr_apply_go(struct ms_trace *t, struct item *it);
void tr_on_go(void *ctx, const struct ms_go_call *c);
void tr_note_lost(struct ms_trace *t, uint64_t n, uint64_t since_ns);
void tr_queue_exec_seeds(struct ms_trace *t, const struct ms_proc_event *pe); /* procmaps.c */

#endif /* MEMSTATE_TRACER_TRACE_INT_H */
