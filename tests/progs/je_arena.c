// SPDX-License-Identifier: MIT
/*
 * jemalloc arenas made by the program: one with `arenas.create` and the default hooks, one
 * with `arenas.create` and hooks of its own (which call the defaults), each used for
 * small and large blocks, purged, then destroyed (`arena.<i>.destroy`: the destroy hook).
 * Prints how many times its own hooks ran, so a test can tell they still run under the
 * adapter's wrappers; exits 1 when a mallctl fails.
 */
#include <jemalloc/jemalloc.h>
#include <stdio.h>
#include <string.h>

static extent_hooks_t *dflt;
static unsigned own_calls;

static void *own_alloc(extent_hooks_t *h, void *a, size_t size, size_t align, bool *zero,
		       bool *commit, unsigned ind)
{
	own_calls++;
	return dflt->alloc(dflt, a, size, align, zero, commit, ind);
}

static bool own_dalloc(extent_hooks_t *h, void *a, size_t size, bool committed, unsigned ind)
{
	own_calls++;
	return dflt->dalloc(dflt, a, size, committed, ind);
}

static void own_destroy(extent_hooks_t *h, void *a, size_t size, bool committed, unsigned ind)
{
	own_calls++;
	dflt->destroy(dflt, a, size, committed, ind);
}

static bool own_purge_forced(extent_hooks_t *h, void *a, size_t size, size_t off, size_t len,
			     unsigned ind)
{
	own_calls++;
	return dflt->purge_forced(dflt, a, size, off, len, ind);
}

static bool own_split(extent_hooks_t *h, void *a, size_t size, size_t sa, size_t sb, bool c,
		      unsigned ind)
{
	return dflt->split(dflt, a, size, sa, sb, c, ind);
}

static bool own_merge(extent_hooks_t *h, void *a, size_t sa, void *b, size_t sb, bool c,
		      unsigned ind)
{
	return dflt->merge(dflt, a, sa, b, sb, c, ind);
}

/* commit/decommit/purge_lazy left NULL: jemalloc treats them as opting out. */
static extent_hooks_t own = {
	.alloc = own_alloc,
	.dalloc = own_dalloc,
	.destroy = own_destroy,
	.purge_forced = own_purge_forced,
	.split = own_split,
	.merge = own_merge,
};

static int use_arena(unsigned ind)
{
	char name[64];
	void *p[64];

	for (int i = 0; i < 64; i++) {
		p[i] = mallocx(i % 4 ? 100 + i * 64 : (1 << 20) + i * 4096,
			       MALLOCX_ARENA(ind) | MALLOCX_TCACHE_NONE);
		if (!p[i])
			return 1;
		memset(p[i], i, 100);
	}
	for (int i = 0; i < 64; i++)
		dallocx(p[i], MALLOCX_TCACHE_NONE);
	snprintf(name, sizeof(name), "arena.%u.purge", ind);
	if (mallctl(name, NULL, NULL, NULL, 0))
		return 1;
	snprintf(name, sizeof(name), "arena.%u.destroy", ind);
	return mallctl(name, NULL, NULL, NULL, 0) ? 1 : 0;
}

int main(void)
{
	unsigned a, b;
	size_t sz = sizeof(a), hsz = sizeof(dflt);
	extent_hooks_t *hp = &own, *got = NULL;

	if (mallctl("arena.0.extent_hooks", &dflt, &hsz, NULL, 0) ||
	    mallctl("arenas.create", &a, &sz, NULL, 0) ||
	    mallctl("arenas.create", &b, &sz, &hp, sizeof(hp)))
		return 1;
	{
		char name[64];

		snprintf(name, sizeof(name), "arena.%u.extent_hooks", b);
		if (mallctl(name, &got, &hsz, NULL, 0) || got != &own) {
			fprintf(stderr, "arena %u reads hooks %p, not its own %p\n", b, (void *)got,
				(void *)&own);
			return 1;
		}
	}
	if (use_arena(a) || use_arena(b))
		return 1;
	printf("arenas %u %u own hooks %s\n", a, b, own_calls ? "ran" : "did not run");
	return 0;
}
