// SPDX-License-Identifier: MIT
/*
 * Residency (SPEC section 8): the sparse page bitmap against a plain bit array, the
 * space's per-page residency against a page model (fixed seeds), the fixed cases of the
 * issue (64 pages, 40 touched, 8 DONTNEED, 4 FREE), fork, and the memory it costs.
 */
#include <errno.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "memstate/capture.h"

#include "lib/resident.h"
#include "memstate/space.h"
#include "tests/page_model.h"
#include "test.h"
#include "test_main.h"

#define PS   4096ull
#define HP   (2ull << 20)
#define BASE 0x40000000ull /* huge-page aligned */

static void expect_valid(struct ms_space *sp, const char *when)
{
	char why[200];

	if (ms_space_verify(sp, why, sizeof(why)))
		test_fail(__FILE__, __LINE__, "%s: %s", when, why);
}

/* ------------------------------------------------------------------ the bitmap */

#define BPAGES (1u << 20) /* 4 GiB of 4 KiB pages, 2048 chunks */
#define CP     MS_RBITS_CHUNK_PAGES

/* The counters against the slots and the pool, each bitmap really partial. */
static void expect_rbits_sound(const struct ms_rbits *b, const char *when)
{
	size_t used = 0, empty = 0, full = 0, parts = 0, listed = 0;
	uint64_t pages = 0;

	for (size_t i = 0; i < b->cap; i++) {
		const struct ms_rslot *s = &b->slots[i];
		uint64_t all = ~0ull, any = 0, n = 0;

		if (!s->key)
			continue;
		used++;
		if (!s->map) {
			empty++;
			continue;
		}
		if (s->map == MS_RBITS_FULL) {
			full++;
			pages += CP;
			continue;
		}
		parts++;
		if (s->map > b->mnext) {
			test_fail(__FILE__, __LINE__, "%s: bitmap %" PRIu64 " beyond %zu", when,
				  s->map, b->mnext);
			return;
		}
		for (int w = 0; w < MS_RBITS_WORDS; w++) {
			all &= b->maps[s->map - 1].bits[w];
			any |= b->maps[s->map - 1].bits[w];
			n += (uint64_t)__builtin_popcountll(b->maps[s->map - 1].bits[w]);
		}
		if (all == ~0ull || !any)
			test_fail(__FILE__, __LINE__, "%s: a bitmap %s", when,
				  any ? "full" : "empty");
		pages += n;
	}
	for (size_t i = b->mlist; i && listed <= b->mcap; i = (size_t)b->maps[i - 1].bits[0])
		listed++;
	if (used != b->used || empty != b->empty || full != b->full || parts != b->mused ||
	    pages != b->pages || listed + b->mused != b->mnext || b->mnext > b->mcap)
		test_fail(
			__FILE__, __LINE__,
			"%s: used %zu/%zu empty %zu/%zu full %zu/%zu bitmaps %zu/%zu pages %" PRIu64
			"/%" PRIu64 " free list %zu, next %zu of %zu",
			when, used, b->used, empty, b->empty, full, b->full, parts, b->mused, pages,
			b->pages, listed, b->mnext, b->mcap);
}

/*
 * A range for the random test: mostly short, some spanning many chunks (the table-scan
 * path), a quarter snapped to whole chunks or to one page (FULL <-> partial).
 */
static void rand_range(uint64_t r, uint64_t *first, uint64_t *n)
{
	*first = r % BPAGES;
	*n = (r >> 20) % 8 ? 1 + (r >> 24) % 700 : 1 + (r >> 24) % (BPAGES / 4);
	switch ((r >> 44) % 8) {
	case 0: /* whole chunks */
		*first -= *first % CP;
		*n = CP * (1 + (r >> 24) % 4);
		break;
	case 1: /* one page */
		*n = 1;
		break;
	default:
		break;
	}
	if (*first + *n > BPAGES)
		*n = BPAGES - *first;
}

