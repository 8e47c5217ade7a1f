// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * memstate eBPF probe, kernel side: memory syscalls, user page faults and THP collapses of
 * one process tree, into one ring buffer (records in probe.h).
 *
 * Only tp_btf programs: no kprobes or fentry (not permitted everywhere), and no classic
 * tracepoints (their ids come from tracefs, which need not be mounted).
 *
 * The tree: user space puts the first pid into "traced" and its bit into traced_bits;
 * fork adds children, exit removes them. The hot programs (syscall exit, page fault) test
 * the tgid's bit first, so other processes cost one load and are never recorded.
 *
 * Memory syscalls are taken at sys_exit alone: the x86-64 and arm64 syscall ABIs leave
 * the argument registers unchanged (arm64 keeps the first in orig_x0), so the saved user
 * registers at exit still hold the arguments the kernel ran the call with (after any
 * ptrace or seccomp rewrite, which is the truth we want). Only munmap and mremap are seen
 * at their entry too (their time stamp, and a mark that holds the tracer's merge until
 * they return); no pairing of arguments for the rest.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "probe.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* ------------------------------------------------------------------ settings (rodata) */

/* Syscalls to record, by number (bitmap of MS_BPF_SYS_BITS bits; numbers are per arch). */
const volatile __u64 sys_mask[MS_BPF_SYS_BITS / 64] = {};
const volatile __u32 nr_madvise = 0;	 /* madvise: its MADV_COLLAPSE feeds THP attribution */
const volatile __u32 madv_collapse = 25; /* MADV_COLLAPSE */
/* Calls that give address space back: stamped at their entry (see ms_sys_enter). */
const volatile __s32 nr_munmap = -1;
const volatile __s32 nr_mremap = -1;
const volatile __u32 page_shift = 12;	 /* folio->index is in pages */
const volatile __u64 pmd_size = 2 << 20; /* THP size */
const volatile __u32 pmd_order = 9;	 /* THP size in pages, log2 */
const volatile bool track_huge = false;	 /* huge-page fault notices (ms_thp_fault) wanted */
/* Wake the consumer each time a CPU has submitted another 2^wakeup_shift bytes. */
const volatile __u32 wakeup_shift = 20;
/* mm_khugepaged_scan_pmd: position of its status argument (4 on 6.18, 5 before). */
const volatile __u32 scan_status_arg = 4;

/* ------------------------------------------------------------------ shared state (bss) */

/*
 * The traced tgids as bits, up to PID_MAX_LIMIT (64-bit): the hot-path filter, 512 KiB.
 * start() sets the first bit through the mmapped .bss; fork and exit keep it current.
 */
__u64 traced_bits[MS_BPF_PID_BITS / 64] = {};
/* The tgid's mm is in mm_owner (set on first sight, cleared by exec and exit). */
__u64 mm_known_bits[MS_BPF_PID_BITS / 64] = {};

/* Kernel values not in vmlinux.h. */
#define MS_SCAN_SUCCEED	     1		/* enum scan_result */
#define MS_SIGNAL_GROUP_EXIT 0x00000004 /* signal_struct.flags */
#define MS_TS_COMPAT	     0x0002	/* x86 thread_info.status: a 32-bit syscall */
#define MS_PF_KTHREAD	     0x00200000 /* task_struct.flags: a kernel thread */

/* ------------------------------------------------------------------ maps */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, MS_BPF_RING_DEFAULT);
} events SEC(".maps");

/* The traced tree: tgid -> what we know of the process (authoritative; bits mirror it). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MS_BPF_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct ms_bpf_proc_info);
} traced SEC(".maps");

/* mm_struct pointer -> traced tgid, for work khugepaged does on a traced address space. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MS_BPF_MAX_PROCS);
	__type(key, __u64);
	__type(value, __u32);
} mm_owner SEC(".maps");

/*
 * Per-thread THP correlation state, made only for threads that see a collapse; task
 * storage, so a dying thread takes it along.
 */
