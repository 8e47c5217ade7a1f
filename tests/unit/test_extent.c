// SPDX-License-Identifier: MIT
/*
 * The jemalloc extent registry (lib/extent.c) against a page-array model, randomized with a
 * fixed seed; and the checker's jemalloc rules (SPEC section 11) on a space: transitions,
 * each violation kind, and extents learned from the syscall stream.
 */
#include <errno.h>

#include "../../lib/extent.h"
#include "memstate/space.h"
#include "test.h"
#include "test_main.h"

#define NP   256 /* model pages */
#define PG   4096ull
#define BASE 0x10000000ull

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* model: start page of the extent holding each page, -1 for none */
static int own[NP];

static bool m_has(int s, int e)
{
	if (own[s] != s || (e < NP && own[e] == s))
		return false;
	for (int i = s; i < e; i++)
		if (own[i] != s)
			return false;
	return true;
}

static bool m_overlaps(int s, int e)
{
	for (int i = s; i < e; i++)
		if (own[i] >= 0)
			return true;
	return false;
}

static void m_set(int s, int e, int v)
{
	for (int i = s; i < e; i++)
		own[i] = v;
}

TEST_BEGIN(test_extent_random_against_model)
{
	struct ms_extents x = {0};

	for (int i = 0; i < NP; i++)
		own[i] = -1;
	for (int it = 0; it < 200000; it++) {
		int s = (int)(next() % NP), n = 1 + (int)(next() % 16), e = s + n, mid;
		uint64_t a = BASE + s * PG, b = BASE + (e > NP ? NP : e) * PG, m;
		int r;

		if (e > NP)
			e = NP;
		if (s >= e)
			continue;
		mid = s + 1 + (int)(next() % (unsigned)(e - s));
		m = BASE + mid * PG;
		switch (next() % 6) {
		case 0:
			r = ms_ext_add(&x, a, b);
			expect_int_eq(r, m_overlaps(s, e) ? -EEXIST : 0, "add");
			if (!r)
				m_set(s, e, s);
			break;
		case 1: {
			size_t k = ms_ext_remove(&x, a, b);
			size_t want = 0;

			for (int i = 0; i < NP; i++) {
				if (own[i] == i) { /* an extent's first page */
					int j = i;

					while (j < NP && own[j] == i)
						j++;
					if (i < e && s < j) {
						want++;
						m_set(i, j, -1);
					}
					i = j - 1;
				}
			}
			expect_u64_eq(k, want, "remove count");
			break;
		}
		case 2:
			if (mid >= e)
				break;
			r = ms_ext_split(&x, a, m, b);
			expect_int_eq(r, m_has(s, e) ? 0 : -ENOENT, "split");
			if (!r)
				m_set(mid, e, mid);
			break;
		case 3:
			if (mid >= e)
				break;
			r = ms_ext_merge(&x, a, m, b);
			expect_int_eq(r, m_has(s, mid) && m_has(mid, e) ? 0 : -ENOENT, "merge");
			if (!r)
				m_set(s, e, s);
			break;
		case 4:
			expect_true(ms_ext_has(&x, a, b) == m_has(s, e), "has [%d, %d)", s, e);
			break;
		default:
			expect_true(ms_ext_overlaps(&x, a, b) == m_overlaps(s, e), "overlaps");
			break;
		}
		if (test_state.failures)
			break;
	}
	/* The registry is sorted and disjoint and holds the model's extents, all of them. */
	{
		const struct ms_node *n, *prev = NULL;
		size_t count = 0;
		int starts = 0;

		for (n = ms_ext_first(&x); n; prev = n, n = ms_ext_next(n), count++) {
			expect_true(!prev || prev->end <= n->start, "sorted, disjoint at %zu",
				    count);
			expect_true(
				m_has((int)((n->start - BASE) / PG), (int)((n->end - BASE) / PG)),
				"extent %zu in the model", count);
		}
		for (int i = 0; i < NP; i++)
			starts += own[i] == i;
		expect_u64_eq(count, (uint64_t)starts, "as many extents as the model");
		expect_u64_eq(ms_ext_count(&x), count, "count");
	}
	ms_ext_destroy(&x);
}
TEST_END

static int op(struct ms_space *sp, unsigned o, unsigned src, uint64_t addr, uint64_t len,
	      uint64_t arg, uint16_t flags, int result)
{
	struct ms_event ev = {.op = (uint8_t)o,
			      .source = (uint8_t)src,
			      .addr = addr,
			      .len = len,
			      .arg = arg,
			      .flags = flags,
			      .result = result,
			      .pid = 1,
			      .tid = 1};

	return ms_space_apply(sp, &ev);
}

#define JE MS_SRC_JEMALLOC

