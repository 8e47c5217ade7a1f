// SPDX-License-Identifier: MIT
/* Timeline playback (playback.h): replay through one shadow space per process, and compare. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "playback.h"

struct ms_tlp {
	struct ms_tl_reader *rd;   /* the input */
	struct ms_tl_item header;  /* copy of the header item (its strings live in rd) */
	bool have_header;	   /* header read */
	struct ms_space_opts opts; /* for every space: page size, tiny log, shared seq */
	uint64_t *seq;		   /* seq counter the spaces share (on the heap: p may be moved) */
	struct ms_proctab pt;	   /* the processes (struct ms_tlp_proc), first mention order */
	bool have_summary;	   /* the file's summary was read */
	struct ms_totals summary;  /* the recorded summary */
	uint64_t lost;		   /* recorded dropped_events + lost_ops, processes */
	uint64_t lost_summary;	   /* the same, from the summary */
	uint64_t ndis;		   /* disagreements counted */
	uint64_t computed;	   /* events that left their states out (minimal timeline) */
	char *dis[MS_TLP_MAX_DIS]; /* the first ones, one line each */
	size_t ndis_kept;	   /* lines in dis */
	char msgbuf[sizeof(((struct ms_violation *)0)->message)]; /* step message */
	char err[600];						  /* error or truncation line */
	void (*hook)(void *, const struct ms_event *);		  /* called before each event */
	void *hook_ctx;						  /* its argument */
	bool no_replay; /* read only: no spaces, no comparisons */
	char *path;	/* the input, to read again when a copy must replay after all */
	uint64_t items; /* items returned so far */
	int state;	/* 0 running, else the final ms_tlp_next() result */
	int furthest;	/* the latest section an item came from (MS_TLI_*) */
};

/* ------------------------------------------------------------------ helpers */

const char *ms_tlp_range(char *buf, size_t len, uint64_t addr, uint64_t n)
{
	snprintf(buf, len, "[%#" PRIx64 ", %#" PRIx64 ")", addr, addr + n);
	return buf;
}

__attribute__((format(printf, 3, 4))) static void disagree(struct ms_tlp *p, bool at_item,
							   const char *fmt, ...)
{
	char line[512];
	int n = 0;
	va_list ap;

	p->ndis++;
	if (p->ndis_kept >= MS_TLP_MAX_DIS)
		return;
	if (at_item)
		n = snprintf(line, sizeof(line), "%s:%u: ", ms_tlr_name(p->rd),
			     ms_tlr_item_line(p->rd));
	else
		n = snprintf(line, sizeof(line), "%s: ", ms_tlr_name(p->rd));
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	p->dis[p->ndis_kept] = strdup(line);
	if (p->dis[p->ndis_kept])
		p->ndis_kept++;
}

/* The replay only needs the log's order, not its contents: keep it empty. */
static void drop_log(struct ms_space *sp, void *ctx)
{
	struct ms_event ev;

	(void)ctx;
	while (ms_space_events_read_locked(sp, &ev, 1))
		;
}

static struct ms_tlp_proc *tlp_proc_of(struct ms_proc *pr)
{
	return pr ? ms_proc_entry(pr, struct ms_tlp_proc, base) : NULL;
}

struct ms_tlp_proc *ms_tlp_find(struct ms_tlp *p, uint32_t pid)
{
	return tlp_proc_of(ms_proctab_find(&p->pt, pid));
}

/* The table's hook: replay spaces with the playback's options. */
static struct ms_space *tlp_space(void *ctx, struct ms_proc *pr, struct ms_space *parent)
{
	struct ms_tlp *p = ctx;

	(void)pr;
	return parent ? ms_space_clone(parent, &p->opts) : ms_space_new(&p->opts);
}

static int tlp_table_init(struct ms_tlp *p)
{
	return ms_proctab_init(&p->pt, &(struct ms_proctab_ops){
					       .entry_size = sizeof(struct ms_tlp_proc),
					       .offset = offsetof(struct ms_tlp_proc, base),
					       .space_new = tlp_space,
					       .ctx = p,
				       });
}