TEST_BEGIN(test_rbits_random)
{
	static bool bits[BPAGES];
	struct ms_rbits b, copy;
	uint64_t seed = 0x5eed, set = 0, fulls = 0, splits = 0;
	unsigned long bad = 0;

	memset(bits, 0, sizeof(bits));
	ms_rbits_init(&b);
	ms_rbits_init(&copy);
	for (int i = 0; i < 40000; i++) {
		uint64_t r = test_rand(&seed), first, n, want = 0, got;
		unsigned kind = (unsigned)(r >> 40) % 4;
		size_t full0 = b.full, mused0, reserved;
		const struct ms_rmap *maps;
		size_t mcap, cap;

		rand_range(r, &first, &n);
		if (kind == 0 && n > 5000)
			n = 5000; /* sets must be reserved: keep them small */
		/* What the space does: reserve the chunks of a set, nothing for a clear. */
		reserved = kind == 0 ? ms_rbits_chunks(first, n) : 0;
		assert_true(ms_rbits_reserve(&b, reserved) == 0, "reserve");
		/* A bitmap for each chunk reserved, two for the ends of a clear. */
		if (b.mcap - b.mused < (reserved || b.full ? reserved + 2 : 0) && bad++ < 5)
			test_fail(__FILE__, __LINE__, "op %d: %zu spare bitmaps for %zu chunks", i,
				  b.mcap - b.mused, reserved);
		maps = b.maps;
		mcap = b.mcap;
		cap = b.cap;
		mused0 = b.mused;
		switch (kind) {
		case 0:
			ms_rbits_set(&b, first, n);
			for (uint64_t k = first; k < first + n; k++) {
				set += !bits[k];
				bits[k] = true;
			}
			/* The one clear a reserve covers beside its chunks, anywhere. */
			if ((r >> 50) % 4 == 0) {
				rand_range(test_rand(&seed), &first, &n);
				ms_rbits_clear(&b, first, n);
				for (uint64_t k = first; k < first + n; k++) {
					set -= bits[k];
					bits[k] = false;
				}
			}
			break;
		case 1:
			ms_rbits_clear(&b, first, n);
			for (uint64_t k = first; k < first + n; k++) {
				set -= bits[k];
				bits[k] = false;
			}
			break;
		default:
			for (uint64_t k = first; k < first + n; k++)
				want += bits[k];
			got = ms_rbits_count(&b, first, n);
			if (got != want && bad++ < 5)
				test_fail(__FILE__, __LINE__,
					  "op %d count [%" PRIu64 "+%" PRIu64 "] = %" PRIu64
					  ", want %" PRIu64,
					  i, first, n, got, want);
			if (ms_rbits_test(&b, first) != bits[first] && bad++ < 5)
				test_fail(__FILE__, __LINE__, "op %d test %" PRIu64, i, first);
			break;
		}
		fulls += b.full > full0 ? b.full - full0 : 0;
		splits += kind == 1 && b.full < full0 && b.mused > mused0;
		/* Updates run on what the reserve made: they never allocate. */
		if ((b.maps != maps || b.mcap != mcap || b.cap != cap) && bad++ < 5)
			test_fail(__FILE__, __LINE__, "op %d allocated (%zu -> %zu bitmaps)", i,
				  mcap, b.mcap);
		if (b.pages != set && bad++ < 5)
			test_fail(__FILE__, __LINE__, "op %d: %" PRIu64 " pages, want %" PRIu64, i,
				  b.pages, set);
		if (i % 997 == 0)
			expect_rbits_sound(&b, "random");
	}
	printf("# %" PRIu64 " chunks filled, %" PRIu64 " clears splitting FULL ones; %zu FULL and "
	       "%zu partial at the end\n",
	       fulls, splits, b.full, b.mused);
	expect_true(fulls > 100 && splits > 100, "FULL <-> partial: %" PRIu64 "/%" PRIu64, fulls,
		    splits);
	expect_rbits_sound(&b, "end");
	/* A copy, then or_from with a shift into an empty map, equal page for page. */
	assert_true(ms_rbits_copy(&copy, &b) == 0, "copy");
	expect_u64_eq(ms_rbits_count(&copy, 0, BPAGES), set, "copy holds every page");
	expect_rbits_sound(&copy, "copy");
	for (uint64_t k = 0; k < BPAGES && bad < 5; k++) {
		if (ms_rbits_test(&copy, k) != bits[k] && bad++ < 5)
			test_fail(__FILE__, __LINE__, "copy: page %" PRIu64 " wrong", k);
	}
	for (int pass = 0; pass < 2; pass++) {
		int64_t shift = pass ? 77 : 3 * CP; /* FULL chunks land split, or whole */

		ms_rbits_clear_all(&copy);
		assert_true(ms_rbits_reserve(&copy, 2 * b.used + 2) == 0, "reserve");
		ms_rbits_or_from(&copy, &b, 1000, 300000, shift);
		expect_rbits_sound(&copy, "or_from");
		for (uint64_t k = 0; k < BPAGES && bad < 5; k++) {
			bool want = (int64_t)k >= 1000 + shift && (int64_t)k < 301000 + shift &&
				    bits[(int64_t)k - shift];

			if (ms_rbits_test(&copy, k) != want && bad++ < 5)
				test_fail(__FILE__, __LINE__,
					  "or_from shift %" PRId64 ": page %" PRIu64 " wrong",
					  shift, k);
		}
	}
	ms_rbits_destroy(&b);
	ms_rbits_destroy(&copy);
	expect_true(bad == 0, "%lu mismatches", bad);
}
TEST_END

