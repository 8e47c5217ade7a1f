// SPDX-License-Identifier: MIT
/* The extent registry (extent.h), on the shadow map's interval tree. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "extent.h"

void ms_ext_destroy(struct ms_extents *x)
{
	ms_tree_destroy(&x->t);
	ms_tree_init(&x->t);
}

size_t ms_ext_count(const struct ms_extents *x)
{
	return x->t.count;
}

const struct ms_node *ms_ext_first(const struct ms_extents *x)
{
	return ms_tree_first(&x->t);
}

const struct ms_node *ms_ext_next(const struct ms_node *n)
{
	return ms_tree_next(n);
}

void ms_ext_clear(struct ms_extents *x)
{
	struct ms_node *n;

	while ((n = ms_tree_first(&x->t))) {
		ms_tree_erase(&x->t, n);
		ms_tree_node_give(&x->t, n);
	}
}

int ms_ext_reserve(struct ms_extents *x, size_t more)
{
	return ms_tree_reserve(&x->t, more);
}

int ms_ext_copy(struct ms_extents *dst, const struct ms_extents *src)
{
	struct ms_node *prev = NULL;

	ms_tree_init(&dst->t);
	if (ms_tree_reserve(&dst->t, src->t.count))
		return -ENOMEM;
	for (const struct ms_node *n = ms_tree_first(&src->t); n; n = ms_tree_next(n)) {
		struct ms_node *m = ms_tree_node_take(&dst->t);

		m->start = n->start;
		m->end = n->end;
		ms_tree_insert_after(&dst->t, prev, m);
		prev = m;
	}
	return 0;
}

bool ms_ext_has(const struct ms_extents *x, uint64_t s, uint64_t e)
{
	const struct ms_node *n = ms_tree_lower_bound(&x->t, s);

	return n && n->start == s && n->end == e;
}

bool ms_ext_overlaps(const struct ms_extents *x, uint64_t s, uint64_t e)
{
	const struct ms_node *n = ms_tree_lower_bound(&x->t, s);

	return s < e && n && n->start < e;
}

int ms_ext_add(struct ms_extents *x, uint64_t s, uint64_t e)
{
	struct ms_node *n;

	if (s >= e || ms_ext_overlaps(x, s, e))
		return -EEXIST;
	if (ms_tree_reserve(&x->t, 1))
		return -ENOMEM;
	n = ms_tree_node_take(&x->t);
	n->start = s;
	n->end = e;
	ms_tree_insert(&x->t, n);
	return 0;
}

size_t ms_ext_remove(struct ms_extents *x, uint64_t s, uint64_t e)
{
	struct ms_node *n = ms_tree_lower_bound(&x->t, s), *next;
	size_t k = 0;

	for (; n && n->start < e; n = next, k++) {
		next = ms_tree_next(n);
		ms_tree_erase(&x->t, n);
		ms_tree_node_give(&x->t, n);
	}
	return k;
}

int ms_ext_split(struct ms_extents *x, uint64_t s, uint64_t mid, uint64_t e)
{
	struct ms_node *n = ms_tree_lower_bound(&x->t, s), *m;

	if (mid <= s || mid >= e || !n || n->start != s || n->end != e)
		return -ENOENT;
	if (ms_tree_reserve(&x->t, 1))
		return -ENOMEM;
	m = ms_tree_node_take(&x->t);
	m->start = mid;
	m->end = e;
	n->end = mid;
	ms_tree_insert_after(&x->t, n, m);
	return 0;
}

int ms_ext_merge(struct ms_extents *x, uint64_t s, uint64_t mid, uint64_t e)
{
	struct ms_node *a = ms_tree_lower_bound(&x->t, s), *b;

	if (!a || a->start != s || a->end != mid)
		return -ENOENT;
	b = ms_tree_next(a);
	if (!b || b->start != mid || b->end != e)
		return -ENOENT;
	ms_tree_erase(&x->t, b);
	ms_tree_node_give(&x->t, b);
	a->end = e;
	return 0;
}
