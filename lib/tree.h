/* SPDX-License-Identifier: MIT */
/*
 * The shadow interval tree (internal to libmemstate).
 *
 * A red-black tree of non-overlapping [start, end) intervals keyed by start. Because the
 * intervals never overlap, their ends are sorted like their starts, so no augmented
 * subtree bound is needed: "the interval holding addr" and "the first interval ending
 * after addr" are plain O(log n) descents, and a range is visited by in-order successor
 * steps, O(log n + k). Gaps between intervals are the None state.
 *
 * Nodes come from slabs with a free list. Callers reserve the nodes an operation will need
 * first (ms_tree_reserve, the only step that can fail), then split, insert and erase
 * without any failure path: a failed allocation never leaves a half-updated map.
 *
 * Memory: 56 bytes per interval (sizeof(struct ms_node)), plus slab headers (16 bytes per
 * 1024 nodes); slabs are kept until the tree is destroyed.
 */
#ifndef MEMSTATE_TREE_H
#define MEMSTATE_TREE_H

#include <stddef.h>
#include <stdint.h>

struct ms_node {
	struct ms_node *parent; /* NULL at the root */
	struct ms_node *left;	/* lower addresses */
	struct ms_node *right;	/* higher addresses */
	uint64_t start;		/* first byte */
	uint64_t end;		/* one past the last byte */
	uint32_t faults;	/* page faults attributed (saturates) */
	uint32_t thp;		/* THP collapses attributed (saturates) */
	uint16_t stat;		/* stat id charged, 0 none */
	uint8_t state;		/* enum ms_state */
	uint8_t attr;		/* MS_NA_* below */
	uint8_t red;		/* red-black colour: 1 red, 0 black */
};

/* ms_node.attr bits: everything but counters that decides whether neighbours merge. */
#define MS_NA_HUGE_MASK 0x03 /* enum ms_huge */
#define MS_NA_FILE	0x04 /* MS_KIND_FILE */
#define MS_NA_INFERRED	0x08 /* Prepared by syscall inference (first touch = used) */
#define MS_NA_THP	0x10 /* THP-backed */

struct ms_slab;

struct ms_tree {
	struct ms_node *root;	   /* NULL when empty */
	size_t count;		   /* nodes in the tree */
	struct ms_node *free_list; /* spare nodes, linked through ->right */
	size_t free_count;	   /* nodes on free_list */
	struct ms_slab *slabs;	   /* every slab allocated, for destruction */
	size_t slab_nodes;	   /* nodes allocated in all slabs */
};

void ms_tree_init(struct ms_tree *t);
void ms_tree_destroy(struct ms_tree *t);

/* Make sure n nodes can be taken without allocating. 0 or -ENOMEM. */
int ms_tree_reserve(struct ms_tree *t, size_t n);
/* Take a reserved node (never NULL after a successful reserve), give one back. */
struct ms_node *ms_tree_node_take(struct ms_tree *t);
void ms_tree_node_give(struct ms_tree *t, struct ms_node *n);

/* Interval holding addr, or NULL. */
struct ms_node *ms_tree_lookup(const struct ms_tree *t, uint64_t addr);
/* First interval whose end is above addr (holding addr or after it), or NULL. */
struct ms_node *ms_tree_lower_bound(const struct ms_tree *t, uint64_t addr);
struct ms_node *ms_tree_first(const struct ms_tree *t);
struct ms_node *ms_tree_last(const struct ms_tree *t);
struct ms_node *ms_tree_next(const struct ms_node *n);
struct ms_node *ms_tree_prev(const struct ms_node *n);

/* Link node n (start/end set, not overlapping anything) at its place. */
void ms_tree_insert(struct ms_tree *t, struct ms_node *n);
/* Link n right after pos in address order (pos NULL: n becomes the first). */
void ms_tree_insert_after(struct ms_tree *t, struct ms_node *pos, struct ms_node *n);
/* Unlink n; the node is not freed. */
void ms_tree_erase(struct ms_tree *t, struct ms_node *n);

/* Check order, non-overlap and red-black rules. 0 or -EFAULT with a reason. */
int ms_tree_check(const struct ms_tree *t, const char **why);

#endif /* MEMSTATE_TREE_H */
