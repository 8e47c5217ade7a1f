// SPDX-License-Identifier: MIT
/*
 * The process-level library: real syscalls (SPEC section 4) recorded in this process's
 * shadow space, violation policy, diagnostics, and the standalone timeline (MEMSTATE_OUT).
 *
 * Flow of one call: lock the space; for operations on a caller-given range, check first
 * (a bad range is refused with EINVAL, and under the abort policy a violation stops before
 * the syscall); perform the syscall; commit what the OS now holds; unlock; then report,
 * call back or abort outside the lock. sysAlloc and sysReserve learn their range from the
 * kernel, so they are checked after the mmap.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"
#include "memstate/channel.h"
#include "memstate/memstate.h"
#include "memstate/timeline.h"

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

#define MS_STR2(x)	#x
#define MS_STRINGIFY(x) MS_STR2(x)
#define REPORT_LIMIT	100 /* violations printed under the report policy, then counted only */

struct proc {
	struct ms_space *sp;   /* this process's shadow space */
	enum ms_policy policy; /* what a violation does */
	ms_violation_fn cb;    /* MS_POLICY_CALLBACK */
	void *cb_ctx;
	int unused_advice;	     /* MADV_DONTNEED or MADV_FREE */
	uint64_t huge_size;	     /* PMD huge page size */
	uint32_t pid;		     /* cached getpid(), reset after fork */
	uint32_t origin_pid;	     /* the process that owns MEMSTATE_OUT */
	uint64_t t0;		     /* start of the trace, CLOCK_MONOTONIC ns */
	unsigned reports;	     /* violations printed */
	struct ms_stat **user_stats; /* stat id -> caller's struct, to mirror bytes */
	unsigned nuser;
	struct ms_tl_writer *out; /* MEMSTATE_OUT stream, NULL when none or finished */
	enum ms_tl_format out_fmt;
	void *chan;		   /* the tracer's channel (MEMSTATE_CHANNEL), or NULL */
	struct ms_chan_slot *slot; /* our slot in it */
};

/* Where events go when the channel has no slot left for a forked child: counted drops. */
static struct {
	struct ms_ring ring;
	struct ms_event recs[64];
} g_spare;

static struct proc g;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static __thread uint32_t tl_tid;

static int default_print(enum ms_print_level level, const char *fmt, va_list ap)
{
	if (level > MS_WARN)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static ms_print_fn g_print = default_print;

ms_print_fn ms_set_print(ms_print_fn fn)
{
	ms_print_fn old = g_print;

	g_print = fn;
	return old;
}

__attribute__((format(printf, 2, 3))) static void pr(enum ms_print_level level, const char *fmt,
						     ...)
{
	va_list ap;

	if (!g_print)
		return;
	va_start(ap, fmt);
	g_print(level, fmt, ap);
	va_end(ap);
}

static uint32_t self_tid(void)
{
	if (!tl_tid)
		tl_tid = (uint32_t)syscall(SYS_gettid);
	return tl_tid;
}

/* ------------------------------------------------------------------ standalone timeline */

/* Space log full: stream what it holds to MEMSTATE_OUT (lock held). */
static void drain_to_out(struct ms_space *sp, void *ctx)
{
	struct ms_event evs[256];
	size_t n;

	(void)ctx;
	if (!g.out)
		return;
	while ((n = ms_space_events_read_locked(sp, evs, 256))) {
		for (size_t i = 0; i < n; i++)
			ms_tlw_event(g.out, sp, &evs[i]);
	}
}

static char *read_cmdline(int *argc, char ***argv)
{
	static char buf[8192];
	static char *args[64];
	ssize_t len = 0, n;
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);

	*argc = 0;
	*argv = args;
	if (fd < 0)
		return NULL;
	while (len < (ssize_t)sizeof(buf) - 1 &&
	       (n = read(fd, buf + len, sizeof(buf) - 1 - (size_t)len)) > 0)
		len += n;
	close(fd);
	buf[len] = 0;
	for (ssize_t i = 0; i < len && *argc < 64; i += (ssize_t)strlen(buf + i) + 1)
		args[(*argc)++] = buf + i;
	return buf;
}

