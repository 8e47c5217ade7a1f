// SPDX-License-Identifier: MIT
/* Timeline -> SVG (svg_int.h): drawing the sampled panels, the final maps, the axes and the legend. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "convert.h"
#include "lib/jsonbuf.h"
#include "svg_int.h"

/* ------------------------------------------------------------------ drawing */

/* Runs of equal cells: merged across columns, then down rows when a run repeats. */
static void draw_grid(struct svg *g, const struct panel *pn, unsigned x0, unsigned y0)
{
	struct ms_jbuf *b = &g->b;

	ms_jb_puts(b, "<g shape-rendering=\"crispEdges\">\n");
	for (unsigned row = 0; row < pn->rows; row++) {
		unsigned c = 0;

		while (c < g->cols) {
			uint8_t v = pn->grid[(size_t)c * pn->rows + row];
			unsigned c1 = c + 1, h = 1;
			bool same;

			while (c1 < g->cols && pn->grid[(size_t)c1 * pn->rows + row] == v)
				c1++;
			if (v == C_NONE) {
				c = c1;
				continue;
			}
			/* Was this run drawn as part of the row above? */
			if (row > 0 && pn->grid[(size_t)c * pn->rows + row - 1] == v &&
			    (c == 0 || pn->grid[(size_t)(c - 1) * pn->rows + row - 1] != v) &&
			    (c1 == g->cols || pn->grid[(size_t)c1 * pn->rows + row - 1] != v)) {
				same = true;
				for (unsigned k = c; k < c1 && same; k++)
					same = pn->grid[(size_t)k * pn->rows + row - 1] == v;
				if (same) {
					c = c1;
					continue;
				}
			}
			/* Extend down while the rows below hold exactly this run. */
			for (;;) {
				unsigned r2 = row + h;

				if (r2 >= pn->rows || pn->grid[(size_t)c * pn->rows + r2] != v ||
				    (c > 0 && pn->grid[(size_t)(c - 1) * pn->rows + r2] == v) ||
				    (c1 < g->cols && pn->grid[(size_t)c1 * pn->rows + r2] == v))
					break;
				same = true;
				for (unsigned k = c; k < c1 && same; k++)
					same = pn->grid[(size_t)k * pn->rows + r2] == v;
				if (!same)
					break;
				h++;
			}
			svg_put_fmt(b,
				    "<rect x=\"%u\" y=\"%u\" width=\"%u\" height=\"%u\" "
				    "fill=\"%s\"/>\n",
				    x0 + c * COL_PX, y0 + row, (c1 - c) * COL_PX, h, cell_fill[v]);
			c = c1;
		}
	}
	ms_jb_puts(b, "</g>\n");
}

/* The final map strip: the last sample, drawn wide. */
static void draw_final(struct svg *g, const struct panel *pn, unsigned x, unsigned y0)
{
	const uint8_t *cells = pn->grid + (size_t)g->cols * pn->rows;
	struct ms_jbuf *b = &g->b;

	bool empty = true;

	svg_put_fmt(b, "<g class=\"final\" data-x=\"%u\" shape-rendering=\"crispEdges\">\n", x);
	for (unsigned i = 0; i < pn->nbands; i++)
		svg_put_fmt(b,
			    "<rect x=\"%u\" y=\"%u\" width=\"%u\" height=\"%u\" fill=\"none\" "
			    "stroke=\"#bbb\"/>\n",
			    x, y0 + pn->bands[i].y, FINAL_W, pn->bands[i].h);
	for (unsigned row = 0; row < pn->rows;) {
		unsigned r1 = row + 1;

		while (r1 < pn->rows && cells[r1] == cells[row])
			r1++;
		if (cells[row] != C_NONE) {
			svg_put_fmt(b,
				    "<rect x=\"%u\" y=\"%u\" width=\"%u\" height=\"%u\" "
				    "fill=\"%s\"/>\n",
				    x, y0 + row, FINAL_W, r1 - row, cell_fill[cells[row]]);
			empty = false;
		}
		row = r1;
	}
	ms_jb_puts(b, "</g>\n");
	if (empty)
		svg_put_fmt(b,
			    "<text x=\"%u\" y=\"%u\" text-anchor=\"middle\" fill=\"#777\">(all "
			    "freed)</text>\n",
			    x + FINAL_W / 2, y0 + 14);
	svg_put_fmt(
		b,
		"<text x=\"%u\" y=\"%u\" text-anchor=\"middle\" fill=\"#444\">final map</text>\n",
		x + FINAL_W / 2, y0 - 4);
}

