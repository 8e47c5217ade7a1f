// SPDX-License-Identifier: MIT
/*
 * The sparse page bitmap behind residency (resident.h).
 *
 * Chunks live in an open-addressed table with linear probing. Nothing is deleted in place:
 * a chunk whose last bit is cleared keeps its slot (counted in `empty`), so that updates
 * never move slots under a scan and never fail; ms_rbits_reserve(), the one step that may
 * allocate, rebuilds the table without them when they make up a quarter of it.
 *
 * A slot's map is 0 (no page set), FULL (every page) or a bitmap of the pool. A chunk
 * takes a bitmap when it becomes partly set (a set on an empty chunk, a clear on a FULL
 * one) and gives it back when it fills or empties; the pool is one array indexed from the
 * slots, so growing it (realloc) and compacting it move no slot.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "resident.h"

#define CHUNK_SHIFT 9 /* log2(MS_RBITS_CHUNK_PAGES) */
#define MIN_CAP	    16
#define MIN_MAPS    4

void ms_rbits_init(struct ms_rbits *b)
{
	memset(b, 0, sizeof(*b));
}

void ms_rbits_destroy(struct ms_rbits *b)
{
	free(b->slots);
	free(b->maps);
	ms_rbits_init(b);
}

static size_t slot_of(uint64_t key, size_t cap)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 17) & (cap - 1);
}

static bool partial(const struct ms_rslot *s)
{
	return s->map && s->map != MS_RBITS_FULL;
}

static uint64_t *bits_of(const struct ms_rbits *b, const struct ms_rslot *s)
{
	return b->maps[s->map - 1].bits;
}

/* ------------------------------------------------------------------ the bitmap pool */

static int maps_resize(struct ms_rbits *b, size_t cap)
{
	struct ms_rmap *m = realloc(b->maps, cap * sizeof(*m));

	if (!m)
		return -ENOMEM;
	b->maps = m;
	b->mcap = cap;
	return 0;
}

/*
 * A bitmap for a chunk becoming partly set, filled with ones or zeros; SIZE_MAX when the
 * caller reserved none (a broken contract): then the pool grows here, as a last resort.
 */
static size_t map_take(struct ms_rbits *b, bool ones)
{
	size_t i;

	if (b->mlist) {
		i = b->mlist - 1;
		b->mlist = (size_t)b->maps[i].bits[0];
	} else {
		if (b->mnext == b->mcap &&
		    maps_resize(b, b->mcap + b->mcap / 2 > MIN_MAPS ? b->mcap + b->mcap / 2
								    : MIN_MAPS))
			return SIZE_MAX;
		i = b->mnext++;
	}
	memset(b->maps[i].bits, ones ? 0xff : 0, sizeof(b->maps[i].bits));
	b->mused++;
	return i;
}

static void map_give(struct ms_rbits *b, struct ms_rslot *s)
{
	size_t i = (size_t)s->map - 1;

	b->maps[i].bits[0] = b->mlist;
	b->mlist = i + 1;
	b->mused--;
}

/* Copy the bitmaps in use to the front of a pool of cap (>= mused). 0 or -ENOMEM. */
static int maps_compact(struct ms_rbits *b, size_t cap)
{
	struct ms_rmap *m = malloc(cap * sizeof(*m));
	size_t j = 0;

	if (!m)
		return -ENOMEM;
	for (size_t i = 0; i < b->cap; i++) {
		struct ms_rslot *s = &b->slots[i];

		if (s->key && partial(s)) {
			m[j] = b->maps[s->map - 1];
			s->map = ++j;
		}
	}
	free(b->maps);
	b->maps = m;
	b->mcap = cap;
	b->mnext = j;
	b->mlist = 0;
	return 0;
}

/*
 * Spare bitmaps for the updates a reserve of n covers: one per chunk they touch, two for
 * the ends of a clear of part of a FULL chunk. A pool more than twice as big as that is
 * given back (the bitmaps that a reserve of a long range needed no more).
 */
