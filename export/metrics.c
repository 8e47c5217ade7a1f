// SPDX-License-Identifier: MIT
/*
 * Timeline metrics: one streaming pass over the playback (see metrics.h), the metric names
 * and values, and the parser of limit and growth expressions.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "metrics.h"

/* ------------------------------------------------------------------ series */

static unsigned series_n(const struct ms_mx_series *s)
{
	return s->n && s->n < MS_MX_SERIES ? s->n : MS_MX_SERIES;
}

void ms_mx_series_add(struct ms_mx_series *s, uint64_t t, const uint64_t v[MS_STATE_COUNT])
{
	const unsigned N = series_n(s);
	uint64_t i;

	if (!s->started) {
		s->started = true;
		s->t0 = t;
		s->span = 1000;
	}
	if (t < s->t0)
		t = s->t0;
	while ((t - s->t0) / s->span >= N) {
		/* Fold pairs of buckets: the series keeps its length, buckets get wider. */
		for (unsigned k = 0; k < N / 2; k++) {
			unsigned a = 2 * k, b = 2 * k + 1;

			for (int st = 0; st < MS_STATE_COUNT; st++) {
				uint64_t hi =
					s->hi[a][st] > s->hi[b][st] ? s->hi[a][st] : s->hi[b][st];

				s->hi[k][st] = s->set[a] || s->set[b] ? hi : 0;
				s->last[k][st] = s->set[b] ? s->last[b][st] : s->last[a][st];
			}
			s->set[k] = s->set[a] || s->set[b];
		}
		memset(&s->set[N / 2], 0, N / 2 * sizeof(s->set[0]));
		memset(&s->hi[N / 2], 0, N / 2 * sizeof(s->hi[0]));
		memset(&s->last[N / 2], 0, N / 2 * sizeof(s->last[0]));
		s->span *= 2;
	}
	i = (t - s->t0) / s->span;
	for (int st = 0; st < MS_STATE_COUNT; st++) {
		if (!s->set[i] || v[st] > s->hi[i][st])
			s->hi[i][st] = v[st];
		s->last[i][st] = v[st];
	}
	s->set[i] = true;
}

unsigned ms_mx_series_points(const struct ms_mx_series *s, uint64_t out[][MS_STATE_COUNT])
{
	uint64_t prev[MS_STATE_COUNT] = {0};
	unsigned n = 0;

	for (unsigned i = 0; i < series_n(s); i++) {
		if (s->set[i]) {
			memcpy(out[i], s->hi[i], sizeof(out[i]));
			memcpy(prev, s->last[i], sizeof(prev));
			n = i + 1;
		} else {
			memcpy(out[i], prev, sizeof(out[i]));
		}
	}
	return n;
}

/* ------------------------------------------------------------------ feeding */

static void scope_free(struct ms_mx_scope *s)
{
	for (unsigned i = 0; i < s->nstats; i++)
		free(s->stats[i].name);
	free(s->stats);
	free(s->groups);
	free(s->exe);
}

/* The scope of pid, made on first sight (procs grow in the order processes appear). */
static struct ms_mx_scope *scope_of(struct ms_metrics *m, uint32_t pid)
{
	struct ms_mx_scope *v;

	/* Recent processes first: events of one process come in runs. */
	for (size_t i = m->nprocs; i-- > 0;)
		if (m->procs[i].pid == pid)
			return &m->procs[i];
	v = realloc(m->procs, (m->nprocs + 1) * sizeof(*v));
	if (!v) {
		m->err = -ENOMEM;
		return NULL;
	}
	m->procs = v;
	v = &m->procs[m->nprocs++];
	memset(v, 0, sizeof(*v));
	v->pid = pid;
	return v;
}

