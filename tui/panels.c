// SPDX-License-Identifier: MIT
/*
 * The panels: title, totals, legend, the state map, the event log, the key bar and the
 * overlays (help, region details, process picker, prompt). They draw struct tui_model as
 * the scan step left it and read nothing else, except a region's history on demand.
 *
 *   row 0        title: command, live/replay position, time, paused
 *   rows 1-2     totals of the shown process: bytes per state now and peak, counters
 *   row 3        legend and scale
 *   map rows     address column, then cells
 *   cursor row   what the cell under the cursor holds
 *   log header   and the newest events below it
 *   last row     keys, or a message, or the prompt
 */
#include <curses.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "tui.h"

#define MIN_ROWS 12
#define MIN_COLS 40

/* ------------------------------------------------------------------ helpers */

static attr_t pair(const struct tui *t, int p)
{
	return t->color ? COLOR_PAIR(p) : A_NORMAL;
}

/* Print at (y, x) clipped to the right edge; returns the column after the text. */
__attribute__((format(printf, 5, 6))) static int put(const struct tui *t, int y, int x, attr_t attr,
						     const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n, room = t->cols - x;

	if (room <= 0 || y < 0 || y >= t->rows)
		return x;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	n = (int)strlen(buf);
	if (n > room)
		n = room;
	attrset(attr);
	mvaddnstr(y, x, buf, n);
	attrset(A_NORMAL);
	return x + n;
}