/* A new pid is refused past MS_TLP_MAX_PROCS: each holds a space. */
static bool proc_room(struct ms_tlp *p, uint32_t pid)
{
	return ms_proctab_find(&p->pt, pid) || ms_proctab_count(&p->pt) < MS_TLP_MAX_PROCS;
}

/* The entry of pid, without a space when new (the processes section). */
static struct ms_tlp_proc *proc_get(struct ms_tlp *p, uint32_t pid)
{
	return proc_room(p, pid) ? tlp_proc_of(ms_proctab_add(&p->pt, pid)) : NULL;
}

static int fail(struct ms_tlp *p, int err, const char *what)
{
	snprintf(p->err, sizeof(p->err), "%s:%u: %s", ms_tlr_name(p->rd), ms_tlr_item_line(p->rd),
		 what);
	return err;
}

/* "Reserved 4096, None 8192" */
static void describe_states(char *buf, size_t len, const uint64_t v[MS_STATE_COUNT])
{
	size_t off = 0;

	buf[0] = 0;
	for (int s = MS_STATE_COUNT - 1; s >= 0 && off < len; s--) {
		if (v[s])
			off += (size_t)snprintf(buf + off, len - off, "%s%s %" PRIu64,
						off ? ", " : "", ms_state_name((unsigned)s), v[s]);
	}
	if (!off)
		snprintf(buf, len, "nothing");
}

static const char *to_name(uint8_t to)
{
	return to < MS_STATE_COUNT ? ms_state_name(to) : "unchanged";
}

/* ------------------------------------------------------------------ events */

static void compare_event(struct ms_tlp *p, const struct ms_tl_item *it, struct ms_tlp_step *st)
{
	const struct ms_event *rec = &it->event.ev, *ev = &st->ev;
	unsigned has = it->event.recorded;
	bool viol_differs = (has & MS_TLE_VIOLATION) && rec->violation != ev->violation;
	bool to_differs = (has & MS_TLE_TO) && rec->to != ev->to;
	bool from_differs = (has & MS_TLE_FROM) && memcmp(rec->from, ev->from, sizeof(rec->from));
	bool res_differs =
		it->event.has_resident_delta && rec->resident_delta != ev->resident_delta;
	char range[64], a[128], b[128];

	if (!viol_differs && !to_differs && !from_differs && !res_differs)
		return;
	st->disagrees = true;
	ms_tlp_range(range, sizeof(range), rec->addr, rec->len);
	if (viol_differs) {
		disagree(p, true, "seq %" PRIu64 " (pid %u %s %s): recorded %s, replay finds %s",
			 rec->seq, rec->pid, ms_op_name(rec->op), range,
			 rec->violation ? ms_violation_name(rec->violation) : "no violation",
			 ev->violation ? ms_violation_name(ev->violation) : "none");
	} else if (to_differs) {
		disagree(p, true, "seq %" PRIu64 " (pid %u %s %s): recorded to %s, replay gives %s",
			 rec->seq, rec->pid, ms_op_name(rec->op), range, to_name(rec->to),
			 to_name(ev->to));
	} else if (res_differs) {
		disagree(p, true,
			 "seq %" PRIu64 " (pid %u %s %s): recorded resident_delta %" PRId64
			 ", replay finds %" PRId64,
			 rec->seq, rec->pid, ms_op_name(rec->op), range, rec->resident_delta,
			 ev->resident_delta);
	} else {
		describe_states(a, sizeof(a), rec->from);
		describe_states(b, sizeof(b), ev->from);
		disagree(p, true,
			 "seq %" PRIu64 " (pid %u %s %s): recorded from {%s}, replay finds {%s}",
			 rec->seq, rec->pid, ms_op_name(rec->op), range, a, b);
	}
}