static void out_open(const char *path)
{
	struct ms_tl_header hdr = {0};
	char **argv;
	int err = 0;

	g.out = ms_tlw_open(path, g.out_fmt, &err);
	if (!g.out) {
		pr(MS_WARN, "memstate: cannot write timeline %s: %s\n", path, strerror(-err));
		return;
	}
	read_cmdline(&hdr.argc, &argv);
	hdr.argv = argv;
	hdr.page_size = ms_space_page_size(g.sp);
	hdr.t0_ns = g.t0;
	hdr.tool = "libmemstate " MS_STRINGIFY(MS_VERSION_MAJOR) "." MS_STRINGIFY(MS_VERSION_MINOR);
	hdr.capture = "api";
	ms_tlw_header(g.out, &hdr);
}

static char *self_exe(void)
{
	static char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	exe[n > 0 ? n : 0] = 0;
	return exe;
}

/* Finish the MEMSTATE_OUT stream (idempotent). exit_code -1 when unknown. */
static int out_finish(int exit_code)
{
	struct ms_tl_process p = {0};
	struct ms_tl_writer *w;
	int err;

	ms_space_lock(g.sp);
	drain_to_out(g.sp, NULL);
	w = g.out;
	g.out = NULL;
	ms_space_unlock(g.sp);
	if (!w)
		return 0;
	p.pid = g.pid;
	p.ppid = (uint32_t)getppid();
	p.exe = self_exe();
	p.exit_code = exit_code;
	p.space = g.sp;
	ms_tlw_finish(w, &p, 1);
	err = ms_tlw_close(w);
	if (err)
		pr(MS_WARN, "memstate: writing the timeline failed: %s\n", strerror(-err));
	return err;
}

static void at_exit(int status, void *arg)
{
	(void)arg;
	if (g.pid == g.origin_pid)
		out_finish(status);
}

/* ------------------------------------------------------------------ tracer channel */

/* Publish a stat's name in our slot before any event that uses its id. */
static void chan_publish_stat(unsigned id, const char *name)
{
	if (!g.slot || id == 0 || id >= MS_CHAN_STATS)
		return;
	strncpy(g.slot->stat_names[id], name, MS_CHAN_STAT_LEN - 1);
	g.slot->stat_names[id][MS_CHAN_STAT_LEN - 1] = 0;
}

/* Under `memstate run`: map the tracer's channel and claim a slot for this process. */
static void chan_attach(const char *env, struct ms_space_opts *opts)
{
	struct stat st;
	int fd = atoi(env);
	void *mem;

	if (fd < 0 || fstat(fd, &st) || (size_t)st.st_size < ms_chan_bytes()) {
		pr(MS_WARN, "memstate: %s=%s is not a memstate channel; API events stay local\n",
		   MS_CHAN_ENV, env);
		return;
	}
	mem = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED || ms_chan_validate(mem, (size_t)st.st_size)) {
		if (mem != MAP_FAILED)
			munmap(mem, (size_t)st.st_size);
		pr(MS_WARN, "memstate: cannot use the tracer's channel; API events stay local\n");
		return;
	}
	g.chan = mem;
	g.slot = ms_chan_claim(mem, g.pid, ms_now_ns());
	if (!g.slot) {
		pr(MS_WARN,
		   "memstate: the tracer's channel is full; API events of pid %u are "
		   "lost\n",
		   g.pid);
		opts->ring = &g_spare.ring;
		return;
	}
	opts->ring = ms_chan_ring(g.slot);
}

/* A forked child: its events must go to a slot of its own, with the names it knows. */
static void chan_fork_child(void)
{
	struct ms_stat_info info;

	g.slot = ms_chan_claim(g.chan, g.pid, ms_now_ns());
	if (!g.slot) {
		ms_space_set_ring_locked(g.sp, &g_spare.ring);
		return;
	}
	for (unsigned id = 1; !ms_space_stat_info_locked(g.sp, id, &info); id++)
		chan_publish_stat(id, info.name);
	ms_space_set_ring_locked(g.sp, ms_chan_ring(g.slot));
}

/* ------------------------------------------------------------------ set-up */

static void fork_prepare(void)
{
	ms_space_lock(g.sp);
}

