// SPDX-License-Identifier: MIT
/*
 * The eBPF capture source (bpf/, ms_src_ebpf) against real programs (tests/progs):
 * feature probe; the exact memory syscall records of rawseq (dynamic and static); one fault
 * record per page touched, by the program or by the kernel on its behalf; MADV_COLLAPSE and khugepaged collapses attributed to their
 * 2 MiB range; the THP coverage scan; fork/exec/exit of the traced tree; silence about
 * unrelated processes; the fault of a program dying of SIGSEGV recorded before its death;
 * lost records counted and reported when the ring is too small.
 *
 * Needs root and a BPF kernel: skipped otherwise, failed under MEMSTATE_REQUIRE_BPF=1.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "memstate/capture.h"
#include "lib/source.h"
#include "bpf/probe.h"
#include "lib/thp_scan.h"
#include "test.h"
#include "test_main.h"

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

/* Weak: bpf/ may be left out of the build (BPF=0), and then every case here skips. */
extern const struct ms_source_ops ms_src_ebpf __attribute__((weak));
int ms_thp_scan(pid_t pid, uint64_t addr, uint64_t len, ms_thp_scan_fn fn, void *ctx)
	__attribute__((weak));

#define HUGE (2ull << 20)
/* Shared with tests/bats/ebpf.bats: whoever tunes khugepaged holds it. */
#define MS_KHUGEPAGED_LOCK "/tmp/memstate-khugepaged.lock"

/* ------------------------------------------------------------------ collecting sink */

enum rec_kind {
	REC_SYS,   /* on_syscall */
	REC_EVENT, /* on_event */
	REC_PROC,  /* on_proc */
};

struct rec {
	enum rec_kind kind; /* which callback */
	union {
		struct ms_sysrec sys;	   /* REC_SYS */
		struct ms_event ev;	   /* REC_EVENT */
		struct ms_proc_event proc; /* REC_PROC */
	};
};

static struct rec *recs; /* everything delivered, in order */
static size_t nrecs, caprecs;
static uint64_t lost_told; /* sum of on_lost counts */

static struct rec *rec_add(enum rec_kind kind)
{
	if (nrecs == caprecs) {
		caprecs = caprecs ? 2 * caprecs : 4096;
		recs = realloc(recs, caprecs * sizeof(*recs));
		if (!recs)
			abort();
	}
	memset(&recs[nrecs], 0, sizeof(recs[0]));
	recs[nrecs].kind = kind;
	return &recs[nrecs++];
}

static void on_syscall(void *ctx, const struct ms_sysrec *r)
{
	rec_add(REC_SYS)->sys = *r;
}

static void on_event(void *ctx, struct ms_event *ev)
{
	rec_add(REC_EVENT)->ev = *ev;
}

static void on_proc(void *ctx, const struct ms_proc_event *pe)
{
	rec_add(REC_PROC)->proc = *pe;
}

static void on_lost(void *ctx, uint64_t n, const char *where)
{
	lost_told += n;
}

static const struct ms_sink sink = {
	.on_syscall = on_syscall,
	.on_event = on_event,
	.on_proc = on_proc,
	.on_lost = on_lost,
};

/* ------------------------------------------------------------------ helpers */

static bool require_bpf(void)
{
	const char *v = getenv("MEMSTATE_REQUIRE_BPF");

	return v && !strcmp(v, "1");
}

/* Skip without root/BPF; under MEMSTATE_REQUIRE_BPF=1 that is a failure instead. */
#define need_bpf()                                                              \
	do {                                                                    \
		char why_[256] = "";                                            \
		if (!&ms_src_ebpf) {                                            \
			snprintf(why_, sizeof(why_),                            \
				 "bpf/ not built (BPF=0, or no clang, "         \
				 "bpftool or libbpf)");                         \
		} else if (ms_src_ebpf.probe(why_, sizeof(why_)) < 0) {         \
		} else {                                                        \
			why_[0] = 0;                                            \
		}                                                               \
		if (why_[0] && require_bpf())                                   \
			assert_true(0, "MEMSTATE_REQUIRE_BPF=1 but: %s", why_); \
		if (why_[0])                                                    \
			test_skip("%s", why_);                                  \
	} while (0)

