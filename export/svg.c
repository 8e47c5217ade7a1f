// SPDX-License-Identifier: MIT
/*
 * Timeline -> SVG: a picture of how a program's address space lived.
 *
 * One panel per process (the --pid one, or the busiest few): time runs across, addresses
 * run down, each cell is coloured by the state that holds most of its bytes at the end of
 * its time slice; violations are red marks with their message as a tooltip, THP collapses
 * purple ones. Beside each panel, the final state map on the same address rows.
 *
 * Addresses: the ranges that ever held a state are gathered in a first pass and merged;
 * the largest gaps between them are collapsed (drawn as a break with the size skipped), so
 * a heap near 0x5600... and mappings near 0x7fff... share one picture. Each remaining band
 * gets height in proportion to its size, with a minimum so that small ones stay visible.
 *
 * The second pass replays again and samples every panel's space at each column boundary:
 * memory is the grid (columns x rows bytes) and the marks, never the trace.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* ------------------------------------------------------------------ text */

static void put_fmt(struct ms_jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put_fmt(struct ms_jbuf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		ms_jb_put(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* XML text: escaped, and only valid UTF-8 without control characters (else '?'). */
static void put_text(struct ms_jbuf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n = 1;

		if (*p == '&')
			ms_jb_puts(b, "&amp;");
		else if (*p == '<')
			ms_jb_puts(b, "&lt;");
		else if (*p == '>')
			ms_jb_puts(b, "&gt;");
		else if (*p == '"')
			ms_jb_puts(b, "&quot;");
		else if (*p < 0x20 || *p == 0x7f)
			ms_jb_put(b, "?", 1);
		else if (*p < 0x80)
			ms_jb_put(b, (const char *)p, 1);
		else {
			/* Copy a whole valid UTF-8 sequence, or one '?' for a bad byte. */
			size_t len = (*p & 0xe0) == 0xc0   ? 2
				     : (*p & 0xf0) == 0xe0 ? 3
				     : (*p & 0xf8) == 0xf0 ? 4
							   : 0;
			bool ok = len != 0 && *p != 0xc0 && *p != 0xc1 && *p < 0xf5;

			for (size_t i = 1; ok && i < len; i++)
				ok = (p[i] & 0xc0) == 0x80;
			if (ok)
				ms_jb_put(b, (const char *)p, len), n = len;
			else
				ms_jb_put(b, "?", 1);
		}
		p += n;
	}
}

static void fmt_bytes(char *buf, size_t len, uint64_t v)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	double d = (double)v;
	int u = 0;

	while (d >= 1024 && u < 6) {
		d /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%" PRIu64 " B", v);
	else
		snprintf(buf, len, "%.*f %s", d < 10 ? 1 : 0, d, unit[u]);
}

static void fmt_time(char *buf, size_t len, uint64_t ns)
{
	if (ns == 0)
		snprintf(buf, len, "0");
	else if (ns < 1000)
		snprintf(buf, len, "%" PRIu64 " ns", ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%g µs", (double)ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, len, "%g ms", (double)ns / 1e6);
	else
		snprintf(buf, len, "%g s", (double)ns / 1e9);
}

/* ------------------------------------------------------------------ pass 1: layout */

static int cmp_extent(const void *a, const void *b)
{
	const struct extent *x = a, *y = b;

	return x->s < y->s ? -1 : x->s > y->s;
}

/* Sort and merge touching or overlapping extents in place. */
static void merge_extents(struct panel *pn)
{
	size_t out = 0;

	if (!pn->next)
		return;
	qsort(pn->ext, pn->next, sizeof(*pn->ext), cmp_extent);
	for (size_t i = 1; i < pn->next; i++) {
		if (pn->ext[i].s <= pn->ext[out].e) {
			if (pn->ext[i].e > pn->ext[out].e)
				pn->ext[out].e = pn->ext[i].e;
		} else {
			pn->ext[++out] = pn->ext[i];
		}
	}
	pn->next = out + 1;
}

static int add_extent(struct panel *pn, uint64_t s, uint64_t e)
{
	if (e <= s)
		return 0;
	if (pn->next == pn->ext_cap) {
		size_t cap;
		struct extent *grown;

		merge_extents(pn);
		/* Grow only when merging did not free at least half. */
		if (pn->next * 2 < pn->ext_cap)
			goto add;
		cap = pn->ext_cap ? 2 * pn->ext_cap : 4096;
		grown = realloc(pn->ext, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		pn->ext = grown;
		pn->ext_cap = cap;
	}
add:
	pn->ext[pn->next++] = (struct extent){s, e};
	return 0;
}

/*
 * Pass 1 reads without replaying (layout needs ranges, not states): one record per
 * process, found through a small open-addressing table by pid.
 */
struct lay {
	uint32_t pid;	 /* whose */
	char *exe;	 /* from the processes section */
	size_t order;	 /* when it first appeared */
	struct panel pn; /* extents gathered so far */
};

struct lays {
	struct lay *v;	/* records, in order of appearance */
	size_t n, cap;	/* used and allocated */
	uint32_t *slot; /* index+1 into v, 0 when free */
	size_t nslot;	/* a power of two */
};

static struct lay *lay_get(struct lays *ls, uint32_t pid, bool add)
{
	size_t s;

	if (ls->nslot) {
		for (s = (pid * 2654435761u) & (ls->nslot - 1); ls->slot[s];
		     s = (s + 1) & (ls->nslot - 1)) {
			if (ls->v[ls->slot[s] - 1].pid == pid)
				return &ls->v[ls->slot[s] - 1];
		}
	}
	if (!add)
		return NULL;
	if (ls->n == ls->cap) {
		size_t cap = ls->cap ? 2 * ls->cap : 16;
		struct lay *v = realloc(ls->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		ls->v = v;
		ls->cap = cap;
	}
	if ((ls->n + 1) * 2 > ls->nslot) {
		size_t nslot = ls->nslot ? 2 * ls->nslot : 64;
		uint32_t *slot = calloc(nslot, sizeof(*slot));

		if (!slot)
			return NULL;
		for (size_t i = 0; i < ls->n; i++) {
			for (s = (ls->v[i].pid * 2654435761u) & (nslot - 1); slot[s];
			     s = (s + 1) & (nslot - 1))
				;
			slot[s] = (uint32_t)i + 1;
		}
		free(ls->slot);
		ls->slot = slot;
		ls->nslot = nslot;
	}
	for (s = (pid * 2654435761u) & (ls->nslot - 1); ls->slot[s]; s = (s + 1) & (ls->nslot - 1))
		;
	ls->v[ls->n] = (struct lay){.pid = pid, .order = ls->n};
	ls->slot[s] = (uint32_t)++ls->n;
	return &ls->v[ls->n - 1];
}

static int pass1_event(struct svg *g, struct lays *ls, const struct ms_event *ev, unsigned recorded,
		       bool *any)
{
	/* A minimal event without "to": every operation but a free leaves its range owned. */
	bool owned = (recorded & MS_TLE_TO) ? ev->to != MS_NONE && ev->to < MS_STATE_COUNT
					    : ev->op != MS_OP_FREE;

	struct lay *l, *parent;

	if (!*any || ev->t_ns < g->t0)
		g->t0 = ev->t_ns;
	if (!*any || ev->t_ns > g->t1)
		g->t1 = ev->t_ns;
	*any = true;
	if (ev->op == MS_OP_PROC_FORK && lay_get(ls, (uint32_t)ev->arg, false) &&
	    !lay_get(ls, ev->pid, false)) {
		/* The child starts with its parent's map: the ranges its parent used so far. */
		if (!(l = lay_get(ls, ev->pid, true)))
			return -ENOMEM;
		parent = lay_get(ls, (uint32_t)ev->arg, false);
		merge_extents(&parent->pn);
		for (size_t i = 0; i < parent->pn.next; i++)
			if (add_extent(&l->pn, parent->pn.ext[i].s, parent->pn.ext[i].e))
				return -ENOMEM;
	}
	if (!(l = lay_get(ls, ev->pid, true)))
		return -ENOMEM;
	l->pn.events++;
	if (!ms_op_is_proc(ev->op) && ev->op != MS_OP_PAGE_FAULT && owned && ev->len && !ev->result)
		return add_extent(&l->pn, ev->addr,
				  ev->addr + ev->len < ev->addr ? UINT64_MAX : ev->addr + ev->len);
	return 0;
}

static int pass1(struct svg *g, const char *path)
{
	struct lays ls = {0};
	struct ms_tl_reader *r;
	struct ms_tl_item it;
	struct lay *l;
	bool any = false;
	char msg[600];
	int ret, err = 0;

	r = ms_tlr_open(path, &err, msg, sizeof(msg));
	if (!r)
		return ms_conv_fail(g->o, err ? err : -EINVAL, path, msg);
	while ((ret = ms_tlr_next(r, &it)) == 1) {
		if (it.type == MS_TLI_HEADER) {
			size_t off = 0;

			for (int i = 0; i < it.header.argc && off < sizeof(g->title) - 1; i++)
				off += (size_t)snprintf(g->title + off, sizeof(g->title) - off,
							"%s%s", i ? " " : "", it.header.argv[i]);
		} else if (it.type == MS_TLI_EVENT) {
			if (pass1_event(g, &ls, &it.event.ev, it.event.recorded, &any)) {
				ret = -ENOMEM;
				break;
			}
		} else if (it.type == MS_TLI_PROCESS && (l = lay_get(&ls, it.process.pid, false)) &&
			   it.process.exe) {
			free(l->exe);
			l->exe = strdup(it.process.exe);
		}
	}
	if (ret == -ENOMEM) {
		ret = ms_conv_error(g->o, ret, "out of memory");
	} else if (ret < 0) {
		ret = ms_conv_fail(g->o, ret, path, ms_tlr_error(r));
	} else {
		ret = 0; /* a cut-short JSON Lines file is said so by pass 2 */
	}
	/* Pick the panels: the --pid one, else the busiest processes that held memory. */
	for (unsigned k = 0; !ret && k < MAX_PANELS; k++) {
		struct lay *best = NULL;

		for (size_t i = 0; i < ls.n; i++) {
			l = &ls.v[i];
			if (!l->pn.next || l->pn.pid == UINT32_MAX)
				continue;
			if (g->o->pid && l->pid != g->o->pid)
				continue;
			if (!best || l->pn.events > best->pn.events)
				best = l;
		}
		if (!best)
			break;
		{
			struct panel *pn = &g->panels[g->npanels++];

			*pn = best->pn;
			pn->pid = best->pid;
			pn->order = best->order;
			best->pn.ext = NULL; /* moved */
			best->pn.pid = UINT32_MAX;
			snprintf(pn->title, sizeof(pn->title), "pid %u%s%.160s", best->pid,
				 best->exe ? " " : "", best->exe ? best->exe : "");
			merge_extents(pn);
		}
		if (g->o->pid)
			break;
	}
	/* Drawn in the order the processes appeared (a parent above its children). */
	for (unsigned i = 1; i < g->npanels; i++) {
		for (unsigned k = i; k > 0 && g->panels[k - 1].order > g->panels[k].order; k--) {
			struct panel tmp = g->panels[k];

			g->panels[k] = g->panels[k - 1];
			g->panels[k - 1] = tmp;
		}
	}
	if (!ret && g->o->pid && !g->npanels)
		ret = ms_conv_error(g->o, -ESRCH, "%s has no memory of pid %u to draw",
				    ms_tlr_name(r), g->o->pid);
	for (size_t i = 0; i < ls.n; i++) {
		free(ls.v[i].pn.ext);
		free(ls.v[i].exe);
	}
	free(ls.v);
	free(ls.slot);
	ms_tlr_close(r);
	return ret;
}

/* Bands of a panel: collapse the largest gaps, give each band rows in proportion. */
static void layout_bands(struct panel *pn, unsigned height)
{
	size_t n = pn->next, nb;
	uint64_t total = 0;
	unsigned avail, used = 0;
	bool *cut;

	if (!n)
		return;
	/* Cut at the MAX_BANDS-1 largest gaps (but only gaps larger than what they join). */
	cut = calloc(n, sizeof(*cut));
	if (!cut)
		return;
	for (unsigned k = 0; k + 1 < MAX_BANDS; k++) {
		size_t best = 0;
		uint64_t gap = 0;

		for (size_t i = 1; i < n; i++) {
			uint64_t gi = pn->ext[i].s - pn->ext[i - 1].e;

			if (!cut[i] && gi > gap) {
				gap = gi;
				best = i;
			}
		}
		if (!best)
			break;
		cut[best] = true;
	}
	nb = 0;
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || cut[i])
			pn->bands[nb++] = (struct band){.s = pn->ext[i].s, .e = pn->ext[i].e};
		else
			pn->bands[nb - 1].e = pn->ext[i].e;
	}
	free(cut);
	pn->nbands = (unsigned)nb;
	for (unsigned i = 0; i < pn->nbands; i++)
		total += pn->bands[i].e - pn->bands[i].s;
	avail = height > (pn->nbands - 1) * GAP_PX + pn->nbands * 2
			? height - (pn->nbands - 1) * GAP_PX
			: pn->nbands * 2;
	/* Proportional heights, lifted to a minimum; the rest shares what is left. */
	{
		unsigned small = 0, fixed = 0;
		uint64_t big = 0;

		for (unsigned i = 0; i < pn->nbands; i++) {
			uint64_t len = pn->bands[i].e - pn->bands[i].s;

			if ((unsigned __int128)avail * len / total < MIN_BAND_PX) {
				small++;
				fixed += MIN_BAND_PX;
			} else {
				big += len;
			}
		}
		if (fixed > avail / 2) /* too many small bands: share equally */
			big = 0;
		for (unsigned i = 0; i < pn->nbands; i++) {
			uint64_t len = pn->bands[i].e - pn->bands[i].s;
			unsigned h;

			if (!big)
				h = avail / pn->nbands;
			else if ((unsigned __int128)avail * len / total < MIN_BAND_PX)
				h = MIN_BAND_PX;
			else
				h = (unsigned)((unsigned __int128)(avail - fixed) * len / big);
			pn->bands[i].h = h ? h : 1;
		}
		(void)small;
	}
	for (unsigned i = 0; i < pn->nbands; i++) {
		pn->bands[i].y = used;
		used += pn->bands[i].h + (i + 1 < pn->nbands ? GAP_PX : 0);
	}
	pn->rows = used;
}

/* ------------------------------------------------------------------ pass 2: sampling */

/* Row of address a in band bd (relative to the band's first row). */
static unsigned row_of(const struct band *bd, uint64_t a)
{
	return (unsigned)((unsigned __int128)(a - bd->s) * bd->h / (bd->e - bd->s));
}

struct sample_ctx {
	struct panel *pn;      /* whose rows */
	const struct band *bd; /* the band being sampled */
};

static int sample_region(const struct ms_region *r, void *arg)
{
	struct sample_ctx *c = arg;
	const struct band *bd = c->bd;
	uint64_t len = bd->e - bd->s;
	unsigned cls = r->kind == MS_KIND_FILE ? C_FILE : r->state, r0, r1;

	if (r->end <= bd->s || r->start >= bd->e || cls >= C_COUNT)
		return 0;
	r0 = row_of(bd, r->start > bd->s ? r->start : bd->s);
	r1 = row_of(bd, (r->end < bd->e ? r->end : bd->e) - 1);
	for (unsigned row = r0; row <= r1 && row < bd->h; row++) {
		uint64_t rs = bd->s + (uint64_t)((unsigned __int128)len * row / bd->h);
		uint64_t re = bd->s + (uint64_t)((unsigned __int128)len * (row + 1) / bd->h);
		uint64_t s = r->start > rs ? r->start : rs, e = r->end < re ? r->end : re;

		if (e > s)
			c->pn->acc[bd->y + row][cls] += e - s;
	}
	return 0;
}

static void sample_panel(struct svg *g, struct panel *pn, struct ms_space *sp, unsigned col)
{
	uint8_t *cells = pn->grid + (size_t)col * pn->rows;

	struct ms_totals tot;

	if (!sp) {
		memset(cells, C_NONE, pn->rows);
		return;
	}
	memset(pn->acc, 0, pn->rows * sizeof(*pn->acc));
	ms_space_lock(sp);
	ms_space_totals_locked(sp, &tot);
	pn->has_res |= tot.residency;
	pn->res[col] = tot.resident[MS_PREPARED] + tot.resident[MS_READY];
	if (pn->res[col] > pn->peak_res)
		pn->peak_res = pn->res[col];
	for (unsigned i = 0; i < pn->nbands; i++) {
		struct sample_ctx c = {pn, &pn->bands[i]};

		ms_space_foreach_in_locked(sp, pn->bands[i].s, pn->bands[i].e - pn->bands[i].s,
					   sample_region, &c);
	}
	ms_space_unlock(sp);
	for (unsigned row = 0; row < pn->rows; row++) {
		unsigned best = C_NONE;

		for (unsigned k = C_RESERVED; k < C_COUNT; k++) {
			if (pn->acc[row][k] > (best ? pn->acc[row][best] : 0))
				best = k;
		}
		cells[row] = (uint8_t)best;
	}
	(void)g;
}

static void add_mark(struct panel *pn, const struct ms_tlp_step *st)
{
	struct mark *m;

	if (st->ev.violation)
		pn->nviol++;
	else
		pn->nthp++;
	if (pn->nmarks >= MAX_MARKS)
		return;
	m = &pn->marks[pn->nmarks++];
	m->t = st->ev.t_ns;
	m->addr = st->ev.addr;
	m->violation = st->ev.violation;
	snprintf(m->msg, sizeof(m->msg), "%s: %s",
		 st->ev.violation ? ms_violation_name(st->ev.violation) : "THP collapse",
		 st->message ? st->message : ms_op_name(st->ev.op));
}

struct pass2_ctx {
	struct svg *g;	  /* the picture */
	struct ms_tlp *p; /* the playback, for the spaces */
	unsigned col;	  /* next column to sample */
	uint64_t last_t;  /* time only moves forward in the picture */
};

static void sample_all(struct pass2_ctx *c)
{
	for (unsigned i = 0; i < c->g->npanels; i++) {
		struct ms_tlp_proc *pr = ms_tlp_find(c->p, c->g->panels[i].pid);

		sample_panel(c->g, &c->g->panels[i], pr ? pr->sp : NULL, c->col);
	}
	c->col++;
}

/* Before an event is applied: every column that ended before it shows the state now. */
static void before_event(void *ctx, const struct ms_event *rec)
{
	struct pass2_ctx *c = ctx;
	struct svg *g = c->g;
	uint64_t t = rec->t_ns > c->last_t ? rec->t_ns : c->last_t;

	c->last_t = t;
	while (c->col < g->cols && t >= g->t0 + (uint64_t)(c->col + 1) * g->dt)
		sample_all(c);
}

static int pass2(struct svg *g, const char *path)
{
	struct pass2_ctx c = {.g = g};
	struct ms_tlp_step st;
	struct ms_tl_item it;
	char msg[600];
	int ret;

	c.p = ms_tlp_open(path, msg, sizeof(msg));
	if (!c.p)
		return ms_conv_fail(g->o, -EINVAL, path, msg);
	ms_tlp_set_hook(c.p, before_event, &c);
	while ((ret = ms_tlp_next(c.p, &it, &st)) == 1) {
		if (it.type != MS_TLI_EVENT)
			continue;
		for (unsigned i = 0; i < g->npanels; i++) {
			struct panel *pn = &g->panels[i];
			struct ms_totals tot;

			if (pn->pid != st.ev.pid)
				continue;
			if (st.ev.violation || (st.ev.op == MS_OP_THP_COLLAPSE && !st.ev.result))
				add_mark(pn, &st);
			if (st.changed) {
				ms_space_totals(st.proc->sp, &tot);
				if (tot.bytes[MS_READY] > pn->peak_ready)
					pn->peak_ready = tot.bytes[MS_READY];
			}
		}
	}
	if (ret < 0) {
		ret = ms_conv_fail(g->o, ret, path, ms_tlp_error(c.p));
		ms_tlp_close(c.p);
		return ret;
	}
	if (ret == MS_TLR_TRUNCATED) {
		const char *m = ms_tlp_error(c.p);
		size_t n = strlen(path);

		if (g->o->in_name && !strncmp(m, path, n))
			ms_conv_warn(g->o, "%s%s", g->o->in_name, m + n);
		else
			ms_conv_warn(g->o, "%s", m);
	} else if (ret != 1 && (ret = ms_conv_input_end(g->o, c.p, ret))) {
		ms_tlp_close(c.p);
		return ret;
	}
	/* The last columns, and the final map (column g->cols). */
	while (c.col <= g->cols)
		sample_all(&c);
	ms_tlp_close(c.p);
	return 0;
}

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
			put_fmt(b,
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

	put_fmt(b, "<g class=\"final\" data-x=\"%u\" shape-rendering=\"crispEdges\">\n", x);
	for (unsigned i = 0; i < pn->nbands; i++)
		put_fmt(b,
			"<rect x=\"%u\" y=\"%u\" width=\"%u\" height=\"%u\" fill=\"none\" "
			"stroke=\"#bbb\"/>\n",
			x, y0 + pn->bands[i].y, FINAL_W, pn->bands[i].h);
	for (unsigned row = 0; row < pn->rows;) {
		unsigned r1 = row + 1;

		while (r1 < pn->rows && cells[r1] == cells[row])
			r1++;
		if (cells[row] != C_NONE) {
			put_fmt(b,
				"<rect x=\"%u\" y=\"%u\" width=\"%u\" height=\"%u\" "
				"fill=\"%s\"/>\n",
				x, y0 + row, FINAL_W, r1 - row, cell_fill[cells[row]]);
			empty = false;
		}
		row = r1;
	}
	ms_jb_puts(b, "</g>\n");
	if (empty)
		put_fmt(b,
			"<text x=\"%u\" y=\"%u\" text-anchor=\"middle\" fill=\"#777\">(all "
			"freed)</text>\n",
			x + FINAL_W / 2, y0 + 14);
	put_fmt(b,
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

	put_fmt(b, "<line x1=\"%u\" y1=\"%u\" x2=\"%u\" y2=\"%u\" stroke=\"#444\"/>\n", g->x0, y,
		g->x0 + g->cols * COL_PX, y);
	/* Ticks at round times since the start of the trace, within the events' span. */
	for (t = (g->t0 + step - 1) / step * step; step && t <= g->t0 + span; t += step) {
		unsigned x = g->x0 + (unsigned)((unsigned __int128)(t - g->t0) * COL_PX / g->dt);

		fmt_time(label, sizeof(label), t);
		put_fmt(b, "<line x1=\"%u\" y1=\"%u\" x2=\"%u\" y2=\"%u\" stroke=\"#444\"/>\n", x,
			y, x, y + 4);
		put_fmt(b, "<text x=\"%u\" y=\"%u\" text-anchor=\"middle\" fill=\"#444\">", x,
			y + 16);
		put_text(b, label);
		ms_jb_puts(b, "</text>\n");
	}
	put_fmt(b,
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
		put_fmt(b,
			"<rect class=\"band\" x=\"%u\" y=\"%u\" width=\"%u\" height=\"%u\" "
			"fill=\"none\" stroke=\"#bbb\" data-addr=\"%" PRIu64
			"\" data-len=\"%" PRIu64 "\"/>\n",
			g->x0, y0 + bd->y, g->cols * COL_PX, bd->h, bd->s, bd->e - bd->s);
		put_fmt(b,
			"<text x=\"%u\" y=\"%u\" text-anchor=\"end\" fill=\"#222\" "
			"font-family=\"monospace\">%#" PRIx64 "</text>\n",
			g->x0 - 4, y0 + bd->y + 9, bd->s);
		if (bd->h >= 28) {
			fmt_bytes(size, sizeof(size), bd->e - bd->s);
			put_fmt(b,
				"<text x=\"%u\" y=\"%u\" text-anchor=\"end\" "
				"fill=\"#777\">%s</text>\n",
				g->x0 - 4, y0 + bd->y + 21, size);
		}
		if (i + 1 < pn->nbands) {
			unsigned gy = y0 + bd->y + bd->h + GAP_PX / 2;

			fmt_bytes(size, sizeof(size), pn->bands[i + 1].s - bd->e);
			put_fmt(b,
				"<line x1=\"%u\" y1=\"%u\" x2=\"%u\" y2=\"%u\" stroke=\"#999\" "
				"stroke-dasharray=\"4 3\"/>\n",
				g->x0, gy, g->x0 + g->cols * COL_PX, gy);
			put_fmt(b,
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
			return (int)(bd->y + row_of(bd, a));
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
			put_fmt(b, "<g class=\"violation\" data-x=\"%u\" data-y=\"%u\"><title>", x,
				y0 + (unsigned)y);
		else
			put_fmt(b, "<g class=\"thp\" data-x=\"%u\" data-y=\"%u\"><title>", x,
				y0 + (unsigned)y);
		put_text(b, m->msg);
		ms_jb_puts(b, "</title>");
		if (m->violation)
			put_fmt(b,
				"<circle cx=\"%u\" cy=\"%u\" r=\"6\" fill=\"%s\" stroke=\"#fff\" "
				"stroke-width=\"1.5\"/><path d=\"M%u %uL%u %uM%u %uL%u %u\" "
				"stroke=\"#fff\" stroke-width=\"1.5\"/>",
				x, y0 + (unsigned)y, VIOLATION_FILL, x - 3, y0 + (unsigned)y - 3,
				x + 3, y0 + (unsigned)y + 3, x - 3, y0 + (unsigned)y + 3, x + 3,
				y0 + (unsigned)y - 3);
		else
			put_fmt(b,
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
		put_fmt(b,
			"<rect class=\"legend\" x=\"%u\" y=\"%u\" width=\"14\" height=\"14\" "
			"fill=\"%s\" stroke=\"#666\"/><text x=\"%u\" y=\"%u\">%s</text>\n",
			x, y, cell_fill[k], x + 19, y + 11, cell_name[k]);
		x += 40 + 7 * (unsigned)strlen(cell_name[k]);
	}
	put_fmt(b,
		"<rect x=\"%u\" y=\"%u\" width=\"14\" height=\"14\" fill=\"%s\" stroke=\"#666\"/>"
		"<text x=\"%u\" y=\"%u\">None (gaps: collapsed)</text>\n",
		x, y, cell_fill[C_NONE], x + 19, y + 11);
	x += 190;
	put_fmt(b,
		"<circle cx=\"%u\" cy=\"%u\" r=\"6\" fill=\"%s\"/><text x=\"%u\" y=\"%u\">"
		"violation</text>\n",
		x + 7, y + 7, VIOLATION_FILL, x + 19, y + 11);
	x += 90;
	put_fmt(b,
		"<path d=\"M%u %uL%u %uL%u %uL%u %uZ\" fill=\"%s\"/><text x=\"%u\" y=\"%u\">"
		"THP collapse</text>\n",
		x + 7, y + 2, x + 12, y + 7, x + 7, y + 12, x + 2, y + 7, THP_FILL, x + 19, y + 11);
}

/* Resident bytes over time: a line across the panel, its height the share of the peak. */
static void draw_resident(struct svg *g, const struct panel *pn, unsigned x0, unsigned y0)
{
	struct ms_jbuf *b = &g->b;
	char peak[32];

	if (!pn->has_res || !pn->peak_res || !pn->rows)
		return;
	fmt_bytes(peak, sizeof(peak), pn->peak_res);
	put_fmt(b,
		"<polyline class=\"resident\" data-peak=\"%" PRIu64 "\" fill=\"none\" "
		"stroke=\"#1a237e\" stroke-width=\"1.5\" stroke-opacity=\"0.8\" points=\"",
		pn->peak_res);
	for (unsigned c = 0; c < g->cols; c++)
		put_fmt(b, "%s%u,%u", c ? " " : "", x0 + c * COL_PX + COL_PX / 2,
			y0 + pn->rows - (unsigned)(pn->res[c] * (pn->rows - 1) / pn->peak_res) - 1);
	ms_jb_puts(b, "\"><title>resident bytes (the kernel's pages), peak ");
	put_text(b, peak);
	ms_jb_puts(b, "</title></polyline>\n");
}

static void draw(struct svg *g)
{
	struct ms_jbuf *b = &g->b;
	unsigned W = g->o->width, H = g->o->height;
	char peak[32];

	if (!g->o->embed)
		ms_jb_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			      "<svg xmlns=\"http://www.w3.org/2000/svg\"");
	else /* inside HTML the parser knows SVG; the page names no URL at all */
		ms_jb_puts(b, "<svg class=\"map\"");
	put_fmt(b,
		" width=\"%u\" height=\"%u\" viewBox=\"0 0 %u %u\" font-family=\"sans-serif\" "
		"font-size=\"11\">\n",
		W, H, W, H);
	ms_jb_puts(b, "<title>memstate: ");
	put_text(b, g->title);
	ms_jb_puts(b, "</title>\n");
	put_fmt(b, "<rect width=\"%u\" height=\"%u\" fill=\"#ffffff\"/>\n", W, H);
	put_fmt(b, "<text x=\"%u\" y=\"20\" font-size=\"14\" font-weight=\"bold\">", 10);
	ms_jb_puts(b, "memstate: ");
	put_text(b, g->title);
	ms_jb_puts(b, "</text>\n");
	draw_legend(g, 34);
	put_fmt(b,
		"<g id=\"plot\" data-x0=\"%u\" data-colw=\"%u\" data-cols=\"%u\" data-t0=\"%" PRIu64
		"\" data-dt=\"%" PRIu64 "\">\n",
		g->x0, COL_PX, g->cols, g->t0, g->dt);
	for (unsigned i = 0; i < g->npanels; i++) {
		const struct panel *pn = &g->panels[i];
		unsigned y0 = pn->y0;

		fmt_bytes(peak, sizeof(peak), pn->peak_ready);
		put_fmt(b, "<g class=\"panel\" data-pid=\"%u\" data-y0=\"%u\" data-rows=\"%u\">\n",
			pn->pid, y0, pn->rows);
		put_fmt(b, "<text x=\"%u\" y=\"%u\" font-weight=\"bold\">", g->x0, y0 - 8);
		put_text(b, pn->title);
		put_fmt(b,
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

/* ------------------------------------------------------------------ the converter */

int ms_conv_svg(const char *path, int fd, const struct ms_conv_opts *o)
{
	struct svg g = {.o = o};
	struct panel panels[MAX_PANELS];
	unsigned avail, each, y;
	int ret, err;

	memset(panels, 0, sizeof(panels));
	g.panels = panels;
	ret = pass1(&g, path);
	if (ret)
		goto out;
	g.x0 = LEFT;
	g.pw = o->width - LEFT - FINAL_W - 24 - 16;
	g.cols = g.pw / COL_PX;
	g.dt = (g.t1 - g.t0) / g.cols + 1;
	/* Panels share the height; each gets its bands laid out in it. */
	avail = o->height - TOP - BOTTOM;
	each = g.npanels ? avail / g.npanels : avail;
	y = TOP;
	for (unsigned i = 0; i < g.npanels; i++) {
		struct panel *pn = &panels[i];

		pn->y0 = y + PANEL_HEAD;
		layout_bands(pn, each > PANEL_HEAD + 20 ? each - PANEL_HEAD - 6 : 20);
		y += each;
		pn->grid = calloc((size_t)(g.cols + 1) * (pn->rows ? pn->rows : 1), 1);
		pn->acc = calloc(pn->rows ? pn->rows : 1, sizeof(*pn->acc));
		pn->res = calloc(g.cols + 1, sizeof(*pn->res));
		pn->marks = calloc(MAX_MARKS, sizeof(*pn->marks));
		if (!pn->grid || !pn->acc || !pn->res || !pn->marks) {
			ret = ms_conv_error(o, -ENOMEM, "out of memory");
			goto out;
		}
	}
	ret = pass2(&g, path);
	if (ret)
		goto out;
	if (ms_jb_init(&g.b, fd, 1 << 18)) {
		ret = ms_conv_error(o, -ENOMEM, "out of memory");
		goto out;
	}
	if (o->zstd && (err = ms_jb_set_zstd(&g.b, 0))) {
		ms_jb_release(&g.b);
		ret = ms_conv_error(o, err, "writing %s: %s", o->out_name, strerror(-err));
		goto out;
	}
	if (!g.npanels)
		ms_conv_warn(o, "%s holds no memory states to draw", path);
	draw(&g);
	err = ms_jb_end(&g.b);
	ms_jb_release(&g.b);
	if (err)
		ret = ms_conv_error(o, err, "writing %s: %s", o->out_name, strerror(-err));
out:
	for (unsigned i = 0; i < g.npanels; i++) {
		free(panels[i].ext);
		free(panels[i].grid);
		free(panels[i].acc);
		free(panels[i].res);
		free(panels[i].marks);
	}
	return ret;
}