static void group_add(struct ms_metrics *m, struct ms_mx_scope *s, uint8_t op, uint64_t len,
		      const char *stat, uint64_t count, uint64_t bytes)
{
	struct ms_mx_group *g;

	if (!stat)
		stat = "";
	for (size_t i = 0; i < s->ngroups; i++) {
		g = &s->groups[i];
		if (g->op == op && g->len == len && !strncmp(g->stat, stat, sizeof(g->stat) - 1)) {
			g->count += count;
			g->bytes += bytes;
			return;
		}
	}
	if (s->ngroups >= MS_MX_MAX_GROUPS) {
		s->groups_other += count;
		return;
	}
	if (s->ngroups == s->groups_cap) {
		size_t cap = s->groups_cap ? 2 * s->groups_cap : 16;

		g = realloc(s->groups, cap * sizeof(*g));
		if (!g) {
			m->err = -ENOMEM;
			return;
		}
		s->groups = g;
		s->groups_cap = cap;
	}
	g = &s->groups[s->ngroups++];
	memset(g, 0, sizeof(*g));
	g->op = op;
	g->len = len;
	snprintf(g->stat, sizeof(g->stat), "%s", stat);
	g->count = count;
	g->bytes = bytes;
}

static void keep_event(struct ms_metrics *m, const struct ms_tlp_step *st)
{
	const struct ms_event *ev = &st->ev;

	if (ev->violation && m->nviols < m->opts.max_viols) {
		struct ms_mx_viol *v = &m->viols[m->nviols++];

		*v = (struct ms_mx_viol){.seq = ev->seq,
					 .t_ns = ev->t_ns,
					 .pid = ev->pid,
					 .tid = ev->tid,
					 .kind = ev->violation,
					 .op = ev->op,
					 .addr = ev->addr,
					 .len = ev->len};
		memcpy(v->from, ev->from, sizeof(v->from));
		snprintf(v->message, sizeof(v->message), "%s", st->message ? st->message : "");
	}
	if (st->changed) {
		m->changes_total++;
		if (m->nchanges < m->opts.max_changes)
			m->changes[m->nchanges++] = (struct ms_mx_change){.seq = ev->seq,
									  .t_ns = ev->t_ns,
									  .pid = ev->pid,
									  .op = ev->op,
									  .to = ev->to,
									  .addr = ev->addr,
									  .len = ev->len};
	}
}

struct ms_metrics *ms_mx_new(const struct ms_mx_opts *opts)
{
	struct ms_metrics *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	if (opts)
		m->opts = *opts;
	if (m->opts.keep) {
		if (!m->opts.max_regions)
			m->opts.max_regions = 20000;
		if (!m->opts.max_viols)
			m->opts.max_viols = 500;
		if (!m->opts.max_changes)
			m->opts.max_changes = 4000;
		m->viols = calloc(m->opts.max_viols, sizeof(*m->viols));
		m->changes = calloc(m->opts.max_changes, sizeof(*m->changes));
		if (!m->viols || !m->changes) {
			ms_mx_free(m);
			return NULL;
		}
	} else {
		m->opts.max_regions = m->opts.max_viols = m->opts.max_changes = 0;
	}
	return m;
}

