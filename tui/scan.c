// SPDX-License-Identifier: MIT
/*
 * The scan step: read the feed (live struct or replay), fill struct tui_model, lay the
 * shown process's map out. No curses here, and nothing but snapshots and events is read:
 * the panels draw what this left in the model.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/util.h"
#include "tui.h"

#define LIVE_HEAT_WINDOW   2000000000ull /* ns a fault glows in the live view */
#define REPLAY_HEAT_WINDOW 512		 /* events a fault glows in a replay */
#define REPLAY_LOG	   1024		 /* events before the position put in the log */
#define RATE_PERIOD	   500000000ull	 /* ns between two events/s samples */

/* ------------------------------------------------------------------ the model */

int tui_model_init(struct tui_model *m)
{
	memset(m, 0, sizeof(*m));
	m->log_cap = TUI_LOG_CAP;
	m->log = calloc(m->log_cap, sizeof(*m->log));
	m->vmsgs = calloc(TUI_VMSG_CAP, sizeof(*m->vmsgs));
	if (!m->log || !m->vmsgs || ms_heat_init(&m->heat, TUI_HEAT_CAP)) {
		tui_model_free(m);
		return -ENOMEM;
	}
	m->page_size = 4096;
	return 0;
}

void tui_model_free(struct tui_model *m)
{
	ms_snapshot_free(m->snap);
	ms_map_free(&m->map);
	ms_heat_free(&m->heat);
	free(m->log);
	free(m->vmsgs);
	free(m->procs);
	memset(m, 0, sizeof(*m));
}

void tui_log_push(struct tui_model *m, const struct ms_event *ev, const char *msg)
{
	m->log[m->log_head & (m->log_cap - 1)] = *ev;
	m->log_head++;
	if (ev->violation && msg && *msg) {
		struct tui_vmsg *v = &m->vmsgs[m->vmsg_head++ & (TUI_VMSG_CAP - 1)];

		v->seq = ev->seq;
		v->pid = ev->pid;
		snprintf(v->text, sizeof(v->text), "%s", msg);
	}
}

const char *tui_vmsg_find(const struct tui_model *m, uint32_t pid, uint64_t seq)
{
	uint64_t n = m->vmsg_head < TUI_VMSG_CAP ? m->vmsg_head : TUI_VMSG_CAP;

	for (uint64_t i = m->vmsg_head; i-- > m->vmsg_head - n;) {
		const struct tui_vmsg *v = &m->vmsgs[i & (TUI_VMSG_CAP - 1)];

		if (v->seq == seq && v->pid == pid)
			return v->text;
	}
	return NULL;
}

static int procs_reserve(struct tui_model *m, unsigned n)
{
	struct tui_proc *p;

	if (n <= m->procs_cap)
		return 0;
	p = realloc(m->procs, n * sizeof(*p));
	if (!p)
		return -ENOMEM;
	m->procs = p;
	m->procs_cap = n;
	return 0;
}

/* Keep showing the chosen pid; the first process when it is gone or none was chosen. */
static void pick_selected(struct tui_model *m)
{
	for (unsigned i = 0; i < m->nprocs; i++) {
		if (m->procs[i].pid == m->sel_pid) {
			m->sel = i;
			return;
		}
	}
	m->sel = 0;
	m->sel_pid = m->nprocs ? m->procs[0].pid : 0;
}

/* ------------------------------------------------------------------ layout */

void tui_relayout(struct tui *t)
{
	struct tui_model *m = &t->m;
	const struct ms_region *r = m->snap ? m->snap->regions : NULL;
	size_t n = m->snap ? m->snap->nregions : 0;
	uint64_t budget = (uint64_t)(t->map_rows > 0 ? t->map_rows : 1) *
			  (uint64_t)(t->map_cols > 0 ? t->map_cols : 1);
	uint64_t scale =
		t->scale_user ? t->scale_user : ms_map_auto_scale(r, n, m->page_size, budget);
	uint64_t row, rows, cols = t->map_cols > 0 ? (uint64_t)t->map_cols : 1;

	if (ms_map_layout(&m->map, r, n, scale)) {
		m->scan_fail++;
		m->map.ncells = 0;
		m->map.nareas = 0;
	}
	if (!t->cursor_set)
		t->cursor_addr = n ? r[0].start : 0;
	t->cursor = ms_map_cell_of(&m->map, t->cursor_addr);
	/* Keep the cursor on screen, and the screen on the map. */
	row = t->cursor / cols;
	rows = (m->map.ncells + cols - 1) / cols;
	if (row < t->top)
		t->top = row;
	if (t->map_rows > 0 && row >= t->top + (uint64_t)t->map_rows)
		t->top = row - (uint64_t)t->map_rows + 1;
	if (t->map_rows > 0 && rows > (uint64_t)t->map_rows && t->top > rows - t->map_rows)
		t->top = rows - (uint64_t)t->map_rows;
	if (t->map_rows > 0 && rows <= (uint64_t)t->map_rows)
		t->top = 0;
}

