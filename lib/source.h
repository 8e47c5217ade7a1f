/* SPDX-License-Identifier: MIT */
/*
 * Capture sources behind one small ops table, so that `memstate run` picks among the eBPF
 * probe, the ptrace+seccomp fallback, the in-process API channel and replay without
 * knowing their insides. A source delivers records to the ms_sink it was opened with
 * (memstate/capture.h) from poll(), on the tracer's thread.
 *
 * Life cycle: probe -> open -> start(pid) -> poll until the traced tree is gone or a stop
 * is asked -> stop -> close. Each step returns 0 or a negative errno; close is NULL-safe.
 */
#ifndef MEMSTATE_TRACER_SOURCE_H
#define MEMSTATE_TRACER_SOURCE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "memstate/capture.h"

/*
 * A Go runtime call (bpf/go.c's uprobes), delivered through ms_sink.on_go: the operation
 * and the syscalls Go's implementation of the function makes (merged by the tracer).
 */
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

struct ms_bpf_go; /* bpf/probe.h: one Go uprobe record */

struct ms_source_cfg {
	uint32_t ring_bytes; /* ring buffer size asked for (0: the source's default) */
	bool faults;	     /* capture user page faults */
	bool thp;	     /* capture THP collapses */
	bool files;	     /* report file-backed mappings */
	bool exit_stops;     /* ptrace: hold each process at its exit for a map check */
	int verbose;	     /* diagnostics level on stderr */
};

struct ms_source_ops {
	const char *name; /* "ebpf", "ptrace", "channel", "replay" */
	/*
	 * Can it run here? 0, or a negative errno with one line in why (e.g. "needs root
	 * (CAP_BPF): running without kernel events").
	 */
	int (*probe)(char *why, size_t whylen);
	int (*open)(const struct ms_source_cfg *cfg, const struct ms_sink *sink, void **state);
	/*
	 * Optional: runs in the forked child between fork and exec (the child is still
	 * memstate's code; async-signal-safe calls only). The ptrace source installs its
	 * seccomp filter here.
	 */
	int (*child_setup)(void *state);
	/* Begin following pid (stopped before its exec) and every process it creates. */
	int (*start)(void *state, pid_t pid);
	/* Deliver what is ready, waiting at most timeout_ms. Returns records delivered or -errno. */
	int (*poll)(void *state, int timeout_ms);
	/* A file descriptor that becomes readable when poll has work, or -1. */
	int (*fd)(void *state);
	/* Deliver everything still buffered, then stop capturing. */
	int (*stop)(void *state);
	void (*close)(void *state);
	/* Records lost so far (counted, never silent). */
	uint64_t (*lost)(void *state);
	/*
	 * Optional: the time stamp of the oldest record still to come that will carry an
	 * earlier time than records already delivered (a munmap stamped at its entry whose
	 * exit is not seen yet), or 0. The merge releases nothing from that time on.
	 */
	uint64_t (*pending_since)(void *state);
	/* The source waits for and reaps the traced processes (ptrace): the caller must not. */
	bool reaps;

	/* ---- Capabilities: NULL when the source has none (never compare source pointers). */
	/*
	 * Delivers the user page faults (first touches) of what it follows: without them a
	 * space cannot know which pages are resident (SPEC section 8), so residency is off.
	 */
	bool (*sees_faults)(void *state);
	/* Follow an already running process (and what it creates) instead of start. */
	int (*attach)(void *state, pid_t pid);
	/* Processes still alive under the traced one (a source that reaps them). */
	unsigned (*live)(void *state);
	/*
	 * Hold each process at its exit for a map check (cfg->exit_stops): hold_only makes the
	 * source do only that, beside another source (no records; call before start); held
	 * lists the processes held now, release lets them all go.
	 */
	void (*hold_only)(void *state);
	unsigned (*held)(void *state, uint32_t *pids, unsigned max);
	void (*release)(void *state);
	/*
	 * Go runtime uprobes (bpf/go.c drives them): where their records go (from poll), and
	 * attaching the program at n file offsets of path, errs[i] saying why offset i is not
	 * probed. go_attach returns how many are, or -errno.
	 */
	void (*go_sink)(void *state, void (*fn)(void *ctx, const struct ms_bpf_go *rec), void *ctx);
	int (*go_attach)(void *state, const char *path, const uint64_t *offs,
			 const uint64_t *cookies, unsigned n, int *errs);
};

/* bpf/: kernel events, any program (weak: absent when bpf/ is not built). */
extern const struct ms_source_ops ms_src_ebpf __attribute__((weak));
extern const struct ms_source_ops ms_src_ptrace;  /* tracer/: no-root syscall fallback */
extern const struct ms_source_ops ms_src_channel; /* tracer/: API events of libmemstate */
/* The descriptor to pass as MEMSTATE_CHANNEL to the traced program. */
int ms_src_channel_fd(void *state);

#endif /* MEMSTATE_TRACER_SOURCE_H */
