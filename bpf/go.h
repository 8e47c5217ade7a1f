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

#include "lib/source.h"
#include "memstate/event.h"

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
 * Attach the uprobes through src (a source with the go_attach capability, open as state)
 * and deliver their records, as calls, to sink->on_go. Returns the number of functions
 * attached (0 is an error: -errno), and says in info what was attached and what not.
 */
int ms_go_attach(struct ms_go *g, const struct ms_source_ops *src, void *state,
		 const struct ms_sink *sink, char *info, size_t infolen);
/* Records dropped as the inner half of a wrapper (sysUsed -> sysUsedOS), for tests. */
uint64_t ms_go_nested(const struct ms_go *g);

/*
 * What the uprobes feed, for tests and replays: ms_go_bind names the trace without
 * attaching anything, ms_go_record takes one record as the ring buffer hands it over.
 * ms_go_fn_addr: link-time address and size of fn in the binary (0: not in it).
 */
struct ms_bpf_go;
void ms_go_bind(struct ms_go *g, const struct ms_sink *sink);
void ms_go_record(void *g, const struct ms_bpf_go *r);
uint64_t ms_go_fn_addr(const struct ms_go *g, enum ms_go_fn fn, uint64_t *size);
/* Link-time address of a runtime data symbol or field by name ("runtime.memstats"), 0. */
uint64_t ms_go_var_addr(const struct ms_go *g, const char *name);
/* The name a stat pointer (link-time address) gets in the timeline. */
const char *ms_go_stat_name(struct ms_go *g, uint64_t addr);

#endif /* MEMSTATE_TRACER_GO_H */
