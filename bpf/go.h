/* SPDX-License-Identifier: MIT */
/*
 * Exact tracing of Go programs: uprobes at the entry of the Go runtime's sys* functions
 * (docs/go.md).
 *
 * go.c reads the binary (ELF symbols, build info, DWARF names of the runtime's stat
 * variables), attaches the eBPF uprobe program at each runtime function the binary keeps,
 * and turns each record into a struct ms_go_call: the operation the function performs
 * (source "uprobe") and the syscalls Go's implementation makes for it. trace.c applies
 * the call at its entry time and folds those syscalls into it (the runtime's own
 * syscalls are not applied twice), as it does for libmemstate's API events.
 *
 * Only entry probes: a function's result (sysAlloc's address) comes from its mmap.
 */
#ifndef MEMSTATE_TRACER_GO_H
#define MEMSTATE_TRACER_GO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "memstate/event.h"

struct ms_trace;

/* The runtime functions memstate probes; the attach cookie is this number. */
enum ms_go_fn {
	MS_GO_ALLOC = 0, /* runtime.sysAlloc(n, stat) */
	MS_GO_ALLOC_OS,	 /* runtime.sysAllocOS(n): also the runtime's unaccounted maps */
	MS_GO_RESERVE,	 /* runtime.sysReserve(v, n) */
	MS_GO_RESERVE_OS,
	MS_GO_MAP, /* runtime.sysMap(v, n, stat) */
	MS_GO_MAP_OS,
	MS_GO_USED, /* runtime.sysUsed(v, n, prepared) */
	MS_GO_USED_OS,
	MS_GO_UNUSED, /* runtime.sysUnused(v, n) */
	MS_GO_UNUSED_OS,
	MS_GO_FREE, /* runtime.sysFree(v, n, stat) */
	MS_GO_FREE_OS,
	MS_GO_FAULT, /* runtime.sysFault(v, n) */
	MS_GO_FAULT_OS,
	MS_GO_HUGE, /* runtime.sysHugePage(v, n) */
	MS_GO_HUGE_OS,
	MS_GO_NOHUGE, /* runtime.sysNoHugePage(v, n) (Go 1.21+) */
	MS_GO_NOHUGE_OS,
	MS_GO_COLLAPSE, /* runtime.sysHugePageCollapse(v, n) (Go 1.21+) */
	MS_GO_COLLAPSE_OS,
	MS_GO_MARK, /* runtime.readmemstats_m: ReadMemStats, world stopped */
	/* runtime.(*heapStatsDelta).merge called by readmemstats_m: the moment it reads the
	 * counters, after flushing the mcaches (which may allocate) */
	MS_GO_MARK_AT,
	MS_GO_FN_COUNT,
};

/* ms_go_want.flags */
#define MS_GW_OPTIONAL 0x01 /* Go may not make it (a mode or a failure path) */
#define MS_GW_RESULT   0x02 /* mmap: its result is the call's address (sysAlloc, sysReserve) */
#define MS_GW_HINT     0x04 /* addr is only a hint (mmap without MAP_FIXED) */
#define MS_GW_WITHIN   0x08 /* madvise over any part of [addr, addr+len) (hints) */
#define MS_GW_FALLBACK 0x10 /* only after the previous want failed (MADV_FREE -> DONTNEED) */
#define MS_GW_UNUSED   0x20 /* madvise: MADV_DONTNEED or MADV_FREE (GODEBUG picks) */

/* A syscall Go's implementation of a function makes (claimed: applied as the call). */
struct ms_go_want {
	uint32_t nr;	/* syscall number */
	uint32_t flags; /* MS_GW_* */
	uint64_t addr;	/* args[0] */
	uint64_t len;	/* args[1] */
	uint64_t arg2;	/* mmap/mprotect: prot; madvise: advice */
};

#define MS_GO_WANTS 4

/* One runtime function entry, ready for the merge (see trace.c). */
struct ms_go_call {
	struct ms_event ev;   /* op, source uprobe, addr (0: from the mmap), len, arg, ids */
	uint64_t req_len;     /* the length the runtime asked for (sysAlloc may not be page
				aligned: the kernel maps whole pages, the runtime counts n) */
	char stat[56];	      /* the sysMemStat it charges, "" for none */
	uint8_t fn;	      /* enum ms_go_fn */
	uint8_t mark;	      /* a ReadMemStats mark, no operation */
	uint8_t prep_unknown; /* sysUsed inlined: prepared is what the map holds, unchecked */
	uint8_t nwant;
	struct ms_go_want want[MS_GO_WANTS];
};

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

/* ---- the binary (go.c) */

struct ms_go;

/*
 * Look at path: is it a Go program, which runtime functions does it keep. NULL with a
 * one-line reason in why when it is not a usable Go binary (not ELF, not Go, stripped).
 * *is_go tells a stripped Go binary from a non-Go program.
 */
struct ms_go *ms_go_open(const char *path, bool *is_go, char *why, size_t whylen);
void ms_go_free(struct ms_go *g);
/* "go1.19.8", or "go (version unknown)". */
const char *ms_go_version(const struct ms_go *g);

/*
 * Attach the uprobes (ebpf_state: an open ms_src_ebpf) and deliver their records, as
 * calls, to trace. Returns the number of functions attached (0 is an error: -errno), and
 * says in info what was attached and what not.
 */
int ms_go_attach(struct ms_go *g, void *ebpf_state, struct ms_trace *t, char *info, size_t infolen);
/* Records dropped as the inner half of a wrapper (sysUsed -> sysUsedOS), for tests. */
uint64_t ms_go_nested(const struct ms_go *g);

/*
 * What the uprobes feed, for tests and replays: ms_go_bind names the trace without
 * attaching anything, ms_go_record takes one record as the ring buffer hands it over.
 * ms_go_fn_addr: link-time address and size of fn in the binary (0: not in it).
 */
struct ms_bpf_go;
void ms_go_bind(struct ms_go *g, struct ms_trace *t);
void ms_go_record(void *g, const struct ms_bpf_go *r);
uint64_t ms_go_fn_addr(const struct ms_go *g, enum ms_go_fn fn, uint64_t *size);
/* Link-time address of a runtime data symbol or field by name ("runtime.memstats"), 0. */
uint64_t ms_go_var_addr(const struct ms_go *g, const char *name);
/* The name a stat pointer (link-time address) gets in the timeline. */
const char *ms_go_stat_name(struct ms_go *g, uint64_t addr);

/* ---- in the trace (trace.c) */

/* Queue one call; ownership of nothing passes. */
void ms_trace_go_call(struct ms_trace *t, const struct ms_go_call *c);
/* Marks taken so far, in order; NULL when none. */
const struct ms_go_mark *ms_trace_go_marks(const struct ms_trace *t, size_t *n);
/* Write the marks as JSON Lines to f, t_ns relative to t0. 0 or -errno. */
int ms_trace_go_marks_write(const struct ms_trace *t, FILE *f, uint64_t t0);

#endif /* MEMSTATE_TRACER_GO_H */
