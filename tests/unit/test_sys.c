// SPDX-License-Identifier: MIT
/*
 * The process-level API with real syscalls: what the kernel holds after each operation,
 * stats mirrored into callers' structs, violation policies, refused ranges, and 8 threads
 * on disjoint and overlapping ranges keeping every invariant.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "memstate/memstate.h"
#include "test.h"
#include "test_main.h"

static size_t ps;

/* Permissions of the mapping holding addr, from /proc/self/maps ("rw-p", "---p"). */
static int maps_perms(const void *addr, char perms[5])
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	unsigned long lo, hi, a = (unsigned long)addr;

	perms[0] = 0;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) == 3 && a >= lo && a < hi) {
			fclose(f);
			return 0;
		}
	}
	fclose(f);
	perms[0] = 0;
	return -1;
}

static int resident(void *addr)
{
	unsigned char v = 0;

	return mincore(addr, ps, &v) == 0 && (v & 1);
}

static struct ms_violation last_v;
static int nviol;

static void collect(const struct ms_violation *v, void *ctx)
{
	(void)ctx;
	last_v = *v;
	nviol++;
}

TEST_BEGIN(test_real_lifecycle)
{
	static struct ms_stat heap = MS_STAT_INIT("test-heap");
	size_t n = 64 * ps;
	char *p, perms[5];

	ms_set_violation_callback(collect, NULL);
	nviol = 0;
	p = ms_sys_reserve(NULL, n);
	assert_true(p != NULL, "reserve: %s", strerror(errno));
	expect_true(maps_perms(p, perms) == 0 && !strcmp(perms, "---p"),
		    "reserved is PROT_NONE: %s", perms);
	expect_int_eq(ms_state_at(p), MS_RESERVED, "state after reserve");
	expect_int_eq(ms_sys_map(p, 16 * ps, &heap), 0, "map");
	expect_true(maps_perms(p, perms) == 0 && !strcmp(perms, "rw-p"), "mapped is RW: %s", perms);
	expect_u64_eq(ms_stat_read(&heap), 16 * ps, "stat mirrored after map");
	expect_int_eq(ms_sys_used(p, 16 * ps, 16 * ps), 0, "used");
	memset(p, 0xab, 16 * ps);
	expect_true(resident(p), "touched page resident");
	expect_int_eq(ms_sys_unused(p, 8 * ps), 0, "unused");
	expect_true(!resident(p), "DONTNEED dropped the page");
	expect_int_eq(ms_state_at(p), MS_PREPARED, "state after unused");
	expect_int_eq(ms_sys_used(p, 8 * ps, 8 * ps), 0, "used again");
	expect_int_eq(p[0], 0, "forfeit contents read back as zero");
	expect_int_eq(ms_sys_fault(p + 8 * ps, 8 * ps), 0, "fault");
	expect_true(maps_perms(p + 8 * ps, perms) == 0 && !strcmp(perms, "---p"),
		    "faulted is PROT_NONE");
	expect_int_eq(ms_sys_free(p, n, &heap), 0, "free");
	expect_true(maps_perms(p, perms) != 0, "freed range unmapped");
	expect_int_eq(ms_state_at(p), MS_NONE, "state after free");
	expect_u64_eq(ms_stat_read(&heap), 0, "stat back to zero");
	expect_int_eq(nviol, 0, "no violations on a correct sequence");
}
TEST_END

TEST_BEGIN(test_alloc_and_hints)
{
	static struct ms_stat meta = MS_STAT_INIT("test-meta");
	size_t n = 4u << 20;
	char *p;
	uint64_t b[MS_STATE_COUNT];

	nviol = 0;
	p = ms_sys_alloc(n, &meta);
	assert_true(p != NULL, "alloc");
	expect_int_eq(ms_state_at(p + n - 1), MS_READY, "alloc is Ready");
	expect_int_eq(ms_sys_huge_page(p, n), 0, "huge page hint");
	expect_int_eq(ms_sys_no_huge_page(p, n), 0, "no huge page hint");
	expect_int_eq(ms_sys_huge_page_collapse(p, n), 0, "collapse is best effort");
	expect_int_eq(ms_bytes_in(p, n, b), 0, "bytes_in");
	expect_u64_eq(b[MS_READY], n, "all Ready");
	expect_int_eq(nviol, 0, "hints on Ready are clean");
	expect_int_eq(ms_sys_free(p, n, &meta), 0, "free");
	expect_u64_eq(ms_stat_read(&meta), 0, "meta back to zero");
}
TEST_END

TEST_BEGIN(test_refused_ranges_make_no_syscall)
{
	char *p = ms_sys_alloc(4 * ps, NULL), perms[5];

	assert_true(p != NULL, "alloc");
	nviol = 0;
	expect_int_eq(ms_sys_free(p + 1, ps, NULL), -EINVAL, "misaligned free refused");
	expect_int_eq(last_v.ev.violation, MS_V_MISALIGNED, "misaligned reported");
	expect_true(maps_perms(p, perms) == 0, "still mapped");
	expect_int_eq(ms_sys_unused(NULL, ps), -EINVAL, "NULL refused");
	expect_int_eq(ms_sys_map(p, 0, NULL), -EINVAL, "zero length refused");
	expect_true(ms_sys_alloc(ps + 1, NULL) == NULL && errno == EINVAL, "odd alloc size");
	expect_int_eq(ms_sys_unused((void *)(UINTPTR_MAX & ~(ps - 1)), 2 * ps), -EINVAL,
		      "wrapping refused");
	expect_int_eq(nviol, 5, "each refusal is a violation");
	/* A violation that the OS carries out is recorded with what the OS holds. */
	expect_int_eq(ms_sys_map(p, ps, NULL), 0, "map over Ready is performed");
	expect_int_eq(last_v.ev.violation, MS_V_ILLEGAL_TRANSITION, "and reported");
	expect_int_eq(ms_state_at(p), MS_PREPARED, "recorded as Prepared (fresh RW mapping)");
	ms_sys_free(p, 4 * ps, NULL);
}
TEST_END