/* A minimal event: what it left out is the replay's (never a disagreement). */
static void complete_event(struct ms_tlp *p, struct ms_tl_item *it, const struct ms_tlp_step *st)
{
	struct ms_event *rec = &it->event.ev;
	unsigned has = it->event.recorded;

	if (rec->violation && !it->event.message && rec->violation == st->ev.violation)
		it->event.message = st->message; /* a violation recorded without its words */
	if (!it->event.has_resident_delta)
		rec->resident_delta = st->ev.resident_delta;
	if ((has & MS_TLE_STATES) == MS_TLE_STATES)
		return;
	p->computed++;
	if (!(has & MS_TLE_FROM))
		memcpy(rec->from, st->ev.from, sizeof(rec->from));
	if (!(has & MS_TLE_TO))
		rec->to = st->ev.to;
	if (!(has & MS_TLE_VIOLATION)) {
		rec->violation = st->ev.violation;
		it->event.message = st->message;
	}
	rec->flags |= st->ev.flags & (MS_EVF_INFERRED | MS_EVF_FAILED);
}

static int play_event(struct ms_tlp *p, struct ms_tl_item *it, struct ms_tlp_step *st)
{
	const struct ms_event *rec = &it->event.ev;
	struct ms_event *ev = &st->ev;
	struct ms_tlp_proc *pr;
	struct ms_pt_change c;
	const char *msg;
	int id = 0, v;

	memset(st, 0, sizeof(*st));
	if (p->hook)
		p->hook(p->hook_ctx, rec);
	if (!proc_room(p, rec->pid))
		return fail(p, -E2BIG, "more than 262144 processes: too many to replay");
	/* The table gives pr its space: a fork's copy, an exec's cleared map, an exit. */
	if (ms_proctab_apply(&p->pt, rec, &c))
		return fail(p, -ENOMEM, "out of memory");
	pr = tlp_proc_of(c.proc);
	st->proc = pr;
	/* The request: what the operation was, not what the tracer concluded. */
	*ev = *rec;
	memset(ev->from, 0, sizeof(ev->from));
	ev->violation = MS_V_NONE;
	ev->flags &= MS_EVF_WRITE | MS_EVF_PRESENT | MS_EVF_NOTE | MS_EVF_SEED | MS_EVF_COMMITTED |
		     MS_EVF_APART | MS_EVF_LAZY | MS_EVF_HUGE | MS_EVF_LOSSY;
	*p->seq = rec->seq; /* so that the space numbers it as the tracer did */
	ms_space_lock(pr->base.sp);
	if (it->event.stat) {
		id = ms_space_stat_id_locked(pr->base.sp, it->event.stat);
		if (id < 0)
			id = 0; /* more than 65535 names: charged to none, and it shows */
	}
	ev->stat = (uint16_t)id;
	v = ms_space_check_locked(pr->base.sp, ev);
	if (v < 0) {
		ms_space_unlock(pr->base.sp);
		return fail(p, v, v == -ENOMEM ? "out of memory" : "event the space refuses");
	}
	if (rec->violation == MS_V_API_MISMATCH && !ev->violation)
		ms_space_flag_locked(pr->base.sp, ev, MS_V_API_MISMATCH, it->event.message);
	ms_space_commit_locked(pr->base.sp, ev);
	if (ev->violation) {
		msg = ms_space_violation_message_locked(pr->base.sp, ev->seq);
		snprintf(p->msgbuf, sizeof(p->msgbuf), "%s",
			 msg ? msg : ms_violation_name(ev->violation));
		st->message = p->msgbuf;
	}
	ms_space_unlock(pr->base.sp);
	st->changed = ev->to < MS_STATE_COUNT && ev->from[ev->to] != ev->len;
	if (!pr->events)
		pr->first_ns = rec->t_ns;
	pr->events++;
	pr->last_ns = rec->t_ns;
	compare_event(p, it, st);
	complete_event(p, it, st);
	return 0;
}

/* ------------------------------------------------------------------ closing sections */

static void play_violation(struct ms_tlp *p, const struct ms_tl_item *it)
{
	struct ms_tlp_proc *pr = ms_tlp_find(p, it->violation.pid);
	struct ms_violation v;

	if (!pr || !pr->base.sp) {
		disagree(p, true, "violation of seq %" PRIu64 " names pid %u, which has no events",
			 it->violation.seq, it->violation.pid);
		return;
	}
	if (ms_space_violation_get(pr->base.sp, pr->viol_cursor++, &v)) {
		disagree(p, true,
			 "violation of seq %" PRIu64 " (%s): the replay finds no more violations "
			 "for pid %u",
			 it->violation.seq, ms_violation_name(it->violation.kind), pr->base.pid);
		return;
	}
	if (v.ev.seq != it->violation.seq || v.ev.violation != it->violation.kind)
		disagree(p, true,
			 "violation list: recorded %s at seq %" PRIu64 ", replay has %s at seq "
			 "%" PRIu64,
			 ms_violation_name(it->violation.kind), it->violation.seq,
			 ms_violation_name(v.ev.violation), v.ev.seq);
}

