// SPDX-License-Identifier: MIT
/*
 * goheap: a small heap that drives libmemstate the way Go's runtime drives its sys*
 * functions, so that memstate has a realistic, known workload to show and check.
 *
 *   - a 64 MiB arena reserved up front (sysReserve, at a Go-like hint),
 *   - the heap grows by mapping 4 MiB of it at a time (sysMap, stat "heap"),
 *   - spans of 8 KiB pages are handed out with sysUsed and the exact number of
 *     Prepared bytes they cover (Go's scavenged-bit accounting),
 *   - a scavenger pass returns free pages to the OS (sysUnused),
 *   - reuse hands scavenged pages out again (sysUsed over mixed Ready/Prepared),
 *   - huge-page hints and one collapse on a dense 2 MiB chunk,
 *   - metadata from sysAlloc (stat "metadata"), and everything freed at the end.
 *
 * It keeps its own page bitmap and compares its totals with the library's at every phase;
 * a difference is a bug in one of the two, and makes it exit 1.
 *
 * Usage: goheap [spans]   (default 600)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memstate/memstate.h"

#define ARENA	   (64ull << 20)
#define CHUNK	   (4ull << 20)
#define PAGE	   8192ull /* Go's heap page */
#define NPAGES	   (ARENA / PAGE)
#define HUGE	   (2ull << 20)
#define ARENA_HINT ((void *)0xc000000000ull)

enum page_state { P_FREE_READY, P_FREE_SCAVENGED, P_INUSE };

struct span {
	uint32_t first; /* first page */
	uint32_t n;	/* pages */
};

static struct ms_stat heap_stat = MS_STAT_INIT("heap");
static struct ms_stat meta_stat = MS_STAT_INIT("metadata");

static char *arena;
static uint64_t mapped;	      /* bytes of the arena mapped so far */
static uint8_t pages[NPAGES]; /* page_state of each mapped page */
static uint64_t own_ready, own_prepared;
static uint64_t seed = 0x60eaf;

static uint64_t rnd(void)
{
	seed ^= seed >> 12;
	seed ^= seed << 25;
	seed ^= seed >> 27;
	return seed * 0x2545f4914f6cdd1dull;
}

static int fail(const char *what)
{
	fprintf(stderr, "goheap: %s\n", what);
	return 1;
}

/* Our own totals against the library's: any difference is a bug in one of the two. */
static int agree(const char *phase)
{
	struct ms_totals t;

	ms_totals(&t);
	printf("  %-10s Ready %6" PRIu64 " KiB  Prepared %6" PRIu64 " KiB  Reserved %6" PRIu64
	       " KiB  heap stat %6" PRIu64 " KiB\n",
	       phase, t.bytes[MS_READY] >> 10, t.bytes[MS_PREPARED] >> 10,
	       t.bytes[MS_RESERVED] >> 10, ms_stat_read(&heap_stat) >> 10);
	if (t.bytes[MS_READY] != own_ready || t.bytes[MS_PREPARED] != own_prepared ||
	    ms_stat_read(&heap_stat) != mapped) {
		fprintf(stderr,
			"goheap: %s: library says Ready %" PRIu64 " Prepared %" PRIu64
			" heap %" PRIu64 ", goheap counted %" PRIu64 " / %" PRIu64 " / %" PRIu64
			"\n",
			phase, t.bytes[MS_READY], t.bytes[MS_PREPARED], ms_stat_read(&heap_stat),
			own_ready, own_prepared, mapped);
		return 1;
	}
	return 0;
}

/* Map the next 4 MiB of the arena: Reserved -> Prepared. Its pages are free and scavenged. */
static int grow(void)
{
	if (mapped + CHUNK > ARENA)
		return -1;
	if (ms_sys_map(arena + mapped, CHUNK, &heap_stat))
		return -1;
	for (uint64_t p = mapped / PAGE; p < (mapped + CHUNK) / PAGE; p++)
		pages[p] = P_FREE_SCAVENGED;
	mapped += CHUNK;
	own_prepared += CHUNK;
	return 0;
}