void ms_mx_feed(struct ms_metrics *m, struct ms_tlp *p, const struct ms_tl_item *it,
		const struct ms_tlp_step *st)
{
	const struct ms_event *ev;
	struct ms_mx_scope *s, *w = &m->total;
	struct ms_totals t;

	(void)p;
	if (it->type != MS_TLI_EVENT || m->err)
		return;
	ev = &st->ev;
	m->events++;
	s = scope_of(m, ev->pid);
	if (!s)
		return;
	if (!s->seen)
		s->first_ns = ev->t_ns;
	if (!w->seen)
		w->first_ns = ev->t_ns;
	s->last_ns = w->last_ns = ev->t_ns;
	if (ev->op < MS_OP_PROC_FORK && ev->len && !(ev->flags & MS_EVF_FAILED) &&
	    ev->to != MS_NONE && ev->to < MS_STATE_COUNT && ev->from[MS_NONE] &&
	    ev->op != MS_OP_USED && ev->op != MS_OP_PAGE_FAULT)
		group_add(m, s, ev->op, ev->len, it->event.stat, 1, ev->len);
	if (m->opts.keep)
		keep_event(m, st);
	if ((st->changed || ev->resident_delta || ev->op == MS_OP_PROC_FORK ||
	     ev->op == MS_OP_PROC_EXEC || !s->seen) &&
	    st->proc && st->proc->base.sp) {
		uint64_t fp, res;

		ms_space_totals(st->proc->base.sp, &t);
		/* Resident bytes of the whole timeline: its peak is the peak of the sum. */
		res = t.resident[MS_PREPARED] + t.resident[MS_READY];
		w->cur_resident += res - s->cur_resident;
		s->cur_resident = res;
		if (w->cur_resident > w->peak_resident)
			w->peak_resident = w->cur_resident;
		for (int k = 0; k < MS_STATE_COUNT; k++) {
			w->cur[k] += t.bytes[k] - s->cur[k];
			s->cur[k] = t.bytes[k];
			if (w->cur[k] > w->tot.peak_bytes[k])
				w->tot.peak_bytes[k] = w->cur[k];
		}
		fp = w->cur[MS_PREPARED] + w->cur[MS_READY];
		if (fp > w->tot.peak_footprint)
			w->tot.peak_footprint = fp;
		ms_mx_series_add(&s->series, ev->t_ns, s->cur);
		ms_mx_series_add(&w->series, ev->t_ns, w->cur);
	}
	s->seen = w->seen = true;
}

static int keep_region(const struct ms_region *r, void *arg)
{
	void **a = arg;
	struct ms_metrics *m = a[0];
	struct ms_tlp_proc *pr = a[1];
	struct ms_mx_region *k;
	struct ms_stat_info si;

	m->regions_total++;
	if (m->nregions >= m->opts.max_regions)
		return 0;
	k = &m->regions[m->nregions++];
	memset(k, 0, sizeof(*k));
	k->pid = pr->base.pid;
	k->r = *r;
	if (r->stat && !ms_space_stat_info_locked(pr->base.sp, r->stat, &si) && si.name)
		snprintf(k->stat, sizeof(k->stat), "%s", si.name);
	return 0;
}