static uint64_t nice_step(uint64_t span, unsigned ticks)
{
	uint64_t raw = span / (ticks ? ticks : 1), step = 1;

	while (step * 10 <= raw)
		step *= 10;
	if (step * 5 <= raw)
		return step * 5;
	if (step * 2 <= raw)
		return step * 2;
	return step;
}

static void draw_time_axis(struct svg *g, unsigned y)
{
	struct ms_jbuf *b = &g->b;
	uint64_t span = (uint64_t)g->cols * g->dt, step = nice_step(span, 8), t;
	char label[32];

	svg_put_fmt(b, "<line x1=\"%u\" y1=\"%u\" x2=\"%u\" y2=\"%u\" stroke=\"#444\"/>\n", g->x0,
		    y, g->x0 + g->cols * COL_PX, y);
	/* Ticks at round times since the start of the trace, within the events' span. */
	for (t = (g->t0 + step - 1) / step * step; step && t <= g->t0 + span; t += step) {
		unsigned x = g->x0 + (unsigned)((unsigned __int128)(t - g->t0) * COL_PX / g->dt);

		svg_fmt_time(label, sizeof(label), t);
		svg_put_fmt(b, "<line x1=\"%u\" y1=\"%u\" x2=\"%u\" y2=\"%u\" stroke=\"#444\"/>\n",
			    x, y, x, y + 4);
		svg_put_fmt(b, "<text x=\"%u\" y=\"%u\" text-anchor=\"middle\" fill=\"#444\">", x,
			    y + 16);
		svg_put_text(b, label);
		ms_jb_puts(b, "</text>\n");
	}
	svg_put_fmt(b,
		    "<text x=\"%u\" y=\"%u\" text-anchor=\"end\" fill=\"#444\">time since the "
		    "start of the trace</text>\n",
		    g->x0 + g->cols * COL_PX, y + 30);
}

static void draw_bands(struct svg *g, const struct panel *pn, unsigned y0)
{
	struct ms_jbuf *b = &g->b;
	char size[32];

	for (unsigned i = 0; i < pn->nbands; i++) {
		const struct band *bd = &pn->bands[i];

		/* The band's outline carries its exact range for tools (and the tests). */
		svg_put_fmt(b,
			    "<rect class=\"band\" x=\"%u\" y=\"%u\" width=\"%u\" height=\"%u\" "
			    "fill=\"none\" stroke=\"#bbb\" data-addr=\"%" PRIu64
			    "\" data-len=\"%" PRIu64 "\"/>\n",
			    g->x0, y0 + bd->y, g->cols * COL_PX, bd->h, bd->s, bd->e - bd->s);
		svg_put_fmt(b,
			    "<text x=\"%u\" y=\"%u\" text-anchor=\"end\" fill=\"#222\" "
			    "font-family=\"monospace\">%#" PRIx64 "</text>\n",
			    g->x0 - 4, y0 + bd->y + 9, bd->s);
		if (bd->h >= 28) {
			ms_fmt_size(size, sizeof(size), bd->e - bd->s, MS_SIZE_LABEL);
			svg_put_fmt(b,
				    "<text x=\"%u\" y=\"%u\" text-anchor=\"end\" "
				    "fill=\"#777\">%s</text>\n",
				    g->x0 - 4, y0 + bd->y + 21, size);
		}
		if (i + 1 < pn->nbands) {
			unsigned gy = y0 + bd->y + bd->h + GAP_PX / 2;

			ms_fmt_size(size, sizeof(size), pn->bands[i + 1].s - bd->e, MS_SIZE_LABEL);
			svg_put_fmt(b,
				    "<line x1=\"%u\" y1=\"%u\" x2=\"%u\" y2=\"%u\" stroke=\"#999\" "
				    "stroke-dasharray=\"4 3\"/>\n",
				    g->x0, gy, g->x0 + g->cols * COL_PX, gy);
			svg_put_fmt(b,
				    "<text x=\"%u\" y=\"%u\" text-anchor=\"end\" fill=\"#999\" "
				    "font-size=\"9\">gap %s</text>\n",
				    g->x0 - 4, gy + 3, size);
		}
	}
}