/* First fit of n free pages; grows the heap when nothing fits. */
static int alloc_span(uint32_t n, struct span *s)
{
	for (;;) {
		uint32_t run = 0, limit = (uint32_t)(mapped / PAGE);

		for (uint32_t p = 0; p < limit; p++) {
			run = pages[p] == P_INUSE ? 0 : run + 1;
			if (run < n)
				continue;
			s->first = p + 1 - n;
			s->n = n;
			goto found;
		}
		if (grow())
			return -1;
	}
found:;
	uint64_t prepared = 0;

	for (uint32_t p = s->first; p < s->first + n; p++)
		prepared += pages[p] == P_FREE_SCAVENGED ? PAGE : 0;
	/* Exactly what Go passes: the scavenged (Prepared) bytes inside the span. */
	if (ms_sys_used(arena + s->first * PAGE, n * PAGE, prepared))
		return -1;
	for (uint32_t p = s->first; p < s->first + n; p++)
		pages[p] = P_INUSE;
	own_prepared -= prepared;
	own_ready += prepared;
	memset(arena + s->first * PAGE, 0x5a, n * PAGE); /* the program uses its memory */
	return 0;
}

static void free_span(const struct span *s)
{
	for (uint32_t p = s->first; p < s->first + s->n; p++)
		pages[p] = P_FREE_READY;
}

/* Return free Ready pages to the OS in runs, as the background scavenger does. */
static uint64_t scavenge(uint64_t goal)
{
	uint64_t released = 0;
	uint32_t limit = (uint32_t)(mapped / PAGE);

	for (uint32_t p = 0; p < limit && released < goal;) {
		uint32_t q = p;

		while (q < limit && pages[q] == P_FREE_READY)
			q++;
		if (q > p) {
			if (ms_sys_unused(arena + p * PAGE, (q - p) * PAGE))
				return released;
			for (uint32_t k = p; k < q; k++)
				pages[k] = P_FREE_SCAVENGED;
			released += (q - p) * PAGE;
			p = q;
		} else {
			p++;
		}
	}
	own_ready -= released;
	own_prepared += released;
	return released;
}

int main(int argc, char **argv)
{
	unsigned nspans = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 600;
	struct span *spans = calloc(nspans ? nspans : 1, sizeof(*spans));
	void *meta[4];
	struct ms_totals t;
	uint64_t released;

	if (!spans || nspans == 0)
		return fail("usage: goheap [spans > 0]");
	printf("goheap: %u spans over a %llu MiB arena\n", nspans, ARENA >> 20);
	for (int i = 0; i < 4; i++) {
		meta[i] = ms_sys_alloc(256 << 10, &meta_stat);
		if (!meta[i])
			return fail("sysAlloc of metadata failed");
		own_ready += 256 << 10;
	}
	arena = ms_sys_reserve(ARENA_HINT, ARENA);
	if (!arena)
		return fail("sysReserve of the arena failed");
	if (agree("reserve"))
		return 1;

	for (unsigned i = 0; i < nspans; i++) {
		if (alloc_span(1 + (uint32_t)(rnd() % 16), &spans[i]))
			return fail("out of arena");
	}
	if (agree("grow"))
		return 1;

	/* Hints on the heap, as Go's sysUsed does for whole huge pages. */
	ms_sys_huge_page(arena, mapped);
	for (unsigned i = 0; i < nspans; i++) {
		if (rnd() % 2)
			free_span(&spans[i]), spans[i].n = 0;
	}
	released = scavenge(mapped / 4);
	printf("  scavenger released %" PRIu64 " KiB\n", released >> 10);
	if (agree("scavenge"))
		return 1;
	ms_sys_no_huge_page(arena + mapped - HUGE, HUGE);

	for (unsigned i = 0; i < nspans; i++) {
		if (!spans[i].n && alloc_span(1 + (uint32_t)(rnd() % 8), &spans[i]))
			return fail("out of arena on reuse");
	}
	if (agree("reuse"))
		return 1;

	/* One collapse on the first 2 MiB, which reuse made dense. */
	ms_sys_huge_page_collapse(arena, HUGE);

	if (ms_sys_free(arena, ARENA, &heap_stat))
		return fail("sysFree of the arena failed");
	own_ready = own_prepared = 0;
	mapped = 0;
	for (int i = 0; i < 4; i++)
		ms_sys_free(meta[i], 256 << 10, &meta_stat);
	if (agree("free"))
		return 1;

	ms_totals(&t);
	printf("goheap: %" PRIu64 " operations: %" PRIu64 " sysMap, %" PRIu64 " sysUsed, %" PRIu64
	       " sysUnused, %" PRIu64 " sysFree; peak Ready %" PRIu64
	       " KiB, peak footprint %" PRIu64 " KiB; %" PRIu64 " violations\n",
	       t.events, t.by_op[MS_OP_MAP], t.by_op[MS_OP_USED], t.by_op[MS_OP_UNUSED],
	       t.by_op[MS_OP_FREE], t.peak_bytes[MS_READY] >> 10, t.peak_footprint >> 10,
	       t.violations);
	free(spans);
	return t.violations ? 1 : 0;
}