/* A chunk filling (no bitmap), a page cleared (a bitmap), filled again, split at both ends. */
TEST_BEGIN(test_rbits_full)
{
	struct ms_rbits b;
	const struct ms_rmap *maps;

	ms_rbits_init(&b);
	assert_true(ms_rbits_reserve(&b, 3) == 0, "reserve");
	ms_rbits_set(&b, CP, 3 * CP);
	expect_true(b.full == 3 && b.mused == 0, "three FULL chunks, no bitmap");
	ms_rbits_clear(&b, CP + 7, 1);
	expect_true(b.full == 2 && b.mused == 1, "a cleared page takes a bitmap");
	expect_u64_eq(ms_rbits_count(&b, 0, 8 * CP), 3 * CP - 1, "count");
	expect_true(!ms_rbits_test(&b, CP + 7) && ms_rbits_test(&b, CP + 8), "test");
	ms_rbits_set(&b, CP, 8);
	expect_true(b.full == 3 && b.mused == 0, "filled again: FULL");
	/* A clear with nothing reserved but the reserve itself: its two ends split. */
	assert_true(ms_rbits_reserve(&b, 0) == 0, "reserve 0");
	maps = b.maps;
	ms_rbits_clear(&b, CP + 100, 2 * CP);
	expect_true(b.maps == maps && b.full == 0 && b.mused == 2 && b.empty == 1,
		    "the ends partial, the middle empty: %zu FULL, %zu bitmaps, %zu empty", b.full,
		    b.mused, b.empty);
	expect_u64_eq(ms_rbits_count(&b, 0, 8 * CP), CP, "what is left");
	ms_rbits_clear(&b, 0, 8 * CP);
	expect_true(b.pages == 0 && b.mused == 0, "all clear");
	expect_rbits_sound(&b, "end");
	ms_rbits_destroy(&b);
}
TEST_END

static void print_memory(const char *what, size_t mem, uint64_t pages)
{
	printf("# residency bitmap: %zu bytes for %s (%.3f bits per page)\n", mem, what,
	       (double)mem * 8 / (double)pages);
}

TEST_BEGIN(test_rbits_memory)
{
	struct ms_rbits b;
	uint64_t gib = (1ull << 30) / PS, sparse = (64ull << 20) / PS;
	size_t mem;

	/* Faulted in a huge page at a time, as the space sees a heap fill. */
	ms_rbits_init(&b);
	for (uint64_t p = 0; p < gib; p += CP) {
		assert_true(ms_rbits_reserve(&b, 1) == 0, "reserve");
		ms_rbits_set(&b, p, CP);
	}
	mem = ms_rbits_memory(&b);
	print_memory("1 GiB resident", mem, gib);
	/* 16-byte slots, table at most 4/3 full plus doubling, no bitmap for a FULL chunk */
	expect_true(mem * 8 <= gib, "%zu bytes for a GiB: over 1 bit a page", mem);
	ms_rbits_destroy(&b);

	/* In one set: its reserve holds a bitmap a chunk until the next reserve. */
	ms_rbits_init(&b);
	assert_true(ms_rbits_reserve(&b, ms_rbits_chunks(0, gib)) == 0, "reserve");
	ms_rbits_set(&b, 0, gib);
	mem = ms_rbits_memory(&b);
	print_memory("1 GiB resident in one set, before the next reserve", mem, gib);
	expect_true(mem * 8 <= gib * 5 / 2, "%zu bytes for a GiB", mem);
	assert_true(ms_rbits_reserve(&b, 1) == 0, "reserve");
	mem = ms_rbits_memory(&b);
	print_memory("1 GiB resident in one set, after it", mem, gib);
	expect_true(mem * 8 <= gib, "%zu bytes for a GiB: over 1 bit a page", mem);
	/* Emptied chunks are dropped by the next reserve. */
	ms_rbits_clear(&b, 0, gib);
	assert_true(ms_rbits_reserve(&b, 1) == 0, "reserve");
	expect_true(ms_rbits_memory(&b) <=
			    16 * sizeof(struct ms_rslot) + 8 * sizeof(struct ms_rmap),
		    "%zu bytes left", ms_rbits_memory(&b));
	ms_rbits_destroy(&b);

	/* Sparse: every other page of 64 MiB, a bitmap per chunk (no target, documented). */
	ms_rbits_init(&b);
	for (uint64_t p = 0; p < sparse; p += 2) {
		assert_true(ms_rbits_reserve(&b, 1) == 0, "reserve");
		ms_rbits_set(&b, p, 1);
	}
	mem = ms_rbits_memory(&b);
	print_memory("every other page of 64 MiB resident", mem, sparse);
	expect_u64_eq(b.mused, sparse / CP, "a bitmap per chunk");
	ms_rbits_destroy(&b);
}
TEST_END

/* ------------------------------------------------------------------ the space */

static struct ms_space *new_space(void)
{
	struct ms_space_opts o = {.page_size = PS, .log_capacity = 1024};

	return ms_space_new(&o);
}

static struct ms_event op(struct ms_space *sp, unsigned o, unsigned src, uint64_t addr,
			  uint64_t len, uint16_t flags)
{
	struct ms_event ev = {.op = (uint8_t)o,
			      .source = (uint8_t)src,
			      .addr = addr,
			      .len = len,
			      .flags = flags,
			      .pid = 1,
			      .tid = 1,
			      .aux = 0};

	ms_space_apply(sp, &ev);
	return ev;
}