/* Add a stat to the whole timeline's list by name. */
static int stat_merge(struct ms_mx_scope *w, const struct ms_stat_info *si)
{
	struct ms_mx_stat *v;

	for (unsigned i = 0; i < w->nstats; i++) {
		if (!strcmp(w->stats[i].name, si->name)) {
			w->stats[i].bytes += si->bytes;
			w->stats[i].peak += si->peak;
			return 0;
		}
	}
	v = realloc(w->stats, (w->nstats + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	w->stats = v;
	v = &w->stats[w->nstats];
	v->name = strdup(si->name);
	if (!v->name)
		return -ENOMEM;
	v->bytes = si->bytes;
	v->peak = si->peak;
	w->nstats++;
	return 0;
}

/*
 * A process's residency figures from its replayed (or recorded) totals. Recorded only when
 * the space tracks residency and the process touched memory: a timeline without page faults
 * (ptrace alone) says nothing about what the kernel holds.
 */
static void resident_from(struct ms_mx_scope *s, const struct ms_totals *t)
{
	if (!t->residency || (!t->peak_resident && !t->page_faults && !t->thp_collapses))
		return;
	s->has_resident = true;
	s->resident = t->resident[MS_PREPARED] + t->resident[MS_READY];
	s->peak_resident = t->peak_resident > s->resident ? t->peak_resident : s->resident;
	s->ready_untouched = t->bytes[MS_READY] > t->resident[MS_READY]
				     ? t->bytes[MS_READY] - t->resident[MS_READY]
				     : 0;
	s->lazy_free = t->lazy_free;
}

int ms_mx_finish(struct ms_metrics *m, struct ms_tlp *p, int ret)
{
	struct ms_mx_scope *w = &m->total;
	const struct ms_tl_item *hdr = ms_tlp_header(p);

	if (m->err)
		return m->err;
	m->complete = ret == MS_TLR_END;
	m->lost = ms_tlp_lost(p);
	m->disagreements = ms_tlp_disagreements(p);
	m->name = strdup(ms_tlp_name(p));
	if (!m->name)
		return -ENOMEM;
	if (hdr) {
		m->page_size = hdr->header.page_size;
		m->argv = calloc((size_t)hdr->header.argc + 1, sizeof(*m->argv));
		if (!m->argv)
			return -ENOMEM;
		for (int i = 0; i < hdr->header.argc; i++) {
			m->argv[i] = strdup(hdr->header.argv[i] ? hdr->header.argv[i] : "");
			if (!m->argv[i])
				return -ENOMEM;
			m->argc = i + 1;
		}
	}
	if (m->opts.keep) {
		m->regions = calloc(m->opts.max_regions, sizeof(*m->regions));
		if (!m->regions)
			return -ENOMEM;
	}
	/* Processes the playback knows but no event named (listed only) join too. */
	for (size_t i = 0; i < ms_tlp_nprocs(p); i++) {
		struct ms_tlp_proc *pr = ms_tlp_proc_at(p, i);
		struct ms_mx_scope *s = scope_of(m, pr->base.pid);
		struct ms_totals t = {0};
		unsigned n;

		if (!s)
			return m->err;
		s->ppid = pr->base.ppid;
		if (pr->exe && !s->exe && !(s->exe = strdup(pr->exe)))
			return -ENOMEM;
		if (!pr->base.sp) {
			if (pr->has_recorded) {
				s->tot = pr->recorded;
				resident_from(s, &pr->recorded);
			}
			continue;
		}
		ms_space_totals(pr->base.sp, &t);
		s->tot = t;
		resident_from(s, &t);
		n = ms_space_stat_count(pr->base.sp);
		for (unsigned id = 1; id < n; id++) {
			struct ms_stat_info si;
			struct ms_mx_stat *v;

			if (ms_space_stat_info(pr->base.sp, id, &si) || !si.name)
				continue;
			v = realloc(s->stats, (s->nstats + 1) * sizeof(*v));
			if (!v)
				return -ENOMEM;
			s->stats = v;
			v[s->nstats] = (struct ms_mx_stat){
				.name = strdup(si.name), .bytes = si.bytes, .peak = si.peak};
			if (!v[s->nstats].name)
				return -ENOMEM;
			s->nstats++;
			if (stat_merge(w, &si))
				return -ENOMEM;
		}
		if (m->opts.keep) {
			void *a[2] = {m, pr};

			ms_space_foreach_region(pr->base.sp, keep_region, a);
		}
	}
	/* Whole timeline: counts add up, peaks were taken along time while feeding. */
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct ms_totals *t = &m->procs[i].tot;

		for (int k = 0; k < MS_STATE_COUNT; k++)
			w->tot.bytes[k] += t->bytes[k];
		w->tot.file_bytes += t->file_bytes;
		w->tot.events += t->events;
		w->tot.violations += t->violations;
		for (int k = 0; k < MS_V_COUNT; k++)
			w->tot.by_kind[k] += t->by_kind[k];
		for (int o = 0; o < MS_OP_COUNT; o++)
			w->tot.by_op[o] += t->by_op[o];
		w->tot.page_faults += t->page_faults;
		w->tot.untracked_faults += t->untracked_faults;
		w->tot.thp_collapses += t->thp_collapses;
		w->tot.dropped_events += t->dropped_events;
		w->tot.lost_ops += t->lost_ops;
		w->tot.regions += t->regions;
		if (m->procs[i].has_resident) {
			w->has_resident = true;
			w->resident += m->procs[i].resident;
			w->ready_untouched += m->procs[i].ready_untouched;
			w->lazy_free += m->procs[i].lazy_free;
		}
	}
	if (w->resident > w->peak_resident)
		w->peak_resident = w->resident;
	/* A timeline whose only events move nothing still has its final bytes as a peak. */
	for (int k = 0; k < MS_STATE_COUNT; k++)
		if (w->tot.bytes[k] > w->tot.peak_bytes[k])
			w->tot.peak_bytes[k] = w->tot.bytes[k];
	if (w->tot.bytes[MS_PREPARED] + w->tot.bytes[MS_READY] > w->tot.peak_footprint)
		w->tot.peak_footprint = w->tot.bytes[MS_PREPARED] + w->tot.bytes[MS_READY];
	/* Whole-timeline groups: the union of the processes'. */
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct ms_mx_scope *s = &m->procs[i];

		for (size_t g = 0; g < s->ngroups; g++)
			group_add(m, w, s->groups[g].op, s->groups[g].len, s->groups[g].stat,
				  s->groups[g].count, s->groups[g].bytes);
		w->groups_other += s->groups_other;
	}
	/* Ranks among processes of the same exe: diff matches processes by exe and order. */
	for (size_t i = 0; i < m->nprocs; i++) {
		unsigned r = 0;

		for (size_t k = 0; k < i; k++) {
			const char *a = m->procs[k].exe, *b = m->procs[i].exe;

			r += (!a && !b) || (a && b && !strcmp(a, b));
		}
		m->procs[i].exe_order = r;
	}
	return m->err;
}

