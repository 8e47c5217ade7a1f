/* SPDX-License-Identifier: MIT */
/*
 * memstate: what capture sources hand to the tracer, and the syscall inference.
 *
 * A capture source (eBPF probe, ptrace fallback, in-process channel, replay) produces
 * three kinds of records: finished memory syscalls (struct ms_sysrec), events that are
 * operations already (struct ms_event: page faults, THP collapses, API calls), and process
 * life-cycle records (struct ms_proc_event). The tracer turns syscalls into operations with
 * ms_infer_syscall_locked() (SPEC section 5) and applies everything to one shadow space per
 * process. All records are fixed-width and pointer-free.
 */
#ifndef MEMSTATE_CAPTURE_H
#define MEMSTATE_CAPTURE_H

#include <stdint.h>

#include "event.h"
#include "space.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A memory syscall that returned: arguments from its entry, result from its exit. */
struct ms_sysrec {
	uint64_t t_ns; /* CLOCK_MONOTONIC ns at exit */
	uint32_t pid;  /* process (tgid) */
	uint32_t tid;  /* thread */
	uint32_t nr;   /* syscall number on this architecture */
	uint32_t pad;
	int64_t ret;	  /* the return value: >= 0, or -errno (brk returns the break) */
	uint64_t args[6]; /* the arguments at entry */
};

enum ms_proc_type {
	MS_PROC_FORK = 1, /* pid is a new process, a copy of ppid's address space */
	MS_PROC_EXEC,	  /* pid replaced its image: a fresh address space */
	MS_PROC_EXIT,	  /* pid ended: exit_code / exit_signal */
};

struct ms_proc_event {
	uint64_t t_ns;	     /* CLOCK_MONOTONIC ns */
	uint32_t type;	     /* enum ms_proc_type */
	uint32_t pid;	     /* the process concerned */
	uint32_t ppid;	     /* FORK: the parent */
	int32_t exit_code;   /* EXIT: status when exited, -1 when killed */
	int32_t exit_signal; /* EXIT: signal when killed, else 0 */
	uint32_t pad;
	char comm[16]; /* EXEC: task name, NUL-terminated */
};

/*
 * Where a capture source delivers its records (the tracer implements it). Callbacks run on
 * the thread that polls the source; records of one source arrive in the order it saw them.
 * on_event receives kernel or API events with op/source/addr/len/arg/flags/pid/tid/t_ns
 * filled; the tracer checks and applies them. on_lost counts records a source could not
 * deliver (ring buffer full...), by where they were lost.
 */
struct ms_go_call;

struct ms_sink {
	void *ctx;
	void (*on_syscall)(void *ctx, const struct ms_sysrec *rec);
	void (*on_event)(void *ctx, struct ms_event *ev);
	/* API events from a traced program's libmemstate, with the name of ev->stat. */
	void (*on_api)(void *ctx, struct ms_event *ev, const char *stat_name);
	void (*on_proc)(void *ctx, const struct ms_proc_event *pe);
	void (*on_lost)(void *ctx, uint64_t n, const char *where);
	/*
	 * Optional, instead of on_lost: the same, and a time (CLOCK_MONOTONIC ns) before which
	 * none of the n was lost, so that what came earlier is known complete.
	 */
	void (*on_lost_at)(void *ctx, uint64_t n, uint64_t since_ns, const char *where);
	/* Go runtime calls from the Go uprobes (struct ms_go_call: memstate's lib/source.h). */
	void (*on_go)(void *ctx, const struct ms_go_call *call);
};

/* Per-process inference state the tracer keeps next to the space. */
struct ms_infer_state {
	uint64_t brk;	      /* current program break, 0 until the first brk seen */
	uint8_t ignore_files; /* leave file-backed and shared mappings out of the map */
};

/*
 * Apply the operations a finished memory syscall implies (SPEC section 5) to sp, as
 * source "syscall" events with aux = the syscall number. Calls that change no state
 * (mprotect to the same class, madvise WILLNEED...) record nothing; failed calls record
 * one failed event carrying the errno. mmap/mprotect over a range of mixed states record
 * one event per run of equal outcome. Returns the number of events recorded, or -ENOMEM
 * (counted as lost by the space). The caller holds sp's lock.
 */
int ms_infer_syscall_locked(struct ms_space *sp, struct ms_infer_state *st,
			    const struct ms_sysrec *rec);
/* Whether nr is a syscall the inference handles (mmap, munmap, mprotect, madvise, mremap, brk). */
int ms_infer_wants(unsigned nr);

#ifdef __cplusplus
}
#endif

#endif /* MEMSTATE_CAPTURE_H */