static uint64_t resident_in(struct ms_space *sp, uint64_t addr, uint64_t len, uint64_t *lazy)
{
	uint64_t r = 0;

	ms_space_lock(sp);
	ms_space_resident_in_locked(sp, addr, len, &r, lazy);
	ms_space_unlock(sp);
	return r;
}

static void drain(struct ms_space *sp)
{
	struct ms_event evs[64];

	while (ms_space_events_read(sp, evs, 64))
		;
}

/* The case: 64 pages, 40 touched, 8 given back with DONTNEED and 4 with FREE. */
TEST_BEGIN(test_sixty_four_pages)
{
	struct ms_space *sp = new_space();
	struct ms_event ev;
	struct ms_totals t;
	uint64_t lazy;

	op(sp, MS_OP_ALLOC, MS_SRC_SYSCALL, BASE, 64 * PS, 0);
	for (int i = 0; i < 40; i++) {
		ev = op(sp, MS_OP_PAGE_FAULT, MS_SRC_KERNEL, BASE + i * PS + 17, 0, MS_EVF_WRITE);
		expect_int_eq(ev.resident_delta, PS, "first touch adds a page");
	}
	ev = op(sp, MS_OP_PAGE_FAULT, MS_SRC_KERNEL, BASE, 0, MS_EVF_WRITE | MS_EVF_PRESENT);
	expect_int_eq(ev.resident_delta, 0, "a second fault adds nothing");
	ev = op(sp, MS_OP_UNUSED, MS_SRC_SYSCALL, BASE, 8 * PS, 0);
	expect_int_eq(ev.resident_delta, -(int64_t)(8 * PS), "DONTNEED drops 8 pages");
	ev = op(sp, MS_OP_UNUSED, MS_SRC_SYSCALL, BASE + 8 * PS, 4 * PS, MS_EVF_LAZY);
	expect_int_eq(ev.resident_delta, 0, "FREE keeps them resident");
	ms_space_totals(sp, &t);
	expect_u64_eq(t.resident[MS_READY] + t.resident[MS_PREPARED], 32 * PS, "32 resident");
	expect_u64_eq(t.resident[MS_PREPARED], 4 * PS, "the lazy ones are Prepared");
	expect_u64_eq(t.lazy_free, 4 * PS, "4 lazily free");
	expect_u64_eq(t.bytes[MS_READY] - t.resident[MS_READY], 24 * PS, "24 Ready untouched");
	expect_u64_eq(t.peak_resident, 40 * PS, "peak");
	expect_u64_eq(resident_in(sp, BASE, 64 * PS, &lazy), 32 * PS, "range query");
	expect_u64_eq(lazy, 4 * PS, "range query lazy");
	/* Reused after reclaim: the fault makes it plain resident again. */
	op(sp, MS_OP_PAGE_FAULT, MS_SRC_KERNEL, BASE + 8 * PS, 0, MS_EVF_WRITE);
	ms_space_totals(sp, &t);
	expect_u64_eq(t.lazy_free, 3 * PS, "a fault ends lazy freedom");
	expect_valid(sp, "end");
	/* munmap drops everything. */
	ev = op(sp, MS_OP_FREE, MS_SRC_SYSCALL, BASE, 64 * PS, 0);
	expect_int_eq(ev.resident_delta, -(int64_t)(32 * PS), "munmap");
	ms_space_totals(sp, &t);
	expect_u64_eq(t.resident[MS_READY] + t.resident[MS_PREPARED] + t.lazy_free, 0, "none left");
	expect_valid(sp, "after munmap");
	ms_space_free(sp);
}
TEST_END

TEST_BEGIN(test_huge_fault_and_collapse)
{
	struct ms_space *sp = new_space();
	struct ms_event ev;
	struct ms_totals t;

	/* 4 MiB + 2 pages: only the aligned huge pages inside fill. */
	op(sp, MS_OP_ALLOC, MS_SRC_SYSCALL, BASE - PS, 2 * HP + 2 * PS, 0);
	op(sp, MS_OP_PAGE_FAULT, MS_SRC_KERNEL, BASE + 5, 0, MS_EVF_WRITE);
	ev = op(sp, MS_OP_PAGE_FAULT, MS_SRC_KERNEL, BASE + 5, HP, MS_EVF_HUGE);
	expect_u64_eq(ev.addr, BASE, "aligned");
	expect_int_eq(ev.resident_delta, HP - PS, "the rest of the huge page");
	ms_space_totals(sp, &t);
	expect_u64_eq(t.page_faults, 1, "a notice is not a fault");
	expect_u64_eq(t.resident[MS_READY], HP, "2 MiB resident");
	/* A huge-page notice over part None: no huge page could be there, ignored. */
	ev = op(sp, MS_OP_PAGE_FAULT, MS_SRC_KERNEL, BASE - 1, HP, MS_EVF_HUGE);
	expect_int_eq(ev.resident_delta, 0, "not all anonymous memory");
	/* MADV_COLLAPSE returning 0 over an unaligned range: the inner huge page. */
	ev = op(sp, MS_OP_HUGE_PAGE_COLLAPSE, MS_SRC_SYSCALL, BASE + HP - PS, HP + 2 * PS, 0);
	expect_int_eq(ev.resident_delta, HP, "the second huge page");
	/* A khugepaged collapse event. */
	op(sp, MS_OP_UNUSED, MS_SRC_SYSCALL, BASE, HP, 0);
	op(sp, MS_OP_USED, MS_SRC_SYSCALL, BASE, HP, 0);
	ev = op(sp, MS_OP_THP_COLLAPSE, MS_SRC_KERNEL, BASE, HP, 0);
	expect_int_eq(ev.resident_delta, HP, "emptied by DONTNEED, filled again");
	ms_space_totals(sp, &t);
	expect_u64_eq(t.resident[MS_PREPARED] + t.resident[MS_READY], 2 * HP, "total");
	expect_valid(sp, "end");
	ms_space_free(sp);
}
TEST_END