struct ms_task {
	__u64 thp_mm;	  /* half-seen collapse: the address space */
	__u64 thp_addr;	  /* half-seen collapse: the range, when the scan came first */
	__s32 thp_status; /* half-seen collapse: the collapse status, when it came first */
	__u32 thp_half;	  /* which half is waiting: THP_HALF_* */
	__u64 thp_cursor; /* MADV_COLLAPSE: PMD ranges scanned so far; reset at its exit */
	__u64 enter_ns;	  /* munmap/mremap in progress: when it entered */
	__u64 fault_addr; /* the fault being served (for huge-page notices), 0 when none */
};

#define THP_HALF_NONE	  0
#define THP_HALF_COLLAPSE 1 /* mm_collapse_huge_page seen, range not yet */
#define THP_HALF_SCAN	  2 /* successful scan seen (range known), status not yet */

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct ms_task);
} tasks SEC(".maps");

/* Bytes each CPU has submitted: when to wake the consumer (an inlined per-CPU lookup). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} produced SEC(".maps");

/* Records lost, per CPU and per record type (reserve failures, full maps). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MS_BPF_REC_COUNT);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

/* ------------------------------------------------------------------ helpers */

/*
 * The word of a pid bitmap that holds bit n (n < MS_BPF_PID_BITS). The mask after
 * barrier_var is what the verifier sees as the bound: clang would otherwise drop it, or
 * recompute the index from the unchecked value.
 */
static __always_inline __u32 bit_word(__u32 n)
{
	__u32 w = n / 64;

	barrier_var(w);
	return w & (MS_BPF_PID_BITS / 64 - 1);
}

static __always_inline bool bit_test(__u64 *bits, __u32 n)
{
	if (n >= MS_BPF_PID_BITS)
		return false;
	return (bits[bit_word(n)] >> (n % 64)) & 1;
}

static __always_inline void bit_set(__u64 *bits, __u32 n)
{
	if (n < MS_BPF_PID_BITS)
		__sync_fetch_and_or(&bits[bit_word(n)], 1ull << (n % 64));
}

static __always_inline void bit_clear(__u64 *bits, __u32 n)
{
	if (n < MS_BPF_PID_BITS)
		__sync_fetch_and_and(&bits[bit_word(n)], ~(1ull << (n % 64)));
}

static __always_inline void count_lost(__u32 type)
{
	__u64 *n = bpf_map_lookup_elem(&lost, &type);

	if (n)
		*n += 1;
}

static __always_inline void *rec_reserve(__u32 size, __u32 type)
{
	void *r = bpf_ringbuf_reserve(&events, size, 0);

	if (!r)
		count_lost(type);
	return r;
}

/*
 * Submit without waking the consumer, except each time this CPU has submitted another
 * 2^wakeup_shift bytes (user space makes that a quarter of the ring over all CPUs, so the
 * ring never fills unannounced), or when urgent. A wake-up per record would cost the
 * traced program an interrupt per event, and the consumer also polls with a timeout.
 * A per-CPU counter rather than bpf_ringbuf_query(): no helper call on the hot path.
 */
static __always_inline void rec_submit(void *r, __u32 size, bool urgent)
{
	__u64 flags = BPF_RB_NO_WAKEUP, *done, before;
	__u32 zero = 0;

	done = bpf_map_lookup_elem(&produced, &zero);
	if (done) {
		before = *done;
		*done = before + size + 8; /* ring records carry an 8-byte header */
		if ((*done >> wakeup_shift) != (before >> wakeup_shift))
			flags = BPF_RB_FORCE_WAKEUP;
	}
	if (urgent)
		flags = BPF_RB_FORCE_WAKEUP;
	bpf_ringbuf_submit(r, flags);
}

static __always_inline bool want_sys(long nr)
{
	if (nr < 0 || nr >= MS_BPF_SYS_BITS)
		return false;
	return (sys_mask[nr >> 6] >> (nr & 63)) & 1;
}

