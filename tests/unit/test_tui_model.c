// SPDX-License-Identifier: MIT
/*
 * The TUI's map model (tui/model.c): layout of regions into cells with gap collapsing,
 * auto scale and zoom, cell contents, cell <-> address <-> region lookups, fault heat,
 * plus a randomized check (fixed seed) of every cell against a brute-force recount.
 */
#include <errno.h>

#include "lib/util.h"
#include "test.h"
#include "test_main.h"
#include "tui/model.h"

#define PS  4096ull
#define MiB (1ull << 20)

static struct ms_region reg(uint64_t start, uint64_t len, unsigned state)
{
	return (struct ms_region){.start = start, .end = start + len, .state = (uint8_t)state};
}

TEST_BEGIN(test_single_region)
{
	struct ms_region r[] = {reg(0x10000, 16 * PS, MS_READY)};
	struct ms_map m = {0};
	struct ms_cell c[18];

	assert_true(ms_map_layout(&m, r, 1, PS) == 0, "layout");
	expect_u64_eq(m.scale, PS, "scale");
	expect_u64_eq(m.ncells, 16, "cells");
	expect_u64_eq(m.nareas, 1, "areas");
	ms_map_cells(&m, 0, 18, c);
	for (int i = 0; i < 16; i++) {
		expect_int_eq(c[i].state, MS_READY, "state");
		expect_u64_eq(c[i].bytes[MS_READY], PS, "bytes");
		expect_u64_eq(c[i].bytes[MS_NONE], 0, "no None");
		expect_u64_eq(c[i].region, 0, "region");
		expect_u64_eq(c[i].start, 0x10000 + i * PS, "start");
	}
	expect_true(c[16].flags & MS_CELL_NOCELL, "past the end");
	expect_u64_eq(ms_map_cell_of(&m, 0x10000), 0, "first byte");
	expect_u64_eq(ms_map_cell_of(&m, 0x10000 + 16 * PS - 1), 15, "last byte");
	expect_u64_eq(ms_map_cell_of(&m, 0x1000), 0, "before the map");
	expect_u64_eq(ms_map_cell_of(&m, 1ull << 40), 15, "after the map");
	expect_u64_eq(ms_map_cell_addr(&m, 3), 0x10000 + 3 * PS, "cell address");
	expect_u64_eq(ms_map_region_at(&m, 7), 0, "region at");
	ms_map_free(&m);
}
TEST_END

/* A 64 MiB arena and a 4 KiB mapping 128 TiB away share a screen of 640 cells. */
TEST_BEGIN(test_gap_collapse)
{
	struct ms_region r[] = {reg(0xc000000000ull, 64 * MiB, MS_RESERVED),
				reg(0x7f0000000000ull, PS, MS_READY)};
	uint64_t s = ms_map_auto_scale(r, 2, PS, 640);
	struct ms_map m = {0};
	struct ms_cell c[3];

	expect_u64_eq(s, 128 * 1024, "auto scale: 64 MiB / 640 cells rounds up to 128 KiB");
	assert_true(ms_map_layout(&m, r, 2, s) == 0, "layout");
	expect_u64_eq(m.nareas, 2, "two areas");
	expect_u64_eq(m.ncells, 512 + 1 + 1, "arena cells, a break, one cell");
	ms_map_cells(&m, 511, 3, c);
	expect_int_eq(c[0].state, MS_RESERVED, "arena's last cell");
	expect_true(c[1].flags & MS_CELL_BREAK, "break cell");
	expect_u64_eq(c[1].start, 0xc000000000ull + 64 * MiB, "break: hole start");
	expect_u64_eq(c[1].end, 0x7f0000000000ull, "break: hole end");
	expect_int_eq(c[2].state, MS_READY, "the 4 KiB region has its own cell");
	expect_u64_eq(c[2].bytes[MS_READY], PS, "its bytes");
	expect_u64_eq(c[2].bytes[MS_NONE], s - PS, "rest of the cell is None");
	expect_u64_eq(ms_map_region_at(&m, 513), 1, "region of the small cell");
	expect_u64_eq(ms_map_region_at(&m, 512), SIZE_MAX, "no region on a break");
	expect_u64_eq(ms_map_cell_of(&m, 0x100000000000ull), 512, "an address in the hole");
	expect_u64_eq(ms_map_cell_addr(&m, 512), 0xc000000000ull + 64 * MiB, "break address");
	ms_map_free(&m);
}
TEST_END