TEST_BEGIN(test_fork_and_exec)
{
	struct ms_space *sp = new_space(), *child;
	struct ms_space_opts o = {.page_size = PS};
	struct ms_totals t;

	op(sp, MS_OP_ALLOC, MS_SRC_SYSCALL, BASE, 16 * PS, 0);
	for (int i = 0; i < 16; i += 2)
		op(sp, MS_OP_PAGE_FAULT, MS_SRC_KERNEL, BASE + i * PS, 0, 0);
	op(sp, MS_OP_UNUSED, MS_SRC_SYSCALL, BASE, 4 * PS, MS_EVF_LAZY);
	child = ms_space_clone(sp, &o);
	assert_true(child != NULL, "clone");
	ms_space_totals(child, &t);
	expect_u64_eq(t.resident[MS_READY] + t.resident[MS_PREPARED], 8 * PS, "child resident");
	expect_u64_eq(t.lazy_free, 2 * PS, "child lazy");
	expect_u64_eq(resident_in(child, BASE + 2 * PS, PS, NULL), PS, "page 2 in the child");
	expect_valid(child, "child");
	ms_space_lock(child);
	ms_space_clear_locked(child);
	ms_space_unlock(child);
	ms_space_totals(child, &t);
	expect_u64_eq(t.resident[MS_READY] + t.lazy_free, 0, "exec forgets");
	expect_valid(child, "exec");
	ms_space_free(child);
	ms_space_free(sp);
}
TEST_END

TEST_BEGIN(test_switched_off)
{
	struct ms_space_opts o = {.page_size = PS, .no_residency = true};
	struct ms_space *sp = ms_space_new(&o);
	struct ms_event ev;
	struct ms_totals t;

	op(sp, MS_OP_ALLOC, MS_SRC_SYSCALL, BASE, 16 * PS, 0);
	ev = op(sp, MS_OP_PAGE_FAULT, MS_SRC_KERNEL, BASE, 0, 0);
	expect_int_eq(ev.resident_delta, 0, "no delta");
	ms_space_totals(sp, &t);
	expect_u64_eq(t.residency, 0, "off");
	expect_u64_eq(t.resident[MS_READY], 0, "nothing counted");
	expect_valid(sp, "end");
	ms_space_free(sp);
}
TEST_END

/* Inferred from syscalls: MADV_FREE, MAP_FIXED over touched pages, an mremap move. */
static int64_t sysrec(struct ms_space *sp, struct ms_infer_state *st, unsigned nr, int64_t ret,
		      uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4)
{
	struct ms_sysrec r = {
		.pid = 1, .tid = 1, .nr = nr, .ret = ret, .args = {a0, a1, a2, a3, a4, 0}};
	struct ms_event evs[16];
	int64_t delta = 0;
	size_t n;

	drain(sp); /* the deltas of this call alone */
	ms_space_lock(sp);
	ms_infer_syscall_locked(sp, st, &r);
	n = ms_space_events_read_locked(sp, evs, 16);
	ms_space_unlock(sp);
	for (size_t i = 0; i < n; i++)
		delta += evs[i].resident_delta;
	return delta;
}