/* 32-bit syscalls number differently: never take them for memory syscalls. */
static __always_inline bool compat_task(struct task_struct *task)
{
#if defined(__TARGET_ARCH_x86)
	if (bpf_core_field_exists(task->thread_info.status))
		return task->thread_info.status & MS_TS_COMPAT;
#endif
	return false;
}

/*
 * Per arch: the syscall number and arguments from the saved user registers (direct
 * reads: tp_btf hands a trusted pointer; libbpf 1.1 has no sixth-argument macro).
 */
#if defined(__TARGET_ARCH_x86)
#define REGS_NR(r)   ((r)->orig_ax)
#define REGS_ARG0(r) ((r)->di)
#define REGS_ARG1(r) ((r)->si)
#define REGS_ARG2(r) ((r)->dx)
#define REGS_ARG3(r) ((r)->r10)
#define REGS_ARG4(r) ((r)->r8)
#define REGS_ARG5(r) ((r)->r9)
#elif defined(__TARGET_ARCH_arm64)
#define REGS_NR(r)   ((r)->syscallno)
#define REGS_ARG0(r) ((r)->orig_x0)
#define REGS_ARG1(r) ((r)->regs[1])
#define REGS_ARG2(r) ((r)->regs[2])
#define REGS_ARG3(r) ((r)->regs[3])
#define REGS_ARG4(r) ((r)->regs[4])
#define REGS_ARG5(r) ((r)->regs[5])
#else
#error "memstate.bpf.c: syscall registers of this architecture are not known"
#endif

/* Remember which traced process owns mm (first owner wins: a vfork child shares it). */
static __always_inline void learn_mm(__u32 tgid, __u64 mm)
{
	struct ms_bpf_proc_info *info = bpf_map_lookup_elem(&traced, &tgid);

	if (!info || !mm)
		return;
	if (info->mm != mm && bpf_map_update_elem(&mm_owner, &mm, &tgid, BPF_NOEXIST) == 0)
		info->mm = mm;
	bit_set(mm_known_bits, tgid);
}

static __always_inline void forget_mm(__u64 mm, __u32 tgid)
{
	__u32 *owner;

	bit_clear(mm_known_bits, tgid);
	if (!mm)
		return;
	owner = bpf_map_lookup_elem(&mm_owner, &mm);
	if (owner && *owner == tgid)
		bpf_map_delete_elem(&mm_owner, &mm);
}

/* ------------------------------------------------------------------ memory syscalls */

static __always_inline void thp_collapse_done(struct task_struct *task);

static __always_inline bool gives_back(long nr)
{
	return nr == nr_munmap || nr == nr_mremap;
}

/*
 * When a call happened, for the tracer's time-ordered merge: thread B's munmap(X) can
 * reach its exit after thread A's mmap() was given X and returned, and ordered by exit
 * the shadow map would free A's new memory. A call that gives address space back does
 * so after its entry, and a call that gets that space returns after that, so munmap and
 * mremap carry their entry time (kept here per thread), every other call its exit time:
 * each such pair is then in the kernel's order.
 */