static int maps_reserve(struct ms_rbits *b, size_t n)
{
	size_t want = b->mused + (n || b->full ? n + 2 : 0), cap;

	if (want > b->mcap) {
		cap = b->mcap + b->mcap / 2;
		if (cap < want)
			cap = want;
		if (cap < MIN_MAPS)
			cap = MIN_MAPS;
		return maps_resize(b, cap);
	}
	if (b->mcap > 2 * want + 16) {
		cap = want + want / 2 > MIN_MAPS ? want + want / 2 : MIN_MAPS;
		if (!b->mused) {
			b->mnext = b->mlist = 0;
			if (!want) { /* nothing left to hold: no pool at all */
				free(b->maps);
				b->maps = NULL;
				b->mcap = 0;
				return 0;
			}
			(void)maps_resize(b, cap); /* failing, it keeps the bigger pool: fine */
			return 0;
		}
		(void)maps_compact(b, cap); /* failing, it keeps the bigger pool: fine */
	}
	return 0;
}

/* ------------------------------------------------------------------ the table */

static struct ms_rslot *find(const struct ms_rbits *b, uint64_t key)
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
static struct ms_rslot *get(struct ms_rbits *b, uint64_t key)
{
	size_t i;

	for (i = slot_of(key, b->cap);; i = (i + 1) & (b->cap - 1)) {
		if (b->slots[i].key == key)
			return &b->slots[i];
		if (!b->slots[i].key)
			break;
	}
	b->slots[i].key = key;
	b->slots[i].map = 0;
	b->used++;
	b->empty++;
	return &b->slots[i];
}