TEST_BEGIN(test_syscalls)
{
	struct ms_space *sp = new_space();
	struct ms_infer_state st = {0};
	const uint64_t rw = PROT_READ | PROT_WRITE, anon = MAP_PRIVATE | MAP_ANONYMOUS;
	const uint64_t to = BASE + 64 * HP;
	uint64_t lazy;
	struct ms_totals t;

	sysrec(sp, &st, SYS_mmap, (int64_t)BASE, 0, 32 * PS, rw, anon, 0);
	for (int i = 0; i < 16; i++)
		op(sp, MS_OP_PAGE_FAULT, MS_SRC_KERNEL, BASE + i * PS, 0, MS_EVF_WRITE);
	expect_int_eq(sysrec(sp, &st, SYS_madvise, 0, BASE, 4 * PS, MADV_FREE, 0, 0), 0,
		      "MADV_FREE keeps pages");
	resident_in(sp, BASE, 32 * PS, &lazy);
	expect_u64_eq(lazy, 4 * PS, "lazily free");
	expect_int_eq(sysrec(sp, &st, SYS_mmap, (int64_t)(BASE + 12 * PS), BASE + 12 * PS, 2 * PS,
			     rw, anon | MAP_FIXED, 0),
		      -(int64_t)(2 * PS), "MAP_FIXED replaces 2 touched pages");
	/* mremap to a fixed new place: the pages move with the mapping. */
	expect_int_eq(sysrec(sp, &st, SYS_mremap, (int64_t)to, BASE, 32 * PS, 32 * PS,
			     MREMAP_MAYMOVE | MREMAP_FIXED, to),
		      0, "a move keeps the resident bytes");
	expect_u64_eq(resident_in(sp, BASE, 32 * PS, NULL), 0, "nothing left at the old place");
	expect_u64_eq(resident_in(sp, to, 32 * PS, &lazy), 14 * PS, "all at the new place");
	expect_u64_eq(lazy, 4 * PS, "lazy ones too");
	expect_u64_eq(resident_in(sp, to + 12 * PS, 2 * PS, NULL), 0, "the replaced ones not");
	ms_space_totals(sp, &t);
	expect_u64_eq(t.resident[MS_READY] + t.resident[MS_PREPARED], 14 * PS, "totals");
	expect_int_eq(sysrec(sp, &st, SYS_munmap, 0, to, 32 * PS, 0, 0, 0), -(int64_t)(14 * PS),
		      "munmap");
	expect_valid(sp, "end");
	ms_space_free(sp);
}
TEST_END

/* ---------------------------------------------------------- differential, page model */

/* A jemalloc hook's event (SPEC section 11); result 1: the dalloc retained the extent. */
static struct ms_event ext(struct ms_space *sp, unsigned o, uint64_t addr, uint64_t len,
			   uint64_t arg, uint16_t flags, int result)
{
	struct ms_event ev = {.op = (uint8_t)o,
			      .source = MS_SRC_JEMALLOC,
			      .addr = addr,
			      .len = len,
			      .arg = arg,
			      .flags = flags,
			      .result = result,
			      .pid = 1,
			      .tid = 1};

	expect_int_eq(ms_space_apply(sp, &ev), 0, ms_op_name(o));
	return ev;
}

static void expect_res(struct ms_space *sp, uint64_t ready, uint64_t prepared, uint64_t lazy,
		       const char *when)
{
	struct ms_totals t;

	ms_space_totals(sp, &t);
	expect_true(t.resident[MS_READY] == ready && t.resident[MS_PREPARED] == prepared &&
			    t.lazy_free == lazy,
		    "%s: resident Ready %" PRIu64 " Prepared %" PRIu64 " lazy %" PRIu64
		    ", want %" PRIu64 "/%" PRIu64 "/%" PRIu64,
		    when, t.resident[MS_READY], t.resident[MS_PREPARED], t.lazy_free, ready,
		    prepared, lazy);
	expect_valid(sp, when);
}

/*
 * jemalloc's extent hooks change residency as the madvise calls behind them (SPEC 8, 11):
 * purge_lazy is MADV_FREE (resident still, lazily free), purge_forced MADV_DONTNEED and a
 * successful decommit leave the pages not resident, dalloc returning the extent and destroy
 * clear them; a retained dalloc and a split change nothing.
 */