/* Holes up to MS_MAP_GAP_CELLS cells stay inline as None cells. */
TEST_BEGIN(test_small_hole_inline)
{
	struct ms_region r[] = {reg(0x100000, 4 * PS, MS_READY),
				reg(0x100000 + (4 + MS_MAP_GAP_CELLS) * PS, 2 * PS, MS_PREPARED),
				reg(0x100000 + (6 + 2 * MS_MAP_GAP_CELLS + 1) * PS, PS, MS_READY)};
	struct ms_map m = {0};
	struct ms_cell c[16];

	assert_true(ms_map_layout(&m, r, 3, PS) == 0, "layout");
	expect_u64_eq(m.nareas, 2, "a hole of GAP cells inline, one of GAP + 1 a break");
	expect_u64_eq(m.ncells, 4 + MS_MAP_GAP_CELLS + 2 + 1 + 1, "cells");
	ms_map_cells(&m, 0, (size_t)m.ncells, c);
	for (unsigned i = 4; i < 4 + MS_MAP_GAP_CELLS; i++) {
		expect_int_eq(c[i].state, MS_NONE, "hole cell");
		expect_u64_eq(c[i].bytes[MS_NONE], PS, "hole bytes");
		expect_u64_eq(c[i].region, SIZE_MAX, "no region");
		expect_true(!(c[i].flags & MS_CELL_BREAK), "not a break");
	}
	expect_int_eq(c[4 + MS_MAP_GAP_CELLS].state, MS_PREPARED, "after the hole");
	expect_true(c[4 + MS_MAP_GAP_CELLS + 2].flags & MS_CELL_BREAK, "break");
	ms_map_free(&m);
}
TEST_END

TEST_BEGIN(test_dominant_mixed_flags)
{
	struct ms_region r[] = {reg(0x400000, PS, MS_RESERVED), reg(0x401000, 2 * PS, MS_READY),
				reg(0x403000, PS, MS_PREPARED)};
	struct ms_map m = {0};
	struct ms_cell c;

	r[1].flags = MS_RF_THP;
	r[2].huge = MS_HUGE_HUGEPAGE;
	r[2].kind = MS_KIND_FILE;
	r[0].faults = 3;
	assert_true(ms_map_layout(&m, r, 3, 4 * PS) == 0, "layout");
	expect_u64_eq(m.ncells, 1, "one cell");
	ms_map_cells(&m, 0, 1, &c);
	expect_int_eq(c.state, MS_READY, "most bytes win");
	expect_u64_eq(c.region, 1, "dominant region");
	expect_u64_eq(c.nregions, 3, "regions in it");
	expect_true(c.flags & MS_CELL_MIXED, "mixed");
	expect_true(c.flags & MS_CELL_THP, "THP");
	expect_true(c.flags & MS_CELL_HUGE, "hugepage advice");
	expect_true(c.flags & MS_CELL_FAULTED, "faulted");
	expect_u64_eq(c.file, PS, "file bytes");
	expect_u64_eq(c.bytes[MS_RESERVED] + c.bytes[MS_PREPARED] + c.bytes[MS_READY], 4 * PS,
		      "owned bytes");
	/* ties go to the later state */
	r[1].end = r[1].start + PS;
	r[2].start = r[1].end;
	r[2].end = r[2].start + PS;
	assert_true(ms_map_layout(&m, r, 3, 4 * PS) == 0, "layout");
	ms_map_cells(&m, 0, 1, &c);
	expect_int_eq(c.state, MS_READY, "tie: Ready over Reserved and Prepared");
	ms_map_free(&m);
}
TEST_END