/* ------------------------------------------------------------------ live */

static void live_scan(struct tui *t)
{
	struct tui_model *m = &t->m;
	struct ms_live_state *st = t->lst;
	size_t nmsgs = TUI_VMSG_CAP, next_msg = 0, n;
	uint64_t skipped, now = ms_now_ns();
	struct ms_space *space = NULL;
	struct ms_snapshot *snap;

	ms_live_state(t->live, st);
	if (procs_reserve(m, st->nprocs ? st->nprocs : 1))
		return;
	m->nprocs = st->nprocs;
	m->violations = 0;
	for (unsigned i = 0; i < st->nprocs; i++) {
		const struct ms_live_proc *lp = &st->procs[i];
		struct tui_proc *p = &m->procs[i];

		p->pid = lp->pid;
		p->ppid = lp->ppid;
		memcpy(p->exe, lp->exe, sizeof(p->exe));
		p->exited = lp->exited;
		p->alive = !lp->exited;
		p->exit_code = lp->exit_code;
		p->exit_signal = lp->exit_signal;
		if (lp->space)
			ms_space_totals(lp->space, &p->tot);
		else
			memset(&p->tot, 0, sizeof(p->tot));
		m->violations += p->tot.violations;
	}
	pick_selected(m);
	if (m->nprocs)
		space = st->procs[m->sel].space;

	n = ms_live_read(t->live, &t->cursor_ev, t->rbuf, t->rmsgs, &nmsgs, MS_LIVE_RECENT,
			 &skipped);
	m->skipped += skipped;
	for (size_t i = 0; i < n; i++) {
		const struct ms_event *ev = &t->rbuf[i];
		const char *msg = NULL;

		if (next_msg < nmsgs && t->rmsgs[next_msg].index == i)
			msg = t->rmsgs[next_msg++].text;
		tui_log_push(m, ev, msg);
		if (ms_event_is_fault(ev) && ev->pid == m->sel_pid)
			ms_heat_add(&m->heat, ev->addr, ev->t_ns);
	}

	snprintf(m->title, sizeof(m->title), "%s", st->command);
	m->replay = false;
	m->events = st->events;
	m->dropped = st->dropped;
	m->t0_ns = st->t0_ns;
	if (!m->done)
		m->t_ns = now > st->t0_ns ? now - st->t0_ns : 0;
	m->done = st->done;
	m->heat_now = now;
	m->heat_window = LIVE_HEAT_WINDOW;
	if (!m->rate_t) {
		m->rate_t = now;
		m->rate_events = m->events;
	} else if (now - m->rate_t >= RATE_PERIOD) {
		m->rate = (double)(m->events - m->rate_events) * 1e9 / (double)(now - m->rate_t);
		m->rate_t = now;
		m->rate_events = m->events;
	}

	m->space = space;
	if (space && space == m->snap_space && st->events == m->snap_events && m->snap) {
		/* Nothing was published since: the map is the same, spare the space's lock. */
	} else if (space) {
		m->page_size = ms_space_page_size(space);
		m->snap_space = space;
		m->snap_events = st->events;
		snap = ms_space_snapshot(space);
		if (snap) {
			ms_snapshot_free(m->snap);
			m->snap = snap;
		} else {
			m->scan_fail++; /* keep drawing the last one */
		}
	} else {
		ms_snapshot_free(m->snap);
		m->snap = NULL;
		m->snap_space = NULL;
	}
	tui_relayout(t);
}

/* ------------------------------------------------------------------ replay */

