// SPDX-License-Identifier: MIT
/* The extent registry (extent.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "extent.h"

/* Index of the first extent ending after addr (n when none). */
static size_t lower(const struct ms_extents *x, uint64_t addr)
{
	size_t lo = 0, hi = x->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (x->v[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void ms_ext_destroy(struct ms_extents *x)
{
	free(x->v);
	*x = (struct ms_extents){0};
}

int ms_ext_reserve(struct ms_extents *x, size_t more)
{
	size_t cap = x->cap ? x->cap : 16;
	struct ms_extent *v;

	if (x->n + more <= x->cap)
		return 0;
	while (cap < x->n + more)
		cap *= 2;
	v = realloc(x->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	x->v = v;
	x->cap = cap;
	return 0;
}

int ms_ext_copy(struct ms_extents *dst, const struct ms_extents *src)
{
	*dst = (struct ms_extents){0};
	if (!src->n)
		return 0;
	if (ms_ext_reserve(dst, src->n))
		return -ENOMEM;
	memcpy(dst->v, src->v, src->n * sizeof(*src->v));
	dst->n = src->n;
	return 0;
}

bool ms_ext_has(const struct ms_extents *x, uint64_t s, uint64_t e)
{
	size_t i = lower(x, s);

	return i < x->n && x->v[i].start == s && x->v[i].end == e;
}

bool ms_ext_overlaps(const struct ms_extents *x, uint64_t s, uint64_t e)
{
	size_t i = lower(x, s);

	return s < e && i < x->n && x->v[i].start < e;
}

int ms_ext_add(struct ms_extents *x, uint64_t s, uint64_t e)
{
	size_t i;

	if (s >= e || ms_ext_overlaps(x, s, e))
		return -EEXIST;
	if (ms_ext_reserve(x, 1))
		return -ENOMEM;
	i = lower(x, s);
	memmove(&x->v[i + 1], &x->v[i], (x->n - i) * sizeof(*x->v));
	x->v[i] = (struct ms_extent){s, e};
	x->n++;
	return 0;
}

size_t ms_ext_remove(struct ms_extents *x, uint64_t s, uint64_t e)
{
	size_t i = lower(x, s), k = i;

	while (k < x->n && x->v[k].start < e)
		k++;
	memmove(&x->v[i], &x->v[k], (x->n - k) * sizeof(*x->v));
	x->n -= k - i;
	return k - i;
}

int ms_ext_split(struct ms_extents *x, uint64_t s, uint64_t mid, uint64_t e)
{
	size_t i = lower(x, s);

	if (mid <= s || mid >= e || !ms_ext_has(x, s, e))
		return -ENOENT;
	if (ms_ext_reserve(x, 1))
		return -ENOMEM;
	memmove(&x->v[i + 1], &x->v[i], (x->n - i) * sizeof(*x->v));
	x->v[i].end = mid;
	x->v[i + 1].start = mid;
	x->n++;
	return 0;
}

int ms_ext_merge(struct ms_extents *x, uint64_t s, uint64_t mid, uint64_t e)
{
	size_t i = lower(x, s);

	if (!ms_ext_has(x, s, mid) || !ms_ext_has(x, mid, e))
		return -ENOENT;
	x->v[i].end = e;
	memmove(&x->v[i + 1], &x->v[i + 2], (x->n - i - 2) * sizeof(*x->v));
	x->n--;
	return 0;
}