static void fork_parent(void)
{
	ms_space_unlock(g.sp);
}

static void fork_child(void)
{
	tl_tid = 0;
	g.pid = (uint32_t)getpid();
	/* The parent owns MEMSTATE_OUT; the child's copy of the buffer must not reach it. */
	g.out = NULL;
	if (g.chan)
		chan_fork_child();
	ms_space_unlock(g.sp);
}

static void proc_init(void)
{
	struct ms_space_opts opts = {0};
	const char *env;

	g.t0 = ms_now_ns();
	g.pid = g.origin_pid = (uint32_t)getpid();
	g.unused_advice = MADV_DONTNEED;
	g.huge_size = ms_thp_size();
	env = getenv("MEMSTATE_ON_VIOLATION");
	if (env && !strcmp(env, "abort"))
		g.policy = MS_POLICY_ABORT;
	else if (env && *env && strcmp(env, "report"))
		pr(MS_WARN,
		   "memstate: MEMSTATE_ON_VIOLATION=%s is not report|abort; "
		   "reporting\n",
		   env);
	env = getenv("MEMSTATE_LOG_EVENTS");
	if (env && *env)
		opts.log_capacity = (uint32_t)strtoul(env, NULL, 10);
	ms_ring_init(&g_spare.ring, 64);
	env = getenv(MS_CHAN_ENV);
	if (env && *env)
		chan_attach(env, &opts);
	/* Under the tracer, the tracer writes the timeline: MEMSTATE_OUT would steal events. */
	env = g.chan ? NULL : getenv("MEMSTATE_OUT");
	if (env && *env) {
		opts.on_full = drain_to_out;
		const char *fmt = getenv("MEMSTATE_FORMAT");

		g.out_fmt = ms_tl_format_of_path(env, MS_TL_JSON);
		if (fmt && *fmt && ms_tl_format_parse(fmt, &g.out_fmt))
			pr(MS_WARN,
			   "memstate: MEMSTATE_FORMAT=%s is not json|jsonl; "
			   "writing json\n",
			   fmt);
	}
	g.sp = ms_space_new(&opts);
	if (!g.sp) {
		/* Nothing can be recorded; keep the program running. */
		pr(MS_WARN, "memstate: out of memory at start-up: operations run unrecorded\n");
		return;
	}
	pthread_atfork(fork_prepare, fork_parent, fork_child);
	if (env && *env) {
		out_open(env);
		on_exit(at_exit, NULL);
	}
}

static struct proc *proc_get(void)
{
	pthread_once(&g_once, proc_init);
	return g.sp ? &g : NULL;
}

/* Start at load time when traced or asked for a timeline: t0 is the program's start, and
 * the channel is mapped before the program can close the descriptor that carries it. */
__attribute__((constructor)) static void proc_early_init(void)
{
	if (getenv(MS_CHAN_ENV) || getenv("MEMSTATE_OUT"))
		proc_get();
}

struct ms_space *ms_process_space(void)
{
	return proc_get() ? g.sp : NULL;
}

void ms_set_policy(enum ms_policy policy)
{
	proc_get();
	g.policy = policy;
}

void ms_set_violation_callback(ms_violation_fn fn, void *ctx)
{
	proc_get();
	g.cb = fn;
	g.cb_ctx = ctx;
	g.policy = fn ? MS_POLICY_CALLBACK : MS_POLICY_REPORT;
}

void ms_set_unused_mode(enum ms_unused_mode mode)
{
	proc_get();
	g.unused_advice = mode == MS_UNUSED_FREE ? MADV_FREE : MADV_DONTNEED;
}

/* ------------------------------------------------------------------ stats */

