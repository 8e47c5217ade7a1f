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
#include "svg_int.h"

/* ------------------------------------------------------------------ text */

void svg_put_fmt(struct ms_jbuf *b, const char *fmt, ...)
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
void svg_put_text(struct ms_jbuf *b, const char *s)
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

void svg_fmt_time(char *buf, size_t len, uint64_t ns)
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
unsigned svg_row_of(const struct band *bd, uint64_t a)
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
	r0 = svg_row_of(bd, r->start > bd->s ? r->start : bd->s);
	r1 = svg_row_of(bd, (r->end < bd->e ? r->end : bd->e) - 1);
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

		sample_panel(c->g, &c->g->panels[i], pr ? pr->base.sp : NULL, c->col);
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
				ms_space_totals(st.proc->base.sp, &tot);
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
	svg_draw(&g);
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