/* The entry mark (probe.h): user space holds the merge until the call's record comes. */
static __always_inline void entry_emit(__u64 t_ns, __u32 tgid, __u32 tid, __u32 flags)
{
	struct ms_bpf_entry *r = rec_reserve(sizeof(*r), MS_BPF_REC_ENTRY);

	if (!r)
		return;
	r->type = MS_BPF_REC_ENTRY;
	r->flags = flags;
	r->t_ns = t_ns;
	r->pid = tgid;
	r->tid = tid;
	rec_submit(r, sizeof(*r), false);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(ms_sys_enter, struct pt_regs *regs, long id)
{
	struct task_struct *task;
	struct ms_task *t;

	task = bpf_get_current_task_btf();
	if (!bit_test(traced_bits, task->tgid))
		return 0;
	if (!gives_back(id)) {
		/* A fault is over once the thread makes a syscall: no huge-page notice now. */
		t = bpf_task_storage_get(&tasks, task, NULL, 0);
		if (t)
			t->fault_addr = 0;
		return 0;
	}
	t = bpf_task_storage_get(&tasks, task, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!t)
		return 0;
	t->enter_ns = bpf_ktime_get_ns();
	entry_emit(t->enter_ns, task->tgid, task->pid, 0);
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(ms_sys_exit, struct pt_regs *regs, long ret)
{
	long nr = REGS_NR(regs);
	struct task_struct *task;
	struct ms_bpf_sys *r;
	__u32 tgid;

	if (!want_sys(nr))
		return 0;
	/* The task has both ids: one helper call instead of two. */
	task = bpf_get_current_task_btf();
	tgid = task->tgid;
	if (!bit_test(traced_bits, tgid))
		return 0;
	if (compat_task(task))
		return 0;
	if (!bit_test(mm_known_bits, tgid))
		learn_mm(tgid, (__u64)task->mm);
	r = rec_reserve(sizeof(*r), MS_BPF_REC_SYSCALL);
	if (!r)
		goto out;
	r->type = MS_BPF_REC_SYSCALL;
	r->pad0 = 0;
	r->t_ns = 0;
	if (gives_back(nr)) {
		struct ms_task *t = bpf_task_storage_get(&tasks, task, NULL, 0);

		if (t && t->enter_ns) {
			r->t_ns = t->enter_ns;
			t->enter_ns = 0;
		}
	}
	if (!r->t_ns) /* the clock is read once a call: on a VM each read is a paravirt call */
		r->t_ns = bpf_ktime_get_ns();
	r->pid = tgid;
	r->tid = task->pid;
	r->nr = nr;
	r->pad1 = 0;
	r->ret = ret;
	r->args[0] = REGS_ARG0(regs);
	r->args[1] = REGS_ARG1(regs);
	r->args[2] = REGS_ARG2(regs);
	r->args[3] = REGS_ARG3(regs);
	r->args[4] = REGS_ARG4(regs);
	r->args[5] = REGS_ARG5(regs);
	rec_submit(r, sizeof(*r), false);
out:
	if (nr == nr_madvise && REGS_ARG2(regs) == madv_collapse)
		thp_collapse_done(task);
	return 0;
}

/* ------------------------------------------------------------------ page faults */

static __always_inline void fault_emit(unsigned long address, __u64 ip, unsigned long error_code)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	struct ms_bpf_fault *r;

	if (!bit_test(traced_bits, tgid))
		return;
	r = rec_reserve(sizeof(*r), MS_BPF_REC_FAULT);
	if (!r)
		return;
	if (track_huge) {
		struct ms_task *t = bpf_task_storage_get(&tasks, bpf_get_current_task_btf(), NULL,
							 BPF_LOCAL_STORAGE_GET_F_CREATE);

		if (t)
			t->fault_addr = address | 1; /* never 0 */
	}
	r->type = MS_BPF_REC_FAULT;
	r->error_code = error_code;
	r->t_ns = bpf_ktime_get_ns();
	r->addr = address;
	r->ip = ip;
	r->pid = tgid;
	r->tid = (__u32)id;
	rec_submit(r, sizeof(*r), false);
}

SEC("tp_btf/page_fault_user")
int BPF_PROG(ms_page_fault, unsigned long address, struct pt_regs *regs, unsigned long error_code)
{
	fault_emit(address, PT_REGS_IP(regs), error_code);
	return 0;
}

/*
 * The kernel touching user memory for the program (read() into a fresh buffer, futexes...)
 * faults in kernel mode: the same first touch for the address space, so it is recorded
 * the same way, with the user instruction pointer of the syscall that caused it.
 */
SEC("tp_btf/page_fault_kernel")
int BPF_PROG(ms_page_fault_kernel, unsigned long address, struct pt_regs *regs,
	     unsigned long error_code)
{
	struct pt_regs *user;

	if ((long)address < 0) /* the kernel's own half of the address space */
		return 0;
	user = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	fault_emit(address, user ? PT_REGS_IP(user) : 0, error_code);
	return 0;
}

/*
 * A fault the kernel served with a transparent huge page: the whole PMD range became
 * resident at once. page_fault_user fires before the fault is handled and cannot tell;
 * fentry/fexit may be refused (sandboxed kernels), so the sign is the huge page's
 * allocation: an order-pmd_order page allocated by a thread while it serves a user fault
 * (its address kept in task storage from the fault until the next fault or syscall).
 * Recorded as one more fault record flagged MS_BPF_FAULT_HUGE, after the fault's own;
 * user space ignores it unless the whole range is anonymous memory (a THP could not be
 * mapped otherwise). Costs every allocation in the system one compare of its order.
 */
SEC("tp_btf/mm_page_alloc")
int BPF_PROG(ms_thp_fault, struct page *page, unsigned int order, gfp_t gfp, int migratetype)
{
	struct task_struct *task;
	struct ms_bpf_fault *r;
	struct ms_task *t;
	__u64 id, addr;

	if (order != pmd_order || !page)
		return 0;
	task = bpf_get_current_task_btf();
	if (!bit_test(traced_bits, task->tgid))
		return 0;
	t = bpf_task_storage_get(&tasks, task, NULL, 0);
	if (!t || !t->fault_addr)
		return 0;
	addr = t->fault_addr & ~1ull;
	t->fault_addr = 0;
	r = rec_reserve(sizeof(*r), MS_BPF_REC_FAULT);
	if (!r)
		return 0;
	id = bpf_get_current_pid_tgid();
	r->type = MS_BPF_REC_FAULT;
	r->error_code = MS_BPF_FAULT_HUGE;
	r->t_ns = bpf_ktime_get_ns();
	r->addr = addr & ~(pmd_size - 1);
	r->ip = 0;
	r->pid = id >> 32;
	r->tid = (__u32)id;
	rec_submit(r, sizeof(*r), false);
	return 0;
}

/* ------------------------------------------------------------------ THP collapses */

/*
 * mm_collapse_huge_page has the status but no address; mm_khugepaged_scan_pmd, fired by
 * the same thread for the same PMD range (for khugepaged and MADV_COLLAPSE alike), has a
 * folio of the range whose index is its virtual page number. Which comes first differs
 * between kernels (6.18: the collapse), so whichever half arrives waits in the thread's
 * storage for the other.
 */

static __always_inline void thp_emit(__u32 pid, __u32 tid, __u64 addr, int status)
{
	struct ms_bpf_thp *r = rec_reserve(sizeof(*r), MS_BPF_REC_THP);

	if (!r)
		return;
	r->type = MS_BPF_REC_THP;
	r->status = status == MS_SCAN_SUCCEED ? 0 : status;
	r->t_ns = bpf_ktime_get_ns();
	r->addr = addr;
	r->len = pmd_size;
	r->pid = pid;
	r->tid = tid;
	rec_submit(r, sizeof(*r), false);
}

/* The traced process mm belongs to, and the thread to name (0: not one of its threads). */
static __always_inline bool thp_owner(__u64 mm, __u32 *pid, __u32 *tid)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, *owner;

	owner = bpf_map_lookup_elem(&mm_owner, &mm);
	if (owner) {
		*pid = *owner;
		*tid = *owner == tgid ? (__u32)id : 0;
		return true;
	}
	/* Not learned yet, but the thread doing it is traced and uses mm itself. */
	if (bit_test(traced_bits, tgid) && (__u64)bpf_get_current_task_btf()->mm == mm) {
		*pid = tgid;
		*tid = (__u32)id;
		return true;
	}
	return false;
}

