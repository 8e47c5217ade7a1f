// SPDX-License-Identifier: MIT
/*
 * The sparse page bitmap behind residency (resident.h).
 *
 * Chunks live in an open-addressed table with linear probing. Nothing is deleted in place:
 * a chunk whose last bit is cleared keeps its slot (counted in `empty`), so that updates
 * never move slots under a scan and never fail; ms_rbits_reserve(), the one step that may
 * allocate, rebuilds the table without them when they make up half of it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resident.h"

#define CHUNK_SHIFT 9 /* log2(MS_RBITS_CHUNK_PAGES) */
#define MIN_CAP	    16

void ms_rbits_init(struct ms_rbits *b)
{
	memset(b, 0, sizeof(*b));
}

void ms_rbits_destroy(struct ms_rbits *b)
{
	free(b->slots);
	ms_rbits_init(b);
}

static size_t slot_of(uint64_t key, size_t cap)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 17) & (cap - 1);
}

static bool chunk_empty(const struct ms_rchunk *c)
{
	uint64_t any = 0;

	for (int i = 0; i < MS_RBITS_WORDS; i++)
		any |= c->bits[i];
	return !any;
}

static struct ms_rchunk *find(const struct ms_rbits *b, uint64_t key)
{
	size_t i;

	if (!b->cap)
		return NULL;
	for (i = slot_of(key, b->cap);; i = (i + 1) & (b->cap - 1)) {
		if (b->slots[i].key == key)
			return &b->slots[i];
		if (!b->slots[i].key)
			return NULL;
	}
}

/* The chunk for key, made (empty) when missing: the caller reserved room for it. */
static struct ms_rchunk *get(struct ms_rbits *b, uint64_t key)
{
	size_t i;

	for (i = slot_of(key, b->cap);; i = (i + 1) & (b->cap - 1)) {
		if (b->slots[i].key == key)
			return &b->slots[i];
		if (!b->slots[i].key)
			break;
	}
	b->slots[i].key = key;
	memset(b->slots[i].bits, 0, sizeof(b->slots[i].bits));
	b->used++;
	b->empty++;
	return &b->slots[i];
}

/* Rebuild into a table of cap slots, leaving emptied chunks out. */
static int rehash(struct ms_rbits *b, size_t cap)
{
	struct ms_rchunk *old = b->slots, *s;
	size_t ocap = b->cap;

	s = calloc(cap, sizeof(*s));
	if (!s)
		return -ENOMEM;
	b->slots = s;
	b->cap = cap;
	b->used = 0;
	b->empty = 0;
	for (size_t i = 0; i < ocap; i++) {
		if (!old[i].key || chunk_empty(&old[i]))
			continue;
		size_t j = slot_of(old[i].key, cap);

		while (s[j].key)
			j = (j + 1) & (cap - 1);
		s[j] = old[i];
		b->used++;
	}
	free(old);
	return 0;
}

int ms_rbits_reserve(struct ms_rbits *b, size_t n)
{
	size_t live = b->used - b->empty, cap = b->cap ? b->cap : MIN_CAP;

	if (n > SIZE_MAX / sizeof(struct ms_rchunk) / 4)
		return -ENOMEM;
	if (b->cap && b->used + n <= b->cap / 4 * 3 && b->empty <= b->cap / 4)
		return 0;
	while (live + n > cap / 4 * 3)
		cap *= 2;
	/* Shrink back when most of a big table emptied. */
	while (cap > MIN_CAP && (live + n) * 4 < cap / 4)
		cap /= 2;
	return rehash(b, cap);
}

size_t ms_rbits_chunks(uint64_t first, uint64_t n)
{
	if (!n)
		return 0;
	return (size_t)(((first + n - 1) >> CHUNK_SHIFT) - (first >> CHUNK_SHIFT) + 1);
}

/* The bits of word w covering chunk pages [lo, hi). */
static uint64_t word_mask(unsigned w, unsigned lo, unsigned hi)
{
	unsigned a = w * 64, z = a + 64;

	if (lo > a)
		a = lo;
	if (hi < z)
		z = hi;
	if (a >= z)
		return 0;
	return (z - a == 64 ? ~0ull : ((1ull << (z - a)) - 1)) << (a - w * 64);
}

/* How one chunk's bits change: set (true) or clear the pages [lo, hi) of it. */
static void chunk_update(struct ms_rbits *b, struct ms_rchunk *c, unsigned lo, unsigned hi,
			 bool set)
{
	bool was_empty = chunk_empty(c);

	for (unsigned w = lo / 64; w < MS_RBITS_WORDS && w * 64 < hi; w++) {
		uint64_t m = word_mask(w, lo, hi), before = c->bits[w];

		c->bits[w] = set ? before | m : before & ~m;
		b->pages += (uint64_t)__builtin_popcountll(c->bits[w]);
		b->pages -= (uint64_t)__builtin_popcountll(before);
	}
	if (was_empty != chunk_empty(c)) {
		if (was_empty)
			b->empty--;
		else
			b->empty++;
	}
}

static uint64_t chunk_count(const struct ms_rchunk *c, unsigned lo, unsigned hi)
{
	uint64_t n = 0;

	for (unsigned w = lo / 64; w < MS_RBITS_WORDS && w * 64 < hi; w++)
		n += (uint64_t)__builtin_popcountll(c->bits[w] & word_mask(w, lo, hi));
	return n;
}