int ms_mx_load(const char *path, const struct ms_mx_opts *opts, struct ms_metrics **out, char *msg,
	       size_t msglen)
{
	struct ms_tlp_step st;
	struct ms_tl_item it;
	struct ms_metrics *m;
	struct ms_tlp *p;
	int ret;

	*out = NULL;
	p = ms_tlp_open(path, msg, msglen);
	if (!p)
		return -EINVAL;
	m = ms_mx_new(opts);
	if (!m) {
		ms_tlp_close(p);
		snprintf(msg, msglen, "%s: out of memory", path);
		return -ENOMEM;
	}
	while ((ret = ms_tlp_next(p, &it, &st)) == 1 && !m->err)
		ms_mx_feed(m, p, &it, &st);
	if (ret < 0) {
		snprintf(msg, msglen, "%s", ms_tlp_error(p));
		goto fail;
	}
	if (!m->err)
		ret = ms_mx_finish(m, p, ret);
	else
		ret = m->err;
	if (ret < 0) {
		snprintf(msg, msglen, "%s: out of memory", path);
		goto fail;
	}
	ms_tlp_close(p);
	*out = m;
	return 0;
fail:
	ms_tlp_close(p);
	ms_mx_free(m);
	return ret < 0 ? ret : -EINVAL;
}

void ms_mx_free(struct ms_metrics *m)
{
	if (!m)
		return;
	scope_free(&m->total);
	for (size_t i = 0; i < m->nprocs; i++)
		scope_free(&m->procs[i]);
	free(m->procs);
	for (int i = 0; m->argv && i < m->argc; i++)
		free(m->argv[i]);
	free(m->argv);
	free(m->name);
	free(m->viols);
	free(m->regions);
	free(m->changes);
	free(m);
}

/* ------------------------------------------------------------------ names and values */

static const char *const plain_names[] = {
	"peak_footprint", "resident",	 "peak_resident",  "ready_untouched",
	"lazy_free",	  "page_faults", "thp_collapses",  "violations",
	"events",	  "file_bytes",	 "dropped_events",
};

static int state_of(const char *s)
{
	for (int k = MS_RESERVED; k < MS_STATE_COUNT; k++)
		if (!strcmp(s, ms_state_name((unsigned)k)))
			return k;
	return -1;
}

/* "stats.NAME" or "stats.NAME.peak": the name's length, 0 when not a stat metric. */
static size_t stat_part(const char *name, bool *peak)
{
	size_t n;

	if (strncmp(name, "stats.", 6))
		return 0;
	n = strlen(name + 6);
	*peak = n > 5 && !strcmp(name + 6 + n - 5, ".peak");
	if (*peak)
		n -= 5;
	return n;
}

bool ms_mx_name_valid(const char *name)
{
	unsigned x;
	bool peak;

	for (size_t i = 0; i < sizeof(plain_names) / sizeof(plain_names[0]); i++)
		if (!strcmp(name, plain_names[i]))
			return true;
	if (!strncmp(name, "bytes.", 6))
		return state_of(name + 6) >= 0;
	if (!strncmp(name, "peak_bytes.", 11))
		return state_of(name + 11) >= 0;
	if (!strncmp(name, "violations.", 11))
		return !ms_violation_parse(name + 11, &x) && x != MS_V_NONE;
	if (!strncmp(name, "events.", 7))
		return !ms_op_parse(name + 7, &x);
	return stat_part(name, &peak) > 0;
}