static const char *prog_path(const char *name)
{
	static char buf[4][512];
	static int i;
	const char *b = getenv("MEMSTATE_BUILD");
	char *p = buf[i++ & 3];

	snprintf(p, sizeof(buf[0]), "%s/tests/progs/%s", b ? b : "build", name);
	return p;
}

/* A child that waits on gate before exec'ing argv, its stdout into out. */
struct child {
	pid_t pid;  /* its pid */
	int gate;   /* write end: a byte (or close) releases it */
	int out;    /* read end of its stdout */
	int status; /* wait status once reaped */
};

static void child_spawn(struct child *c, char *const argv[])
{
	int gate[2], out[2];

	if (pipe2(gate, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
		abort();
	fflush(stdout);
	c->pid = fork();
	if (c->pid < 0)
		abort();
	if (c->pid == 0) {
		struct rlimit no_core = {0, 0};
		char b;

		setrlimit(RLIMIT_CORE, &no_core); /* the SIGSEGV case leaves no core file */
		dup2(out[1], 1);
		close(gate[1]);
		if (read(gate[0], &b, 1) < 0)
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	close(gate[0]);
	close(out[1]);
	c->gate = gate[1];
	c->out = out[0];
}

static void child_release(struct child *c)
{
	if (write(c->gate, "x", 1) != 1)
		abort();
	close(c->gate);
}

/* Read the child's whole output (after it exited). */
static void child_output(struct child *c, char *buf, size_t len)
{
	size_t n = 0;
	ssize_t r;

	while (n + 1 < len && (r = read(c->out, buf + n, len - 1 - n)) > 0)
		n += r;
	buf[n] = 0;
	close(c->out);
}

/* One traced run: open the source, start the child, poll until it is reaped, stop. */
struct run {
	struct ms_source_cfg cfg; /* for open */
	bool no_poll;		  /* do not poll before the child is gone (ring overflow) */
	char out[4096];		  /* the program's stdout */
	int status;		  /* its wait status */
	pid_t pid;		  /* its pid */
	uint64_t lost;		  /* ops->lost() at the end */
};

static int trace_run(struct run *r, char *const argv[], struct child *extra)
{
	const struct ms_source_ops *ops = &ms_src_ebpf;
	struct ms_source_cfg def = {.faults = true, .thp = true, .files = true};
	void *st = NULL;
	struct child c;
	int err;

	nrecs = 0;
	lost_told = 0;
	if (!r->cfg.faults && !r->cfg.thp && !r->cfg.ring_bytes)
		r->cfg = def;
	err = ops->open(&r->cfg, &sink, &st);
	if (err)
		return err;
	child_spawn(&c, argv);
	err = ops->start(st, c.pid);
	child_release(&c);
	if (extra)
		child_release(extra);
	for (;;) {
		pid_t w = waitpid(c.pid, &r->status, r->no_poll ? 0 : WNOHANG);

		if (w == c.pid)
			break;
		ops->poll(st, 20);
	}
	if (extra)
		waitpid(extra->pid, &extra->status, 0);
	ops->stop(st);
	r->lost = ops->lost(st);
	ops->close(st);
	r->pid = c.pid;
	child_output(&c, r->out, sizeof(r->out));
	return err;
}

/* "word ADDR LEN" from a program's output (0 when absent). */
static bool out_range(const char *out, const char *word, uint64_t *addr, uint64_t *len)
{
	char key[32];
	const char *p;

	snprintf(key, sizeof(key), "%s ", word);
	for (p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		unsigned long long a, l;

		if (!strncmp(p, key, strlen(key)) &&
		    sscanf(p + strlen(key), "%llu %llu", &a, &l) == 2) {
			*addr = a;
			*len = l;
			return true;
		}
	}
	return false;
}

/*
 * Faults of pid in [lo, hi) after the mmap that returned lo: the same addresses may have
 * been mapped, touched and unmapped before (a sanitizer's runtime does), and those faults
 * are not the program's faults on this mapping.
 */
static size_t count_faults_in(pid_t pid, uint64_t lo, uint64_t hi)
{
	size_t n = 0, from = 0;

	for (size_t i = 0; i < nrecs; i++)
		if (recs[i].kind == REC_SYS && recs[i].sys.pid == (uint32_t)pid &&
		    recs[i].sys.nr == SYS_mmap && recs[i].sys.ret == (int64_t)lo)
			from = i;
	for (size_t i = from; i < nrecs; i++) {
		const struct ms_event *e = &recs[i].ev;

		if (recs[i].kind == REC_EVENT && e->op == MS_OP_PAGE_FAULT &&
		    e->pid == (uint32_t)pid && e->addr >= lo && e->addr < hi)
			n++;
	}
	return n;
}

/*
 * Distinct pages of pid faulted in [lo, hi) after its mmap: the kernel may take a second
 * exception on a page whose first fault it retried (a signal pending, a lock contended), so
 * "each page touched once" is a count of pages, not of exceptions.
 */
static size_t count_pages_faulted(pid_t pid, uint64_t lo, uint64_t hi)
{
	size_t n = 0, from = 0, ps = (size_t)sysconf(_SC_PAGESIZE);
	size_t npages = (hi - lo + ps - 1) / ps;
	unsigned char *seen = calloc(npages ? npages : 1, 1);

	if (!seen)
		abort();
	for (size_t i = 0; i < nrecs; i++)
		if (recs[i].kind == REC_SYS && recs[i].sys.pid == (uint32_t)pid &&
		    recs[i].sys.nr == SYS_mmap && recs[i].sys.ret == (int64_t)lo)
			from = i;
	for (size_t i = from; i < nrecs; i++) {
		const struct ms_event *e = &recs[i].ev;

		if (recs[i].kind == REC_EVENT && e->op == MS_OP_PAGE_FAULT &&
		    e->pid == (uint32_t)pid && e->addr >= lo && e->addr < hi &&
		    !seen[(e->addr - lo) / ps]++)
			n++;
	}
	free(seen);
	return n;
}

static const struct ms_proc_event *find_proc(uint32_t type, pid_t pid, size_t *at)
{
	for (size_t i = 0; i < nrecs; i++) {
		if (recs[i].kind == REC_PROC && recs[i].proc.type == type &&
		    recs[i].proc.pid == (uint32_t)pid) {
			if (at)
				*at = i;
			return &recs[i].proc;
		}
	}
	return NULL;
}

/* ------------------------------------------------------------------ cases */

TEST_BEGIN(test_probe)
{
	char why[256] = "";
	int err;

	if (!&ms_src_ebpf) {
		need_bpf();
		return;
	}
	err = ms_src_ebpf.probe(why, sizeof(why));
	printf("# probe: %d: %s\n", err, why);
	need_bpf();
	expect_int_eq(err, 0, "probe");
	expect_true(why[0] != 0, "probe says what works");
}
TEST_END

/* The records of rawseq, from its reserve mmap on, are exactly its list (SPEC 5). */
static void check_rawseq(const char *name)
{
	const uint64_t ps = 4096, rw = PROT_READ | PROT_WRITE, anon = MAP_PRIVATE | MAP_ANONYMOUS;
	char *argv[] = {(char *)prog_path(name), NULL};
	struct run r = {0};
	uint64_t a, l, q, ql;
	size_t first = SIZE_MAX, k = 0, faults_at = 0, fault_recs = 0;
	const struct ms_proc_event *pe;
	struct {
		uint32_t nr;
		uint64_t a0, a1, a2, a3;
		int64_t ret;
	} want[8];

	assert_true(trace_run(&r, argv, NULL) == 0, "trace %s", name);
	assert_true(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0, "%s ran", name);
	assert_true(out_range(r.out, "reserve", &a, &l) && out_range(r.out, "alloc", &q, &ql),
		    "%s printed its ranges: %s", name, r.out);
	expect_u64_eq(r.lost, 0, "nothing lost");

	want[0] = (typeof(want[0])){SYS_mmap, 0, 16 * ps, PROT_NONE, anon, (int64_t)a};
	want[1] = (typeof(want[0])){SYS_mprotect, a, 4 * ps, rw, 0, 0};
	want[2] = (typeof(want[0])){SYS_madvise, a, 4 * ps, MADV_DONTNEED, 0, 0};
	want[3] = (typeof(want[0])){SYS_mmap, a + 8 * ps,	4 * ps,
				    rw,	      anon | MAP_FIXED, (int64_t)(a + 8 * ps)};
	want[4] = (typeof(want[0])){SYS_mprotect, a + 8 * ps, 4 * ps, PROT_NONE, 0, 0};
	want[5] = (typeof(want[0])){SYS_munmap, a, 16 * ps, 0, 0, 0};
	want[6] = (typeof(want[0])){SYS_mmap, 0, 2 * ps, rw, anon, (int64_t)q};
	want[7] = (typeof(want[0])){SYS_munmap, q, 2 * ps, 0, 0, 0};

	for (size_t i = 0; i < nrecs; i++) {
		const struct ms_sysrec *s = &recs[i].sys;

		if (recs[i].kind == REC_SYS && s->nr == SYS_mmap && s->ret == (int64_t)a) {
			first = i;
			break;
		}
	}
	assert_true(first != SIZE_MAX, "%s: the reserve mmap was recorded", name);
	for (size_t i = first; i < nrecs && k < 8; i++) {
		const struct ms_sysrec *s = &recs[i].sys;

		if (recs[i].kind == REC_EVENT && recs[i].ev.op == MS_OP_PAGE_FAULT &&
		    recs[i].ev.addr >= a && recs[i].ev.addr < a + 4 * ps) {
			expect_int_eq(k, 2, "the faults fall between the mprotect and the madvise");
			faults_at = k;
			fault_recs++;
		}
		if (recs[i].kind != REC_SYS)
			continue;
		expect_u64_eq(s->pid, r.pid, "pid");
		expect_u64_eq(s->tid, r.pid, "tid");
		/* printf's buffer comes from malloc, which may grow the heap in between. */
		if (s->nr == SYS_brk)
			continue;
		expect_u64_eq(s->nr, want[k].nr, "syscall in order");
		expect_u64_eq(s->args[0], want[k].a0, "arg 0");
		expect_u64_eq(s->args[1], want[k].a1, "arg 1");
		expect_u64_eq(s->args[2], want[k].a2, "arg 2");
		expect_u64_eq(s->args[3], want[k].a3, "arg 3");
		expect_int_eq(s->ret, want[k].ret, "result");
		k++;
	}
	expect_int_eq(k, 8, "all eight syscalls");
	expect_int_eq(fault_recs, 4, "four first touches");
	expect_int_eq(faults_at, 2, "faults after the mprotect");
	pe = find_proc(MS_PROC_EXEC, r.pid, NULL);
	expect_true(pe != NULL, "exec recorded");
	pe = find_proc(MS_PROC_EXIT, r.pid, NULL);
	expect_true(pe && pe->exit_code == 0 && pe->exit_signal == 0, "exit 0 recorded");
}

TEST_BEGIN(test_rawseq)
{
	need_bpf();
	check_rawseq("rawseq");
}
TEST_END

TEST_BEGIN(test_rawseq_static)
{
	need_bpf();
	check_rawseq("rawseq_static");
}
TEST_END

TEST_BEGIN(test_faults_n)
{
	char *argv[] = {(char *)prog_path("touchn"), "300", NULL};
	struct run r = {0};
	uint64_t a, l;
	size_t n = 0;
	uint8_t seen[300] = {0};

	need_bpf();
	assert_true(trace_run(&r, argv, NULL) == 0, "trace");
	assert_true(out_range(r.out, "map", &a, &l), "touchn printed its range");
	for (size_t i = 0; i < nrecs; i++) {
		const struct ms_event *e = &recs[i].ev;

		if (recs[i].kind != REC_EVENT || e->op != MS_OP_PAGE_FAULT || e->addr < a ||
		    e->addr >= a + l)
			continue;
		n++;
		expect_int_eq(e->source, MS_SRC_KERNEL, "source kernel");
		expect_int_eq(e->flags & (MS_EVF_WRITE | MS_EVF_PRESENT), MS_EVF_WRITE,
			      "a write to a page not present");
		expect_u64_eq(e->len, 4096, "one page");
		expect_true(e->arg != 0, "ip recorded");
		expect_u64_eq(e->pid, r.pid, "pid");
		expect_int_eq(seen[(e->addr - a) / 4096]++, 0, "each page once");
	}
	expect_int_eq(n, 300, "one fault per page touched");
	expect_u64_eq(r.lost, 0, "nothing lost");
}
TEST_END

/* First touches the kernel makes for the program (read() into a fresh buffer) count too. */
TEST_BEGIN(test_faults_by_kernel)
{
	char *argv[] = {(char *)prog_path("kfault"), "50", NULL};
	struct run r = {0};
	uint64_t a, l;

	need_bpf();
	assert_true(trace_run(&r, argv, NULL) == 0, "trace");
	assert_true(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0, "kfault ran: %s", r.out);
	assert_true(out_range(r.out, "map", &a, &l), "kfault printed its range");
	expect_int_eq(count_faults_in(r.pid, a, a + l), 50, "one fault per page the kernel wrote");
	for (size_t i = 0; i < nrecs; i++) {
		const struct ms_event *e = &recs[i].ev;

		if (recs[i].kind == REC_EVENT && e->op == MS_OP_PAGE_FAULT && e->addr >= a &&
		    e->addr < a + l) {
			expect_true(e->flags & MS_EVF_WRITE, "a write");
			expect_true(e->arg < (1ull << 56) && e->arg, "the user ip of the read()");
		}
	}
}
TEST_END

TEST_BEGIN(test_thp_madv_collapse)
{
	char *argv[] = {(char *)prog_path("thpcollapse"), NULL};
	struct run r = {0};
	unsigned long long a, l;
	int res = -1;
	size_t n = 0;
	const char *p;

	need_bpf();
	assert_true(trace_run(&r, argv, NULL) == 0, "trace");
	p = strstr(r.out, "collapse ");
	assert_true(p && sscanf(p, "collapse %llu %llu %d", &a, &l, &res) == 3, "output: %s",
		    r.out);
	if (res)
		test_skip("MADV_COLLAPSE refused here (errno %d)", res);
	for (size_t i = 0; i < nrecs; i++) {
		const struct ms_event *e = &recs[i].ev;

		if (recs[i].kind != REC_EVENT || e->op != MS_OP_THP_COLLAPSE)
			continue;
		n++;
		expect_u64_eq(e->addr, a, "the collapsed range");
		expect_u64_eq(e->len, HUGE, "2 MiB");
		expect_int_eq(e->result, 0, "success");
		expect_u64_eq(e->pid, r.pid, "pid");
		expect_u64_eq(e->tid, r.pid, "the thread that asked");
		expect_int_eq(e->source, MS_SRC_KERNEL, "source kernel");
	}
	expect_int_eq(n, 1, "one collapse");
}
TEST_END

static int write_knob(const char *path, const char *val, char *old, size_t oldlen)
{
	FILE *f = fopen(path, "r");

	if (old) {
		if (!f || !fgets(old, oldlen, f)) {
			if (f)
				fclose(f);
			return -1;
		}
		old[strcspn(old, "\n")] = 0;
	}
	if (f)
		fclose(f);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(val, f);
	return fclose(f);
}

TEST_BEGIN(test_thp_khugepaged)
{
	static const char *knob = "/sys/kernel/mm/transparent_hugepage/khugepaged/"
				  "scan_sleep_millisecs";
	char *argv[] = {(char *)prog_path("khuge"), NULL};
	struct run r = {0};
	uint64_t a, l;
	char old[32];
	long kb = 0;
	size_t n = 0;
	const char *p;
	int lock;

	need_bpf();
	/* Runs of this suite and of ebpf.bats at the same time take turns with the knob,
	 * or the second would save the first's setting and restore that. */
	lock = open(MS_KHUGEPAGED_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock < 0 || flock(lock, LOCK_EX))
		test_skip("cannot lock %s", MS_KHUGEPAGED_LOCK);
	if (write_knob(knob, "50", old, sizeof(old))) {
		close(lock);
		test_skip("cannot tune khugepaged (%s)", knob);
	}
	trace_run(&r, argv, NULL);
	write_knob(knob, old, NULL, 0);
	close(lock);
	assert_true(out_range(r.out, "range", &a, &l), "output: %s", r.out);
	p = strstr(r.out, "huge ");
	if (!p || sscanf(p, "huge %ld", &kb) != 1 || kb < 2048)
		test_skip("khugepaged did not collapse the range in time (%ld kB)", kb);
	for (size_t i = 0; i < nrecs; i++) {
		const struct ms_event *e = &recs[i].ev;

		if (recs[i].kind != REC_EVENT || e->op != MS_OP_THP_COLLAPSE || e->result)
			continue;
		n++;
		expect_u64_eq(e->addr, a, "the collapsed range");
		expect_u64_eq(e->len, HUGE, "2 MiB");
		expect_u64_eq(e->pid, r.pid, "attributed to the traced process");
		expect_u64_eq(e->tid, 0, "done by khugepaged");
	}
	expect_int_eq(n, 1, "one collapse by khugepaged");
}
TEST_END

static int count_range(void *ctx, uint64_t addr, uint64_t len)
{
	uint64_t *v = ctx;

	v[0]++;
	v[1] = addr;
	return 0;
}

TEST_BEGIN(test_thp_scan)
{
	uint64_t got[2] = {0, 0};
	char *p, *a;
	int n;

	need_bpf();
	assert_true(ms_thp_scan != NULL, "ms_thp_scan built");
	p = mmap(NULL, 3 * HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(p != MAP_FAILED, "mmap");
	a = (char *)(((uintptr_t)p + HUGE - 1) & ~(HUGE - 1));
	/* The first range stays small (khugepaged may not touch it); the second gets
	 * collapsed on request (MADV_COLLAPSE needs no MADV_HUGEPAGE). */
	madvise(a, HUGE, MADV_NOHUGEPAGE);
	for (uint64_t i = 0; i < 2 * HUGE; i += 4096)
		a[i] = 1;
	n = ms_thp_scan(getpid(), (uintptr_t)a, 2 * HUGE, count_range, got);
	expect_int_eq(n, 0, "small pages only");
	if (madvise(a + HUGE, HUGE, MADV_COLLAPSE)) {
		munmap(p, 3 * HUGE);
		test_skip("MADV_COLLAPSE refused here (errno %d)", errno);
	}
	n = ms_thp_scan(getpid(), (uintptr_t)a, 2 * HUGE, count_range, got);
	expect_int_eq(n, 1, "the collapsed range is huge");
	expect_u64_eq(got[0], 1, "one callback");
	expect_u64_eq(got[1], (uintptr_t)a + HUGE, "at the collapsed range");
	expect_int_eq(ms_thp_scan(999999999, 0, HUGE, count_range, got), -ESRCH, "no process");
	munmap(p, 3 * HUGE);
}
TEST_END

TEST_BEGIN(test_fork_followed)
{
	char *argv[] = {(char *)prog_path("forker"), NULL};
	struct run r = {0};
	const struct ms_proc_event *fork_pe, *cexit, *pexit;
	size_t fork_at = 0, cexit_at = 0, pexit_at = 0, first_child = SIZE_MAX;
	unsigned long long cpid = 0, ca, cl, pa, pl;
	const char *p;
	int ppid;

	need_bpf();
	assert_true(trace_run(&r, argv, NULL) == 0, "trace");
	assert_true(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0, "forker ran: %s", r.out);
	p = strstr(r.out, "child ");
	assert_true(p && sscanf(p, "child %llu %llu %llu", &cpid, &ca, &cl) == 3, "child output");
	p = strstr(r.out, "parent ");
	assert_true(p && sscanf(p, "parent %d %llu %llu", &ppid, &pa, &pl) == 3, "parent output");
	expect_int_eq(ppid, r.pid, "parent pid");

	fork_pe = find_proc(MS_PROC_FORK, cpid, &fork_at);
	assert_true(fork_pe != NULL, "fork recorded");
	expect_u64_eq(fork_pe->ppid, r.pid, "forked from the traced process");
	for (size_t i = 0; i < nrecs; i++) {
		uint32_t pid = recs[i].kind == REC_SYS	   ? recs[i].sys.pid
			       : recs[i].kind == REC_EVENT ? recs[i].ev.pid
							   : recs[i].proc.pid;

		if (pid == cpid &&
		    !(recs[i].kind == REC_PROC && recs[i].proc.type == MS_PROC_FORK)) {
			first_child = i;
			break;
		}
	}
	expect_true(first_child > fork_at && first_child != SIZE_MAX,
		    "the child's records follow its fork");
	expect_int_eq(count_pages_faulted(cpid, ca, ca + cl), 7, "child's pages faulted");
	expect_int_eq(count_pages_faulted(r.pid, pa, pa + pl), 5, "parent's pages faulted");
	expect_true(count_faults_in(cpid, ca, ca + cl) >= 7, "child's faults");
	expect_true(count_faults_in(r.pid, pa, pa + pl) >= 5, "parent's faults");
	cexit = find_proc(MS_PROC_EXIT, cpid, &cexit_at);
	pexit = find_proc(MS_PROC_EXIT, r.pid, &pexit_at);
	assert_true(cexit && pexit, "both exits recorded");
	expect_int_eq(cexit->exit_code, 3, "child's status");
	expect_int_eq(cexit->exit_signal, 0, "child not killed");
	expect_int_eq(pexit->exit_code, 0, "parent's status");
	expect_true(cexit_at < pexit_at, "the child ended first");
	expect_u64_eq(r.lost, 0, "nothing lost");
}
TEST_END

TEST_BEGIN(test_unrelated_silent)
{
	char *argv[] = {(char *)prog_path("touchn"), "64", NULL};
	struct run r = {0};
	struct child other;
	char out[256];
	uint64_t oa, ol;

	need_bpf();
	/* The same program, started at the same time but not traced; and this process
	 * maps memory too while it traces (the record array grows as records come in). */
	free(recs);
	recs = NULL;
	caprecs = 0;
	child_spawn(&other, argv);
	assert_true(trace_run(&r, argv, &other) == 0, "trace");
	child_output(&other, out, sizeof(out));
	assert_true(out_range(out, "map", &oa, &ol), "the other run printed its range");
	for (size_t i = 0; i < nrecs; i++) {
		uint32_t pid = recs[i].kind == REC_SYS	   ? recs[i].sys.pid
			       : recs[i].kind == REC_EVENT ? recs[i].ev.pid
							   : recs[i].proc.pid;

		expect_u64_eq(pid, r.pid, "only the traced process is recorded");
		expect_true(pid != (uint32_t)getpid() && pid != (uint32_t)other.pid,
			    "not the tracer, not the other run");
	}
	expect_true(nrecs > 64, "the traced run was recorded (%zu records)", nrecs);
}
TEST_END

TEST_BEGIN(test_segv_fault_before_death)
{
	char *argv[] = {(char *)prog_path("segv"), NULL};
	struct run r = {0};
	const struct ms_proc_event *pe;
	size_t fault_at = SIZE_MAX, exit_at = 0;
	uint64_t a, l;

	need_bpf();
	assert_true(trace_run(&r, argv, NULL) == 0, "trace");
	assert_true(WIFSIGNALED(r.status) && WTERMSIG(r.status) == SIGSEGV, "segv died of SIGSEGV");
	assert_true(out_range(r.out, "reserve", &a, &l), "segv printed its range");
	for (size_t i = 0; i < nrecs; i++) {
		if (recs[i].kind == REC_EVENT && recs[i].ev.op == MS_OP_PAGE_FAULT &&
		    recs[i].ev.addr == a) {
			fault_at = i;
			expect_true(recs[i].ev.flags & MS_EVF_WRITE, "a write");
			break;
		}
	}
	pe = find_proc(MS_PROC_EXIT, r.pid, &exit_at);
	assert_true(fault_at != SIZE_MAX, "the fault in Reserved memory was recorded");
	assert_true(pe != NULL, "the death was recorded");
	expect_true(fault_at < exit_at, "the fault comes before the death");
	expect_int_eq(pe->exit_signal, SIGSEGV, "killed by SIGSEGV");
	expect_int_eq(pe->exit_code, -1, "no exit status");
}
TEST_END

TEST_BEGIN(test_lost_counted)
{
	char *argv[] = {(char *)prog_path("touchn"), "5000", NULL};
	struct run r = {.cfg = {.faults = true, .ring_bytes = 4096}, .no_poll = true};
	uint64_t a, l;
	size_t got;

	need_bpf();
	assert_true(trace_run(&r, argv, NULL) == 0, "trace");
	assert_true(out_range(r.out, "map", &a, &l), "touchn printed its range");
	got = count_faults_in(r.pid, a, a + l);
	expect_true(r.lost > 0, "a 4 KiB ring overflows");
	expect_u64_eq(lost_told, r.lost, "every loss told to the sink");
	expect_true(got + r.lost >= 5000, "delivered + lost covers every fault (%zu + %llu)", got,
		    (unsigned long long)r.lost);
}
TEST_END

int main(void)
{
	return test_run(test_probe, test_rawseq, test_rawseq_static, test_faults_n,
			test_faults_by_kernel, test_thp_madv_collapse, test_thp_khugepaged,
			test_thp_scan, test_fork_followed, test_unrelated_silent,
			test_segv_fault_before_death, test_lost_counted, NULL);
}