TEST_BEGIN(test_note_without_syscalls)
{
	static struct ms_stat heap = MS_STAT_INIT("note-heap");
	char *p = mmap(NULL, 8 * ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED, "mmap");
	nviol = 0;
	expect_int_eq(ms_note(MS_OP_RESERVE, p, 8 * ps, 0, NULL), 0, "note reserve");
	expect_int_eq(ms_note(MS_OP_MAP, p, 8 * ps, 0, &heap), 0, "note map");
	expect_int_eq(ms_note(MS_OP_USED, p, 8 * ps, 4 * ps, NULL), MS_V_ACCOUNTING_MISMATCH,
		      "note used with a wrong count returns the kind");
	expect_int_eq(ms_note(MS_OP_FREE, p, 8 * ps, 0, &heap), 0, "note free");
	expect_int_eq(ms_note(MS_OP_PAGE_FAULT, p, ps, 0, NULL), -EINVAL, "kernel ops refused");
	expect_int_eq(nviol, 1, "one violation");
	munmap(p, 8 * ps);
}
TEST_END

TEST_BEGIN(test_abort_policy)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0, "fork");
	if (pid == 0) {
		char *p = ms_sys_alloc(ps, NULL);

		ms_set_print(NULL);
		ms_set_policy(MS_POLICY_ABORT);
		ms_sys_free(p, ps, NULL);
		ms_sys_free(p, ps, NULL); /* double free: abort here */
		_exit(0);
	}
	waitpid(pid, &status, 0);
	expect_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
		    "child aborted (status %#x)", status);
}
TEST_END

/* ------------------------------------------------------------------ threads */

#define THREADS 8

/* Operations per thread: MEMSTATE_LOAD_ROUNDS (bench/load.sh runs 1M), else 20000. */
static long rounds = 20000;

static char *shared_area;

static void *worker(void *arg)
{
	uintptr_t id = (uintptr_t)arg;
	uint64_t seed = 0x1234 + id;
	struct ms_stat *st = arg ? NULL : NULL;
	char *own = ms_sys_reserve(NULL, 32 * ps);
	int mapped[32] = {0}, used[32] = {0};

	(void)st;
	if (!own)
		return (void *)1;
	for (long r = 0; r < rounds; r++) {
		uint64_t x = test_rand(&seed);
		int i = (int)(x % 32);
		char *pg = own + (size_t)i * ps;

		/* A legal walk through the states of the thread's own pages. */
		if (!mapped[i]) {
			ms_sys_map(pg, ps, NULL);
			mapped[i] = 1;
		} else if (!used[i]) {
			ms_sys_used(pg, ps, ps);
			used[i] = 1;
		} else if (x & 0x100) {
			ms_sys_unused(pg, ps);
			used[i] = 0;
		} else {
			ms_sys_huge_page(pg, ps);
		}
		/* And racing notes on a shared range: any order, invariants must hold. */
		if ((x >> 20) % 4 == 0)
			ms_note((x >> 24) & 1 ? MS_OP_HUGE_PAGE : MS_OP_NO_HUGE_PAGE,
				shared_area + ((x >> 28) % 16) * ps, ps, 0, NULL);
	}
	for (int i = 0; i < 32; i++) {
		if (mapped[i] && !used[i])
			ms_sys_used(own + (size_t)i * ps, ps, ps);
	}
	ms_sys_free(own, 32 * ps, NULL);
	return NULL;
}

TEST_BEGIN(test_threads_keep_invariants)
{
	pthread_t th[THREADS];
	struct ms_totals before, after;
	char why[200];

	shared_area = ms_sys_alloc(16 * ps, NULL);
	assert_true(shared_area != NULL, "shared area");
	ms_totals(&before);
	nviol = 0;
	for (uintptr_t i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, worker, (void *)i);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	ms_totals(&after);
	expect_int_eq(nviol, 0, "no violations from legal concurrent sequences");
	expect_u64_eq(after.bytes[MS_READY], before.bytes[MS_READY], "Ready back where it was");
	expect_u64_eq(after.bytes[MS_RESERVED], before.bytes[MS_RESERVED], "Reserved back");
	expect_u64_eq(after.bytes[MS_PREPARED], before.bytes[MS_PREPARED], "Prepared back");
	expect_true(after.events - before.events >= (uint64_t)(THREADS * rounds),
		    "all operations recorded");
	expect_int_eq(ms_space_verify(ms_process_space(), why, sizeof(why)), 0, why);
	ms_sys_free(shared_area, 16 * ps, NULL);
}
TEST_END

int main(void)
{
	ps = (size_t)sysconf(_SC_PAGESIZE);
	if (getenv("MEMSTATE_LOAD_ROUNDS"))
		rounds = atol(getenv("MEMSTATE_LOAD_ROUNDS"));
	ms_set_print(NULL); /* violations are expected here; the callback sees them */
	return test_run(test_real_lifecycle, test_alloc_and_hints,
			test_refused_ranges_make_no_syscall, test_note_without_syscalls,
			test_abort_policy, test_threads_keep_invariants, NULL);
}
