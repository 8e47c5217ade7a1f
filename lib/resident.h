/* SPDX-License-Identifier: MIT */
/*
 * A sparse page bitmap: one bit per page, stored only for the chunks (512 pages, 2 MiB
 * with 4 KiB pages) that hold a set bit. The shadow space keeps two of them per process
 * for residency (SPEC section 8): the pages the kernel holds, and of those the lazily free
 * ones (MADV_FREE); bits are only ever set inside Prepared or Ready anonymous intervals,
 * so None and Reserved memory costs nothing.
 *
 * Layout: an open-addressed hash table (linear probing, power-of-two size, load <= 3/4)
 * of 72-byte chunks {key, 512 bits}. Memory: 72 bytes per 2 MiB chunk with any bit set
 * (36 KiB per fully resident GiB: 1.125 bits per page), over a table at most 4/3 full,
 * plus chunks emptied since the last reserve (dropped by it). Range operations cost
 * min(chunks in the range, chunks held).
 *
 * Only ms_rbits_reserve() allocates: the other updates use what it reserved and cannot
 * fail, so the space can check (reserve) before it commits. Not thread safe: the space's
 * lock covers it.
 */
#ifndef MEMSTATE_RESIDENT_H
#define MEMSTATE_RESIDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MS_RBITS_CHUNK_PAGES 512 /* pages per chunk */
#define MS_RBITS_WORDS	     (MS_RBITS_CHUNK_PAGES / 64)

struct ms_rchunk {
	uint64_t key;		       /* chunk number + 1; 0: the slot is empty */
	uint64_t bits[MS_RBITS_WORDS]; /* bit i: page key-1 * 512 + i */
};

struct ms_rbits {
	struct ms_rchunk *slots; /* cap slots, NULL while nothing was ever set */
	size_t cap;		 /* a power of two, or 0 */
	size_t used;		 /* slots with a key (emptied chunks included) */
	size_t empty;		 /* of which with no bit set */
	uint64_t pages;		 /* bits set */
};

void ms_rbits_init(struct ms_rbits *b);
void ms_rbits_destroy(struct ms_rbits *b);
/* Make room for n more chunks (dropping emptied ones first). 0 or -ENOMEM. */
int ms_rbits_reserve(struct ms_rbits *b, size_t n);
/* Chunks [first page, first + n) touches: what reserve needs before a set over it. */
size_t ms_rbits_chunks(uint64_t first, uint64_t n);
/* Set or clear pages [first, first + n). Setting needs the chunks reserved. */
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
/* Bytes of heap memory held. */
size_t ms_rbits_memory(const struct ms_rbits *b);

#endif /* MEMSTATE_RESIDENT_H */
