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
};

/* bpf/: kernel events, any program (weak: absent when bpf/ is not built). */
extern const struct ms_source_ops ms_src_ebpf __attribute__((weak));
extern const struct ms_source_ops ms_src_ptrace;  /* tracer/: no-root syscall fallback */
extern const struct ms_source_ops ms_src_channel; /* tracer/: API events of libmemstate */
/* The descriptor to pass as MEMSTATE_CHANNEL to the traced program. */
int ms_src_channel_fd(void *state);
/* ptrace source: follow an already running process (every syscall stops), and count the
 * processes still alive under it. */
int ms_ptrace_attach(void *state, pid_t pid);
unsigned ms_ptrace_live(void *state);
/* Use the ptrace source only to hold exiting processes (beside eBPF): no syscall stops,
 * no process records. Call before start. */
void ms_ptrace_exit_only(void *state);
/* Processes held at their exit stop (exit_stops), and letting them go. */
unsigned ms_ptrace_held(void *state, uint32_t *pids, unsigned max);
void ms_ptrace_release(void *state);

#endif /* MEMSTATE_TRACER_SOURCE_H */