/* Zoom: the same address keeps its place, cell counts follow the scale. */
TEST_BEGIN(test_zoom_keeps_addresses)
{
	struct ms_region r[] = {reg(0xc000000000ull, 64 * MiB, MS_PREPARED),
				reg(0xc004000000ull, 4 * MiB, MS_READY)};
	struct ms_map m = {0};
	uint64_t a = 0xc000000000ull + 5 * MiB + 12345, prev = 0;

	for (uint64_t s = PS; s <= 64 * MiB; s *= 2) {
		uint64_t cell;

		assert_true(ms_map_layout(&m, r, 2, s) == 0, "layout");
		expect_u64_eq(m.ncells, (68 * MiB + s - 1) / s, "cells at this scale");
		cell = ms_map_cell_of(&m, a);
		expect_true(ms_map_cell_addr(&m, cell) <= a && a < ms_map_cell_addr(&m, cell) + s,
			    "cell holds the address at scale %" PRIu64, s);
		if (prev)
			expect_u64_eq(cell, prev / 2, "twice the scale, half the cell number");
		prev = cell;
	}
	/* a scale that is not a power of two is rounded up */
	assert_true(ms_map_layout(&m, r, 2, 3 * PS) == 0, "layout");
	expect_u64_eq(m.scale, 4 * PS, "rounded up");
	ms_map_free(&m);
}
TEST_END

TEST_BEGIN(test_empty_map)
{
	struct ms_map m = {0};
	struct ms_cell c;

	expect_u64_eq(ms_map_auto_scale(NULL, 0, PS, 100), PS, "auto scale of nothing");
	assert_true(ms_map_layout(&m, NULL, 0, PS) == 0, "layout");
	expect_u64_eq(m.ncells, 0, "no cells");
	ms_map_cells(&m, 0, 1, &c);
	expect_true(c.flags & MS_CELL_NOCELL, "nothing to draw");
	expect_u64_eq(ms_map_cell_of(&m, 1234), 0, "cell of");
	expect_u64_eq(ms_map_region_at(&m, 0), SIZE_MAX, "region at");
	ms_map_free(&m);
}
TEST_END

/* ---- randomized: every cell against a recount over all regions ---- */

static size_t random_regions(uint64_t *seed, struct ms_region *r, size_t max)
{
	uint64_t a = 0x10000000ull + (test_rand(seed) % 1024) * PS;
	size_t n = 1 + test_rand(seed) % max;

	for (size_t i = 0; i < n; i++) {
		uint64_t len = (1 + test_rand(seed) % (test_rand(seed) % 4 ? 16 : 4096)) * PS;

		r[i] = reg(a, len, MS_RESERVED + (unsigned)(test_rand(seed) % 3));
		r[i].flags = test_rand(seed) % 7 == 0 ? MS_RF_THP : 0;
		a += len;
		switch (test_rand(seed) % 4) {
		case 0: /* adjacent */
			break;
		case 1:
			a += (1 + test_rand(seed) % 8) * PS;
			break;
		case 2:
			a += (1 + test_rand(seed) % 4096) * PS;
			break;
		default:
			a += (test_rand(seed) % (1ull << 30)) * PS;
		}
	}
	return n;
}

static void recount(const struct ms_region *r, size_t n, uint64_t s, uint64_t e,
		    uint64_t bytes[MS_STATE_COUNT])
{
	memset(bytes, 0, MS_STATE_COUNT * sizeof(uint64_t));
	for (size_t i = 0; i < n; i++) {
		uint64_t a = r[i].start > s ? r[i].start : s, b = r[i].end < e ? r[i].end : e;

		if (a < b)
			bytes[r[i].state] += b - a;
	}
}

