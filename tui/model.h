/* SPDX-License-Identifier: MIT */
/*
 * The state map's model: how a shadow map (struct ms_region[], address order) is laid out
 * into screen cells, and what each cell shows. Pure C, no curses: the panels only draw
 * what these functions compute, and the unit tests check it without a terminal.
 *
 * Cells are numbered 0 .. ncells-1 and flow left to right, top to bottom. Each cell covers
 * `scale` bytes (a power of two, at least a page), aligned to the scale, so a cell's
 * address never depends on where the screen starts. Regions close to each other form an
 * area; a hole of more than MS_MAP_GAP_CELLS cells between two areas is collapsed into one
 * break cell, which is how a 64 MiB arena and a 4 KiB mapping far away share a screen.
 */
#ifndef MEMSTATE_TUI_MODEL_H
#define MEMSTATE_TUI_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "memstate/space.h"

/* A hole of up to this many cells is drawn as None cells; a larger one becomes a break. */
#define MS_MAP_GAP_CELLS 3
/* Largest scale: one cell for the whole 47-bit user address space and more. */
#define MS_MAP_MAX_SCALE (1ull << 48)
/* Heat levels of recent page faults: 0 cold .. MS_HEAT_LEVELS just faulted. */
#define MS_HEAT_LEVELS 3

/* A run of cells without a break: regions [r0, r1) and the small holes between them. */
struct ms_map_area {
	uint64_t start; /* first byte of the first cell (scale aligned) */
	uint64_t end;	/* one past the last byte of the last cell */
	uint64_t cell0; /* number of its first cell */
	size_t r0, r1;	/* its regions in the laid-out array */
};

struct ms_map {
	const struct ms_region *regions; /* what was laid out (not owned, address order) */
	size_t nregions;
	uint64_t scale;		   /* bytes per cell */
	uint64_t ncells;	   /* cells in all, breaks included */
	struct ms_map_area *areas; /* address order; a break cell follows all but the last */
	size_t nareas;
	size_t areas_cap; /* allocated entries */
};

/* ms_cell.flags */
#define MS_CELL_BREAK	0x01 /* a collapsed hole between two areas */
#define MS_CELL_HUGE	0x02 /* some byte has MADV_HUGEPAGE advice */
#define MS_CELL_NOHUGE	0x04 /* some byte has MADV_NOHUGEPAGE advice */
#define MS_CELL_THP	0x08 /* some byte is backed by transparent huge pages */
#define MS_CELL_FILE	0x10 /* some byte is a file-backed or shared mapping */
#define MS_CELL_MIXED	0x20 /* more than one owned state in the cell */
#define MS_CELL_NOCELL	0x40 /* past the last cell: nothing to draw */
#define MS_CELL_FAULTED 0x80 /* a region in it has taken page faults (ever) */

/* What one cell shows. */
struct ms_cell {
	uint64_t start, end;		/* bytes covered; for a break, the hole collapsed */
	uint64_t bytes[MS_STATE_COUNT]; /* per state; [MS_NONE] is the unowned part */
	uint64_t file;			/* of the owned bytes, those of file-backed mappings */
	size_t region;			/* region with the most bytes in it, or SIZE_MAX */
	size_t nregions;		/* regions touching it */
	uint8_t state;			/* dominant owned state (MS_NONE: nothing owned) */
	uint8_t flags;			/* MS_CELL_* */
	uint8_t heat;			/* 0 .. MS_HEAT_LEVELS */
	uint64_t resident;		/* residency view: Prepared/Ready bytes the kernel holds */
};

/*
 * Smallest scale (page << k) at which the whole map fits in budget cells, or the largest
 * scale when nothing fits. page is a power of two.
 */
uint64_t ms_map_auto_scale(const struct ms_region *r, size_t n, uint64_t page, uint64_t budget);
/* Lay out r[0..n) at scale (a power of two; rounded up to one). 0 or -ENOMEM. */
int ms_map_layout(struct ms_map *m, const struct ms_region *r, size_t n, uint64_t scale);
void ms_map_free(struct ms_map *m);

/* Describe cells [first, first + count) into out[]; cells past the end get MS_CELL_NOCELL. */
void ms_map_cells(const struct ms_map *m, uint64_t first, size_t count, struct ms_cell *out);
/* The cell holding addr; an address in a collapsed hole gets its break cell, one before the
 * map its first cell, one after it its last. 0 for an empty map. */
uint64_t ms_map_cell_of(const struct ms_map *m, uint64_t addr);
/* First byte a cell stands for (for a break: the start of the hole). */
uint64_t ms_map_cell_addr(const struct ms_map *m, uint64_t cell);
/* Index of the region with the most bytes in the cell, SIZE_MAX when none. */
size_t ms_map_region_at(const struct ms_map *m, uint64_t cell);
/* Index of the region holding addr, SIZE_MAX when addr is unowned. */
size_t ms_map_find_region(const struct ms_region *r, size_t n, uint64_t addr);

/* ---- fault heat: the recent page faults, fading with age ---- */

struct ms_heat_point {
	uint64_t addr; /* faulting address */
	uint64_t when; /* in the caller's clock (ns in live mode, event index in replay) */
};

struct ms_heat {
	struct ms_heat_point *pts; /* ring of the last cap faults */
	size_t cap;		   /* a power of two */
	uint64_t head;		   /* faults ever added */
};

int ms_heat_init(struct ms_heat *h, size_t cap);
void ms_heat_free(struct ms_heat *h);
void ms_heat_clear(struct ms_heat *h);
void ms_heat_add(struct ms_heat *h, uint64_t addr, uint64_t when);
/* Heat of one fault: MS_HEAT_LEVELS when age 0, fading to 0 at age >= window. */
unsigned ms_heat_level(uint64_t when, uint64_t now, uint64_t window);
/* Raise cells[i].heat for the faults newer than window that fall in cells [first, +count). */
void ms_heat_apply(const struct ms_heat *h, const struct ms_map *m, uint64_t first, size_t count,
		   struct ms_cell *cells, uint64_t now, uint64_t window);

#endif /* MEMSTATE_TUI_MODEL_H */
