/* SPDX-License-Identifier: MIT */
/*
 * libmemstate: the Go runtime's memory-state operations, for real, recorded and checked.
 *
 * Each ms_sys_* call performs the Linux syscalls of SPEC section 4 and records the
 * transition in the process's shadow space (space.h): a violation is reported (or aborts,
 * or calls back) before the caller goes on, and the state recorded is what the OS holds
 * afterwards. ms_note() records an operation an allocator performed by itself.
 *
 * Environment, read once at first use:
 *   MEMSTATE_ON_VIOLATION=report|abort   policy (default report: one line on stderr each)
 *   MEMSTATE_OUT=FILE                    write the JSON timeline at exit ("%p" -> pid)
 *   MEMSTATE_FORMAT=json|jsonl           its form (default json)
 *   MEMSTATE_LOG_EVENTS=N                event log capacity (default 65536)
 *
 * All functions are thread-safe. Calls are serialised: the lock is held across the syscall
 * so that the recorded order is the order the kernel saw (an address one thread unmaps and
 * another gets from mmap must be freed before it is allocated, in the log too).
 */
#ifndef MEMSTATE_MEMSTATE_H
#define MEMSTATE_MEMSTATE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "space.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MS_VERSION_MAJOR 0
#define MS_VERSION_MINOR 1

/*
 * A named byte counter (Go's sysMemStat): heap, stacks, metadata... Define as many as you
 * like, e.g. `static struct ms_stat heap = MS_STAT_INIT("heap");`. The library registers
 * it on first use and keeps `bytes` equal to the Prepared + Ready (and sysFault'ed) bytes
 * charged to it; read it with ms_stat_read(). The name must outlive the process's use.
 */
struct ms_stat {
	const char *name; /* label in timelines and reports */
	uint64_t bytes;	  /* charged bytes, updated by the library (atomic) */
	uint32_t id;	  /* space stat id, assigned on first use (atomic) */
};
#define MS_STAT_INIT(n)                          \
	{                                        \
		.name = (n), .bytes = 0, .id = 0 \
	}

uint64_t ms_stat_read(const struct ms_stat *stat);

/* ---- the seed operations (SPEC section 2); 0 or -errno unless said otherwise ---- */

/* None -> Ready: n zeroed bytes at an OS-chosen address. NULL (errno set) on failure. */
void *ms_sys_alloc(size_t n, struct ms_stat *stat);
/* None -> Reserved: n bytes of PROT_NONE address space, at hint if possible. NULL on failure. */
void *ms_sys_reserve(void *hint, size_t n);
/* Reserved -> Prepared; stat += n. */
int ms_sys_map(void *v, size_t n, struct ms_stat *stat);
/* Prepared -> Ready (Ready bytes allowed); prepared must be the exact Prepared bytes. */
int ms_sys_used(void *v, size_t n, size_t prepared);
/* Ready -> Prepared; the contents are forfeit (MADV_DONTNEED, or MADV_FREE, see below). */
int ms_sys_unused(void *v, size_t n);
/* Any -> None; stat -= the charged bytes freed. */
int ms_sys_free(void *v, size_t n, struct ms_stat *stat);
/* Ready -> Reserved: any access faults from now on (debugging). */
int ms_sys_fault(void *v, size_t n);
/* Huge-page hints on the 2 MiB-aligned inner range; no transition. */
int ms_sys_huge_page(void *v, size_t n);
int ms_sys_no_huge_page(void *v, size_t n);
/* Best effort: MADV_COLLAPSE on the inner 2 MiB range. Failure is recorded, not an error. */
int ms_sys_huge_page_collapse(void *v, size_t n);

/* sys_unused advice: MADV_DONTNEED (default, Go's) or MADV_FREE (GODEBUG=madvdontneed=0). */
enum ms_unused_mode { MS_UNUSED_DONTNEED = 0, MS_UNUSED_FREE };
void ms_set_unused_mode(enum ms_unused_mode mode);

/*
 * Record an operation the caller performed itself (an allocator with its own syscalls):
 * same validation and accounting, no syscall. arg is the prepared byte count for
 * MS_OP_USED and ignored otherwise; stat may be NULL (uncharged). Returns the violation
 * kind found (0 when clean) or a negative errno for a range that cannot be recorded.
 */
int ms_note(enum ms_op op, void *addr, size_t len, uint64_t arg, struct ms_stat *stat);

/* ---- violations ---- */

enum ms_policy {
	MS_POLICY_REPORT = 0, /* print one line through the print callback and go on */
	MS_POLICY_ABORT,      /* print, write the timeline if MEMSTATE_OUT is set, abort() */
	MS_POLICY_CALLBACK,   /* call the callback set below, and go on */
};
typedef void (*ms_violation_fn)(const struct ms_violation *v, void *ctx);
void ms_set_policy(enum ms_policy policy);
/* Sets the callback and the CALLBACK policy. Called without the lock held, so it may query. */
void ms_set_violation_callback(ms_violation_fn fn, void *ctx);

/* Diagnostics (as libbpf_set_print): the default prints warnings to stderr. NULL: silence. */
enum ms_print_level { MS_WARN = 0, MS_INFO, MS_DEBUG };
typedef int (*ms_print_fn)(enum ms_print_level level, const char *fmt, va_list ap);
ms_print_fn ms_set_print(ms_print_fn fn);

/* ---- queries on this process's shadow space ---- */

/* The process's space, for the richer queries of space.h. Never NULL after first use. */
struct ms_space *ms_process_space(void);
enum ms_state ms_state_at(const void *addr);
int ms_bytes_in(const void *addr, size_t len, uint64_t bytes[MS_STATE_COUNT]);
void ms_totals(struct ms_totals *out);
struct ms_snapshot *ms_snapshot(void); /* free with ms_snapshot_free() */
size_t ms_events_read(struct ms_event *out, size_t max);

/* Write the timeline now (MEMSTATE_OUT or path). 0 or -errno. Also done at exit. */
int ms_write_timeline(const char *path);

#ifdef __cplusplus
}
#endif

#endif /* MEMSTATE_MEMSTATE_H */