/* y of address a in the panel, or -1 when it is in no band. */
static int addr_y(const struct panel *pn, uint64_t a)
{
	for (unsigned i = 0; i < pn->nbands; i++) {
		const struct band *bd = &pn->bands[i];

		if (a >= bd->s && a < bd->e)
			return (int)(bd->y + svg_row_of(bd, a));
	}
	return -1;
}

static void draw_marks(struct svg *g, const struct panel *pn, unsigned y0)
{
	struct ms_jbuf *b = &g->b;

	for (size_t i = 0; i < pn->nmarks; i++) {
		const struct mark *m = &pn->marks[i];
		uint64_t t = m->t > g->t0 ? m->t - g->t0 : 0;
		unsigned x = g->x0 + (unsigned)((unsigned __int128)t * COL_PX / g->dt);
		int y = addr_y(pn, m->addr);

		if (y < 0) /* outside every band (a double free of unknown memory): on top */
			y = 0;
		if (m->violation)
			svg_put_fmt(b, "<g class=\"violation\" data-x=\"%u\" data-y=\"%u\"><title>",
				    x, y0 + (unsigned)y);
		else
			svg_put_fmt(b, "<g class=\"thp\" data-x=\"%u\" data-y=\"%u\"><title>", x,
				    y0 + (unsigned)y);
		svg_put_text(b, m->msg);
		ms_jb_puts(b, "</title>");
		if (m->violation)
			svg_put_fmt(
				b,
				"<circle cx=\"%u\" cy=\"%u\" r=\"6\" fill=\"%s\" stroke=\"#fff\" "
				"stroke-width=\"1.5\"/><path d=\"M%u %uL%u %uM%u %uL%u %u\" "
				"stroke=\"#fff\" stroke-width=\"1.5\"/>",
				x, y0 + (unsigned)y, VIOLATION_FILL, x - 3, y0 + (unsigned)y - 3,
				x + 3, y0 + (unsigned)y + 3, x - 3, y0 + (unsigned)y + 3, x + 3,
				y0 + (unsigned)y - 3);
		else
			svg_put_fmt(b,
				    "<path d=\"M%u %uL%u %uL%u %uL%u %uZ\" fill=\"%s\" "
				    "stroke=\"#fff\"/>",
				    x, y0 + (unsigned)y - 5, x + 5, y0 + (unsigned)y, x,
				    y0 + (unsigned)y + 5, x - 5, y0 + (unsigned)y, THP_FILL);
		ms_jb_puts(b, "</g>\n");
	}
}

static void draw_legend(struct svg *g, unsigned y)
{
	struct ms_jbuf *b = &g->b;
	unsigned x = g->x0;

	for (unsigned k = C_RESERVED; k < C_COUNT; k++) {
		svg_put_fmt(b,
			    "<rect class=\"legend\" x=\"%u\" y=\"%u\" width=\"14\" height=\"14\" "
			    "fill=\"%s\" stroke=\"#666\"/><text x=\"%u\" y=\"%u\">%s</text>\n",
			    x, y, cell_fill[k], x + 19, y + 11, cell_name[k]);
		x += 40 + 7 * (unsigned)strlen(cell_name[k]);
	}
	svg_put_fmt(
		b,
		"<rect x=\"%u\" y=\"%u\" width=\"14\" height=\"14\" fill=\"%s\" stroke=\"#666\"/>"
		"<text x=\"%u\" y=\"%u\">None (gaps: collapsed)</text>\n",
		x, y, cell_fill[C_NONE], x + 19, y + 11);
	x += 190;
	svg_put_fmt(b,
		    "<circle cx=\"%u\" cy=\"%u\" r=\"6\" fill=\"%s\"/><text x=\"%u\" y=\"%u\">"
		    "violation</text>\n",
		    x + 7, y + 7, VIOLATION_FILL, x + 19, y + 11);
	x += 90;
	svg_put_fmt(b,
		    "<path d=\"M%u %uL%u %uL%u %uL%u %uZ\" fill=\"%s\"/><text x=\"%u\" y=\"%u\">"
		    "THP collapse</text>\n",
		    x + 7, y + 2, x + 12, y + 7, x + 7, y + 12, x + 2, y + 7, THP_FILL, x + 19,
		    y + 11);
}