static bool same_region(const struct ms_region *a, const struct ms_region *b, const char *stat_a,
			const char *stat_b)
{
	return a->start == b->start && a->end == b->end && a->state == b->state &&
	       a->huge == b->huge && a->kind == b->kind && a->faults == b->faults &&
	       a->thp_collapses == b->thp_collapses &&
	       (a->flags & MS_RF_THP) == (b->flags & MS_RF_THP) &&
	       (!(a->flags & b->flags & MS_RF_RESIDENCY) ||
		(a->resident == b->resident && a->lazy_free == b->lazy_free)) &&
	       !strcmp(stat_a ? stat_a : "", stat_b ? stat_b : "");
}

static void play_region(struct ms_tlp *p, const struct ms_tl_item *it)
{
	struct ms_tlp_proc *pr = ms_tlp_find(p, it->region.pid);
	const struct ms_region *rec = &it->region.r, *rep;
	struct ms_stat_info st;
	const char *stat = NULL;
	char a[64], b[64];

	if (!pr || !pr->base.sp) {
		disagree(p, true, "region %s names pid %u, which has no events",
			 ms_tlp_range(a, sizeof(a), rec->start, rec->end - rec->start),
			 it->region.pid);
		return;
	}
	if (pr->map_differs)
		return;
	if (!pr->snap && !(pr->snap = ms_space_snapshot(pr->base.sp)))
		return;
	if (pr->map_cursor >= pr->snap->nregions) {
		pr->map_differs = true;
		disagree(p, true, "pid %u: region %s is not in the replay's final map",
			 pr->base.pid,
			 ms_tlp_range(a, sizeof(a), rec->start, rec->end - rec->start));
		return;
	}
	rep = &pr->snap->regions[pr->map_cursor++];
	if (rep->stat && !ms_space_stat_info(pr->base.sp, rep->stat, &st))
		stat = st.name;
	if (same_region(rec, rep, it->region.stat, stat))
		return;
	pr->map_differs = true;
	disagree(p, true, "pid %u final map: recorded %s %s, replay has %s %s", pr->base.pid,
		 ms_tlp_range(a, sizeof(a), rec->start, rec->end - rec->start),
		 ms_state_name(rec->state),
		 ms_tlp_range(b, sizeof(b), rep->start, rep->end - rep->start),
		 ms_state_name(rep->state));
}

/* Compare what a summary says with the replay's totals; one line for the first difference. */
static void compare_totals(struct ms_tlp *p, const char *who, const struct ms_totals *rec,
			   const struct ms_totals *rep)
{
	char what[64];
	uint64_t a = 0, b = 0;

	if (rec->dropped_events || rec->lost_ops)
		return; /* the trace lost events: counts cannot agree */
	what[0] = 0;
	for (int s = MS_RESERVED; s < MS_STATE_COUNT && !what[0]; s++) {
		if (rec->bytes[s] != rep->bytes[s]) {
			snprintf(what, sizeof(what), "final %s bytes", ms_state_name((unsigned)s));
			a = rec->bytes[s], b = rep->bytes[s];
		} else if (rec->peak_bytes[s] != rep->peak_bytes[s]) {
			snprintf(what, sizeof(what), "peak %s bytes", ms_state_name((unsigned)s));
			a = rec->peak_bytes[s], b = rep->peak_bytes[s];
		}
	}
	for (unsigned k = 1; k < MS_V_COUNT && !what[0]; k++) {
		if (rec->by_kind[k] != rep->by_kind[k]) {
			snprintf(what, sizeof(what), "%s violations", ms_violation_name(k));
			a = rec->by_kind[k], b = rep->by_kind[k];
		}
	}
	for (unsigned o = 0; o < MS_OP_COUNT && !what[0]; o++) {
		if (rec->by_op[o] != rep->by_op[o]) {
			snprintf(what, sizeof(what), "%s operations", ms_op_name(o));
			a = rec->by_op[o], b = rep->by_op[o];
		}
	}
#define CMP(field, name)                                  \
	if (!what[0] && rec->field != rep->field) {       \
		snprintf(what, sizeof(what), "%s", name); \
		a = rec->field, b = rep->field;           \
	}
	CMP(events, "events")
	CMP(violations, "violations")
	CMP(page_faults, "page faults")
	CMP(untracked_faults, "untracked page faults")
	CMP(thp_collapses, "THP collapses")
	if (rec->residency && rep->residency) {
		CMP(resident[MS_PREPARED], "resident Prepared bytes")
		CMP(resident[MS_READY], "resident Ready bytes")
		CMP(peak_resident, "peak resident bytes")
		CMP(lazy_free, "lazily free bytes")
	}
#undef CMP
	if (what[0])
		disagree(p, true, "%s summary: recorded %" PRIu64 " %s, replay %" PRIu64, who, a,
			 what, b);
}