/* Fill the rest of row y from x with blanks in attr. */
static void fill_row(const struct tui *t, int y, int x, attr_t attr)
{
	attrset(attr);
	for (; x < t->cols; x++)
		mvaddch(y, x, ' ');
	attrset(A_NORMAL);
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static const struct tui_proc *shown_proc(const struct tui *t)
{
	return t->m.nprocs ? &t->m.procs[t->m.sel] : NULL;
}

static char *fmt_rate(char *buf, size_t len, double r)
{
	if (r >= 1e6)
		snprintf(buf, len, "%.1fM", r / 1e6);
	else if (r >= 1e4)
		snprintf(buf, len, "%.1fk", r / 1e3);
	else
		snprintf(buf, len, "%.0f", r);
	return buf;
}

static const char state_glyph[MS_STATE_COUNT] = {
	[MS_NONE] = '.', [MS_RESERVED] = '-', [MS_PREPARED] = '+', [MS_READY] = '#'};

static int state_pair(unsigned state)
{
	switch (state) {
	case MS_RESERVED:
		return TUI_P_RESERVED;
	case MS_PREPARED:
		return TUI_P_PREPARED;
	case MS_READY:
		return TUI_P_READY;
	default:
		return 0;
	}
}

/* ------------------------------------------------------------------ geometry */

void tui_layout_geometry(struct tui *t)
{
	int avail;

	getmaxyx(stdscr, t->rows, t->cols);
	t->too_small = t->rows < MIN_ROWS || t->cols < MIN_COLS;
	t->label_digits = 12;
	if (t->m.snap && t->m.snap->nregions &&
	    t->m.snap->regions[t->m.snap->nregions - 1].end > (1ull << 48))
		t->label_digits = 16;
	avail = t->rows - 7; /* title, 2 totals, legend, cursor row, log header, keys */
	t->log_rows = avail / 3;
	if (t->log_rows < 2)
		t->log_rows = 2;
	if (t->log_rows > 20)
		t->log_rows = 20;
	t->map_rows = avail - t->log_rows;
	if (t->map_rows < 1)
		t->map_rows = 1;
	t->map_y = 4;
	t->map_x = t->label_digits + 1;
	t->map_cols = t->cols - t->map_x;
	if (t->map_cols < 1)
		t->map_cols = 1;
	t->log_y = t->map_y + t->map_rows + 2;
}

/* ------------------------------------------------------------------ cells */

unsigned long tui_cell_look(const struct tui *t, const struct ms_cell *c, bool cursor)
{
	chtype ch;
	bool file =
		c->file * 2 > c->bytes[MS_RESERVED] + c->bytes[MS_PREPARED] + c->bytes[MS_READY];

	uint64_t anon = c->bytes[MS_PREPARED] + c->bytes[MS_READY];

	if (c->flags & MS_CELL_NOCELL)
		return ' ';
	if (t->res_view && c->end > c->start && !(c->flags & MS_CELL_BREAK) && anon && !file) {
		/* Residency: '#' all of its Prepared/Ready bytes in RAM, '+' part, '.' none. */
		ch = c->resident >= anon ? '#' | A_BOLD : c->resident ? '+' : '.';
		if (t->color)
			ch |= COLOR_PAIR(state_pair(c->state));
	} else if (c->flags & MS_CELL_BREAK) {
		ch = '~' | (t->color ? COLOR_PAIR(TUI_P_BREAK) | A_BOLD : A_BOLD);
	} else if (t->color) {
		int p = c->state == MS_NONE ? 0 : file ? TUI_P_FILE : state_pair(c->state);

		if (c->heat) {
			static const char heat_glyph[] = " :+*"; /* cooling .. just faulted */

			ch = (chtype)heat_glyph[c->heat] | A_BOLD |
			     COLOR_PAIR(p ? p - TUI_P_RESERVED + TUI_P_HEAT_RESERVED
					  : TUI_P_HEAT_NONE);
			if (file)
				ch = (ch & ~A_COLOR) | COLOR_PAIR(TUI_P_HEAT_FILE);
		} else if (c->state == MS_NONE) {
			ch = '.' | COLOR_PAIR(TUI_P_DIM);
		} else if (c->flags & MS_CELL_THP) {
			ch = 'T' | A_BOLD | COLOR_PAIR(p);
		} else if (c->flags & MS_CELL_HUGE) {
			ch = 'h' | COLOR_PAIR(p);
		} else if (c->flags & MS_CELL_NOHUGE) {
			ch = 'n' | COLOR_PAIR(p);
		} else {
			ch = ' ' | COLOR_PAIR(p);
		}
	} else {
		/* One distinct character per state; marks are attributes, heat a '*'. */
		ch = (chtype)(file && c->state != MS_NONE ? 'f' : state_glyph[c->state]);
		if (c->heat)
			ch |= A_UNDERLINE;
		if (c->flags & (MS_CELL_THP | MS_CELL_HUGE))
			ch |= A_BOLD;
	}
	if (cursor) {
		if ((ch & A_CHARTEXT) == ' ')
			ch = (ch & ~A_CHARTEXT) | '@';
		ch |= A_REVERSE | A_BOLD;
	}
	return ch;
}

/* ------------------------------------------------------------------ title, totals */

static void draw_title(struct tui *t)
{
	const struct tui_model *m = &t->m;
	attr_t a = t->color ? COLOR_PAIR(TUI_P_TITLE) : A_REVERSE;
	char right[160], speed[32];
	int x, rw;

	if (m->replay) {
		if (t->speed >= 1)
			snprintf(speed, sizeof(speed), "%gx", t->speed);
		else
			snprintf(speed, sizeof(speed), "1/%gx", 1 / t->speed);
		snprintf(right, sizeof(right), " event %zu/%zu  t %.6fs  %s %s%s ", m->pos, m->nev,
			 (double)m->t_ns / 1e9, t->paused ? "paused" : "playing", speed,
			 m->truncated ? "  (cut short)" : "");
	} else {
		snprintf(right, sizeof(right), " %s %.1fs%s%s ",
			 m->done ? "ended after" : "running", (double)m->t_ns / 1e9,
			 t->paused ? "  PAUSED" : "", m->skipped ? "  (view skipped events)" : "");
	}
	if (t->show_frame) {
		size_t l = strlen(right);

		snprintf(right + l, sizeof(right) - l, "frame %.2fms ", (double)m->frame_ns / 1e6);
	}
	fill_row(t, 0, 0, a);
	x = put(t, 0, 0, a | A_BOLD, " memstate%s ", m->replay ? " view" : "");
	rw = (int)strlen(right);
	if (t->cols - rw > x + 4) {
		char title[256];
		int room = t->cols - rw - x - 1;

		snprintf(title, sizeof(title), "%s", m->title);
		if ((int)strlen(title) > room)
			title[room > 0 ? room : 0] = 0;
		put(t, 0, x, a, "%s", title);
		put(t, 0, t->cols - rw, a, "%s", right);
	} else {
		put(t, 0, x, a, "%s", right);
	}
}

static void draw_totals(struct tui *t)
{
	static const unsigned order[] = {MS_READY, MS_PREPARED, MS_RESERVED};
	const struct tui_proc *p = shown_proc(t);
	struct ms_totals z = {0};
	const struct ms_totals *tot = p ? &p->tot : &z;
	char a[16], b[16], r[16], counters[160];
	int x = 0;

	move(1, 0);
	clrtoeol();
	move(2, 0);
	clrtoeol();
	for (size_t i = 0; i < 3; i++) {
		unsigned s = order[i];

		if (t->color)
			x = put(t, 1, x, COLOR_PAIR(state_pair(s)), " ");
		else
			x = put(t, 1, x, A_BOLD, "%c", state_glyph[s]);
		x = put(t, 1, x, A_BOLD, "%s", ms_state_name(s));
		x = put(t, 1, x, A_NORMAL, " %s peak %s  ",
			ms_fmt_size(a, sizeof(a), tot->bytes[s], MS_SIZE_COMPACT),
			ms_fmt_size(b, sizeof(b), tot->peak_bytes[s], MS_SIZE_COMPACT));
	}
	/* Residency (SPEC section 8): what the kernel holds of it, and the waste. */
	if (tot->residency)
		put(t, 1, x, A_NORMAL, "resident %s untouched %s lazy %s",
		    ms_fmt_size(a, sizeof(a), tot->resident[MS_PREPARED] + tot->resident[MS_READY],
				MS_SIZE_COMPACT),
		    ms_fmt_size(b, sizeof(b), tot->bytes[MS_READY] - tot->resident[MS_READY],
				MS_SIZE_COMPACT),
		    ms_fmt_size(r, sizeof(r), tot->lazy_free, MS_SIZE_COMPACT));
	x = 0;
	snprintf(counters, sizeof(counters),
		 "  events %" PRIu64 " (%s/s)  faults %" PRIu64 "  THP %" PRIu64, tot->events,
		 fmt_rate(r, sizeof(r), t->m.rate), tot->page_faults, tot->thp_collapses);
	if (p)
		x = put(t, 2, x, A_BOLD, "pid %u", p->pid);
	else
		x = put(t, 2, x, A_BOLD, "no process yet");
	/* The program's name only where it leaves room for the counters. */
	if (p && p->exe[0] && t->cols - 60 - (int)strlen(counters) > x)
		x = put(t, 2, x, A_BOLD, " %.24s", base_name(p->exe));
	if (p && p->exited) {
		if (p->exit_signal)
			x = put(t, 2, x, pair(t, TUI_P_DIM), " (killed by signal %d)",
				p->exit_signal);
		else
			x = put(t, 2, x, pair(t, TUI_P_DIM), " (exited %d)", p->exit_code);
	}
	if (t->m.nprocs > 1)
		x = put(t, 2, x, A_NORMAL, " [%u/%u]", t->m.sel + 1, t->m.nprocs);
	x = put(t, 2, x, A_NORMAL, "%s", counters);
	x = put(t, 2, x, tot->violations ? pair(t, TUI_P_VIOL) | A_BOLD : A_NORMAL,
		"  violations %" PRIu64, tot->violations);
	put(t, 2, x, A_NORMAL, "  drops %" PRIu64,
	    tot->dropped_events > t->m.dropped ? tot->dropped_events : t->m.dropped);
}

static void draw_legend(struct tui *t)
{
	static const unsigned order[] = {MS_READY, MS_PREPARED, MS_RESERVED};
	char sc[16], right[64];
	int x = 0;

	move(3, 0);
	clrtoeol();
	for (size_t i = 0; i < 3; i++) {
		struct ms_cell c = {.state = (uint8_t)order[i]};

		c.bytes[order[i]] = 1;
		mvaddch(3, x, (chtype)tui_cell_look(t, &c, false));
		x = put(t, 3, x + 1, A_NORMAL, "%s ", ms_state_name(order[i]));
	}
	if (t->res_view) {
		x = put(t, 3, x, A_BOLD, "#");
		x = put(t, 3, x, A_NORMAL,
			"resident +part .untouched (of Prepared/Ready; r: back)");
	} else if (t->color) {
		x = put(t, 3, x, pair(t, TUI_P_DIM), ".");
		x = put(t, 3, x, A_NORMAL, "none ");
		x = put(t, 3, x, pair(t, TUI_P_BREAK) | A_BOLD, "~");
		x = put(t, 3, x, A_NORMAL, "gap h/n hint T THP ");
		x = put(t, 3, x, pair(t, TUI_P_HEAT_NONE) | A_BOLD, "*");
		x = put(t, 3, x, A_NORMAL, "fault");
	} else {
		x = put(t, 3, x, A_NORMAL, ".none ~gap ");
		x = put(t, 3, x, A_UNDERLINE, "fault");
		x = put(t, 3, x, A_NORMAL, " ");
		x = put(t, 3, x, A_BOLD, "THP");
	}
	/* The scale always; the region count where it fits. */
	snprintf(right, sizeof(right), " %s/cell%s  %zu region%s",
		 ms_fmt_size(sc, sizeof(sc), t->m.map.scale, MS_SIZE_COMPACT),
		 t->scale_user ? "" : " auto", t->m.snap ? t->m.snap->nregions : (size_t)0,
		 t->m.snap && t->m.snap->nregions == 1 ? "" : "s");
	if (t->cols - (int)strlen(right) < x)
		snprintf(right, sizeof(right), " %s/cell",
			 ms_fmt_size(sc, sizeof(sc), t->m.map.scale, MS_SIZE_COMPACT));
	put(t, 3, t->cols - (int)strlen(right) > x ? t->cols - (int)strlen(right) : x, A_NORMAL,
	    "%s", right);
}

/* ------------------------------------------------------------------ map */

/* The residency view: what the kernel holds of each cell's Prepared and Ready bytes, from
 * the space's page bitmap (exact per cell, not spread over a region). */
static void cells_resident(struct ms_space *sp, struct ms_cell *cells, size_t count)
{
	ms_space_lock(sp);
	for (size_t i = 0; i < count; i++) {
		struct ms_cell *c = &cells[i];

		c->heat = 0;
		if ((c->flags & (MS_CELL_NOCELL | MS_CELL_BREAK)) ||
		    !(c->bytes[MS_PREPARED] + c->bytes[MS_READY]) ||
		    ms_space_resident_in_locked(sp, c->start, c->end - c->start, &c->resident,
						NULL))
			c->resident = 0;
	}
	ms_space_unlock(sp);
}

static void draw_map(struct tui *t)
{
	const struct ms_map *map = &t->m.map;
	size_t count = (size_t)t->map_rows * (size_t)t->map_cols;
	uint64_t first = t->top * (uint64_t)t->map_cols;

	if (count > t->cells_cap) {
		struct ms_cell *c = realloc(t->cells, count * sizeof(*c));

		if (!c)
			return;
		t->cells = c;
		t->cells_cap = count;
	}
	for (int r = 0; r < t->map_rows; r++) {
		move(t->map_y + r, 0);
		clrtoeol();
	}
	if (!map->ncells) {
		const char *why = t->m.nprocs == 0	     ? "waiting for the traced program..."
				  : t->m.replay && !t->m.pos ? "before the first event (] steps on)"
							     : "no regions";

		put(t, t->map_y + t->map_rows / 2, (t->cols - (int)strlen(why)) / 2,
		    pair(t, TUI_P_DIM), "%s", why);
		return;
	}
	ms_map_cells(map, first, count, t->cells);
	ms_heat_apply(&t->m.heat, map, first, count, t->cells, t->m.heat_now, t->m.heat_window);
	if (t->res_view && t->m.space)
		cells_resident(t->m.space, t->cells, count);
	for (int r = 0; r < t->map_rows; r++) {
		const struct ms_cell *row = &t->cells[(size_t)r * (size_t)t->map_cols];
		uint64_t label;

		if (row[0].flags & MS_CELL_NOCELL)
			break;
		label = row[0].flags & MS_CELL_BREAK ? row[0].end : row[0].start;
		put(t, t->map_y + r, 0, pair(t, TUI_P_DIM), "%0*" PRIx64, t->label_digits, label);
		move(t->map_y + r, t->map_x);
		for (int c = 0; c < t->map_cols; c++) {
			uint64_t cell = first + (uint64_t)r * (uint64_t)t->map_cols + (uint64_t)c;

			addch((chtype)tui_cell_look(t, &row[c], cell == t->cursor));
		}
	}
}

/* What the cell under the cursor holds, in words. */
static void draw_cursor_row(struct tui *t)
{
	const struct tui_model *m = &t->m;
	int y = t->map_y + t->map_rows, x;
	char a[16];
	struct ms_cell c;

	move(y, 0);
	clrtoeol();
	if (!m->map.ncells)
		return;
	ms_map_cells(&m->map, t->cursor, 1, &c);
	x = put(t, y, 0, A_BOLD, "@ %0*" PRIx64, t->label_digits,
		c.flags & MS_CELL_BREAK ? c.start : t->cursor_addr);
	if (c.flags & MS_CELL_BREAK) {
		put(t, y, x, A_NORMAL, "  gap of %s collapsed, up to %012" PRIx64,
		    ms_fmt_size(a, sizeof(a), c.end - c.start, MS_SIZE_COMPACT), c.end);
		return;
	}
	if (c.region == SIZE_MAX) {
		put(t, y, x, pair(t, TUI_P_DIM), "  None: not owned");
		return;
	}
	{
		const struct ms_region *r = &m->snap->regions[c.region];
		struct ms_stat_info si = {0};

		if (r->stat && m->space)
			ms_space_stat_info(m->space, r->stat, &si);
		x = put(t, y, x, A_NORMAL, "  ");
		x = put(t, y, x, A_BOLD, "%s", ms_state_name(r->state));
		x = put(t, y, x, A_NORMAL, " %012" PRIx64 "-%012" PRIx64 " %s%s%s%s", r->start,
			r->end, ms_fmt_size(a, sizeof(a), r->end - r->start, MS_SIZE_COMPACT),
			si.name ? " " : "", si.name ? si.name : "",
			(r->flags & MS_RF_THP) ? " THP" : "");
		if (t->res_view && m->space && c.bytes[MS_PREPARED] + c.bytes[MS_READY]) {
			char b[16];

			cells_resident(m->space, &c, 1);
			x = put(t, y, x, A_NORMAL, "  cell resident %s of %s",
				ms_fmt_size(a, sizeof(a), c.resident, MS_SIZE_COMPACT),
				ms_fmt_size(b, sizeof(b), c.bytes[MS_PREPARED] + c.bytes[MS_READY],
					    MS_SIZE_COMPACT));
		}
		if (c.nregions > 1)
			put(t, y, x, pair(t, TUI_P_DIM), "  (+%zu more in this cell)",
			    c.nregions - 1);
	}
}

/* ------------------------------------------------------------------ event log */

static void fmt_from_to(const struct ms_event *ev, char *buf, size_t len)
{
	const char *from = NULL;
	unsigned n = 0;

	for (unsigned s = 0; s < MS_STATE_COUNT; s++) {
		if (ev->from[s]) {
			from = ms_state_name(s);
			n++;
		}
	}
	if (n > 1)
		from = "mixed";
	if (ms_op_is_proc(ev->op) || !from) {
		buf[0] = 0;
		return;
	}
	if (ev->to == MS_STATE_UNCHANGED || ev->to >= MS_STATE_COUNT)
		snprintf(buf, len, "%s", from);
	else
		snprintf(buf, len, "%s->%s", from, ms_state_name(ev->to));
}

/* One event as a log line (also used by the details window). */
static void fmt_event(const struct tui *t, const struct ms_event *ev, char *buf, size_t len)
{
	char sz[16], ft[40];
	uint64_t rel = ev->t_ns >= t->m.t0_ns ? ev->t_ns - t->m.t0_ns : 0;
	int n;

	/* A violation's kind matters more than its states: it takes their place. */
	/* "!?": after the capture lost events, it may be an artefact of what is missing. */
	if (ev->violation)
		snprintf(ft, sizeof(ft), "%s %s", (ev->flags & MS_EVF_LOSSY) ? "!?" : "!!",
			 ms_violation_name(ev->violation));
	else
		fmt_from_to(ev, ft, sizeof(ft));
	/* The pid column only when there is more than one process to tell apart. */
	if (t->m.nprocs > 1)
		n = snprintf(buf, len, "%7" PRIu64 " %10.6f %6u %-13s", ev->seq, (double)rel / 1e9,
			     ev->pid, ms_op_name(ev->op));
	else
		n = snprintf(buf, len, "%7" PRIu64 " %10.6f %-13s", ev->seq, (double)rel / 1e9,
			     ms_op_name(ev->op));
	if (n < 0 || (size_t)n >= len)
		return;
	if (ev->op == MS_OP_PROC_FORK)
		snprintf(buf + n, len - (size_t)n, " from %" PRIu64, ev->arg);
	else if (ev->op == MS_OP_PROC_EXIT)
		snprintf(buf + n, len - (size_t)n, " code %d signal %u", ev->result, ev->aux);
	else if (!ms_op_is_proc(ev->op))
		snprintf(buf + n, len - (size_t)n, " %012" PRIx64 " %7s %s%s", ev->addr,
			 ms_fmt_size(sz, sizeof(sz), ev->len, MS_SIZE_COMPACT), ft,
			 (ev->flags & MS_EVF_FAILED) ? " (failed)" : "");
}

static const char *event_message(const struct tui *t, const struct ms_event *ev)
{
	if (t->rp) {
		size_t i = ms_replay_find_seq(t->rp, ev->seq);

		return i == SIZE_MAX ? NULL : ms_replay_message(t->rp, i);
	}
	return tui_vmsg_find(&t->m, ev->pid, ev->seq);
}

static void draw_event_line(const struct tui *t, int y, const struct ms_event *ev, bool current)
{
	char line[400];
	attr_t a = current ? A_BOLD : A_NORMAL;
	int x;

	fmt_event(t, ev, line, sizeof(line));
	move(y, 0);
	clrtoeol();
	if (ev->violation) {
		const char *msg = event_message(t, ev);

		a = t->color ? COLOR_PAIR(TUI_P_VIOL) | A_BOLD : A_BOLD | A_REVERSE;
		x = put(t, y, 0, a, "%s%s%s", line, msg ? ": " : "", msg ? msg : "");
		fill_row(t, y, x, a);
		return;
	}
	put(t, y, 0, current ? a | A_REVERSE : a, "%s", line);
}

static void draw_log(struct tui *t)
{
	const struct tui_model *m = &t->m;
	uint64_t n = m->log_head < m->log_cap ? m->log_head : m->log_cap;
	uint64_t shown = n < (uint64_t)t->log_rows ? n : (uint64_t)t->log_rows;
	attr_t ha = t->color ? COLOR_PAIR(TUI_P_HEADER) : A_REVERSE;
	int y = t->log_y - 1, x;

	fill_row(t, y, 0, ha);
	x = put(t, y, 0, ha | A_BOLD, "%s",
		m->nprocs > 1 ? "    seq          t    pid op            address        len"
			      : "    seq          t op            address        len");
	if (m->skipped)
		x = put(t, y, x, ha, "  %" PRIu64 " not shown (fell behind)", m->skipped);
	if (m->scan_fail)
		put(t, y, x, ha | A_BOLD, "  out of memory: %" PRIu64 " stale frames",
		    m->scan_fail);
	for (int r = 0; r < t->log_rows; r++) {
		move(t->log_y + r, 0);
		clrtoeol();
	}
	for (uint64_t i = 0; i < shown; i++) {
		uint64_t idx = m->log_head - shown + i;

		draw_event_line(t, t->log_y + (int)i, &m->log[idx & (m->log_cap - 1)],
				m->replay && idx + 1 == m->log_head);
	}
}

/* ------------------------------------------------------------------ key bar */

static void draw_keys(struct tui *t)
{
	static const char *const live_keys[][2] = {
		{"?", "Help"},	 {"q", "Quit"},	     {"Spc", "Pause"}, {"+-", "Zoom"},
		{"Ent", "Info"}, {"v", "Violation"}, {"/", "Goto"},    {"p", "Process"},
	};
	static const char *const replay_keys[][2] = {
		{"?", "Help"},	 {"q", "Quit"},	  {"Spc", "Play"}, {"[]", "Step"},
		{"{}", "Jump"},	 {"<>", "Speed"}, {"v", "Viol"},   {"g", "Seq"},
		{"Ent", "Info"}, {"+-", "Zoom"},  {"/", "Goto"},   {"p", "Proc"},
	};
	const char *const(*keys)[2] = t->m.replay ? replay_keys : live_keys;
	size_t nkeys = t->m.replay ? sizeof(replay_keys) / sizeof(replay_keys[0])
				   : sizeof(live_keys) / sizeof(live_keys[0]);
	int y = t->rows - 1, x = 0;

	move(y, 0);
	clrtoeol();
	if (t->ov != TUI_OV_PROMPT && t->status[0] && ms_now_ns() < t->status_until) {
		put(t, y, 0, A_BOLD, "%s", t->status);
		return;
	}
	if (t->ov == TUI_OV_PROMPT) {
		x = put(t, y, 0, A_BOLD, "%s",
			t->prompt == TUI_PR_ADDR  ? "Go to address (hex): "
			: t->prompt == TUI_PR_SEQ ? "Go to event seq: "
						  : "Go to time (seconds into the trace): ");
		x = put(t, y, x, A_NORMAL, "%s", t->input);
		put(t, y, x, A_REVERSE, " ");
		put(t, y, x + 2, pair(t, TUI_P_DIM), "(Enter go, Esc cancel)");
		return;
	}
	for (size_t i = 0; i < nkeys && x < t->cols; i++) {
		x = put(t, y, x, A_BOLD, "%s", keys[i][0]);
		x = put(t, y, x, t->color ? COLOR_PAIR(TUI_P_KEYLABEL) : A_REVERSE, "%-6s",
			keys[i][1]);
		x = put(t, y, x, A_NORMAL, " ");
	}
}

/* ------------------------------------------------------------------ overlays */

static WINDOW *popup(const struct tui *t, int h, int w, const char *title)
{
	WINDOW *win;

	if (h > t->rows - 2)
		h = t->rows - 2;
	if (w > t->cols - 2)
		w = t->cols - 2;
	if (h < 3 || w < 10)
		return NULL;
	win = newwin(h, w, (t->rows - h) / 2, (t->cols - w) / 2);
	if (!win)
		return NULL;
	werase(win);
	box(win, 0, 0);
	wattron(win, A_BOLD);
	mvwprintw(win, 0, 2, " %s ", title);
	wattroff(win, A_BOLD);
	return win;
}

/* Clipped line inside a popup. */
__attribute__((format(printf, 5, 6))) static void wline(WINDOW *w, int y, attr_t a, int indent,
							const char *fmt, ...)
{
	char buf[512];
	int width = getmaxx(w) - 2 - indent, h = getmaxy(w);
	va_list ap;

	if (y <= 0 || y >= h - 1 || width <= 0)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	wattrset(w, a);
	mvwaddnstr(w, y, 1 + indent, buf, width);
	wattrset(w, A_NORMAL);
}

static void draw_help(struct tui *t)
{
	static const char *const lines[] = {
		"Arrows, hjkl   move the cursor over the map (the map scrolls)",
		"PgUp PgDn      a page up / down      Home End  first / last cell",
		"+ -            zoom in / out          0  automatic scale",
		"Enter          details of the region under the cursor",
		"v V            next / previous violation",
		"/              go to an address (hex)",
		"p              pick the process shown",
		"r              residency: # resident, + part, . untouched (per cell)",
		"space          pause (live) / play (replay)",
		"Ctrl-L         redraw          F  frame time in the title",
		"q              quit",
		"",
		"Replay:  ] [  step one event   } {  jump 5% of the events",
		"         > <  play faster / slower   g  go to event seq   t  go to a time",
		"         b e  the beginning / the end of the timeline",
		"",
		"Map: one cell = a fixed number of bytes (see 'cell' on the legend row);",
		"a cell shows the state holding most of its bytes. ~ is a collapsed gap",
		"between distant areas. Colours or characters: see the legend row.",
	};
	size_t n = sizeof(lines) / sizeof(lines[0]);
	WINDOW *w = popup(t, (int)n + 4, 78, "memstate help (any key closes)");

	if (!w)
		return;
	for (size_t i = 0; i < n; i++)
		wline(w, (int)i + 2, A_NORMAL, 1, "%s", lines[i]);
	wnoutrefresh(w);
	delwin(w);
}

/*
 * The violation `v` landed on, when it touched [s, e) of the process shown and the newest
 * events (hist[0..nh), oldest first) leave it out: it takes the oldest line, so that the
 * details opened from a violation always show it. Returns the new count.
 */
static size_t pin_violation(const struct tui *t, uint64_t s, uint64_t e, struct ms_event *hist,
			    size_t nh, size_t max)
{
	const struct ms_event *v = &t->viol_ev;

	if (!t->viol_ev_set || v->pid != t->det_pid || !max || v->addr >= e ||
	    v->addr + (v->len ? v->len : 1) <= s)
		return nh;
	for (size_t i = 0; i < nh; i++) {
		if (hist[i].seq == v->seq)
			return nh;
	}
	if (nh < max) {
		memmove(hist + 1, hist, nh * sizeof(*hist));
		nh++;
	}
	hist[0] = *v;
	return nh;
}

static void draw_details(struct tui *t)
{
	const struct tui_model *m = &t->m;
	const struct ms_region *r = NULL;
	struct ms_cell c;
	struct ms_event hist[64];
	uint64_t matched = 0;
	size_t idx = SIZE_MAX, nh = 0;
	char a[16], b[16], cc[16], dd[16];
	int y = 1, h = t->rows - 2;
	WINDOW *w;

	if (m->snap)
		idx = ms_map_find_region(m->snap->regions, m->snap->nregions, t->det_addr);
	w = popup(t, h, 100, "region details (Esc/Enter closes)");
	if (!w)
		return;
	h = getmaxy(w);
	if (idx != SIZE_MAX) {
		struct ms_stat_info si = {0};

		r = &m->snap->regions[idx];
		if (r->stat && m->space)
			ms_space_stat_info(m->space, r->stat, &si);
		wline(w, y++, A_BOLD, 1, "%012" PRIx64 "-%012" PRIx64 "  %s  pid %u", r->start,
		      r->end, ms_fmt_size(a, sizeof(a), r->end - r->start, MS_SIZE_COMPACT),
		      t->det_pid);
		wline(w, y++, A_NORMAL, 1, "state %s   stat %s   kind %s   advice %s   THP %s",
		      ms_state_name(r->state), si.name ? si.name : "-", ms_kind_name(r->kind),
		      ms_huge_name(r->huge) ? ms_huge_name(r->huge) : "default",
		      (r->flags & MS_RF_THP) ? "yes" : "no");
		uint64_t faults = r->faults, collapses = r->thp_collapses;

		if (m->replay)
			tui_region_counts(t, t->det_pid, r->start, r->end, &faults, &collapses);
		wline(w, y++, A_NORMAL, 1, "faults %" PRIu64 "   THP collapses %" PRIu64 "%s",
		      faults, collapses,
		      (r->flags & MS_RF_INFERRED) ? "   (Prepared inferred from syscalls)" : "");
	} else {
		wline(w, y++, A_BOLD, 1, "%012" PRIx64 " is not owned by pid %u (None)",
		      t->det_addr, t->det_pid);
		y++;
		y++;
	}
	ms_map_cells(&m->map, t->cursor, 1, &c);
	if (c.flags & MS_CELL_BREAK)
		wline(w, y++, A_NORMAL, 1,
		      "cell: a gap of %s collapsed (%012" PRIx64 "-%012" PRIx64 ")",
		      ms_fmt_size(a, sizeof(a), c.end - c.start, MS_SIZE_COMPACT), c.start, c.end);
	else if (!(c.flags & MS_CELL_NOCELL))
		wline(w, y++, A_NORMAL, 1,
		      "cell %012" PRIx64 "+%s: Ready %s Prepared %s Reserved %s, %zu region%s",
		      c.start, ms_fmt_size(a, sizeof(a), c.end - c.start, MS_SIZE_COMPACT),
		      ms_fmt_size(b, sizeof(b), c.bytes[MS_READY], MS_SIZE_COMPACT),
		      ms_fmt_size(cc, sizeof(cc), c.bytes[MS_PREPARED], MS_SIZE_COMPACT),
		      ms_fmt_size(dd, sizeof(dd), c.bytes[MS_RESERVED], MS_SIZE_COMPACT),
		      c.nregions, c.nregions == 1 ? "" : "s");
	y++;
	{
		uint64_t s = r ? r->start : t->det_addr, e = r ? r->end : t->det_addr + 1;
		size_t max = (size_t)(h - y - 3 > 0 ? h - y - 3 : 0);

		if (max > sizeof(hist) / sizeof(hist[0]))
			max = sizeof(hist) / sizeof(hist[0]);
		nh = tui_history(t, t->det_pid, s, e, hist, max, &matched);
		nh = pin_violation(t, s, e, hist, nh, max);
	}
	wline(w, y++, A_BOLD, 1, "History: %" PRIu64 " event%s touched it%s%s", matched,
	      matched == 1 ? "" : "s", m->replay ? " up to here" : " (among those kept)",
	      matched > nh ? ", newest shown" : "");
	for (size_t i = 0; i < nh; i++) {
		char line[400];

		fmt_event(t, &hist[i], line, sizeof(line));
		if (hist[i].violation) {
			const char *msg = event_message(t, &hist[i]);

			wline(w, y++, t->color ? COLOR_PAIR(TUI_P_VIOL) : A_REVERSE, 1, "%s%s%s",
			      line, msg ? ": " : "", msg ? msg : "");
		} else {
			wline(w, y++, A_NORMAL, 1, "%s", line);
		}
	}
	wnoutrefresh(w);
	delwin(w);
}

static void draw_procs(struct tui *t)
{
	const struct tui_model *m = &t->m;
	int h = (int)m->nprocs + 4;
	WINDOW *w = popup(t, h < 6 ? 6 : h, 96, "pick a process (Enter shows it, Esc closes)");
	int rows, first = 0;

	if (!w)
		return;
	rows = getmaxy(w) - 3;
	if ((int)t->pick >= first + rows)
		first = (int)t->pick - rows + 1;
	wline(w, 1, A_BOLD, 1, "%7s %7s %-8s %8s %8s %8s %6s  %s", "pid", "ppid", "state", "Ready",
	      "Prepared", "Reserved", "viol", "program");
	for (int i = first; i < (int)m->nprocs && i - first < rows; i++) {
		const struct tui_proc *p = &m->procs[i];
		char a[16], b[16], c[16], st[16];

		if (p->exited)
			snprintf(st, sizeof(st), p->exit_signal ? "sig %d" : "exit %d",
				 p->exit_signal ? p->exit_signal : p->exit_code);
		else
			snprintf(st, sizeof(st), "%s", p->alive ? "running" : "-");
		wline(w, 2 + i - first, (unsigned)i == t->pick ? A_REVERSE : A_NORMAL, 1,
		      "%7u %7u %-8s %8s %8s %8s %6" PRIu64 "  %s", p->pid, p->ppid, st,
		      ms_fmt_size(a, sizeof(a), p->tot.bytes[MS_READY], MS_SIZE_COMPACT),
		      ms_fmt_size(b, sizeof(b), p->tot.bytes[MS_PREPARED], MS_SIZE_COMPACT),
		      ms_fmt_size(c, sizeof(c), p->tot.bytes[MS_RESERVED], MS_SIZE_COMPACT),
		      p->tot.violations, p->exe);
	}
	wnoutrefresh(w);
	delwin(w);
}

/* ------------------------------------------------------------------ the frame */

void tui_draw(struct tui *t)
{
	erase();
	if (t->too_small) {
		put(t, 0, 0, A_BOLD, "memstate: terminal too small (%dx%d, needs %dx%d); q quits",
		    t->cols, t->rows, MIN_COLS, MIN_ROWS);
		wnoutrefresh(stdscr);
		doupdate();
		return;
	}
	draw_title(t);
	draw_totals(t);
	draw_legend(t);
	draw_map(t);
	draw_cursor_row(t);
	draw_log(t);
	draw_keys(t);
	wnoutrefresh(stdscr);
	switch (t->ov) {
	case TUI_OV_HELP:
		draw_help(t);
		break;
	case TUI_OV_DETAILS:
		draw_details(t);
		break;
	case TUI_OV_PROCS:
		draw_procs(t);
		break;
	default:
		break;
	}
	doupdate();
}
