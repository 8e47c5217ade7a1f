/* SPDX-License-Identifier: MIT */
/*
 * memstate eBPF probe: the records the kernel side (memstate.bpf.c) writes into its ring
 * buffer and the user side (probe.c) reads, plus the user-side helpers of bpf/.
 *
 * Plain fixed-width types only (no vmlinux.h): the BPF side gets __u64 and friends from
 * vmlinux.h, user space from <linux/types.h>. Every record starts with a __u32 type and is
 * a multiple of 8 bytes, so the ring stays 8-aligned. The syscall and process bodies have
 * exactly the layout of struct ms_sysrec and struct ms_proc_event (probe.c asserts it), so
 * they are handed to the sink without a copy.
 */
#ifndef MEMSTATE_BPF_PROBE_H
#define MEMSTATE_BPF_PROBE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Ring buffer size when the configuration asks for none (a power of two). */
#define MS_BPF_RING_DEFAULT (16u << 20)
/* Processes followed at once (the traced tree) and address spaces known by mm pointer. */
#define MS_BPF_MAX_PROCS 8192
/* Process ids the traced-set bitmap covers: PID_MAX_LIMIT on 64-bit kernels. */
#define MS_BPF_PID_BITS (4u << 20)
/* Syscall numbers the kernel side can select (a bitmap of this many bits). */
#define MS_BPF_SYS_BITS 512

enum ms_bpf_rec_type {
	MS_BPF_REC_SYSCALL = 1, /* struct ms_bpf_sys */
	MS_BPF_REC_FAULT,	/* struct ms_bpf_fault */
	MS_BPF_REC_THP,		/* struct ms_bpf_thp */
	MS_BPF_REC_PROC,	/* struct ms_bpf_proc */
	MS_BPF_REC_GO,		/* struct ms_bpf_go */
	MS_BPF_REC_ENTRY,	/* struct ms_bpf_entry */
	MS_BPF_REC_COUNT,	/* also the size of the per-CPU lost counters */
};

/* A memory syscall that returned. */
struct ms_bpf_sys {
	__u32 type; /* MS_BPF_REC_SYSCALL */
	__u32 pad0;
	/* from here on: the layout of struct ms_sysrec */
	__u64 t_ns;    /* CLOCK_MONOTONIC ns at exit */
	__u32 pid;     /* process (tgid) */
	__u32 tid;     /* thread */
	__u32 nr;      /* syscall number */
	__u32 pad1;    /* zero */
	__s64 ret;     /* return value, or -errno */
	__u64 args[6]; /* arguments at entry */
};

/* ms_bpf_fault.error_code: a huge-page notice (the PMD range at addr is resident). */
#define MS_BPF_FAULT_HUGE 0x80000000u

/* A user page fault (exceptions:page_fault_user). */
struct ms_bpf_fault {
	__u32 type;	  /* MS_BPF_REC_FAULT */
	__u32 error_code; /* x86 page-fault error code: bit 0 present, bit 1 write */
	__u64 t_ns;	  /* CLOCK_MONOTONIC ns */
	__u64 addr;	  /* faulting address */
	__u64 ip;	  /* user instruction pointer */
	__u32 pid;	  /* process (tgid) */
	__u32 tid;	  /* thread */
};

/* A transparent huge page collapse attributed to one PMD-sized range. */
struct ms_bpf_thp {
	__u32 type;   /* MS_BPF_REC_THP */
	__s32 status; /* 0 on success, else the kernel's scan_result */
	__u64 t_ns;   /* CLOCK_MONOTONIC ns */
	__u64 addr;   /* PMD-aligned start of the range */
	__u64 len;    /* PMD size (2 MiB on x86-64) */
	__u32 pid;    /* the traced process the range belongs to */
	__u32 tid;    /* the thread that asked (MADV_COLLAPSE), 0 for khugepaged */
};

/* Process life cycle. */
struct ms_bpf_proc {
	__u32 type; /* MS_BPF_REC_PROC */
	__u32 pad0;
	/* from here on: the layout of struct ms_proc_event */
	__u64 t_ns;	   /* CLOCK_MONOTONIC ns */
	__u32 ptype;	   /* enum ms_proc_type */
	__u32 pid;	   /* the process concerned */
	__u32 ppid;	   /* FORK: the parent */
	__s32 exit_code;   /* EXIT: status when exited, -1 when killed */
	__s32 exit_signal; /* EXIT: signal when killed, else 0 */
	__u32 pad1;	   /* zero */
	char comm[16];	   /* task name, NUL-terminated */
};

/*
 * Entry of a Go runtime function (a uprobe, see bpf/go.bpf.h). Only what the registers
 * hold at entry: no return probe (Go moves goroutine stacks under a uretprobe), so a
 * function's result is read from the syscall it makes, by the tracer.
 */
struct ms_bpf_go {
	__u32 type;    /* MS_BPF_REC_GO */
	__u32 fn;      /* the attach cookie: which function (the tracer's numbering) */
	__u64 t_ns;    /* CLOCK_MONOTONIC ns at entry */
	__u32 pid;     /* process (tgid) */
	__u32 tid;     /* thread */
	__u64 ip;      /* where the probe hit, as the process maps it (gives a PIE's bias) */
	__u64 ret;     /* return address: who called it (inlined wrapper or not) */
	__u64 args[4]; /* the first integer argument registers of Go's ABIInternal */
};

/*
 * A munmap or mremap entered (its record, stamped with this time, comes at its exit), or,
 * with MS_BPF_ENTRY_GONE, a thread that died with one unfinished. User space holds the
 * merge at the oldest entry not yet returned: a thread stalled after the kernel freed the
 * range and before its exit must not let another thread's newer mmap of that range be
 * applied first. The mark is reserved before the range is freed, so it is read before any
 * record of a call that reuses the range.
 */
#define MS_BPF_ENTRY_GONE 1 /* flags: the thread exited; forget its entry */

struct ms_bpf_entry {
	__u32 type;  /* MS_BPF_REC_ENTRY */
	__u32 flags; /* 0 or MS_BPF_ENTRY_GONE */
	__u64 t_ns;  /* the entry stamp (the same as its syscall record's) */
	__u32 pid;   /* process (tgid) */
	__u32 tid;   /* thread */
};

/* What the kernel side keeps per traced process (map "traced", key: tgid). */
struct ms_bpf_proc_info {
	__u64 mm; /* its mm_struct, 0 until learned (shared with a vfork parent) */
};

#ifndef __bpf__
#include <stdint.h>
#include <sys/types.h>

/*
 * Go runtime uprobes on an open ms_src_ebpf state. ms_ebpf_go_sink names where the
 * records go (from poll(), like the sink's records); ms_ebpf_go_attach puts the uprobe
 * program at the n file offsets offs of the binary at path, for every process that maps
 * it (records only come from the traced tree), each offset's records carrying its
 * cookie in `fn`: as one uprobe_multi link where the kernel has them (6.6), else one
 * uprobe each. Attach before the program runs; stop() detaches them. Returns how many
 * offsets are probed, errs[i] saying why offset i is not (0 when it is); or a negative
 * errno (-EOPNOTSUPP: this kernel has no attach cookies).
 */
typedef void (*ms_ebpf_go_fn)(void *ctx, const struct ms_bpf_go *rec);
void ms_ebpf_go_sink(void *state, ms_ebpf_go_fn fn, void *ctx);
int ms_ebpf_go_attach(void *state, const char *path, const uint64_t *offs, const uint64_t *cookies,
		      unsigned n, int *errs);
#endif

#endif /* MEMSTATE_BPF_PROBE_H */