/* Rebuild into a table of cap slots, leaving emptied chunks out. */
static int rehash(struct ms_rbits *b, size_t cap)
{
	struct ms_rslot *old = b->slots, *s;
	size_t ocap = b->cap;

	s = calloc(cap, sizeof(*s));
	if (!s)
		return -ENOMEM;
	b->slots = s;
	b->cap = cap;
	b->used = 0;
	b->empty = 0;
	for (size_t i = 0; i < ocap; i++) {
		if (!old[i].key || !old[i].map)
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

static int slots_reserve(struct ms_rbits *b, size_t n)
{
	size_t live = b->used - b->empty, cap = b->cap ? b->cap : MIN_CAP;

	if (!b->cap && !n)
		return 0;
	if (b->cap && b->used + n <= b->cap / 4 * 3 && b->empty <= b->cap / 4)
		return 0;
	while (live + n > cap / 4 * 3)
		cap *= 2;
	/* Shrink back when most of a big table emptied. */
	while (cap > MIN_CAP && (live + n) * 4 < cap / 4)
		cap /= 2;
	return rehash(b, cap);
}

int ms_rbits_reserve(struct ms_rbits *b, size_t n)
{
	int err;

	if (n > SIZE_MAX / sizeof(struct ms_rmap) / 4)
		return -ENOMEM;
	err = slots_reserve(b, n);
	return err ? err : maps_reserve(b, n);
}

size_t ms_rbits_chunks(uint64_t first, uint64_t n)
{
	if (!n)
		return 0;
	return (size_t)(((first + n - 1) >> CHUNK_SHIFT) - (first >> CHUNK_SHIFT) + 1);
}

/* ------------------------------------------------------------------ chunk updates */

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

static uint64_t chunk_count(const struct ms_rbits *b, const struct ms_rslot *s, unsigned lo,
			    unsigned hi)
{
	const uint64_t *bits;
	uint64_t n = 0;

	if (!s->map)
		return 0;
	if (s->map == MS_RBITS_FULL)
		return hi - lo;
	bits = bits_of(b, s);
	for (unsigned w = lo / 64; w < MS_RBITS_WORDS && w * 64 < hi; w++)
		n += (uint64_t)ms_popcount64(bits[w] & word_mask(w, lo, hi));
	return n;
}

/* Make the chunk empty (map 0) or FULL, giving its bitmap back. */
static void chunk_whole(struct ms_rbits *b, struct ms_rslot *s, bool set)
{
	uint64_t had = chunk_count(b, s, 0, MS_RBITS_CHUNK_PAGES);

	if (partial(s))
		map_give(b, s);
	else if (s->map)
		b->full--;
	else
		b->empty--;
	s->map = set ? MS_RBITS_FULL : 0;
	if (set) {
		b->full++;
		b->pages += MS_RBITS_CHUNK_PAGES - had;
	} else {
		b->empty++;
		b->pages -= had;
	}
}

/* How one chunk's bits change: set (true) or clear the pages [lo, hi) of it. */
static void chunk_update(struct ms_rbits *b, struct ms_rslot *s, unsigned lo, unsigned hi, bool set)
{
	uint64_t *bits, all = ~0ull, any = 0;
	size_t i;

	if (s->map == (set ? MS_RBITS_FULL : 0))
		return; /* nothing changes */
	if (lo == 0 && hi == MS_RBITS_CHUNK_PAGES) {
		chunk_whole(b, s, set);
		return;
	}
	if (!partial(s)) { /* set in an empty chunk, clear in a FULL one: a bitmap */
		i = map_take(b, !set);
		if (i == SIZE_MAX)
			return; /* no memory and none reserved: the update is lost */
		if (set)
			b->empty--;
		else
			b->full--;
		s->map = i + 1;
	}
	bits = bits_of(b, s);
	for (unsigned w = lo / 64; w < MS_RBITS_WORDS && w * 64 < hi; w++) {
		uint64_t m = word_mask(w, lo, hi), before = bits[w];

		bits[w] = set ? before | m : before & ~m;
		b->pages += (uint64_t)ms_popcount64(bits[w]);
		b->pages -= (uint64_t)ms_popcount64(before);
	}
	for (unsigned w = 0; w < MS_RBITS_WORDS; w++) {
		all &= bits[w];
		any |= bits[w];
	}
	if (all == ~0ull || !any) { /* filled or emptied: no bitmap any more */
		map_give(b, s);
		s->map = any ? MS_RBITS_FULL : 0;
		if (any)
			b->full++;
		else
			b->empty++;
	}
}

/* Chunk page range [lo, hi) of chunk number k within pages [first, end). */
static void clip(uint64_t k, uint64_t first, uint64_t end, unsigned *lo, unsigned *hi)
{
	uint64_t base = k << CHUNK_SHIFT;

	*lo = first > base ? (unsigned)(first - base) : 0;
	*hi = end < base + MS_RBITS_CHUNK_PAGES ? (unsigned)(end - base) : MS_RBITS_CHUNK_PAGES;
}

/* ------------------------------------------------------------------ range operations */

/*
 * Call fn for each existing chunk meeting pages [first, first + n), with the chunk's
 * page range [lo, hi) inside it: by lookup per chunk number when the range spans fewer
 * chunks than the table has slots, else by one scan of the table.
 */
typedef void (*visit_fn)(struct ms_rslot *s, uint64_t k, unsigned lo, unsigned hi, void *ctx);

static void visit(const struct ms_rbits *b, uint64_t first, uint64_t n, visit_fn fn, void *ctx)
{
	uint64_t a = first >> CHUNK_SHIFT, z, end = first + n, k;
	struct ms_rslot *s;
	unsigned lo, hi;

	if (!n || !b->cap || !b->pages)
		return;
	z = (end - 1) >> CHUNK_SHIFT;
	if (z - a < b->cap) {
		for (k = a; k <= z; k++) {
			if ((s = find(b, k + 1))) {
				clip(k, first, end, &lo, &hi);
				fn(s, k, lo, hi, ctx);
			}
		}
		return;
	}
	for (size_t i = 0; i < b->cap; i++) {
		s = &b->slots[i];
		k = s->key - 1;
		if (s->key && k >= a && k <= z) {
			clip(k, first, end, &lo, &hi);
			fn(s, k, lo, hi, ctx);
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

static void clear_fn(struct ms_rslot *s, uint64_t k, unsigned lo, unsigned hi, void *ctx)
{
	chunk_update(ctx, s, lo, hi, false);
}

void ms_rbits_clear(struct ms_rbits *b, uint64_t first, uint64_t n)
{
	visit(b, first, n, clear_fn, b);
}

struct count_ctx {
	const struct ms_rbits *b;
	uint64_t total;
};

static void count_fn(struct ms_rslot *s, uint64_t k, unsigned lo, unsigned hi, void *ctx)
{
	struct count_ctx *c = ctx;

	c->total += chunk_count(c->b, s, lo, hi);
}

uint64_t ms_rbits_count(const struct ms_rbits *b, uint64_t first, uint64_t n)
{
	struct count_ctx c = {.b = b};

	visit(b, first, n, count_fn, &c);
	return c.total;
}

bool ms_rbits_test(const struct ms_rbits *b, uint64_t page)
{
	const struct ms_rslot *s = find(b, (page >> CHUNK_SHIFT) + 1);
	unsigned i = (unsigned)(page & (MS_RBITS_CHUNK_PAGES - 1));

	if (!s || !s->map)
		return false;
	return s->map == MS_RBITS_FULL || ((bits_of(b, s)[i / 64] >> (i % 64)) & 1);
}

/* The first page p >= from, p < hi, of a bitmap whose bit is set (or clear); hi if none. */
static unsigned next_page(const uint64_t *bits, unsigned from, unsigned hi, bool set)
{
	for (unsigned w = from / 64; w < MS_RBITS_WORDS && w * 64 < hi; w++) {
		uint64_t m = (set ? bits[w] : ~bits[w]) & word_mask(w, from, hi);

		if (m)
			return w * 64 + (unsigned)__builtin_ctzll(m);
	}
	return hi;
}

struct or_ctx {
	const struct ms_rbits *src;
	struct ms_rbits *dst;
	int64_t shift;
};

/* Each run of set pages one range update in dst (a FULL chunk one run). */
static void or_fn(struct ms_rslot *s, uint64_t k, unsigned lo, unsigned hi, void *ctx)
{
	struct or_ctx *o = ctx;
	uint64_t base = (uint64_t)((int64_t)(k << CHUNK_SHIFT) + o->shift);
	const uint64_t *bits;
	unsigned a, z;

	if (!s->map)
		return;
	if (s->map == MS_RBITS_FULL) {
		ms_rbits_set(o->dst, base + lo, hi - lo);
		return;
	}
	bits = bits_of(o->src, s);
	for (a = next_page(bits, lo, hi, true); a < hi; a = next_page(bits, z, hi, true)) {
		z = next_page(bits, a, hi, false);
		ms_rbits_set(o->dst, base + a, z - a);
	}
}

void ms_rbits_or_from(struct ms_rbits *dst, const struct ms_rbits *src, uint64_t first, uint64_t n,
		      int64_t shift)
{
	struct or_ctx o = {.src = src, .dst = dst, .shift = shift};

	visit(src, first, n, or_fn, &o);
}

/* ------------------------------------------------------------------ whole maps */

int ms_rbits_copy(struct ms_rbits *dst, const struct ms_rbits *src)
{
	struct ms_rslot *s = NULL;
	struct ms_rmap *m = NULL;

	if (src->cap && !(s = malloc(src->cap * sizeof(*s))))
		return -ENOMEM;
	if (src->mcap && !(m = malloc(src->mcap * sizeof(*m)))) {
		free(s);
		return -ENOMEM;
	}
	if (s)
		memcpy(s, src->slots, src->cap * sizeof(*s));
	if (m && src->mnext) /* the free list and the bitmaps in use */
		memcpy(m, src->maps, src->mnext * sizeof(*m));
	free(dst->slots);
	free(dst->maps);
	*dst = *src;
	dst->slots = s;
	dst->maps = m;
	return 0;
}

void ms_rbits_clear_all(struct ms_rbits *b)
{
	if (b->cap)
		memset(b->slots, 0, b->cap * sizeof(*b->slots));
	b->used = b->empty = b->full = 0;
	b->pages = 0;
	b->mused = b->mnext = b->mlist = 0;
}

size_t ms_rbits_memory(const struct ms_rbits *b)
{
	return b->cap * sizeof(struct ms_rslot) + b->mcap * sizeof(struct ms_rmap);
}