/* Resident bytes over time: a line across the panel, its height the share of the peak. */
static void draw_resident(struct svg *g, const struct panel *pn, unsigned x0, unsigned y0)
{
	struct ms_jbuf *b = &g->b;
	char peak[32];

	if (!pn->has_res || !pn->peak_res || !pn->rows)
		return;
	ms_fmt_size(peak, sizeof(peak), pn->peak_res, MS_SIZE_LABEL);
	svg_put_fmt(b,
		    "<polyline class=\"resident\" data-peak=\"%" PRIu64 "\" fill=\"none\" "
		    "stroke=\"#1a237e\" stroke-width=\"1.5\" stroke-opacity=\"0.8\" points=\"",
		    pn->peak_res);
	for (unsigned c = 0; c < g->cols; c++)
		svg_put_fmt(b, "%s%u,%u", c ? " " : "", x0 + c * COL_PX + COL_PX / 2,
			    y0 + pn->rows - (unsigned)(pn->res[c] * (pn->rows - 1) / pn->peak_res) -
				    1);
	ms_jb_puts(b, "\"><title>resident bytes (the kernel's pages), peak ");
	svg_put_text(b, peak);
	ms_jb_puts(b, "</title></polyline>\n");
}

void svg_draw(struct svg *g)
{
	struct ms_jbuf *b = &g->b;
	unsigned W = g->o->width, H = g->o->height;
	char peak[32];

	if (!g->o->embed)
		ms_jb_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			      "<svg xmlns=\"http://www.w3.org/2000/svg\"");
	else /* inside HTML the parser knows SVG; the page names no URL at all */
		ms_jb_puts(b, "<svg class=\"map\"");
	svg_put_fmt(b,
		    " width=\"%u\" height=\"%u\" viewBox=\"0 0 %u %u\" font-family=\"sans-serif\" "
		    "font-size=\"11\">\n",
		    W, H, W, H);
	ms_jb_puts(b, "<title>memstate: ");
	svg_put_text(b, g->title);
	ms_jb_puts(b, "</title>\n");
	svg_put_fmt(b, "<rect width=\"%u\" height=\"%u\" fill=\"#ffffff\"/>\n", W, H);
	svg_put_fmt(b, "<text x=\"%u\" y=\"20\" font-size=\"14\" font-weight=\"bold\">", 10);
	ms_jb_puts(b, "memstate: ");
	svg_put_text(b, g->title);
	ms_jb_puts(b, "</text>\n");
	draw_legend(g, 34);
	svg_put_fmt(
		b,
		"<g id=\"plot\" data-x0=\"%u\" data-colw=\"%u\" data-cols=\"%u\" data-t0=\"%" PRIu64
		"\" data-dt=\"%" PRIu64 "\">\n",
		g->x0, COL_PX, g->cols, g->t0, g->dt);
	for (unsigned i = 0; i < g->npanels; i++) {
		const struct panel *pn = &g->panels[i];
		unsigned y0 = pn->y0;

		ms_fmt_size(peak, sizeof(peak), pn->peak_ready, MS_SIZE_LABEL);
		svg_put_fmt(b,
			    "<g class=\"panel\" data-pid=\"%u\" data-y0=\"%u\" data-rows=\"%u\">\n",
			    pn->pid, y0, pn->rows);
		svg_put_fmt(b, "<text x=\"%u\" y=\"%u\" font-weight=\"bold\">", g->x0, y0 - 8);
		svg_put_text(b, pn->title);
		svg_put_fmt(
			b,
			"</text><text x=\"%u\" y=\"%u\" text-anchor=\"end\" fill=\"#444\">%" PRIu64
			" events, peak Ready %s, %" PRIu64 " violation%s%s</text>\n",
			g->x0 + g->pw, y0 - 8, pn->events, peak, pn->nviol,
			pn->nviol == 1 ? "" : "s",
			pn->nviol > MAX_MARKS ? " (first ones marked)" : "");
		draw_grid(g, pn, g->x0, y0);
		draw_resident(g, pn, g->x0, y0);
		draw_bands(g, pn, y0);
		draw_marks(g, pn, y0);
		draw_final(g, pn, g->x0 + g->cols * COL_PX + 24, y0);
		ms_jb_puts(b, "</g>\n");
	}
	ms_jb_puts(b, "</g>\n");
	draw_time_axis(g, H - BOTTOM + 4);
	ms_jb_puts(b, "</svg>\n");
}