TEST_BEGIN(test_random_cells_recount)
{
	static struct ms_region r[400];
	static struct ms_cell cells[4096];
	uint64_t seed = 0x7e11ce11;
	int checked = 0;

	for (int round = 0; round < 300; round++) {
		size_t n = random_regions(&seed, r, 400);
		uint64_t budget = 50 + test_rand(&seed) % 4000;
		uint64_t s = ms_map_auto_scale(r, n, PS, budget), total[MS_STATE_COUNT] = {0};
		uint64_t seen[MS_STATE_COUNT] = {0}, prev_end = 0, empty_run = 0;
		struct ms_map m = {0};
		bool prev_break = true;

		if (round % 3 == 0)
			s = PS << (test_rand(&seed) % 12); /* a zoomed scale */
		assert_true(ms_map_layout(&m, r, n, s) == 0, "layout");
		if (round % 3 != 0) {
			expect_true(m.ncells <= budget || s == MS_MAP_MAX_SCALE,
				    "auto scale fits: %" PRIu64 " cells, budget %" PRIu64, m.ncells,
				    budget);
			if (s > PS) {
				struct ms_map half = {0};

				ms_map_layout(&half, r, n, s / 2);
				expect_true(half.ncells > budget,
					    "half the auto scale would not fit");
				ms_map_free(&half);
			}
		}
		if (m.ncells > 4096) {
			ms_map_free(&m);
			continue;
		}
		ms_map_cells(&m, 0, (size_t)m.ncells, cells);
		checked++;
		for (size_t i = 0; i < n; i++)
			total[r[i].state] += r[i].end - r[i].start;
		for (uint64_t c = 0; c < m.ncells; c++) {
			const struct ms_cell *x = &cells[c];
			uint64_t b[MS_STATE_COUNT];

			if (x->flags & MS_CELL_BREAK) {
				recount(r, n, x->start, x->end, b);
				expect_u64_eq(b[MS_RESERVED] + b[MS_PREPARED] + b[MS_READY], 0,
					      "a break hides no owned byte");
				expect_true(x->end - x->start > MS_MAP_GAP_CELLS * s,
					    "only large holes collapse");
				expect_true(!prev_break, "no two breaks in a row");
				prev_break = true;
				empty_run = 0;
				continue;
			}
			expect_u64_eq(x->start % s, 0, "cells are aligned");
			empty_run = x->bytes[MS_NONE] == s ? empty_run + 1 : 0;
			expect_true(empty_run <= MS_MAP_GAP_CELLS,
				    "a longer hole would be a break");
			if (!prev_break)
				expect_u64_eq(x->start, prev_end,
					      "cells of an area are contiguous");
			prev_break = false;
			prev_end = x->end;
			recount(r, n, x->start, x->end, b);
			for (unsigned st = MS_RESERVED; st < MS_STATE_COUNT; st++) {
				expect_u64_eq(x->bytes[st], b[st], "cell bytes per state");
				seen[st] += x->bytes[st];
			}
			expect_u64_eq(ms_map_cell_of(&m, x->start), c, "cell_of(cell start)");
			expect_u64_eq(ms_map_cell_of(&m, x->end - 1), c, "cell_of(cell end - 1)");
			if (x->region != SIZE_MAX)
				expect_true(r[x->region].start < x->end &&
						    r[x->region].end > x->start,
					    "dominant region overlaps its cell");
		}
		for (unsigned st = MS_RESERVED; st < MS_STATE_COUNT; st++)
			expect_u64_eq(seen[st], total[st],
				      "every owned byte is in exactly one cell");
		/* a window in the middle gives the same cells as the whole */
		if (m.ncells > 10) {
			struct ms_cell w[5];

			ms_map_cells(&m, m.ncells / 2, 5, w);
			for (int k = 0; k < 5; k++)
				expect_true(!memcmp(&w[k], &cells[m.ncells / 2 + k], sizeof(w[k])),
					    "windowed cells");
		}
		ms_map_free(&m);
		if (test_state.failures)
			break;
	}
	expect_true(checked > 150, "most rounds were recounted (%d)", checked);
}
TEST_END

/* 100k regions lay out in a few passes (the frame budget is 10 ms; this just must finish). */
TEST_BEGIN(test_many_regions)
{
	size_t n = 100000;
	struct ms_region *r = calloc(n, sizeof(*r));
	struct ms_map m = {0};
	uint64_t s;

	assert_true(r != NULL, "alloc");
	for (size_t i = 0; i < n; i++)
		r[i] = reg(0x100000000ull + i * 3 * PS, (1 + i % 2) * PS, MS_RESERVED + i % 3);
	s = ms_map_auto_scale(r, n, PS, 160 * 50);
	assert_true(ms_map_layout(&m, r, n, s) == 0, "layout");
	expect_true(m.ncells <= 160 * 50, "fits");
	expect_u64_eq(m.nareas, 1, "all close together: one area");
	expect_u64_eq(ms_map_find_region(r, n, r[777].start + 1), 777, "find region");
	expect_u64_eq(ms_map_find_region(r, n, r[777].end), SIZE_MAX, "in a hole");
	free(r);
	ms_map_free(&m);
}
TEST_END

