// SPDX-License-Identifier: MIT
/*
 * libmemstate benchmarks, every figure a ratio or a rate measured in this same run:
 *
 *   tree     mixed operations/s on a space holding 1k, 100k and 1M live intervals
 *            (state changes that split and merge, hints, point and range queries),
 *            and the bytes of memory each interval costs;
 *   syscall  time of an instrumented ms_sys_* call against the raw syscall it makes, on
 *            the same pages, with 100k live intervals in the process space: madvise
 *            (sys_unused), mmap+munmap pairs (sys_alloc/sys_free).
 *
 * Rounds alternate raw and instrumented loops; the median of the per-round ratios is
 * reported with its spread (min..max), so a noisy neighbour moves both sides.
 *
 * usage: bench_lib [quick | tree | count | count-api]   (tree: the tree part alone)
 */
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "memstate/memstate.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ------------------------------------------------------------------ tree */

#define PS   4096ull
#define BASE 0x100000000ull

static void apply(struct ms_space *sp, unsigned op, unsigned src, uint64_t addr, uint64_t len,
		  uint64_t arg)
{
	struct ms_event ev = {.op = (uint8_t)op,
			      .source = (uint8_t)src,
			      .addr = addr,
			      .len = len,
			      .arg = arg,
			      .pid = 1,
			      .tid = 1};

	ms_space_apply(sp, &ev);
}

/* A space with n intervals: n pages alternating Ready / Prepared. */
static struct ms_space *build(uint64_t n, size_t *bytes)
{
	struct ms_space_opts o = {.page_size = PS, .log_capacity = 4096};
	struct mallinfo2 before = mallinfo2(), after;
	struct ms_space *sp = ms_space_new(&o);
	struct ms_event drain[256];

	apply(sp, MS_OP_ALLOC, MS_SRC_SYSCALL, BASE, n * PS, 0);
	for (uint64_t i = 1; i < n; i += 2) {
		apply(sp, MS_OP_UNUSED, MS_SRC_SYSCALL, BASE + i * PS, PS, 0);
		if (i % 1024 == 1)
			while (ms_space_events_read(sp, drain, 256))
				;
	}
	after = mallinfo2();
	*bytes = (after.uordblks + after.hblkhd) - (before.uordblks + before.hblkhd);
	return sp;
}

enum pattern { P_RANDOM, P_LOCAL, P_SEQUENTIAL };

static const char *const pattern_name[] = {"random", "local", "sequential"};

/*
 * Mixed operations; returns operations per second. Where they land: uniformly at random
 * (every operation a fresh descent: the worst case), a random walk of a few intervals
 * (an allocator working near where it last did), or a sweep (a scavenger).
 */
static double tree_ops(struct ms_space *sp, uint64_t n, uint64_t ops, enum pattern pat)
{
	struct ms_event drain[1024];
	struct ms_region r;
	uint64_t seed = 42, b[MS_STATE_COUNT], t0, i = n / 2;

	t0 = now_ns();
	for (uint64_t k = 0; k < ops; k++) {
		uint64_t x = rnd(&seed), a;

		switch (pat) {
		case P_RANDOM:
			i = x % n;
			break;
		case P_LOCAL:
			i = (i + n + (x % 17) - 8) % n;
			break;
		case P_SEQUENTIAL:
			i = (i + 1) % n;
			break;
		}
		a = BASE + i * PS;
		switch ((x >> 32) % 6) {
		case 0: /* flip a page's state: splits, then merges with its neighbours */
		case 1:
			if (ms_space_state_at(sp, a, &r) == MS_READY)
				apply(sp, MS_OP_UNUSED, MS_SRC_SYSCALL, a, PS, 0);
			else
				apply(sp, MS_OP_USED, MS_SRC_KERNEL, a, PS, 0);
			break;
		case 2:
			apply(sp, MS_OP_HUGE_PAGE, MS_SRC_SYSCALL, a, PS, 0);
			break;
		case 3:
			apply(sp, MS_OP_NO_HUGE_PAGE, MS_SRC_SYSCALL, a, PS, 0);
			break;
		case 4:
			ms_space_state_at(sp, a, &r);
			break;
		default:
			ms_space_bytes_in(sp, a, 8 * PS, b);
			break;
		}
		if ((k & 1023) == 1023)
			ms_space_events_read(sp, drain, 1024);
	}
	return (double)ops / ((double)(now_ns() - t0) / 1e9);
}