bool ms_mx_name_is_bytes(const char *name)
{
	bool peak;

	return !strncmp(name, "bytes.", 6) || !strncmp(name, "peak_bytes.", 11) ||
	       stat_part(name, &peak) || !strcmp(name, "peak_footprint") ||
	       !strcmp(name, "resident") || !strcmp(name, "peak_resident") ||
	       !strcmp(name, "ready_untouched") || !strcmp(name, "lazy_free") ||
	       !strcmp(name, "file_bytes");
}

const char *ms_mx_names_help(void)
{
	return "peak_footprint, bytes.STATE, peak_bytes.STATE (STATE: Reserved, Prepared, "
	       "Ready), resident, peak_resident, ready_untouched, lazy_free, page_faults, "
	       "thp_collapses, violations, violations.KIND, events, events.OP, stats.NAME, "
	       "stats.NAME.peak, file_bytes, dropped_events; PID: or EXE: before one picks a "
	       "process";
}

int ms_mx_value(const struct ms_mx_scope *s, const char *name, uint64_t *out)
{
	const struct ms_totals *t = &s->tot;
	unsigned x;
	size_t n;
	bool peak;

	*out = 0;
	if (!ms_mx_name_valid(name))
		return -ENOENT;
	if (!strcmp(name, "peak_footprint"))
		*out = t->peak_footprint;
	else if (!strncmp(name, "bytes.", 6))
		*out = t->bytes[state_of(name + 6)];
	else if (!strncmp(name, "peak_bytes.", 11))
		*out = t->peak_bytes[state_of(name + 11)];
	else if (!strcmp(name, "page_faults"))
		*out = t->page_faults;
	else if (!strcmp(name, "thp_collapses"))
		*out = t->thp_collapses;
	else if (!strcmp(name, "violations"))
		*out = t->violations;
	else if (!strncmp(name, "violations.", 11) && !ms_violation_parse(name + 11, &x))
		*out = t->by_kind[x];
	else if (!strcmp(name, "events"))
		*out = t->events;
	else if (!strncmp(name, "events.", 7) && !ms_op_parse(name + 7, &x))
		*out = t->by_op[x];
	else if (!strcmp(name, "file_bytes"))
		*out = t->file_bytes;
	else if (!strcmp(name, "dropped_events"))
		*out = t->dropped_events + t->lost_ops;
	else if ((n = stat_part(name, &peak))) {
		for (unsigned i = 0; i < s->nstats; i++)
			if (strlen(s->stats[i].name) == n &&
			    !strncmp(s->stats[i].name, name + 6, n))
				*out = peak ? s->stats[i].peak : s->stats[i].bytes;
	} else { /* residency */
		if (!s->has_resident)
			return -ENODATA;
		*out = !strcmp(name, "resident")	  ? s->resident
		       : !strcmp(name, "peak_resident")	  ? s->peak_resident
		       : !strcmp(name, "ready_untouched") ? s->ready_untouched
							  : s->lazy_free;
	}
	return 0;
}

/* ------------------------------------------------------------------ expressions */

/* A count, or bytes with a 1024-based unit. 0 or -EINVAL. */
static int parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned shift = 0;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	case 't':
	case 'T':
		shift = 40;
		break;
	case 0:
		break;
	default:
		if (strcmp(end, "B"))
			return -EINVAL;
		end--; /* "123B" */
	}
	end++;
	if (shift && *end && strcmp(end, "B") && strcmp(end, "iB"))
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