/* Stat id for a caller's counter, registering it on first use (lock held). */
static uint16_t stat_id_locked(struct ms_stat *stat)
{
	uint32_t id;
	int ret;

	if (!stat)
		return 0;
	id = __atomic_load_n(&stat->id, __ATOMIC_ACQUIRE);
	if (id)
		return (uint16_t)id;
	ret = ms_space_stat_id_locked(g.sp, stat->name && *stat->name ? stat->name : "unnamed");
	if (ret <= 0)
		return 0;
	if ((unsigned)ret >= g.nuser) {
		unsigned n = (unsigned)ret + 16;
		struct ms_stat **grown = realloc(g.user_stats, n * sizeof(*grown));

		if (grown) {
			memset(grown + g.nuser, 0, (n - g.nuser) * sizeof(*grown));
			g.user_stats = grown;
			g.nuser = n;
		}
	}
	if ((unsigned)ret < g.nuser && !g.user_stats[ret])
		g.user_stats[ret] = stat;
	chan_publish_stat((unsigned)ret, stat->name && *stat->name ? stat->name : "unnamed");
	__atomic_store_n(&stat->id, (uint32_t)ret, __ATOMIC_RELEASE);
	return (uint16_t)ret;
}

/* Copy the bytes of the stats the last commit changed into the callers' structs. */
static void mirror_stats_locked(void)
{
	const uint16_t *ids;
	unsigned n = ms_space_dirty_stats_locked(g.sp, &ids);
	struct ms_stat_info info;

	for (unsigned i = 0; i < n; i++) {
		if (ids[i] < g.nuser && g.user_stats[ids[i]] &&
		    !ms_space_stat_info_locked(g.sp, ids[i], &info))
			__atomic_store_n(&g.user_stats[ids[i]]->bytes, info.bytes,
					 __ATOMIC_RELAXED);
	}
}

uint64_t ms_stat_read(const struct ms_stat *stat)
{
	return stat ? __atomic_load_n(&stat->bytes, __ATOMIC_RELAXED) : 0;
}

/* ------------------------------------------------------------------ the OS side */

/* madvise the huge-page-aligned inner part of [addr, addr+len); 0 or errno. */
static int madvise_inner(uint64_t addr, uint64_t len, int advice)
{
	uint64_t beg = (addr + g.huge_size - 1) & ~(g.huge_size - 1);
	uint64_t end = (addr + len) & ~(g.huge_size - 1);

	if (beg >= end)
		return 0;
	return madvise((void *)beg, end - beg, advice) ? errno : 0;
}

static int mmap_fixed(uint64_t addr, uint64_t len, int prot)
{
	void *p = mmap((void *)addr, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);

	return p == MAP_FAILED ? errno : 0;
}

