// SPDX-License-Identifier: MIT
/*
 * The state map's model: layout of regions into cells with gap collapsing, cell contents,
 * address and cell lookups, and the fading heat of recent page faults.
 *
 * Every function here is O(regions + cells drawn) or better, because a frame is built from
 * a fresh snapshot each time (100k regions in well under the 10 ms a frame may take).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

/* ------------------------------------------------------------------ layout */

static uint64_t align_down(uint64_t a, uint64_t s)
{
	return a & ~(s - 1);
}

/* Saturates instead of wrapping: the last cell of the address space just loses its tail. */
static uint64_t align_up(uint64_t a, uint64_t s)
{
	if (a > UINT64_MAX - (s - 1))
		return align_down(UINT64_MAX, s);
	return align_down(a + s - 1, s);
}

static uint64_t area_cells(const struct ms_map *m, const struct ms_map_area *a)
{
	return (a->end - a->start) / m->scale;
}

/*
 * One pass over the regions at scale s: counts the cells (stopping early past budget) and,
 * when m is given, records the areas. Two regions share an area unless more than
 * MS_MAP_GAP_CELLS whole cells of hole lie between them.
 */
static int walk(const struct ms_region *r, size_t n, uint64_t s, uint64_t budget, struct ms_map *m,
		uint64_t *cells_out)
{
	uint64_t cells = 0;
	size_t i = 0;

	while (i < n) {
		uint64_t start = align_down(r[i].start, s), end = align_up(r[i].end, s);
		size_t j;

		for (j = i + 1; j < n; j++) {
			uint64_t ns = align_down(r[j].start, s), ne;

			if (ns > end && (ns - end) / s > MS_MAP_GAP_CELLS)
				break;
			ne = align_up(r[j].end, s);
			if (ne > end)
				end = ne;
		}
		if (i > 0)
			cells++; /* the break before this area */
		if (m) {
			if (m->nareas == m->areas_cap) {
				size_t cap = m->areas_cap ? 2 * m->areas_cap : 64;
				struct ms_map_area *grown = realloc(m->areas, cap * sizeof(*grown));

				if (!grown)
					return -ENOMEM;
				m->areas = grown;
				m->areas_cap = cap;
			}
			m->areas[m->nareas++] = (struct ms_map_area){
				.start = start, .end = end, .cell0 = cells, .r0 = i, .r1 = j};
		}
		cells += (end - start) / s;
		if (!m && cells > budget)
			break;
		i = j;
	}
	*cells_out = cells;
	return 0;
}

uint64_t ms_map_auto_scale(const struct ms_region *r, size_t n, uint64_t page, uint64_t budget)
{
	unsigned lo = 0, hi = 0;
	uint64_t cells;

	if (!page || (page & (page - 1)))
		page = 4096;
	while ((page << hi) < MS_MAP_MAX_SCALE)
		hi++;
	if (!n)
		return page;
	/*
	 * Cells shrink (almost) monotonically as the scale grows, so a binary search over the
	 * ~36 candidate scales costs about six passes, each stopping early once past budget.
	 */
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		walk(r, n, page << mid, budget, NULL, &cells);
		if (cells <= budget)
			hi = mid;
		else
			lo = mid + 1;
	}
	return page << lo;
}

int ms_map_layout(struct ms_map *m, const struct ms_region *r, size_t n, uint64_t scale)
{
	uint64_t s = 1;

	while (s < scale && s < MS_MAP_MAX_SCALE)
		s <<= 1;
	m->regions = r;
	m->nregions = n;
	m->scale = s;
	m->nareas = 0;
	m->ncells = 0;
	return walk(r, n, s, UINT64_MAX, m, &m->ncells);
}

void ms_map_free(struct ms_map *m)
{
	free(m->areas);
	memset(m, 0, sizeof(*m));
}

/* ------------------------------------------------------------------ lookups */

/* Last area whose first cell is <= cell (0 when none). */
static size_t area_by_cell(const struct ms_map *m, uint64_t cell)
{
	size_t lo = 0, hi = m->nareas;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->areas[mid].cell0 <= cell)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* Last area starting at or before addr, SIZE_MAX when addr is before the first. */