/* Chunk page range [lo, hi) of chunk number k within pages [first, end). */
static void clip(uint64_t k, uint64_t first, uint64_t end, unsigned *lo, unsigned *hi)
{
	uint64_t base = k << CHUNK_SHIFT;

	*lo = first > base ? (unsigned)(first - base) : 0;
	*hi = end < base + MS_RBITS_CHUNK_PAGES ? (unsigned)(end - base) : MS_RBITS_CHUNK_PAGES;
}

/*
 * Call fn for each existing chunk meeting pages [first, first + n), with the chunk's
 * page range [lo, hi) inside it: by lookup per chunk number when the range spans fewer
 * chunks than the table has slots, else by one scan of the table.
 */
typedef void (*visit_fn)(struct ms_rchunk *c, uint64_t k, unsigned lo, unsigned hi, void *ctx);

static void visit(const struct ms_rbits *b, uint64_t first, uint64_t n, visit_fn fn, void *ctx)
{
	uint64_t a = first >> CHUNK_SHIFT, z, end = first + n, k;
	struct ms_rchunk *c;
	unsigned lo, hi;

	if (!n || !b->cap || !b->pages)
		return;
	z = (end - 1) >> CHUNK_SHIFT;
	if (z - a < b->cap) {
		for (k = a; k <= z; k++) {
			if ((c = find(b, k + 1))) {
				clip(k, first, end, &lo, &hi);
				fn(c, k, lo, hi, ctx);
			}
		}
		return;
	}
	for (size_t i = 0; i < b->cap; i++) {
		c = &b->slots[i];
		k = c->key - 1;
		if (c->key && k >= a && k <= z) {
			clip(k, first, end, &lo, &hi);
			fn(c, k, lo, hi, ctx);
		}
	}
}

void ms_rbits_set(struct ms_rbits *b, uint64_t first, uint64_t n)
{
	uint64_t end = first + n;
	unsigned lo, hi;

	if (!n)
		return;
	for (uint64_t k = first >> CHUNK_SHIFT; k <= (end - 1) >> CHUNK_SHIFT; k++) {
		clip(k, first, end, &lo, &hi);
		chunk_update(b, get(b, k + 1), lo, hi, true);
	}
}

static void clear_fn(struct ms_rchunk *c, uint64_t k, unsigned lo, unsigned hi, void *ctx)
{
	chunk_update(ctx, c, lo, hi, false);
}

void ms_rbits_clear(struct ms_rbits *b, uint64_t first, uint64_t n)
{
	visit(b, first, n, clear_fn, b);
}

static void count_fn(struct ms_rchunk *c, uint64_t k, unsigned lo, unsigned hi, void *ctx)
{
	*(uint64_t *)ctx += chunk_count(c, lo, hi);
}

uint64_t ms_rbits_count(const struct ms_rbits *b, uint64_t first, uint64_t n)
{
	uint64_t total = 0;

	visit(b, first, n, count_fn, &total);
	return total;
}

bool ms_rbits_test(const struct ms_rbits *b, uint64_t page)
{
	const struct ms_rchunk *c = find(b, (page >> CHUNK_SHIFT) + 1);
	unsigned i = (unsigned)(page & (MS_RBITS_CHUNK_PAGES - 1));

	return c && ((c->bits[i / 64] >> (i % 64)) & 1);
}

struct or_ctx {
	struct ms_rbits *dst;
	int64_t shift;
};

static void or_fn(struct ms_rchunk *c, uint64_t k, unsigned lo, unsigned hi, void *ctx)
{
	struct or_ctx *o = ctx;

	for (unsigned w = lo / 64; w < MS_RBITS_WORDS && w * 64 < hi; w++) {
		uint64_t m = c->bits[w] & word_mask(w, lo, hi);

		/* Runs of set bits, each one range update in dst. */
		while (m) {
			unsigned s = (unsigned)__builtin_ctzll(m), e = s;
			uint64_t page = (k << CHUNK_SHIFT) + w * 64 + s;

			while (e < 64 && ((m >> e) & 1))
				e++;
			ms_rbits_set(o->dst, (uint64_t)((int64_t)page + o->shift), e - s);
			m &= e == 64 ? 0 : ~0ull << e;
		}
	}
}

void ms_rbits_or_from(struct ms_rbits *dst, const struct ms_rbits *src, uint64_t first, uint64_t n,
		      int64_t shift)
{
	struct or_ctx o = {.dst = dst, .shift = shift};

	visit(src, first, n, or_fn, &o);
}

int ms_rbits_copy(struct ms_rbits *dst, const struct ms_rbits *src)
{
	struct ms_rchunk *s = NULL;

	if (src->cap) {
		s = malloc(src->cap * sizeof(*s));
		if (!s)
			return -ENOMEM;
		memcpy(s, src->slots, src->cap * sizeof(*s));
	}
	free(dst->slots);
	*dst = *src;
	dst->slots = s;
	return 0;
}

void ms_rbits_clear_all(struct ms_rbits *b)
{
	if (b->cap)
		memset(b->slots, 0, b->cap * sizeof(*b->slots));
	b->used = b->empty = 0;
	b->pages = 0;
}

size_t ms_rbits_memory(const struct ms_rbits *b)
{
	return b->cap * sizeof(struct ms_rchunk);
}