TEST_BEGIN(test_extent_hooks)
{
	struct ms_space *sp = new_space();
	struct ms_event ev;
	uint64_t lazy;

	ext(sp, MS_OP_EXT_ALLOC, BASE, 64 * PS, 0, MS_EVF_COMMITTED, 0);
	for (int i = 0; i < 40; i++)
		op(sp, MS_OP_PAGE_FAULT, MS_SRC_KERNEL, BASE + i * PS, 0, MS_EVF_WRITE);
	expect_res(sp, 40 * PS, 0, 0, "40 touched");
	ev = ext(sp, MS_OP_EXT_PURGE_LAZY, BASE, 16 * PS, BASE, 0, 0);
	expect_int_eq(ev.resident_delta, 0, "purge_lazy keeps the pages resident");
	expect_res(sp, 24 * PS, 16 * PS, 16 * PS, "purge_lazy");
	expect_u64_eq(resident_in(sp, BASE, 16 * PS, &lazy), 16 * PS, "purged range resident");
	expect_u64_eq(lazy, 16 * PS, "purged range lazily free");
	/* jemalloc reuses a purged page by writing it: resident, no longer lazily free */
	ev = op(sp, MS_OP_PAGE_FAULT, MS_SRC_KERNEL, BASE, 0, MS_EVF_WRITE);
	expect_int_eq(ev.resident_delta, 0, "reuse of a lazily free page");
	expect_res(sp, 25 * PS, 15 * PS, 15 * PS, "reused");
	/* purge_forced over lazily free and Ready pages: none resident */
	ev = ext(sp, MS_OP_EXT_PURGE_FORCED, BASE + 8 * PS, 16 * PS, BASE, 0, 0);
	expect_int_eq(ev.resident_delta, -(int64_t)(16 * PS), "purge_forced drops 16 pages");
	expect_res(sp, 17 * PS, 7 * PS, 7 * PS, "purge_forced");
	expect_u64_eq(resident_in(sp, BASE + 8 * PS, 16 * PS, &lazy), 0, "forced: not resident");
	expect_u64_eq(lazy, 0, "forced: not lazily free");
	ev = ext(sp, MS_OP_EXT_DECOMMIT, BASE + 24 * PS, 8 * PS, BASE, 0, 0);
	expect_int_eq(ev.resident_delta, -(int64_t)(8 * PS), "decommit drops 8 pages");
	expect_res(sp, 9 * PS, 7 * PS, 7 * PS, "decommit");
	ev = ext(sp, MS_OP_EXT_COMMIT, BASE + 24 * PS, 8 * PS, BASE, 0, 0);
	expect_int_eq(ev.resident_delta, 0, "commit: Ready, not resident until touched");
	expect_u64_eq(resident_in(sp, BASE + 24 * PS, 8 * PS, NULL), 0, "recommitted");
	/* a split and a retained dalloc change nothing */
	ev = ext(sp, MS_OP_EXT_SPLIT, BASE, 64 * PS, 32 * PS, MS_EVF_COMMITTED, 0);
	expect_int_eq(ev.resident_delta, 0, "split");
	ev = ext(sp, MS_OP_EXT_DALLOC, BASE + 32 * PS, 32 * PS, 0, 0, 1);
	expect_int_eq(ev.resident_delta, 0, "retained");
	expect_res(sp, 9 * PS, 7 * PS, 7 * PS, "retained");
	ev = ext(sp, MS_OP_EXT_DALLOC, BASE + 32 * PS, 32 * PS, 0, 0, 0);
	expect_int_eq(ev.resident_delta, -(int64_t)(8 * PS), "dalloc returns pages 32..39");
	expect_res(sp, PS, 7 * PS, 7 * PS, "dalloc");
	ev = ext(sp, MS_OP_EXT_DESTROY, BASE, 32 * PS, 0, 0, 0);
	expect_int_eq(ev.resident_delta, -(int64_t)(8 * PS), "destroy");
	expect_res(sp, 0, 0, 0, "destroy");
	/* a new extent at the same place starts with nothing resident */
	ext(sp, MS_OP_EXT_ALLOC, BASE, 64 * PS, 0, MS_EVF_COMMITTED, 0);
	expect_res(sp, 0, 0, 0, "new extent");
	expect_u64_eq(resident_in(sp, BASE, 64 * PS, NULL), 0, "nothing resident");
	ms_space_free(sp);
}
TEST_END

#define NPAGES 2048 /* 8 MiB: four huge pages */

static struct page model[NPAGES];
static uint8_t mres[NPAGES], mlazy[NPAGES];

static bool model_holds(const struct page *p)
{
	return !p->file && (p->state == MS_PREPARED || p->state == MS_READY);
}

static int64_t model_resident(void)
{
	int64_t n = 0;

	for (int k = 0; k < NPAGES; k++)
		n += mres[k] ? (int64_t)PS : 0;
	return n;
}

/* Residency as SPEC section 8 says, page by page, after the states changed. */
static void model_residency(const struct ms_event *ev, uint64_t p0, uint64_t np)
{
	if (ev->result)
		return;
	for (uint64_t k = p0; k < p0 + np; k++) {
		switch (ev->op) {
		case MS_OP_UNUSED:
			if (ev->flags & MS_EVF_LAZY)
				mlazy[k] = mres[k];
			else
				mres[k] = mlazy[k] = 0;
			break;
		case MS_OP_PAGE_FAULT:
		case MS_OP_THP_COLLAPSE:
		case MS_OP_HUGE_PAGE_COLLAPSE:
			if (model_holds(&model[k])) {
				mres[k] = 1;
				mlazy[k] = 0;
			}
			break;
		case MS_OP_USED:
		case MS_OP_HUGE_PAGE:
		case MS_OP_NO_HUGE_PAGE:
			break;
		default:
			mres[k] = mlazy[k] = 0;
			break;
		}
	}
}

