/* SPDX-License-Identifier: MIT */
/*
 * A sparse page bitmap: one bit per page, stored only for the chunks (512 pages, 2 MiB
 * with 4 KiB pages) that hold a set bit. The shadow space keeps two of them per process
 * for residency (SPEC section 8): the pages the kernel holds, and of those the lazily free
 * ones (MADV_FREE); bits are only ever set inside Prepared or Ready anonymous intervals,
 * so None and Reserved memory costs nothing.
 *
 * Layout: an open-addressed hash table (linear probing, power-of-two size, load <= 3/4)
 * of 16-byte slots {key, map}. A chunk whose 512 pages are all set (a resident heap, a
 * transparent huge page: the common case) is marked FULL in its slot and has no bitmap;
 * only a partly set chunk has one, 64 bytes from a pool (one array, no per-bitmap
 * malloc). Memory: 16-byte slots in a table at most 3/4 full (16 KiB for a fully
 * resident GiB: 0.5 bits per page), plus 64 bytes per partly set chunk (1.8 bits per
 * page with every other page of 64 MiB set), plus the spare bitmaps of the last reserve
 * (n + 2 for a reserve of n; a later reserve gives back a pool more than twice what it
 * needs), plus chunks emptied since the last reserve (dropped by it). Range operations
 * cost min(chunks in the range, chunks held).
 *
 * Only ms_rbits_reserve() allocates: the updates use what it reserved and cannot fail,
 * so the space can check (reserve) before it commits. Clearing part of a FULL chunk
 * needs a bitmap, so clears need a reserve too: a reserve of n covers the updates until
 * the next reserve that touch at most n chunks (set, or_from, clear), plus one clear of
 * any range, which partly clears at most its two end chunks: every reserve (of 0
 * included) leaves two spare bitmaps while a FULL chunk exists. A reserve that has
 * nothing to do (the common case) compares a few counters. Not thread safe: the space's
 * lock covers it.
 */
#ifndef MEMSTATE_RESIDENT_H
#define MEMSTATE_RESIDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MS_RBITS_CHUNK_PAGES 512 /* pages per chunk */
#define MS_RBITS_WORDS	     (MS_RBITS_CHUNK_PAGES / 64)
#define MS_RBITS_FULL	     UINT64_MAX /* ms_rslot.map of a chunk with every page set */

struct ms_rslot {
	uint64_t key; /* chunk number + 1; 0: the slot is empty */
	uint64_t map; /* 0: no page set, MS_RBITS_FULL: all, else bitmap index + 1 */
};

struct ms_rmap {
	uint64_t bits[MS_RBITS_WORDS]; /* bit i: page key-1 * 512 + i; free: [0] links */
};

struct ms_rbits {
	struct ms_rslot *slots; /* cap slots, NULL while nothing was ever set */
	size_t cap;		/* a power of two, or 0 */
	size_t used;		/* slots with a key (emptied chunks included) */
	size_t empty;		/* of which with no bit set */
	size_t full;		/* of which with every bit set (no bitmap) */
	uint64_t pages;		/* bits set */
	struct ms_rmap *maps;	/* mcap bitmaps, those of the partly set chunks in use */
	size_t mcap;		/* bitmaps allocated */
	size_t mused;		/* bitmaps in use: the partly set chunks */
	size_t mnext;		/* [mnext, mcap) never handed out since the last reset */
	size_t mlist;		/* free list of [0, mnext) through bits[0]: index + 1, 0 end */
};

void ms_rbits_init(struct ms_rbits *b);
void ms_rbits_destroy(struct ms_rbits *b);
/* Make room for updates touching n chunks plus one clear (dropping emptied chunks
 * first). 0 or -ENOMEM. */
int ms_rbits_reserve(struct ms_rbits *b, size_t n);
/* Chunks [first page, first + n) touches: what reserve needs before an update of it. */
size_t ms_rbits_chunks(uint64_t first, uint64_t n);
/* Set or clear pages [first, first + n), within what the last reserve covers. */
void ms_rbits_set(struct ms_rbits *b, uint64_t first, uint64_t n);
void ms_rbits_clear(struct ms_rbits *b, uint64_t first, uint64_t n);
/* Pages set in [first, first + n). */
uint64_t ms_rbits_count(const struct ms_rbits *b, uint64_t first, uint64_t n);
bool ms_rbits_test(const struct ms_rbits *b, uint64_t page);
/* dst |= src over pages [first, first + n) of src, placed at first + shift in dst (the
 * chunks reserved by the caller: ms_rbits_chunks of the destination range). */
void ms_rbits_or_from(struct ms_rbits *dst, const struct ms_rbits *src, uint64_t first, uint64_t n,
		      int64_t shift);
/* Make dst an exact copy of src. 0 or -ENOMEM (dst unchanged). */
int ms_rbits_copy(struct ms_rbits *dst, const struct ms_rbits *src);
/* Forget every bit (memory is kept for reuse). */
void ms_rbits_clear_all(struct ms_rbits *b);
/* Bytes of heap memory held: table and bitmap pool. */
size_t ms_rbits_memory(const struct ms_rbits *b);

#endif /* MEMSTATE_RESIDENT_H */