TEST_BEGIN(test_extent_checker_rules)
{
	struct ms_space *sp = ms_space_new(&(struct ms_space_opts){.page_size = 4096});
	const uint64_t A = 0x40000000, M = 2 << 20;
	uint64_t b[MS_STATE_COUNT];
	char why[128];

	assert_true(sp != NULL, "space");
	/* alloc committed, split, merge, purges, dalloc retained and returned: all clean */
	expect_int_eq(op(sp, MS_OP_EXT_ALLOC, JE, A, M, 0, MS_EVF_COMMITTED, 0), 0, "alloc");
	expect_int_eq(op(sp, MS_OP_EXT_SPLIT, JE, A, M, M / 2, MS_EVF_COMMITTED, 0), 0, "split");
	expect_int_eq(op(sp, MS_OP_EXT_PURGE_LAZY, JE, A, M / 2, A, 0, 0), 0, "purge_lazy");
	expect_int_eq(op(sp, MS_OP_EXT_PURGE_FORCED, JE, A, M / 2, A, 0, 0), 0,
		      "purge_forced over Prepared: still committed");
	ms_space_bytes_in(sp, A, M, b);
	expect_u64_eq(b[MS_PREPARED], M / 2, "purged half Prepared");
	expect_int_eq(op(sp, MS_OP_EXT_MERGE, JE, A, M, M / 2, MS_EVF_COMMITTED, 0), 0, "merge");
	expect_int_eq(op(sp, MS_OP_EXT_DALLOC, JE, A, M, 0, 0, 1), 0, "dalloc retained");
	expect_int_eq(op(sp, MS_OP_EXT_DECOMMIT, JE, A, M, A, 0, 0), 0, "decommit");
	ms_space_bytes_in(sp, A, M, b);
	expect_u64_eq(b[MS_RESERVED], M, "decommitted: Reserved");
	expect_int_eq(op(sp, MS_OP_EXT_COMMIT, JE, A, M, A, 0, 0), 0, "commit");
	/* the violations, one each */
	expect_int_eq(op(sp, MS_OP_EXT_COMMIT, JE, A, M, A, 0, 0), MS_V_COMMIT_COMMITTED, "commit");
	expect_int_eq(op(sp, MS_OP_EXT_SPLIT, JE, A, M / 2, M / 4, 0, 0), MS_V_EXTENT_BOUNDS,
		      "split of half an extent");
	expect_int_eq(op(sp, MS_OP_EXT_DALLOC, JE, A + PG, PG, 0, 0, 1), MS_V_UNKNOWN_EXTENT,
		      "dalloc inside an extent");
	expect_int_eq(op(sp, MS_OP_EXT_DESTROY, JE, A, M, 0, 0, 0), 0, "destroy");
	expect_int_eq(op(sp, MS_OP_EXT_PURGE_FORCED, JE, A, M, A, 0, 0), MS_V_DECOMMIT_UNCOMMITTED,
		      "purge of unmapped memory");
	expect_int_eq(op(sp, MS_OP_EXT_DESTROY, JE, A, M, 0, 0, 0), MS_V_UNKNOWN_EXTENT,
		      "destroy twice");
	/* extents made before the wrap are learned from the syscall stream */
	expect_int_eq(op(sp, MS_OP_ALLOC, MS_SRC_SYSCALL, 2 * A, 2 * M, 0, 0, 0), 0, "mmap");
	expect_int_eq(op(sp, MS_OP_EXT_SPLIT, JE, 2 * A, 2 * M, M, MS_EVF_COMMITTED, 0), 0,
		      "split of a pre-wrap extent: learned");
	expect_int_eq(op(sp, MS_OP_EXT_DALLOC, JE, 2 * A + M, M, 0, 0, 0), 0, "dalloc of its half");
	/* merge of a committed and a decommitted extent */
	expect_int_eq(op(sp, MS_OP_EXT_ALLOC, JE, 3 * A, M, 0, MS_EVF_COMMITTED, 0), 0, "alloc");
	expect_int_eq(op(sp, MS_OP_EXT_ALLOC, JE, 3 * A + M, M, 0, 0, 0), 0, "alloc uncommitted");
	expect_int_eq(op(sp, MS_OP_EXT_MERGE, JE, 3 * A, 2 * M, M, MS_EVF_COMMITTED, 0),
		      MS_V_MERGE_COMMIT_DIFFERS, "merge differs");
	expect_int_eq(op(sp, MS_OP_EXT_MERGE, JE, 3 * A, 2 * M, M, MS_EVF_APART, 0),
		      MS_V_EXTENT_BOUNDS, "merge apart");
	expect_int_eq(op(sp, MS_OP_EXT_ALLOC, JE, 3 * A, PG, 0, MS_EVF_COMMITTED, 0),
		      MS_V_ILLEGAL_TRANSITION, "alloc inside a live extent");
	expect_int_eq(ms_space_verify(sp, why, sizeof(why)), 0, why);
	ms_space_free(sp);
}
TEST_END

int main(void)
{
	return test_run(test_extent_random_against_model, test_extent_checker_rules, NULL);
}