TEST_BEGIN(test_differential_residency)
{
	struct ms_space *sp = new_space();
	uint64_t seed = 0xfeedbeef, lazy;
	unsigned long ops = 300000, bad = 0;
	struct ms_totals t;

	memset(model, 0, sizeof(model));
	memset(mres, 0, sizeof(mres));
	memset(mlazy, 0, sizeof(mlazy));
	for (unsigned long i = 0; i < ops; i++) {
		uint64_t r = test_rand(&seed), p0 = (r >> 8) % NPAGES, np;
		unsigned o = (unsigned)(r % MS_OP_PROC_FORK);
		struct ms_event ev = {.pid = 1, .tid = 1};
		int64_t before = model_resident();
		bool huge = false;

		/* Faults are what fills memory: make them a third of the operations. */
		if ((r >> 60) % 3 == 0)
			o = MS_OP_PAGE_FAULT;
		np = 1 + ((r >> 24) % 4 ? (r >> 32) % 8 : (r >> 32) % 600);
		if (p0 + np > NPAGES)
			np = NPAGES - p0;
		ev.op = (uint8_t)o;
		ev.source = (r >> 40) % 3 ? MS_SRC_API : MS_SRC_SYSCALL;
		ev.result = (r >> 48) % 50 == 0 ? ENOMEM : 0;
		ev.addr = BASE + p0 * PS;
		ev.len = np * PS;
		if (o == MS_OP_UNUSED && (r >> 52) % 2)
			ev.flags = MS_EVF_LAZY;
		if (o == MS_OP_USED) {
			uint64_t prep = 0;

			for (uint64_t k = p0; k < p0 + np; k++)
				prep += model[k].state == MS_PREPARED && !model[k].file ? PS : 0;
			ev.arg = prep;
		}
		if (o == MS_OP_PAGE_FAULT) {
			ev.source = MS_SRC_KERNEL;
			ev.result = 0;
			ev.addr = BASE + p0 * PS + (r >> 50) % PS;
			huge = (r >> 53) % 16 == 0;
			if (huge) { /* a huge-page notice: after the fault, the whole 2 MiB */
				ev.flags = MS_EVF_HUGE;
				ev.len = HP;
				p0 = p0 / 512 * 512;
				np = 512;
			} else {
				np = 1;
			}
		}
		if (o == MS_OP_THP_COLLAPSE) {
			ev.source = MS_SRC_KERNEL;
			p0 = p0 / 512 * 512;
			np = 512;
			ev.addr = BASE + p0 * PS;
			ev.len = HP;
		}
		if (o == MS_OP_HUGE_PAGE_COLLAPSE && ev.source == MS_SRC_SYSCALL) {
			/* the kernel collapses the aligned huge pages inside */
			uint64_t a = (p0 + 511) / 512 * 512, z = (p0 + np) / 512 * 512;

			ms_space_apply(sp, &ev);
			page_model_apply(model, &ev, p0, np);
			if (z > a)
				model_residency(&ev, a, z - a);
			goto compare;
		}
		ms_space_apply(sp, &ev);
		if (o == MS_OP_PAGE_FAULT && !huge) {
			struct page *p = &model[p0];

			if (p->state == MS_PREPARED && p->inferred && !p->file) {
				p->state = MS_READY;
				p->inferred = 0;
			}
		} else if (o != MS_OP_PAGE_FAULT) {
			page_model_apply(model, &ev, p0, np);
		}
		if (huge) {
			bool all = true;

			for (uint64_t k = p0; k < p0 + np; k++)
				all &= model_holds(&model[k]);
			if (all)
				model_residency(&ev, p0, np);
		} else if (o != MS_OP_HUGE_PAGE_COLLAPSE) {
			model_residency(&ev, p0, np);
		}
	compare:
		if (ev.resident_delta != model_resident() - before && bad++ < 5)
			test_fail(__FILE__, __LINE__,
				  "op %lu %s [%" PRIu64 "+%" PRIu64 "]: delta %" PRId64
				  " want %" PRId64,
				  i, ms_op_name(o), p0, np, ev.resident_delta,
				  model_resident() - before);
		if (i % 997 == 0 || i == ops - 1) {
			uint64_t res[MS_STATE_COUNT] = {0}, lz = 0;

			for (uint64_t k = 0; k < NPAGES; k++) {
				uint64_t got = resident_in(sp, BASE + k * PS, PS, &lazy);

				if ((got != (mres[k] ? PS : 0) || lazy != (mlazy[k] ? PS : 0)) &&
				    bad++ < 5)
					test_fail(__FILE__, __LINE__,
						  "after op %lu: page %" PRIu64 " resident %" PRIu64
						  " lazy %" PRIu64 ", want %u/%u",
						  i, k, got, lazy, mres[k], mlazy[k]);
				if (mres[k])
					res[model[k].state] += PS;
				lz += mlazy[k] ? PS : 0;
			}
			ms_space_totals(sp, &t);
			if ((t.resident[MS_READY] != res[MS_READY] ||
			     t.resident[MS_PREPARED] != res[MS_PREPARED] || t.lazy_free != lz) &&
			    bad++ < 5)
				test_fail(__FILE__, __LINE__, "after op %lu: totals differ", i);
		}
		if (i % 20011 == 0)
			expect_valid(sp, "periodic");
		drain(sp);
	}
	expect_valid(sp, "end");
	ms_space_totals(sp, &t);
	printf("# %" PRIu64 " resident bytes at the end, peak %" PRIu64 "\n",
	       t.resident[MS_READY] + t.resident[MS_PREPARED], t.peak_resident);
	expect_true(bad == 0, "%lu mismatches", bad);
	ms_space_free(sp);
}
TEST_END

int main(void)
{
	return test_run(test_rbits_random, test_rbits_full, test_rbits_memory,
			test_sixty_four_pages, test_huge_fault_and_collapse, test_fork_and_exec,
			test_switched_off, test_syscalls, test_extent_hooks,
			test_differential_residency, NULL);
}