/* Perform the syscalls of SPEC section 4 for ev; 0 or errno. */
static int os_call(struct ms_event *ev)
{
	void *p;

	switch (ev->op) {
	case MS_OP_ALLOC:
	case MS_OP_RESERVE:
		p = mmap(ev->op == MS_OP_RESERVE ? (void *)ev->arg : NULL, ev->len,
			 ev->op == MS_OP_ALLOC ? PROT_READ | PROT_WRITE : PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return errno;
		ev->addr = (uintptr_t)p;
		return 0;
	case MS_OP_MAP:
		return mmap_fixed(ev->addr, ev->len, PROT_READ | PROT_WRITE);
	case MS_OP_USED:
		return 0; /* Linux commits on touch: nothing to do */
	case MS_OP_UNUSED:
		return madvise((void *)ev->addr, ev->len, g.unused_advice) ? errno : 0;
	case MS_OP_FREE:
		return munmap((void *)ev->addr, ev->len) ? errno : 0;
	case MS_OP_FAULT:
		return mmap_fixed(ev->addr, ev->len, PROT_NONE);
	case MS_OP_HUGE_PAGE:
		return madvise_inner(ev->addr, ev->len, MADV_HUGEPAGE);
	case MS_OP_NO_HUGE_PAGE:
		return madvise_inner(ev->addr, ev->len, MADV_NOHUGEPAGE);
	case MS_OP_HUGE_PAGE_COLLAPSE:
		return madvise_inner(ev->addr, ev->len, MADV_COLLAPSE);
	default:
		return EINVAL;
	}
}

static int timed_os_call(struct ms_event *ev, uint64_t *t_begin, uint64_t *t_end)
{
	int err;

	*t_begin = ms_now_ns();
	err = os_call(ev);
	/* The end only matters to a tracer matching syscalls to calls: spare the clock read
	 * (a fifth of an operation's own cost) when none listens. */
	*t_end = g.chan ? ms_now_ns() : *t_begin;
	return err;
}

/* ------------------------------------------------------------------ violations */

static void report(const struct ms_violation *v)
{
	if (g.reports++ < REPORT_LIMIT)
		pr(MS_WARN, "memstate: %s: %s [pid %u tid %u]\n",
		   ms_violation_name(v->ev.violation), v->message, v->ev.pid, v->ev.tid);
	else if (g.reports == REPORT_LIMIT + 1)
		pr(MS_WARN, "memstate: more violations: counted in the summary, not printed\n");
}

static void on_violation(const struct ms_violation *v)
{
	switch (g.policy) {
	case MS_POLICY_CALLBACK:
		if (g.cb) {
			g.cb(v, g.cb_ctx);
			break;
		}
		/* fall through */
	case MS_POLICY_REPORT:
		report(v);
		break;
	case MS_POLICY_ABORT:
		g.reports = 0;
		report(v);
		if (g.pid == g.origin_pid)
			out_finish(-1);
		abort();
	}
}

/* ------------------------------------------------------------------ one operation */

static bool picks_address(unsigned op)
{
	return op == MS_OP_ALLOC || op == MS_OP_RESERVE;
}

/*
 * Validate, perform (when real), record. Returns the violation kind (>= 0) or a negative
 * errno when the range was refused or the OS failed; *ev holds the recorded event.
 */
static int sys_op(struct ms_event *ev, struct ms_stat *stat, bool real)
{
	struct ms_violation v;
	const char *msg;
	int kind, err = 0, saved_errno;
	uint64_t t_begin = 0, t_end = 0;

	if (!proc_get()) {
		ev->pid = (uint32_t)getpid();
		err = real ? os_call(ev) : 0;
		return err ? -err : 0;
	}
	ev->source = MS_SRC_API;
	ev->pid = g.pid;
	ev->tid = self_tid();
	if (!real)
		ev->flags |= MS_EVF_NOTE;
	if (ev->op == MS_OP_UNUSED && real && g.unused_advice == MADV_FREE)
		ev->flags |= MS_EVF_LAZY; /* the pages stay resident until reclaimed */
	ms_space_lock(g.sp);
	ev->stat = stat_id_locked(stat);
	if (picks_address(ev->op)) {
		uint64_t mask = ms_space_page_size(g.sp) - 1;

		if (!real)
			;
		else if (ev->len && !(ev->len & mask))
			err = timed_os_call(ev, &t_begin, &t_end);
		else
			err = EINVAL; /* refused before the mmap: the check names why */
		ev->result = err;
		kind = ms_space_check_locked(g.sp, ev);
	} else {
		kind = ms_space_check_locked(g.sp, ev);
		if (ev->result) /* refused range */
			err = ev->result;
		else if (kind > 0 && g.policy == MS_POLICY_ABORT)
			ev->result = err = ECANCELED; /* stop before the syscall */
		else if (real)
			ev->result = err = timed_os_call(ev, &t_begin, &t_end);
	}
	saved_errno = err;
	if (!t_begin)
		t_begin = t_end = ms_now_ns();
	/* Stamped when the syscall began, with its duration: a tracer matches the syscalls it
	 * saw in that window to this call and orders the call before them. The window holds
	 * the syscall alone: the library's own allocations (tree nodes) fall outside it. */
	ev->t_ns = t_begin;
	ev->aux = t_end - t_begin > UINT32_MAX ? UINT32_MAX : (uint32_t)(t_end - t_begin);
	if (kind >= 0) {
		ms_space_commit_locked(g.sp, ev);
		mirror_stats_locked();
		if (kind > 0) {
			v.ev = *ev;
			msg = ms_space_violation_message_locked(g.sp, ev->seq);
			snprintf(v.message, sizeof(v.message), "%s",
				 msg ? msg : ms_violation_name(ev->violation));
		}
	}
	ms_space_unlock(g.sp);
	if (kind > 0)
		on_violation(&v);
	errno = saved_errno;
	return err ? -err : (kind > 0 ? kind : 0);
}

static int range_op(unsigned op, void *v, size_t n, uint64_t arg, struct ms_stat *stat)
{
	struct ms_event ev = {.op = (uint8_t)op, .addr = (uintptr_t)v, .len = n, .arg = arg};
	int ret = sys_op(&ev, stat, true);

	return ret < 0 ? ret : 0;
}

void *ms_sys_alloc(size_t n, struct ms_stat *stat)
{
	struct ms_event ev = {.op = MS_OP_ALLOC, .len = n};

	if (sys_op(&ev, stat, true) < 0)
		return NULL;
	return (void *)(uintptr_t)ev.addr;
}

void *ms_sys_reserve(void *hint, size_t n)
{
	struct ms_event ev = {.op = MS_OP_RESERVE, .len = n, .arg = (uintptr_t)hint};

	if (sys_op(&ev, NULL, true) < 0)
		return NULL;
	return (void *)(uintptr_t)ev.addr;
}

int ms_sys_map(void *v, size_t n, struct ms_stat *stat)
{
	return range_op(MS_OP_MAP, v, n, 0, stat);
}

int ms_sys_used(void *v, size_t n, size_t prepared)
{
	return range_op(MS_OP_USED, v, n, prepared, NULL);
}

int ms_sys_unused(void *v, size_t n)
{
	return range_op(MS_OP_UNUSED, v, n, 0, NULL);
}

int ms_sys_free(void *v, size_t n, struct ms_stat *stat)
{
	return range_op(MS_OP_FREE, v, n, 0, stat);
}

int ms_sys_fault(void *v, size_t n)
{
	return range_op(MS_OP_FAULT, v, n, 0, NULL);
}

int ms_sys_huge_page(void *v, size_t n)
{
	return range_op(MS_OP_HUGE_PAGE, v, n, 0, NULL);
}

int ms_sys_no_huge_page(void *v, size_t n)
{
	return range_op(MS_OP_NO_HUGE_PAGE, v, n, 0, NULL);
}

int ms_sys_huge_page_collapse(void *v, size_t n)
{
	struct ms_event ev = {.op = MS_OP_HUGE_PAGE_COLLAPSE, .addr = (uintptr_t)v, .len = n};
	int ret = sys_op(&ev, NULL, true);

	/* Best effort, like Go's: the kernel's refusal is recorded, only a bad range is ours. */
	if (ret < 0 && (ev.violation == MS_V_MISALIGNED || ev.violation == MS_V_INVALID_RANGE))
		return ret;
	return 0;
}

int ms_note(enum ms_op op, void *addr, size_t len, uint64_t arg, struct ms_stat *stat)
{
	struct ms_event ev = {.op = (uint8_t)op, .addr = (uintptr_t)addr, .len = len};

	if ((unsigned)op > MS_OP_HUGE_PAGE_COLLAPSE)
		return -EINVAL;
	if (op == MS_OP_USED)
		ev.arg = arg;
	return sys_op(&ev, stat, false);
}

/* ------------------------------------------------------------------ queries */

enum ms_state ms_state_at(const void *addr)
{
	return proc_get() ? ms_space_state_at(g.sp, (uintptr_t)addr, NULL) : MS_NONE;
}

int ms_bytes_in(const void *addr, size_t len, uint64_t bytes[MS_STATE_COUNT])
{
	if (!proc_get())
		return -ENOMEM;
	return ms_space_bytes_in(g.sp, (uintptr_t)addr, len, bytes);
}

void ms_totals(struct ms_totals *out)
{
	if (proc_get())
		ms_space_totals(g.sp, out);
	else
		memset(out, 0, sizeof(*out));
}

struct ms_snapshot *ms_snapshot(void)
{
	return proc_get() ? ms_space_snapshot(g.sp) : NULL;
}

size_t ms_events_read(struct ms_event *out, size_t max)
{
	return proc_get() ? ms_space_events_read(g.sp, out, max) : 0;
}

int ms_write_timeline(const char *path)
{
	if (!proc_get())
		return -ENOMEM;
	if (!path)
		return out_finish(-1);
	if (g.out) /* the MEMSTATE_OUT stream is the log's consumer: finish it elsewhere */
		return -EBUSY;
	g.out_fmt = MS_TL_JSON;
	out_open(path);
	if (!g.out)
		return -EIO;
	return out_finish(-1);
}