static size_t area_by_addr(const struct ms_map *m, uint64_t addr)
{
	size_t lo = 0, hi = m->nareas;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->areas[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? lo - 1 : SIZE_MAX;
}

/* First region in [lo, hi) that ends after addr. */
static size_t first_ending_after(const struct ms_region *r, size_t lo, size_t hi, uint64_t addr)
{
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t ms_map_find_region(const struct ms_region *r, size_t n, uint64_t addr)
{
	size_t i = first_ending_after(r, 0, n, addr);

	return i < n && r[i].start <= addr ? i : SIZE_MAX;
}

uint64_t ms_map_cell_of(const struct ms_map *m, uint64_t addr)
{
	size_t a;
	const struct ms_map_area *ar;

	if (!m->nareas)
		return 0;
	a = area_by_addr(m, addr);
	if (a == SIZE_MAX)
		return 0;
	ar = &m->areas[a];
	if (addr < ar->end)
		return ar->cell0 + (addr - ar->start) / m->scale;
	if (a + 1 < m->nareas)
		return ar->cell0 + area_cells(m, ar); /* in the hole: its break cell */
	return m->ncells ? m->ncells - 1 : 0;
}

uint64_t ms_map_cell_addr(const struct ms_map *m, uint64_t cell)
{
	const struct ms_map_area *ar;
	uint64_t off;

	if (!m->nareas)
		return 0;
	ar = &m->areas[area_by_cell(m, cell)];
	off = cell - ar->cell0;
	if (off >= area_cells(m, ar))
		return ar->end;
	return ar->start + off * m->scale;
}

size_t ms_map_region_at(const struct ms_map *m, uint64_t cell)
{
	struct ms_cell c;

	ms_map_cells(m, cell, 1, &c);
	return c.region;
}

/* ------------------------------------------------------------------ cells */

static void fill_cell(const struct ms_map *m, const struct ms_map_area *ar, size_t *ri, uint64_t cs,
		      struct ms_cell *c)
{
	const struct ms_region *r = m->regions;
	uint64_t ce = cs + m->scale, owned = 0, best = 0;
	unsigned nstates = 0;

	c->start = cs;
	c->end = ce;
	if (*ri == SIZE_MAX || *ri < ar->r0) /* first cell drawn in this area */
		*ri = first_ending_after(r, ar->r0, ar->r1, cs);
	while (*ri < ar->r1 && r[*ri].end <= cs)
		(*ri)++;
	for (size_t j = *ri; j < ar->r1 && r[j].start < ce; j++) {
		uint64_t s = r[j].start > cs ? r[j].start : cs;
		uint64_t e = r[j].end < ce ? r[j].end : ce;
		uint64_t len = e - s;

		if (r[j].state < MS_STATE_COUNT)
			c->bytes[r[j].state] += len;
		owned += len;
		if (r[j].kind == MS_KIND_FILE)
			c->file += len;
		if (r[j].huge == MS_HUGE_HUGEPAGE)
			c->flags |= MS_CELL_HUGE;
		else if (r[j].huge == MS_HUGE_NOHUGEPAGE)
			c->flags |= MS_CELL_NOHUGE;
		if (r[j].flags & MS_RF_THP)
			c->flags |= MS_CELL_THP;
		if (r[j].faults)
			c->flags |= MS_CELL_FAULTED;
		if (len > best) {
			best = len;
			c->region = j;
		}
		c->nregions++;
	}
	c->bytes[MS_NONE] = m->scale - (owned < m->scale ? owned : m->scale);
	best = 0;
	for (unsigned s = MS_RESERVED; s < MS_STATE_COUNT; s++) {
		if (!c->bytes[s])
			continue;
		nstates++;
		if (c->bytes[s] >= best) { /* ties go to the later state */
			best = c->bytes[s];
			c->state = (uint8_t)s;
		}
	}
	if (nstates > 1)
		c->flags |= MS_CELL_MIXED;
}

void ms_map_cells(const struct ms_map *m, uint64_t first, size_t count, struct ms_cell *out)
{
	size_t a = m->nareas ? area_by_cell(m, first) : 0;
	size_t ri = SIZE_MAX;

	for (size_t k = 0; k < count; k++) {
		uint64_t cell = first + k, n;
		const struct ms_map_area *ar;
		struct ms_cell *c = &out[k];

		memset(c, 0, sizeof(*c));
		c->region = SIZE_MAX;
		if (cell >= m->ncells || a >= m->nareas) {
			c->flags = MS_CELL_NOCELL;
			continue;
		}
		ar = &m->areas[a];
		n = area_cells(m, ar);
		if (cell - ar->cell0 >= n) {
			/* the break after area a (walk() puts one after every area but the last) */
			c->flags = MS_CELL_BREAK;
			c->start = ar->end;
			c->end = a + 1 < m->nareas ? m->areas[a + 1].start : ar->end;
			a++;
			continue;
		}
		fill_cell(m, ar, &ri, ar->start + (cell - ar->cell0) * m->scale, c);
	}
}

/* ------------------------------------------------------------------ heat */

int ms_heat_init(struct ms_heat *h, size_t cap)
{
	size_t c = 1;

	while (c < cap)
		c <<= 1;
	memset(h, 0, sizeof(*h));
	h->pts = calloc(c, sizeof(*h->pts));
	if (!h->pts)
		return -ENOMEM;
	h->cap = c;
	return 0;
}

void ms_heat_free(struct ms_heat *h)
{
	free(h->pts);
	memset(h, 0, sizeof(*h));
}

void ms_heat_clear(struct ms_heat *h)
{
	h->head = 0;
}

void ms_heat_add(struct ms_heat *h, uint64_t addr, uint64_t when)
{
	if (!h->cap)
		return;
	h->pts[h->head & (h->cap - 1)] = (struct ms_heat_point){.addr = addr, .when = when};
	h->head++;
}

unsigned ms_heat_level(uint64_t when, uint64_t now, uint64_t window)
{
	uint64_t age = now > when ? now - when : 0;

	if (!window || age >= window)
		return 0;
	/* Linear fade: the newest third of the window is hottest. */
	return (unsigned)(MS_HEAT_LEVELS - age * MS_HEAT_LEVELS / window);
}

void ms_heat_apply(const struct ms_heat *h, const struct ms_map *m, uint64_t first, size_t count,
		   struct ms_cell *cells, uint64_t now, uint64_t window)
{
	uint64_t n = h->head < h->cap ? h->head : h->cap;

	for (uint64_t i = h->head - n; i < h->head; i++) {
		const struct ms_heat_point *p = &h->pts[i & (h->cap - 1)];
		unsigned level = ms_heat_level(p->when, now, window);
		size_t a;
		uint64_t cell;

		if (!level || !m->nareas)
			continue;
		a = area_by_addr(m, p->addr);
		if (a == SIZE_MAX || p->addr >= m->areas[a].end)
			continue; /* outside every area: nothing to light up */
		cell = m->areas[a].cell0 + (p->addr - m->areas[a].start) / m->scale;
		if (cell < first || cell - first >= count)
			continue;
		if (cells[cell - first].heat < level)
			cells[cell - first].heat = (uint8_t)level;
	}
}