static void bench_tree(bool quick)
{
	static const uint64_t sizes[] = {1000, 100000, 1000000};

	printf("tree: mixed operations (1/3 state flips that split and merge, 1/3 hints,\n"
	       "      1/6 point lookups, 1/6 range queries), ops/s\n");
	printf("  %-10s %12s %12s %12s %10s\n", "intervals", "random", "local", "sequential",
	       "B/interval");
	for (int s = 0; s < 3; s++) {
		size_t bytes;
		struct ms_space *sp = build(sizes[s], &bytes);
		uint64_t ops = quick ? 200000 : 2000000;
		double rate[3];
		struct ms_totals t;

		ms_space_totals(sp, &t);
		for (int p = 0; p < 3; p++)
			rate[p] = tree_ops(sp, sizes[s], ops, (enum pattern)p);
		printf("  %-10" PRIu64 " %12.0f %12.0f %12.0f %10.1f\n", t.regions, rate[0],
		       rate[1], rate[2], (double)bytes / (double)t.regions);
		ms_space_free(sp);
	}
	(void)pattern_name;
}

/* A fixed, deterministic workload for instruction counts (callgrind, bench/quick.sh):
 * 20k intervals built, then 50k mixed operations in each pattern: 170k operations. */
static void bench_count(void)
{
	size_t bytes;
	struct ms_space *sp = build(20000, &bytes);

	for (int p = 0; p < 3; p++)
		tree_ops(sp, 20000, 50000, (enum pattern)p);
	ms_space_free(sp);
}

/* ------------------------------------------------------------------ syscalls */

#define LIVE  100000 /* intervals in the process space during the syscall loops */
#define PAGES 8192   /* pages the madvise loops work on */

struct ratio {
	double v[32];
	int n;
};

static void report(const char *what, struct ratio *r, double raw_ns, double inst_ns)
{
	double m = median(r->v, r->n);

	printf("  %-34s raw %7.0f ns  memstate %7.0f ns  ratio %.3f (%.3f..%.3f)\n", what, raw_ns,
	       inst_ns, m, r->v[0], r->v[r->n - 1]);
}

static void touch(char *p, long ps)
{
	for (int i = 0; i < PAGES; i++)
		p[(size_t)i * (size_t)ps] = 1;
}

/* One round of madvise(DONTNEED) over PAGES resident pages in the given order, raw or
 * through ms_sys_unused; returns ns. The library's view is made Ready again after. */
static uint64_t madvise_round(char *pages, const uint64_t *order, long ps, int chunk, bool inst)
{
	size_t len = (size_t)chunk * (size_t)ps;
	uint64_t t0;

	touch(pages, ps);
	t0 = now_ns();
	if (inst) {
		for (int i = 0; i < PAGES / chunk; i++)
			ms_sys_unused(pages + order[i] * len, len);
	} else {
		for (int i = 0; i < PAGES / chunk; i++)
			madvise(pages + order[i] * len, len, MADV_DONTNEED);
	}
	t0 = now_ns() - t0;
	if (inst) /* Ready again, no syscall */
		for (int i = 0; i < PAGES / chunk; i++)
			ms_sys_used(pages + order[i] * len, len, len);
	return t0 / (uint64_t)(PAGES / chunk);
}