static void play_process(struct ms_tlp *p, const struct ms_tl_item *it)
{
	struct ms_tlp_proc *pr = proc_get(p, it->process.pid);
	struct ms_totals t = {0};
	char who[32];

	if (!pr)
		return;
	pr->listed = true;
	if (it->process.ppid)
		pr->base.ppid = it->process.ppid;
	free(pr->exe);
	pr->exe = it->process.exe ? strdup(it->process.exe) : NULL;
	if (it->process.exit_code >= 0 || it->process.exit_signal) {
		/* The processes section has the last word on the status. */
		pr->base.exited = true;
		pr->base.exit_code = it->process.exit_code;
		pr->base.exit_signal = it->process.exit_signal;
	}
	if (!it->process.has_summary)
		return;
	pr->has_recorded = true;
	pr->recorded = it->process.totals;
	p->lost += it->process.totals.dropped_events + it->process.totals.lost_ops;
	if (pr->base.sp)
		ms_space_totals(pr->base.sp, &t);
	snprintf(who, sizeof(who), "pid %u", pr->base.pid);
	compare_totals(p, who, &it->process.totals, &t);
}

/*
 * The file ended: everything listed must have been matched. A file cut short is held to
 * the sections it finished: its violation list once an item of a later section came, its
 * final map once the processes began (a writer lists every region before them).
 */
static void finish_compare(struct ms_tlp *p, bool whole)
{
	/* A section left out (a minimal timeline) is the replay's, not a difference. */
	bool viols = whole ? ms_tlr_has_section(p->rd, MS_TLI_VIOLATION)
			   : p->furthest > MS_TLI_VIOLATION;
	bool map = whole ? ms_tlr_has_section(p->rd, MS_TLI_REGION) : p->furthest > MS_TLI_REGION;
	struct ms_totals sum;

	for (size_t i = 0; i < ms_proctab_count(&p->pt); i++) {
		struct ms_tlp_proc *pr = tlp_proc_of(ms_proctab_at(&p->pt, i));
		size_t nv;

		if (!pr->base.sp)
			continue;
		nv = ms_space_violation_count(pr->base.sp);
		if (viols && pr->viol_cursor < nv)
			disagree(p, false,
				 "pid %u: the replay finds %zu violations, the timeline lists %zu",
				 pr->base.pid, nv, pr->viol_cursor);
		if (map && !pr->map_differs) {
			if (!pr->snap)
				pr->snap = ms_space_snapshot(pr->base.sp);
			if (pr->snap && pr->map_cursor < pr->snap->nregions)
				disagree(p, false,
					 "pid %u: the replay's final map has %zu regions, the "
					 "timeline lists %zu",
					 pr->base.pid, pr->snap->nregions, pr->map_cursor);
		}
	}
	if (p->have_summary) {
		ms_tlp_totals(p, &sum);
		compare_totals(p, "the", &p->summary, &sum);
	}
}

/* ------------------------------------------------------------------ public */

struct ms_tlp *ms_tlp_open(const char *path, char *msg, size_t msglen)
{
	struct ms_tlp *p = calloc(1, sizeof(*p));
	int err = 0;