/*
 * The range of the MADV_COLLAPSE this thread is inside, read from its saved user
 * registers like the syscall records (a kernel thread such as khugepaged has none).
 */
static __always_inline bool in_collapse(struct task_struct *task, __u64 *lo, __u64 *hi)
{
	struct pt_regs *regs;
	__u64 start, len;

	if (task->flags & MS_PF_KTHREAD)
		return false;
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	if (!regs || REGS_NR(regs) != nr_madvise || REGS_ARG2(regs) != madv_collapse)
		return false;
	start = REGS_ARG0(regs);
	len = REGS_ARG1(regs);
	*lo = (start + pmd_size - 1) & ~(pmd_size - 1);
	*hi = (start + len) & ~(pmd_size - 1);
	return true;
}

/* At the exit of a MADV_COLLAPSE: the next one starts its cursor afresh. */
static __always_inline void thp_collapse_done(struct task_struct *task)
{
	struct ms_task *t = bpf_task_storage_get(&tasks, task, NULL, 0);

	if (t) {
		t->thp_cursor = 0;
		t->thp_half = THP_HALF_NONE;
	}
}

SEC("tp_btf/mm_collapse_huge_page")
int BPF_PROG(ms_thp_collapse, struct mm_struct *mm, int isolated, int status)
{
	__u32 pid, tid;
	struct ms_task *t;

	if (!thp_owner((__u64)mm, &pid, &tid))
		return 0;
	t = bpf_task_storage_get(&tasks, bpf_get_current_task_btf(), NULL,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!t) {
		count_lost(MS_BPF_REC_THP);
		return 0;
	}
	if (t->thp_half == THP_HALF_SCAN && t->thp_mm == (__u64)mm) {
		t->thp_half = THP_HALF_NONE;
		thp_emit(pid, tid, t->thp_addr, status);
		return 0;
	}
	t->thp_half = THP_HALF_COLLAPSE;
	t->thp_mm = (__u64)mm;
	t->thp_status = status;
	return 0;
}

