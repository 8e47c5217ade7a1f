/* SPDX-License-Identifier: MIT */
/*
 * Inside the SVG converter: svg.c lays out (pass 1), samples (pass 2) and converts;
 * svg_draw.c draws. What they share: the picture's geometry, its structs and these helpers.
 */
#ifndef MEMSTATE_EXPORT_SVG_INT_H
#define MEMSTATE_EXPORT_SVG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "convert.h"
#include "lib/jsonbuf.h"

#define MAX_PANELS  4	/* processes drawn when no --pid is given */
#define MAX_BANDS   16	/* address bands per panel: the largest gaps between collapse */
#define MIN_BAND_PX 14	/* smallest band height */
#define GAP_PX	    10	/* height of a collapsed gap */
#define COL_PX	    2	/* width of a time column */
#define MAX_MARKS   400 /* violation and THP marks drawn per panel */
#define FINAL_W	    110 /* width of the final-map strip */
#define LEFT	    132 /* room for address labels */
#define TOP	    64	/* title and legend */
#define BOTTOM	    34	/* time axis */
#define PANEL_HEAD  22	/* panel title */

/* Cell classes, in drawing order; 0 draws nothing (None). */
enum cell { C_NONE = 0, C_RESERVED, C_PREPARED, C_READY, C_FILE, C_COUNT };

static const char *const cell_fill[C_COUNT] = {"#ffffff", "#9e9e9e", "#f4b400", "#34a853",
					       "#4285f4"};
static const char *const cell_name[C_COUNT] = {"None", "Reserved", "Prepared", "Ready",
					       "file-backed"};

#define VIOLATION_FILL "#d93025"
#define THP_FILL       "#8e24aa"

struct extent {
	uint64_t s, e; /* [s, e) */
};

/* An address range drawn as one contiguous block of rows. */
struct band {
	uint64_t s, e; /* addresses */
	unsigned y, h; /* rows (pixels) from the panel's top */
};

struct mark {
	uint64_t t;	   /* when */
	uint64_t addr;	   /* where */
	uint8_t violation; /* kind, or 0 for a THP collapse */
	char msg[120];	   /* tooltip */
};

struct panel {
	uint32_t pid;		      /* whose */
	char title[200];	      /* "pid 1 goheap: ..." */
	struct extent *ext;	      /* ranges that ever held a state (merged at the end) */
	size_t next, ext_cap;	      /* extents used and allocated */
	struct band bands[MAX_BANDS]; /* top to bottom */
	unsigned nbands;	      /* bands in use */
	unsigned rows;		      /* total rows (pixels) of bands and gaps */
	unsigned y0;		      /* panel top in the picture */
	uint8_t *grid;		      /* cols x rows cells */
	uint64_t (*acc)[C_COUNT];     /* per row: bytes per class while sampling a column */
	struct mark *marks;	      /* violations and THP collapses to draw */
	size_t nmarks;		      /* marks kept (at most MAX_MARKS) */
	uint64_t nviol, nthp;	      /* all of them, drawn or not */
	uint64_t events;	      /* events of the process */
	uint64_t peak_ready;	      /* for the title */
	uint64_t *res;		      /* per column: resident bytes (SPEC section 8) */
	uint64_t peak_res;	      /* highest of them */
	bool has_res;		      /* the space tracks residency */
	size_t order;		      /* when the process first appeared */
};

struct svg {
	struct ms_jbuf b;	      /* output */
	const struct ms_conv_opts *o; /* size, --pid, names */
	struct panel *panels;	      /* drawn processes */
	unsigned npanels;	      /* panels in use */
	uint64_t t0, t1;	      /* time range of the trace */
	uint64_t dt;		      /* ns per column */
	unsigned cols;		      /* time columns */
	unsigned x0, pw;	      /* plot left and width */
	char title[400];	      /* the command */
};

void svg_put_fmt(struct ms_jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void svg_put_text(struct ms_jbuf *b, const char *s);
void svg_fmt_time(char *buf, size_t len, uint64_t ns);
unsigned svg_row_of(const struct band *bd, uint64_t a);
void svg_draw(struct svg *g);

#endif /* MEMSTATE_EXPORT_SVG_INT_H */
