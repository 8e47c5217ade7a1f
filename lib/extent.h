/* SPDX-License-Identifier: MIT */
/*
 * The extent registry: the jemalloc extents a process's hooks have named (SPEC section 11),
 * so that the checker can tell a dalloc, destroy, split or merge of a known extent from one
 * of memory jemalloc never had. Disjoint [start, end) ranges in the red-black tree of the
 * shadow map (tree.h): a busy program splits and merges tens of thousands of times a
 * second over thousands of extents, so every operation is O(log n) (a sorted array's
 * memmove was most of the tracer's time).
 *
 * Not thread-safe: the owning space's lock covers it. Changes that may need memory are
 * preceded by ms_ext_reserve() in the check step, so that the commit step cannot fail.
 */
#ifndef MEMSTATE_EXTENT_H
#define MEMSTATE_EXTENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tree.h"

/* Zeroed is empty. */
struct ms_extents {
	struct ms_tree t; /* one node per extent: start, end */
};

/* Free the nodes (the struct itself is the caller's). */
void ms_ext_destroy(struct ms_extents *x);
/* Extents registered. */
size_t ms_ext_count(const struct ms_extents *x);
/* Iterate: the first extent, the one after n; NULL at the end. */
const struct ms_node *ms_ext_first(const struct ms_extents *x);
const struct ms_node *ms_ext_next(const struct ms_node *n);
/* Forget them all. */
void ms_ext_clear(struct ms_extents *x);
/* Room for `more` additions: 0 or -ENOMEM. */
int ms_ext_reserve(struct ms_extents *x, size_t more);
/* Copy src into dst (dst empty or destroyed): 0 or -ENOMEM. */
int ms_ext_copy(struct ms_extents *dst, const struct ms_extents *src);
/* Is [s, e) exactly a registered extent? */
bool ms_ext_has(const struct ms_extents *x, uint64_t s, uint64_t e);
/* Does [s, e) overlap any registered extent? */
bool ms_ext_overlaps(const struct ms_extents *x, uint64_t s, uint64_t e);
/* Register [s, e); -EEXIST when it overlaps one (nothing changes), -ENOMEM without room. */
int ms_ext_add(struct ms_extents *x, uint64_t s, uint64_t e);
/* Forget every extent that overlaps [s, e). Returns how many. */
size_t ms_ext_remove(struct ms_extents *x, uint64_t s, uint64_t e);
/* [s, e) becomes [s, mid) and [mid, e); -ENOENT unless [s, e) is registered. */
int ms_ext_split(struct ms_extents *x, uint64_t s, uint64_t mid, uint64_t e);
/* [s, mid) and [mid, e) become [s, e); -ENOENT unless both are registered. */
int ms_ext_merge(struct ms_extents *x, uint64_t s, uint64_t mid, uint64_t e);

#endif /* MEMSTATE_EXTENT_H */