	if (!p) {
		snprintf(msg, msglen, "%s: out of memory", path);
		return NULL;
	}
	p->rd = ms_tlr_open(path, &err, msg, msglen);
	p->path = strdup(path);
	p->seq = calloc(1, sizeof(*p->seq));
	if (!p->rd || !p->path || !p->seq || tlp_table_init(p)) {
		if (p->rd)
			snprintf(msg, msglen, "%s: out of memory", path);
		ms_tlr_close(p->rd);
		ms_proctab_destroy(&p->pt);
		free(p->path);
		free(p->seq);
		free(p);
		return NULL;
	}
	p->opts.log_capacity = 1;
	p->opts.on_full = drop_log;
	p->opts.seq_counter = p->seq;
	return p;
}

static void tlp_free(struct ms_tlp *p);

/*
 * A copy read without replaying meets an event that left its states out: they must be
 * computed after all. Read the file again with the replay on up to this item, and go on
 * from there (the caller's item is read again, from the new reader).
 */
static int replay_after_all(struct ms_tlp *p, struct ms_tl_item *it, struct ms_tlp_step *step)
{
	struct ms_tlp *q;
	char msg[600];
	int ret = 1;

	q = ms_tlp_open(p->path, msg, sizeof(msg));
	if (!q) {
		snprintf(p->err, sizeof(p->err), "%s", msg);
		return -EIO;
	}
	q->hook_ctx = p->hook_ctx;
	q->hook = NULL; /* events already seen by the hook are not shown twice */
	for (uint64_t i = 0; i + 1 < p->items && ret == 1; i++) /* all but this one */
		ret = ms_tlp_next(q, it, NULL);
	if (ret != 1) {
		snprintf(p->err, sizeof(p->err), "%s: changed while it was read", p->path);
		ms_tlp_close(q);
		return -EIO;
	}
	q->hook = p->hook;
	tlp_free(p);
	*p = *q;
	p->pt.ops.ctx = p; /* the table's hooks follow the move */
	free(q);
	return ms_tlp_next(p, it, step);
}

int ms_tlp_next(struct ms_tlp *p, struct ms_tl_item *it, struct ms_tlp_step *step)
{
	struct ms_tlp_step scratch;
	int ret;

	if (p->state)
		return p->state;
	ret = ms_tlr_next(p->rd, it);
	if (ret == MS_TLR_END || ret == MS_TLR_TRUNCATED || ret < 0) {
		snprintf(p->err, sizeof(p->err), "%s", ms_tlr_error(p->rd));
		if ((ret == MS_TLR_END || ret == MS_TLR_TRUNCATED) && !p->no_replay)
			finish_compare(p, ret == MS_TLR_END);
		p->state = ret;
		return ret;
	}
	p->items++;
	if ((int)it->type > p->furthest)
		p->furthest = (int)it->type;
	switch (it->type) {
	case MS_TLI_HEADER:
		p->header = *it;
		p->have_header = true;
		p->opts.page_size = it->header.page_size;
		break;
	case MS_TLI_EVENT:
		if (p->no_replay && (it->event.recorded & MS_TLE_STATES) != MS_TLE_STATES) {
			ret = replay_after_all(p, it, step);
			if (ret < 0)
				p->state = ret;
			return ret;
		}
		if (p->no_replay) {
			if (step) {
				memset(step, 0, sizeof(*step));
				step->ev = it->event.ev;
			}
			break;
		}
		ret = play_event(p, it, step ? step : &scratch);
		if (ret < 0) {
			p->state = ret;
			return ret;
		}
		break;
	case MS_TLI_VIOLATION:
		if (!p->no_replay)
			play_violation(p, it);
		break;
	case MS_TLI_REGION:
		if (!p->no_replay)
			play_region(p, it);
		break;
	case MS_TLI_PROCESS:
		play_process(p, it);
		break;
	case MS_TLI_SUMMARY:
		p->have_summary = true;
		p->summary = it->summary.totals;
		p->lost_summary = it->summary.totals.dropped_events + it->summary.totals.lost_ops;
		break;
	}
	return 1;
}

void ms_tlp_set_replay(struct ms_tlp *p, bool on)
{
	p->no_replay = !on;
}