static void bench_syscalls(bool quick)
{
	static struct ms_stat heap = MS_STAT_INIT("bench");
	long ps = sysconf(_SC_PAGESIZE);
	size_t live_len = (size_t)LIVE * (size_t)ps, pair_len = 64 << 10;
	char *live = ms_sys_reserve(NULL, live_len), *pages;
	int rounds = quick ? 5 : 15, pairs = quick ? 2000 : 20000;
	struct ratio mad[3] = {{{0}, 0}}, pair = {{0}, 0};
	double mad_raw[3] = {0}, mad_inst[3] = {0}, pair_raw = 0, pair_inst = 0;
	uint64_t *order[2], s = 7;
	struct ms_totals t;

	if (!live)
		return;
	/* 100k live intervals in one kernel mapping (the kernel allows 65530 mappings):
	 * mapped as a whole, then every other page made Ready, which takes no syscall. */
	ms_sys_map(live, live_len, &heap);
	for (size_t i = 0; i < LIVE; i += 2)
		ms_sys_used(live + i * (size_t)ps, (size_t)ps, (size_t)ps);
	pages = ms_sys_alloc((size_t)PAGES * (size_t)ps, &heap);
	order[0] = malloc(PAGES * sizeof(uint64_t));
	order[1] = malloc(PAGES * sizeof(uint64_t));
	if (!pages || !order[0] || !order[1])
		return;
	for (uint64_t i = 0; i < PAGES; i++)
		order[0][i] = order[1][i] = i;
	for (uint64_t i = PAGES - 1; i > 0; i--) { /* [1]: random order, no locality */
		uint64_t j = rnd(&s) % (i + 1), tmp = order[1][i];

		order[1][i] = order[1][j];
		order[1][j] = tmp;
	}
	ms_totals(&t);
	printf("syscalls: instrumented / raw on the same pages, %" PRIu64
	       " live intervals, median of %d rounds (min..max)\n",
	       t.regions, rounds);
	for (int r = 0; r < rounds; r++) {
		uint64_t raw, inst, t0;

		/* Go's scavenger: madvise(DONTNEED) of resident pages, one page or 64 KiB at a
		 * time. Alternate which side goes first, so neither meets a warmer cache. */
		for (int o = 0; o < 3; o++) {
			int chunk = o == 2 ? 16 : 1;

			if (r & 1) {
				inst = madvise_round(pages, order[o & 1], ps, chunk, true);
				raw = madvise_round(pages, order[o & 1], ps, chunk, false);
			} else {
				raw = madvise_round(pages, order[o & 1], ps, chunk, false);
				inst = madvise_round(pages, order[o & 1], ps, chunk, true);
			}
			mad[o].v[mad[o].n++] = (double)inst / (double)raw;
			mad_raw[o] += (double)raw / rounds;
			mad_inst[o] += (double)inst / rounds;
		}
		/* sysAlloc + sysFree pairs against mmap + munmap. */
		for (int side = 0; side < 2; side++) {
			t0 = now_ns();
			if ((side ^ r) & 1) {
				for (int k = 0; k < pairs; k++)
					ms_sys_free(ms_sys_alloc(pair_len, &heap), pair_len, &heap);
				inst = now_ns() - t0;
			} else {
				for (int k = 0; k < pairs; k++)
					munmap(mmap(NULL, pair_len, PROT_READ | PROT_WRITE,
						    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
					       pair_len);
				raw = now_ns() - t0;
			}
		}
		pair.v[pair.n++] = (double)inst / (double)raw;
		pair_raw += (double)raw / pairs / rounds;
		pair_inst += (double)inst / pairs / rounds;
	}
	report("madvise 4K, pages in address order", &mad[0], mad_raw[0], mad_inst[0]);
	report("madvise 4K, pages in random order", &mad[1], mad_raw[1], mad_inst[1]);
	report("madvise 64K runs in address order", &mad[2], mad_raw[2], mad_inst[2]);
	report("mmap+munmap 64K (alloc+free)", &pair, pair_raw, pair_inst);
	free(order[0]);
	free(order[1]);
}

/* The API path without syscalls (ms_note): 100k sysUnused + 100k sysUsed, in a sweep
 * over 8192 pages, for instruction counts. */
static void bench_count_api(void)
{
	static struct ms_stat heap = MS_STAT_INIT("bench");
	long ps = sysconf(_SC_PAGESIZE);
	char *p = ms_sys_alloc((size_t)PAGES * (size_t)ps, &heap);

	for (int k = 0; k < 100000; k++) {
		char *a = p + (size_t)(k % PAGES) * (size_t)ps;

		ms_note(MS_OP_UNUSED, a, (size_t)ps, 0, NULL);
		ms_note(MS_OP_USED, a, (size_t)ps, (uint64_t)ps, NULL);
	}
}

int main(int argc, char **argv)
{
	bool quick = argc > 1 && !strcmp(argv[1], "quick");

	if (argc > 1 && !strcmp(argv[1], "count")) {
		bench_count();
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "count-api")) {
		bench_count_api();
		return 0;
	}
	bench_tree(quick);
	if (argc > 1 && !strcmp(argv[1], "tree")) /* bench/load.sh: the tree alone */
		return 0;
	bench_syscalls(quick);
	return 0;
}