int ms_mx_parse(const char *s, bool growth, struct ms_mx_expr *e, char *msg, size_t msglen)
{
	const char *eq = strchr(s, '='), *colon, *val;
	size_t nlen;

	memset(e, 0, sizeof(*e));
	snprintf(e->text, sizeof(e->text), "%s", s);
	if (!eq || eq == s) {
		snprintf(msg, msglen, "'%s' is not %s", s,
			 growth ? "METRIC=+N% or METRIC=+SIZE" : "METRIC=SIZE");
		return -EINVAL;
	}
	/* The prefix ends at the last ':' before '=' (exe paths may hold more). */
	colon = NULL;
	for (const char *c = s; c < eq; c++)
		if (*c == ':')
			colon = c;
	if (colon) {
		size_t plen = (size_t)(colon - s);
		char *end;
		unsigned long pid;

		if (!plen || plen >= sizeof(e->exe)) {
			snprintf(msg, msglen, "'%s': empty or too long PID: or EXE: prefix", s);
			return -EINVAL;
		}
		memcpy(e->exe, s, plen);
		e->exe[plen] = 0;
		pid = strtoul(e->exe, &end, 10);
		if (!*end && e->exe[0] >= '0' && e->exe[0] <= '9' && pid > 0 && pid <= UINT32_MAX) {
			e->kind = MS_MX_PID;
			e->pid = (uint32_t)pid;
			e->exe[0] = 0;
		} else {
			e->kind = MS_MX_EXE;
		}
		s = colon + 1;
	}
	nlen = (size_t)(eq - s);
	if (nlen >= sizeof(e->metric)) {
		snprintf(msg, msglen, "'%s': metric name too long; metrics: %s", e->text,
			 ms_mx_names_help());
		return -EINVAL;
	}
	memcpy(e->metric, s, nlen);
	e->metric[nlen] = 0;
	if (!ms_mx_name_valid(e->metric)) {
		snprintf(msg, msglen, "unknown metric '%s'; metrics: %s", e->metric,
			 ms_mx_names_help());
		return -EINVAL;
	}
	val = eq + 1;
	if (growth) {
		size_t vlen = strlen(val);

		if (*val != '+') {
			snprintf(msg, msglen,
				 "'%s': the allowed growth starts with '+' (METRIC=+N%% or "
				 "METRIC=+SIZE)",
				 e->text);
			return -EINVAL;
		}
		val++;
		vlen--;
		if (vlen > 1 && val[vlen - 1] == '%') {
			char num[64], *end;

			if (vlen >= sizeof(num) || *val < '0' || *val > '9')
				goto bad;
			memcpy(num, val, vlen - 1);
			num[vlen - 1] = 0;
			e->pct = strtod(num, &end);
			if (*end || !isfinite(e->pct) || e->pct < 0)
				goto bad;
			e->percent = true;
			return 0;
		}
	}
	if (parse_size(val, &e->amount))
		goto bad;
	return 0;
bad:
	snprintf(msg, msglen,
		 "'%s': bad %s '%s': want %s (SIZE: a count, or bytes with K, M, G or T, "
		 "1024-based)",
		 e->text, growth ? "growth" : "limit", eq + 1, growth ? "+N% or +SIZE" : "SIZE");
	return -EINVAL;
}

bool ms_mx_expr_picks(const struct ms_mx_expr *e, const struct ms_mx_scope *s)
{
	const char *base;

	switch (e->kind) {
	case MS_MX_WHOLE:
		return s->pid == 0;
	case MS_MX_PID:
		return s->pid == e->pid;
	case MS_MX_EXE:
		if (!s->pid || !s->exe)
			return false;
		base = strrchr(s->exe, '/');
		return !strcmp(s->exe, e->exe) || (base && !strcmp(base + 1, e->exe));
	}
	return false;
}

bool ms_mx_exceeds(const struct ms_mx_expr *e, uint64_t base, uint64_t now)
{
	if (now <= base)
		return false;
	if (e->percent)
		return (long double)(now - base) * 100 > (long double)base * e->pct;
	return now - base > e->amount;
}

const char *ms_mx_fmt(char *buf, size_t len, const char *metric, uint64_t v)
{
	if (!ms_mx_name_is_bytes(metric)) {
		snprintf(buf, len, "%" PRIu64, v);
		return buf;
	}
	return ms_fmt_size(buf, len, v, MS_SIZE_TEXT);
}