void ms_tlp_set_hook(struct ms_tlp *p, void (*fn)(void *ctx, const struct ms_event *rec), void *ctx)
{
	p->hook = fn;
	p->hook_ctx = ctx;
}

const char *ms_tlp_error(const struct ms_tlp *p)
{
	return p->err;
}

const struct ms_tl_item *ms_tlp_header(const struct ms_tlp *p)
{
	return p->have_header ? &p->header : NULL;
}

bool ms_tlp_has_section(const struct ms_tlp *p, enum ms_tl_item_type type)
{
	return ms_tlr_has_section(p->rd, type);
}

const char *ms_tlp_name(const struct ms_tlp *p)
{
	return ms_tlr_name(p->rd);
}

uint32_t ms_tlp_item_line(const struct ms_tlp *p)
{
	return ms_tlr_item_line(p->rd);
}

bool ms_tlp_is_jsonl(const struct ms_tlp *p)
{
	return ms_tlr_is_jsonl(p->rd);
}

size_t ms_tlp_nprocs(const struct ms_tlp *p)
{
	return ms_proctab_count(&p->pt);
}

struct ms_tlp_proc *ms_tlp_proc_at(struct ms_tlp *p, size_t i)
{
	return i < ms_proctab_count(&p->pt) ? tlp_proc_of(ms_proctab_at(&p->pt, i)) : NULL;
}

void ms_tlp_totals(struct ms_tlp *p, struct ms_totals *sum)
{
	struct ms_totals t;

	memset(sum, 0, sizeof(*sum));
	for (size_t i = 0; i < ms_proctab_count(&p->pt); i++) {
		if (!ms_proctab_at(&p->pt, i)->sp)
			continue;
		ms_space_totals(ms_proctab_at(&p->pt, i)->sp, &t);
		for (int s = 0; s < MS_STATE_COUNT; s++) {
			sum->bytes[s] += t.bytes[s];
			sum->peak_bytes[s] += t.peak_bytes[s];
		}
		for (int k = 0; k < MS_V_COUNT; k++)
			sum->by_kind[k] += t.by_kind[k];
		for (int o = 0; o < MS_OP_COUNT; o++)
			sum->by_op[o] += t.by_op[o];
		sum->peak_footprint += t.peak_footprint;
		sum->file_bytes += t.file_bytes;
		sum->events += t.events;
		sum->violations += t.violations;
		sum->page_faults += t.page_faults;
		sum->untracked_faults += t.untracked_faults;
		sum->thp_collapses += t.thp_collapses;
		sum->lost_ops += t.lost_ops;
		sum->regions += t.regions;
	}
}

bool ms_tlp_recorded_summary(const struct ms_tlp *p, struct ms_totals *out)
{
	if (p->have_summary && out)
		*out = p->summary;
	return p->have_summary;
}

uint64_t ms_tlp_lost(const struct ms_tlp *p)
{
	/* The summary's count is the sum of the processes' when both are there. */
	return p->lost > p->lost_summary ? p->lost : p->lost_summary;
}

uint64_t ms_tlp_computed(const struct ms_tlp *p)
{
	return p->computed;
}

uint64_t ms_tlp_disagreements(const struct ms_tlp *p)
{
	return p->ndis;
}

size_t ms_tlp_disagreement_lines(const struct ms_tlp *p, const char *const **lines)
{
	*lines = (const char *const *)p->dis;
	return p->ndis_kept;
}

void ms_tlp_close(struct ms_tlp *p)
{
	if (!p)
		return;
	tlp_free(p);
	free(p);
}

/* Everything p holds, but p itself. */
static void tlp_free(struct ms_tlp *p)
{
	for (size_t i = 0; i < ms_proctab_count(&p->pt); i++) {
		struct ms_tlp_proc *pr = tlp_proc_of(ms_proctab_at(&p->pt, i));

		ms_snapshot_free(pr->snap);
		free(pr->exe);
	}
	ms_proctab_destroy(&p->pt);
	for (size_t i = 0; i < p->ndis_kept; i++)
		free(p->dis[i]);
	free(p->path);
	free(p->seq);
	ms_tlr_close(p->rd);
}