/*
 * The scan's arguments moved between kernels (6.18: mm, folio, referenced, none_or_zero,
 * status, unmapped; older ones have "writable" before referenced and a struct page), so
 * this one reads its context by position; status sits at scan_status_arg.
 */
SEC("tp_btf/mm_khugepaged_scan_pmd")
int ms_thp_scan_pmd(__u64 *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 mm = ctx[0], addr = 0, lo, hi;
	struct folio *folio = (struct folio *)ctx[1];
	/* Both are in range on every kernel we accept (6 or 7 arguments); loading both
	 * keeps clang from indexing ctx with a variable, which the verifier refuses. */
	__u64 arg4 = ctx[4], arg5 = ctx[5];
	int status = scan_status_arg == 5 ? (int)arg5 : (int)arg4;
	__u32 pid, tid;
	struct ms_task *t;

	t = bpf_task_storage_get(&tasks, task, NULL, 0);
	if (folio)
		addr = (BPF_CORE_READ(folio, index) << page_shift) & ~(pmd_size - 1);
	if (in_collapse(task, &lo, &hi)) {
		/*
		 * madvise scans its range in order, one scan per PMD range: the cursor names
		 * the range when the folio cannot (none, or a VMA moved by mremap, whose
		 * index is still the old address).
		 */
		if (!t)
			t = bpf_task_storage_get(&tasks, task, NULL,
						 BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (!t) {
			count_lost(MS_BPF_REC_THP);
			return 0;
		}
		if (!addr || addr < lo || addr >= hi)
			addr = lo + t->thp_cursor * pmd_size;
		t->thp_cursor++;
	}
	if (t && t->thp_half == THP_HALF_COLLAPSE && t->thp_mm == mm) {
		t->thp_half = THP_HALF_NONE;
		if (addr && thp_owner(mm, &pid, &tid))
			thp_emit(pid, tid, addr, t->thp_status);
		return 0;
	}
	if (status != MS_SCAN_SUCCEED || !addr || !thp_owner(mm, &pid, &tid))
		return 0;
	if (!t)
		t = bpf_task_storage_get(&tasks, task, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!t) {
		count_lost(MS_BPF_REC_THP);
		return 0;
	}
	t->thp_half = THP_HALF_SCAN;
	t->thp_mm = mm;
	t->thp_addr = addr;
	return 0;
}

/* ------------------------------------------------------------------ the process tree */

/* enum ms_proc_type (memstate/capture.h), repeated to keep this file free of libc headers. */
#define MS_PROC_FORK 1
#define MS_PROC_EXEC 2
#define MS_PROC_EXIT 3

static __always_inline void proc_emit(__u32 ptype, __u32 pid, __u32 ppid, int code, int sig,
				      bool urgent)
{
	struct ms_bpf_proc *r = rec_reserve(sizeof(*r), MS_BPF_REC_PROC);

	if (!r)
		return;
	r->type = MS_BPF_REC_PROC;
	r->pad0 = 0;
	r->t_ns = bpf_ktime_get_ns();
	r->ptype = ptype;
	r->pid = pid;
	r->ppid = ppid;
	r->exit_code = code;
	r->exit_signal = sig;
	r->pad1 = 0;
	bpf_get_current_comm(r->comm, sizeof(r->comm));
	rec_submit(r, sizeof(*r), urgent);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(ms_fork, struct task_struct *parent, struct task_struct *child)
{
	struct ms_bpf_proc_info info = {};
	__u32 ptgid = parent->tgid, ctgid = child->tgid;
	__u64 cmm = (__u64)child->mm;

	if (child->pid != ctgid) /* a new thread of the same process */
		return 0;
	if (!bit_test(traced_bits, ptgid))
		return 0;
	if (bpf_map_update_elem(&traced, &ctgid, &info, BPF_ANY)) {
		count_lost(MS_BPF_REC_PROC); /* tree too big: the child goes untraced */
		return 0;
	}
	bit_clear(mm_known_bits, ctgid);
	bit_set(traced_bits, ctgid);
	/* The child runs only after this returns, so its records follow this one. */
	proc_emit(MS_PROC_FORK, ctgid, ptgid, 0, 0, false);
	if (cmm != (__u64)parent->mm) /* not a vfork: an address space of its own */
		learn_mm(ctgid, cmm);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(ms_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = p->tgid;
	struct ms_bpf_proc_info *info;

	if (!bit_test(traced_bits, tgid))
		return 0;
	info = bpf_map_lookup_elem(&traced, &tgid);
	if (!info)
		return 0;
	forget_mm(info->mm, tgid);
	info->mm = 0;
	learn_mm(tgid, (__u64)p->mm);
	proc_emit(MS_PROC_EXEC, tgid, 0, 0, 0, false);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(ms_exit, struct task_struct *p)
{
	__u32 tgid = p->tgid;
	struct ms_bpf_proc_info *info;
	struct signal_struct *sig;
	struct ms_task *t;
	int code, exit_code, exit_sig;
	__u64 mm;

	if (!bit_test(traced_bits, tgid))
		return 0;
	/* Every thread: one that dies inside a munmap releases its entry mark. */
	t = bpf_task_storage_get(&tasks, p, NULL, 0);
	if (t && t->enter_ns) {
		entry_emit(t->enter_ns, tgid, p->pid, MS_BPF_ENTRY_GONE);
		t->enter_ns = 0;
	}
	info = bpf_map_lookup_elem(&traced, &tgid);
	if (!info)
		return 0;
	sig = p->signal;
	/* Threads decrement live before this tracepoint; the last one reports the process. */
	if (sig->live.counter)
		return 0;
	mm = info->mm;
	/* Concurrent last threads both see 0: the one that removes the entry reports. */
	if (bpf_map_delete_elem(&traced, &tgid))
		return 0;
	bit_clear(traced_bits, tgid);
	forget_mm(mm, tgid);
	/* What wait() will report (as the kernel's wait_task_zombie picks it). */
	if (sig->flags & MS_SIGNAL_GROUP_EXIT)
		code = sig->group_exit_code;
	else
		code = p->group_leader->exit_code;
	exit_sig = code & 0x7f;
	exit_code = exit_sig ? -1 : (code >> 8) & 0xff;
	proc_emit(MS_PROC_EXIT, tgid, 0, exit_code, exit_sig, true);
	return 0;
}

/* ------------------------------------------------------------------ Go runtime uprobes */

#include "go.bpf.h"