TEST_BEGIN(test_heat)
{
	struct ms_region r[] = {reg(0x100000, 8 * PS, MS_READY), reg(1ull << 40, PS, MS_READY)};
	struct ms_map m = {0};
	struct ms_heat h;
	struct ms_cell c[10];

	expect_int_eq(ms_heat_level(100, 100, 90), MS_HEAT_LEVELS, "just now: hottest");
	expect_int_eq(ms_heat_level(100, 130, 90), MS_HEAT_LEVELS - 1, "a third of the way");
	expect_int_eq(ms_heat_level(100, 189, 90), 1, "almost gone");
	expect_int_eq(ms_heat_level(100, 190, 90), 0, "gone");
	expect_int_eq(ms_heat_level(200, 100, 90), MS_HEAT_LEVELS, "from the future: now");
	assert_true(ms_heat_init(&h, 3) == 0, "init");
	expect_u64_eq(h.cap, 4, "power of two");
	assert_true(ms_map_layout(&m, r, 2, PS) == 0, "layout");
	ms_heat_add(&h, 0x100000 + 2 * PS + 17, 1000); /* cell 2, old */
	ms_heat_add(&h, 0x100000 + 2 * PS, 1090);      /* cell 2, new: max wins */
	ms_heat_add(&h, 0x100000 + 5 * PS, 1000);      /* cell 5, old */
	ms_heat_add(&h, 0x90000000, 1099);	       /* in the hole: ignored */
	ms_map_cells(&m, 0, 10, c);
	ms_heat_apply(&h, &m, 0, 10, c, 1100, 90);
	expect_int_eq(c[2].heat, MS_HEAT_LEVELS, "newest fault");
	expect_int_eq(c[5].heat, 0, "faded");
	expect_int_eq(c[8].heat, 0, "break untouched");
	/* the ring keeps only the newest cap faults */
	for (int i = 0; i < 4; i++)
		ms_heat_add(&h, 1ull << 40, 1100);
	ms_map_cells(&m, 0, 10, c);
	ms_heat_apply(&h, &m, 0, 10, c, 1100, 90);
	expect_int_eq(c[2].heat, 0, "pushed out of the ring");
	expect_int_eq(c[9].heat, MS_HEAT_LEVELS, "the far cell");
	/* a window that starts later sees cell 9 as its cell 1 */
	ms_map_cells(&m, 8, 2, c);
	ms_heat_apply(&h, &m, 8, 2, c, 1100, 90);
	expect_int_eq(c[1].heat, MS_HEAT_LEVELS, "windowed");
	ms_heat_clear(&h);
	ms_map_cells(&m, 0, 10, c);
	ms_heat_apply(&h, &m, 0, 10, c, 1100, 90);
	expect_int_eq(c[9].heat, 0, "cleared");
	ms_heat_free(&h);
	ms_map_free(&m);
}
TEST_END

TEST_BEGIN(test_fmt_bytes)
{
	char b[16];

	expect_str_eq(ms_fmt_size(b, sizeof(b), 0, MS_SIZE_COMPACT), "0B", "zero");
	expect_str_eq(ms_fmt_size(b, sizeof(b), 1023, MS_SIZE_COMPACT), "1023B", "bytes");
	expect_str_eq(ms_fmt_size(b, sizeof(b), 4096, MS_SIZE_COMPACT), "4.0K", "KiB");
	expect_str_eq(ms_fmt_size(b, sizeof(b), 64 * MiB, MS_SIZE_COMPACT), "64.0M", "MiB");
	expect_str_eq(ms_fmt_size(b, sizeof(b), 43556864, MS_SIZE_COMPACT), "41.5M",
		      "goheap's peak Ready");
	expect_str_eq(ms_fmt_size(b, sizeof(b), 3ull << 40, MS_SIZE_COMPACT), "3.0T", "TiB");
}
TEST_END

int main(void)
{
	return test_run(test_single_region, test_gap_collapse, test_small_hole_inline,
			test_dominant_mixed_flags, test_zoom_keeps_addresses, test_empty_map,
			test_random_cells_recount, test_many_regions, test_heat, test_fmt_bytes,
			NULL);
}