static void replay_scan(struct tui *t)
{
	struct tui_model *m = &t->m;
	struct ms_replay *rp = t->rp;
	struct ms_rp_proc *sel = NULL;
	struct ms_snapshot *snap;
	size_t pos = rp->pos, from;
	uint64_t t1;

	if (procs_reserve(m, ms_replay_nprocs(rp) ? (unsigned)ms_replay_nprocs(rp) : 1))
		return;
	m->nprocs = (unsigned)ms_replay_nprocs(rp);
	m->violations = 0;
	m->dropped = 0;
	for (unsigned i = 0; i < m->nprocs; i++) {
		const struct ms_rp_proc *rpp = ms_replay_proc_at(rp, i);
		struct tui_proc *p = &m->procs[i];

		memset(p, 0, sizeof(*p));
		p->pid = rpp->base.pid;
		p->ppid = rpp->base.ppid;
		snprintf(p->exe, sizeof(p->exe), "%s", rpp->exe ? rpp->exe : "");
		p->alive = rpp->alive;
		p->exited = rpp->seen && !rpp->alive;
		p->exit_code = rpp->base.exit_code;
		p->exit_signal = rpp->base.exit_signal;
		p->tot = rpp->tot;
		p->tot.dropped_events = rpp->dropped;
		m->violations += p->tot.violations;
		m->dropped += rpp->dropped;
	}
	if (rp->has_summary && rp->summary.dropped_events > m->dropped)
		m->dropped = rp->summary.dropped_events;
	pick_selected(m);
	if (m->nprocs)
		sel = ms_replay_proc_at(rp, m->sel);

	m->replay = true;
	m->pos = pos;
	m->nev = rp->nev;
	m->events = pos;
	m->truncated = rp->truncated;
	m->done = pos == rp->nev;
	m->t0_ns = 0;
	m->t_ns = pos ? rp->ev[pos - 1].t_ns : 0;
	/* events/s around the position, in trace time */
	t1 = m->t_ns > 1000000000ull ? m->t_ns - 1000000000ull : 0;
	m->rate = (double)(pos - ms_replay_find_time(rp, t1));
	if (m->t_ns < 1000000000ull && m->t_ns)
		m->rate = (double)pos * 1e9 / (double)m->t_ns;

	/* The log and the heat are what precedes the position. */
	m->log_head = 0;
	m->vmsg_head = 0;
	from = pos > REPLAY_LOG ? pos - REPLAY_LOG : 0;
	for (size_t i = from; i < pos; i++)
		tui_log_push(m, &rp->ev[i], ms_replay_message(rp, i));
	ms_heat_clear(&m->heat);
	from = pos > REPLAY_HEAT_WINDOW ? pos - REPLAY_HEAT_WINDOW : 0;
	for (size_t i = from; i < pos; i++) {
		if (ms_event_is_fault(&rp->ev[i]) && sel && rp->ev[i].pid == sel->base.pid)
			ms_heat_add(&m->heat, rp->ev[i].addr, i);
	}
	m->heat_now = pos;
	m->heat_window = REPLAY_HEAT_WINDOW;

	m->page_size = rp->page_size;
	m->space = sel ? sel->base.sp : NULL;
	snap = m->space ? ms_space_snapshot(m->space) : NULL;
	if (m->space && !snap)
		m->scan_fail++;
	ms_snapshot_free(m->snap);
	m->snap = snap;
	tui_relayout(t);
}

void tui_scan(struct tui *t)
{
	if (t->rp)
		replay_scan(t);
	else
		live_scan(t);
}

/* ------------------------------------------------------------------ histories */

static bool touches(const struct ms_event *ev, uint32_t pid, uint64_t start, uint64_t end)
{
	uint64_t e;

	if (ev->pid != pid || ms_op_is_proc(ev->op))
		return false;
	e = ev->addr + (ev->len ? ev->len : 1);
	if (e < ev->addr)
		e = UINT64_MAX;
	return ev->addr < end && e > start;
}

size_t tui_history(struct tui *t, uint32_t pid, uint64_t start, uint64_t end, struct ms_event *out,
		   size_t max, uint64_t *matched)
{
	const struct ms_event *evs;
	uint64_t first, last, total = 0, vtotal = 0, vkeep, nkeep, vskip, nskip, i;
	size_t k = 0;

	if (t->rp) {
		evs = t->rp->ev;
		first = 0;
		last = t->rp->pos;
	} else {
		evs = t->m.log;
		last = t->m.log_head;
		first = last > t->m.log_cap ? last - t->m.log_cap : 0;
	}
#define EV_AT(i) (t->rp ? &evs[i] : &evs[(i) & (t->m.log_cap - 1)])
	for (i = first; i < last; i++) {
		const struct ms_event *ev = EV_AT(i);

		if (touches(ev, pid, start, end)) {
			total++;
			vtotal += ev->violation != 0;
		}
	}
	/*
	 * The newest max of them, oldest first; but its violations before anything else,
	 * however old: they are why one looks at a region's history.
	 */
	vkeep = vtotal < max ? vtotal : max;
	nkeep = total - vtotal < max - vkeep ? total - vtotal : max - vkeep;
	vskip = vtotal - vkeep;
	nskip = total - vtotal - nkeep;
	for (i = first; i < last && k < max; i++) {
		const struct ms_event *ev = EV_AT(i);
		uint64_t *skip = ev->violation ? &vskip : &nskip;

		if (!touches(ev, pid, start, end))
			continue;
		if (*skip) {
			(*skip)--;
			continue;
		}
		out[k++] = *ev;
	}
#undef EV_AT
	if (matched)
		*matched = total;
	return k;
}

void tui_region_counts(struct tui *t, uint32_t pid, uint64_t start, uint64_t end, uint64_t *faults,
		       uint64_t *collapses)
{
	*faults = *collapses = 0;
	if (!t->rp)
		return;
	for (size_t i = 0; i < t->rp->pos; i++) {
		const struct ms_event *ev = &t->rp->ev[i];

		if (ms_event_is_fault(ev) && ev->pid == pid && ev->addr >= start && ev->addr < end)
			(*faults)++;
		else if (ev->op == MS_OP_THP_COLLAPSE && !ev->result &&
			 touches(ev, pid, start, end))
			(*collapses)++;
	}
}
