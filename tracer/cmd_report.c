// SPDX-License-Identifier: MIT
/*
 * memstate report TRACE [--json]: per process, what a saved timeline says about memory:
 * bytes per state over time (min, peak and when, final, and a coarse series), operations by
 * kind and source, page faults, THP collapses, the regions that were busiest (by state
 * transitions and by faults) and the violations.
 *
 * A "region" here is a mapping as the program made it: the range of the sysReserve,
 * sysAlloc, mmap... that first gave those bytes a state. Everything that later happens
 * inside it is counted for it, until it is wholly freed. Regions live in a tsearch() tree
 * keyed by range (disjoint ranges: "overlaps" is "equal"), so each event costs O(log n);
 * retired ones only compete for the top lists, so memory is bounded by the live mappings.
 *
 * --json is built with cJSON (a small tree, pretty-printed); its integers are inserted as
 * raw decimal text, since cJSON would hold them as doubles.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/playback.h"
#include "cli.h"
#include "verdict.h"

#define SERIES_N 64 /* buckets of the bytes-over-time series */
#define MAX_TOP	 100

/* A mapping as the program made it, and what happened inside it. */
struct rp_map {
	uint64_t s, e;	      /* its range */
	uint64_t seq;	      /* the event that created it */
	uint8_t op;	      /* that event's operation */
	bool live;	      /* still (partly) mapped at the end */
	uint64_t ops;	      /* operations that touched it */
	uint64_t transitions; /* of which moved bytes between states */
	uint64_t faults;      /* page faults in it */
	uint64_t thp;	      /* THP collapses in it */
};

/* Bytes per state over time, in SERIES_N buckets that double in width as time goes on. */
struct series {
	bool started;				 /* t0 is set */
	uint64_t t0;				 /* first sample */
	uint64_t span;				 /* ns per bucket */
	bool set[SERIES_N];			 /* a sample fell in the bucket */
	uint64_t hi[SERIES_N][MS_STATE_COUNT];	 /* highest value in it */
	uint64_t last[SERIES_N][MS_STATE_COUNT]; /* last value in it */
};

struct rp_viol {
	uint64_t seq, t_ns;   /* when */
	uint32_t tid;	      /* who */
	uint8_t kind, op;     /* what */
	uint64_t addr, len;   /* where */
	char message[192];    /* the replay's words */
	bool after_loss;      /* after the capture lost events: maybe an artefact */
	uint64_t lost_before; /* events lost before it */
};

struct rp_proc {
	bool seen;			 /* min/peak hold a value */
	uint64_t min[MS_STATE_COUNT];	 /* lowest bytes per state */
	uint64_t peak[MS_STATE_COUNT];	 /* highest */
	uint64_t peak_t[MS_STATE_COUNT]; /* when first reached */
	uint64_t peak_footprint;	 /* highest Prepared + Ready */
	struct series series;		 /* over time */
	uint64_t by_op[MS_OP_COUNT];	 /* operations by kind */
	uint64_t by_src[MS_SRC_COUNT];	 /* events by source */
	uint64_t failed;		 /* operations the OS refused */
	uint64_t first_touch;		 /* faults that made inferred Prepared memory Ready */
	uint64_t thp, thp_bytes;	 /* THP collapses and bytes collapsed */
	uint64_t req, req_failed;	 /* sysHugePageCollapse requests, failed ones */
	void *maps;			 /* tsearch root of live struct rp_map */
	uint64_t nmaps;			 /* regions ever made */
	struct rp_map *top_tr, *top_f;	 /* top regions by transitions and by faults */
	unsigned ntop_tr, ntop_f;	 /* entries in each top list */
	struct rp_viol *viols;		 /* the first ones */
	unsigned nviols;		 /* entries of viols */
	uint64_t viol_total;		 /* all of them */
	uint64_t by_kind[MS_V_COUNT];	 /* all of them, by kind */
};

struct report {
	unsigned top;		  /* regions per list */
	unsigned max_viols;	  /* violations listed per process */
	struct rp_proc *cur;	  /* for twalk_r() callbacks */
	struct rp_map **found;	  /* overlap query results */
	size_t nfound, found_cap; /* used and allocated */
	int err;		  /* -ENOMEM seen */
};

/* ------------------------------------------------------------------ formatting */

static const char *fmt_bytes(char *buf, size_t len, uint64_t v)
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
		snprintf(buf, len, "%.1f %s", d, unit[u]);
	return buf;
}

static const char *fmt_ns(char *buf, size_t len, uint64_t ns)
{
	if (ns < 1000000)
		snprintf(buf, len, "%.3f ms", (double)ns / 1e6);
	else if (ns < 10000000000ull)
		snprintf(buf, len, "%.1f ms", (double)ns / 1e6);
	else
		snprintf(buf, len, "%.2f s", (double)ns / 1e9);
	return buf;
}

/* ------------------------------------------------------------------ series */

static void series_add(struct series *s, uint64_t t, const uint64_t v[MS_STATE_COUNT])
{
	uint64_t i;

	if (!s->started) {
		s->started = true;
		s->t0 = t;
		s->span = 1000;
	}
	if (t < s->t0)
		t = s->t0;
	while ((t - s->t0) / s->span >= SERIES_N) {
		/* Fold pairs of buckets: the series keeps its length, buckets get wider. */
		for (unsigned k = 0; k < SERIES_N / 2; k++) {
			unsigned a = 2 * k, b = 2 * k + 1;

			for (int st = 0; st < MS_STATE_COUNT; st++) {
				uint64_t hi =
					s->hi[a][st] > s->hi[b][st] ? s->hi[a][st] : s->hi[b][st];

				s->hi[k][st] = s->set[a] || s->set[b] ? hi : 0;
				s->last[k][st] = s->set[b] ? s->last[b][st] : s->last[a][st];
			}
			s->set[k] = s->set[a] || s->set[b];
		}
		memset(&s->set[SERIES_N / 2], 0, sizeof(s->set) / 2);
		memset(&s->hi[SERIES_N / 2], 0, sizeof(s->hi) / 2);
		memset(&s->last[SERIES_N / 2], 0, sizeof(s->last) / 2);
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

/* Buckets in use, with empty ones filled with the value before them. Returns the count. */
static unsigned series_fill(const struct series *s, uint64_t out[SERIES_N][MS_STATE_COUNT])
{
	unsigned n = 0;
	uint64_t prev[MS_STATE_COUNT] = {0};

	for (unsigned i = 0; i < SERIES_N; i++) {
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

/* ------------------------------------------------------------------ regions */

static int map_cmp(const void *a, const void *b)
{
	const struct rp_map *x = a, *y = b;

	if (x->e <= y->s)
		return -1;
	if (x->s >= y->e)
		return 1;
	return 0; /* overlapping ranges: the one we look for */
}

/* Keep m in a top list of at most n entries, best first. */
static void top_insert(struct rp_map *list, unsigned *len, unsigned max, const struct rp_map *m,
		       bool by_faults)
{
	uint64_t key = by_faults ? m->faults : m->transitions;
	unsigned i;

	if (!max || !key)
		return;
	i = *len < max ? (*len)++ : max;
	if (i == max) {
		const struct rp_map *last = &list[max - 1];

		if ((by_faults ? last->faults : last->transitions) >= key)
			return;
		i = max - 1;
	}
	while (i > 0 && (by_faults ? list[i - 1].faults : list[i - 1].transitions) < key) {
		list[i] = list[i - 1];
		i--;
	}
	list[i] = *m;
}

static void retire(struct report *rp, struct rp_proc *q, struct rp_map *m)
{
	top_insert(q->top_tr, &q->ntop_tr, rp->top, m, false);
	top_insert(q->top_f, &q->ntop_f, rp->top, m, true);
}

static void found_add(struct report *rp, struct rp_map *m)
{
	if (rp->nfound == rp->found_cap) {
		size_t cap = rp->found_cap ? 2 * rp->found_cap : 16;
		struct rp_map **v = realloc(rp->found, cap * sizeof(*v));

		if (!v) {
			rp->err = -ENOMEM;
			return;
		}
		rp->found = v;
		rp->found_cap = cap;
	}
	rp->found[rp->nfound++] = m;
}

/*
 * Every region overlapping [s, e) into rp->found; with create, the parts no region covers
 * become new regions made by ev.
 */
static void overlap(struct report *rp, struct rp_proc *q, uint64_t s, uint64_t e,
		    const struct ms_event *ev, bool create)
{
	while (s < e) {
		struct rp_map key = {.s = s, .e = e}, **hit = tfind(&key, &q->maps, map_cmp), *m;

		if (!hit) {
			if (!create)
				return;
			m = malloc(sizeof(*m));
			if (m) /* the tree orders by range: set it before inserting */
				*m = (struct rp_map){
					.s = s, .e = e, .seq = ev->seq, .op = ev->op, .live = true};
			if (!m || !tsearch(m, &q->maps, map_cmp)) {
				free(m);
				rp->err = -ENOMEM;
				return;
			}
			q->nmaps++;
			found_add(rp, m);
			return;
		}
		m = *hit;
		found_add(rp, m);
		/* The part before it, then go on after it. */
		if (m->s > s)
			overlap(rp, q, s, m->s, ev, create);
		s = m->e;
	}
}

static struct rp_proc *rp_of(struct report *rp, struct ms_tlp_proc *pr)
{
	struct rp_proc *q = pr->user;

	if (q)
		return q;
	q = calloc(1, sizeof(*q));
	if (q) {
		q->top_tr = calloc(rp->top ? rp->top : 1, sizeof(*q->top_tr));
		q->top_f = calloc(rp->top ? rp->top : 1, sizeof(*q->top_f));
		q->viols = calloc(rp->max_viols ? rp->max_viols : 1, sizeof(*q->viols));
		if (!q->top_tr || !q->top_f || !q->viols) {
			free(q->top_tr);
			free(q->top_f);
			free(q->viols);
			free(q);
			q = NULL;
		}
	}
	if (!q)
		rp->err = -ENOMEM;
	pr->user = q;
	return q;
}

/* twalk_r() visitors: copy a parent's regions, or retire every region. */
struct walk_ctx {
	struct report *rp;  /* the report */
	struct rp_proc *to; /* copy: the child */
	struct rp_proc *q;  /* retire: whose */
};

static void copy_map(const void *node, VISIT which, void *arg)
{
	const struct rp_map *m = *(struct rp_map *const *)node;
	struct walk_ctx *c = arg;
	struct rp_map *n;

	if (which != postorder && which != leaf)
		return;
	n = malloc(sizeof(*n));
	if (n)
		*n = (struct rp_map){
			.s = m->s, .e = m->e, .seq = m->seq, .op = m->op, .live = true};
	if (!n || !tsearch(n, &c->to->maps, map_cmp)) {
		free(n);
		c->rp->err = -ENOMEM;
		return;
	}
	c->to->nmaps++;
}

static void retire_map(const void *node, VISIT which, void *arg)
{
	const struct rp_map *m = *(struct rp_map *const *)node;
	struct walk_ctx *c = arg;

	if (which == postorder || which == leaf)
		retire(c->rp, c->q, (struct rp_map *)m);
}

static void retire_all(struct report *rp, struct rp_proc *q, bool live)
{
	struct walk_ctx c = {.rp = rp, .q = q};

	if (!live) /* an exec: they are gone */
		twalk_r(q->maps, retire_map, &c);
	tdestroy(q->maps, free);
	q->maps = NULL;
}

/* ------------------------------------------------------------------ events */

static void on_event(struct report *rp, struct ms_tlp *p, const struct ms_tl_item *it,
		     const struct ms_tlp_step *st)
{
	const struct ms_event *ev = &st->ev;
	struct rp_proc *q = rp_of(rp, st->proc), *parent;
	struct ms_tlp_proc *ppr;
	struct ms_totals tot;
	uint64_t s, e;
	bool creates;

	(void)it;
	if (!q)
		return;
	q->by_op[ev->op]++;
	q->by_src[ev->source]++;
	if (!ms_op_is_proc(ev->op) && (ev->flags & MS_EVF_FAILED))
		q->failed++;
	if (ev->op == MS_OP_PAGE_FAULT && (ev->flags & MS_EVF_INFERRED))
		q->first_touch++;
	if (ev->op == MS_OP_THP_COLLAPSE && !ev->result) {
		q->thp++;
		q->thp_bytes += ev->len;
	}
	if (ev->op == MS_OP_HUGE_PAGE_COLLAPSE) {
		q->req++;
		q->req_failed += ev->result != 0;
	}
	if (ev->violation) {
		q->viol_total++;
		q->by_kind[ev->violation]++;
		if (q->nviols < rp->max_viols) {
			struct rp_viol *v = &q->viols[q->nviols++];

			*v = (struct rp_viol){.seq = ev->seq,
					      .t_ns = ev->t_ns,
					      .tid = ev->tid,
					      .kind = ev->violation,
					      .op = ev->op,
					      .addr = ev->addr,
					      .len = ev->len,
					      .after_loss = ev->flags & MS_EVF_LOSSY,
					      .lost_before = it->event.lost_before};
			snprintf(v->message, sizeof(v->message), "%s",
				 st->message ? st->message : "");
		}
	}
	/* Regions: the process's own copy at fork, none after exec. */
	if (ev->op == MS_OP_PROC_FORK && !q->maps && (ppr = ms_tlp_find(p, (uint32_t)ev->arg)) &&
	    (parent = ppr->user) && parent != q) {
		struct walk_ctx c = {.rp = rp, .to = q};

		twalk_r(parent->maps, copy_map, &c);
	}
	if (ev->op == MS_OP_PROC_EXEC)
		retire_all(rp, q, false);
	if (!ms_op_is_proc(ev->op) && ev->len && !(ev->flags & MS_EVF_FAILED)) {
		s = ev->addr;
		e = ev->addr + ev->len < ev->addr ? UINT64_MAX : ev->addr + ev->len;
		creates = ev->to != MS_NONE && ev->to < MS_STATE_COUNT && ev->from[MS_NONE] &&
			  ev->op != MS_OP_USED && ev->op != MS_OP_PAGE_FAULT;
		rp->nfound = 0;
		overlap(rp, q, s, e, ev, creates);
		for (size_t i = 0; i < rp->nfound; i++) {
			struct rp_map *m = rp->found[i];

			m->ops++;
			m->transitions += st->changed;
			m->faults += ms_event_is_fault(ev);
			m->thp += ev->op == MS_OP_THP_COLLAPSE && !ev->result;
		}
		/* A free that left a region without any owned byte retires it. */
		for (size_t i = 0; ev->to == MS_NONE && i < rp->nfound; i++) {
			struct rp_map *m = rp->found[i];
			uint64_t bytes[MS_STATE_COUNT];

			if (ms_space_bytes_in(st->proc->sp, m->s, m->e - m->s, bytes) ||
			    bytes[MS_NONE] != m->e - m->s)
				continue;
			m->live = false;
			retire(rp, q, m);
			tdelete(m, &q->maps, map_cmp);
			free(m);
		}
	}
	/* Bytes over time. */
	if (st->changed || ev->op == MS_OP_PROC_FORK || ev->op == MS_OP_PROC_EXEC || !q->seen) {
		ms_space_totals(st->proc->sp, &tot);
		for (int k = MS_RESERVED; k < MS_STATE_COUNT; k++) {
			if (!q->seen || tot.bytes[k] < q->min[k])
				q->min[k] = tot.bytes[k];
			if (!q->seen || tot.bytes[k] > q->peak[k]) {
				q->peak[k] = tot.bytes[k];
				q->peak_t[k] = ev->t_ns;
			}
		}
		if (tot.bytes[MS_PREPARED] + tot.bytes[MS_READY] > q->peak_footprint)
			q->peak_footprint = tot.bytes[MS_PREPARED] + tot.bytes[MS_READY];
		q->seen = true;
		series_add(&q->series, ev->t_ns, tot.bytes);
	}
}

/* ------------------------------------------------------------------ text output */

static void spark(const char *label, uint64_t v[SERIES_N][MS_STATE_COUNT], unsigned n, int st,
		  uint64_t peak)
{
	static const char *const blocks[] = {" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};

	printf("    %-9s ", label);
	for (unsigned i = 0; i < n; i++) {
		unsigned lvl = peak ? (unsigned)((v[i][st] * 8 + peak - 1) / peak) : 0;

		fputs(blocks[lvl > 8 ? 8 : lvl], stdout);
	}
	printf("\n");
}

static void print_top(const char *what, const struct rp_map *list, unsigned n)
{
	char a[32], range[64];

	if (!n) {
		printf("  top regions by %s: none\n", what);
		return;
	}
	printf("  top regions by %s:\n", what);
	printf("    %-34s %10s %11s %8s %8s %5s  %s\n", "range", "size", "transitions", "ops",
	       "faults", "THP", "made by");
	for (unsigned i = 0; i < n; i++) {
		const struct rp_map *m = &list[i];
		char by[48];

		snprintf(by, sizeof(by), "%s #%" PRIu64 "%s", ms_op_name(m->op), m->seq,
			 m->live ? "" : ", freed");
		printf("    %-34s %10s %11" PRIu64 " %8" PRIu64 " %8" PRIu64 " %5" PRIu64 "  %s\n",
		       ms_tlp_range(range, sizeof(range), m->s, m->e - m->s),
		       fmt_bytes(a, sizeof(a), m->e - m->s), m->transitions, m->ops, m->faults,
		       m->thp, by);
	}
}

/* ------------------------------------------------------------------ residency */

/* The final Ready intervals with the most bytes never made resident, most first. */
struct untouched {
	struct ms_region *v; /* best first */
	unsigned n, max;
};

static int untouched_add(const struct ms_region *r, void *arg)
{
	struct untouched *u = arg;
	uint64_t key = r->end - r->start - r->resident;
	unsigned i;

	if (r->kind != MS_KIND_ANON || r->state != MS_READY || !key || !u->max)
		return 0;
	if (u->n == u->max &&
	    u->v[u->n - 1].end - u->v[u->n - 1].start - u->v[u->n - 1].resident >= key)
		return 0;
	i = u->n < u->max ? u->n++ : u->n - 1;
	while (i > 0 && u->v[i - 1].end - u->v[i - 1].start - u->v[i - 1].resident < key) {
		u->v[i] = u->v[i - 1];
		i--;
	}
	u->v[i] = *r;
	return 0;
}

static void untouched_top(struct ms_tlp_proc *pr, struct untouched *u, struct ms_region *buf,
			  unsigned max)
{
	*u = (struct untouched){.v = buf, .max = max};
	if (pr->sp)
		ms_space_foreach_region(pr->sp, untouched_add, u);
}

static void print_residency(struct ms_tlp_proc *pr, const struct ms_totals *tot, unsigned top)
{
	struct ms_region buf[MAX_TOP];
	struct untouched u;
	char a[32], b[32], c[32], d[32], e[32], f[32];

	if (!tot->residency)
		return;
	printf("  resident: %s (Prepared %s, Ready %s), peak %s; Ready never touched %s; "
	       "lazily free %s\n",
	       fmt_bytes(a, sizeof(a), tot->resident[MS_PREPARED] + tot->resident[MS_READY]),
	       fmt_bytes(b, sizeof(b), tot->resident[MS_PREPARED]),
	       fmt_bytes(c, sizeof(c), tot->resident[MS_READY]),
	       fmt_bytes(d, sizeof(d), tot->peak_resident),
	       fmt_bytes(e, sizeof(e), tot->bytes[MS_READY] - tot->resident[MS_READY]),
	       fmt_bytes(f, sizeof(f), tot->lazy_free));
	untouched_top(pr, &u, buf, top);
	if (!u.n)
		return;
	printf("  most Ready bytes never touched (final map):\n    %-18s %10s %10s %10s\n", "addr",
	       "len", "untouched", "resident");
	for (unsigned i = 0; i < u.n; i++)
		printf("    %#-18" PRIx64 " %10s %10s %10s\n", u.v[i].start,
		       fmt_bytes(a, sizeof(a), u.v[i].end - u.v[i].start),
		       fmt_bytes(b, sizeof(b), u.v[i].end - u.v[i].start - u.v[i].resident),
		       fmt_bytes(c, sizeof(c), u.v[i].resident));
}

static void print_proc(struct ms_tlp_proc *pr, struct rp_proc *q, unsigned top)
{
	uint64_t series[SERIES_N][MS_STATE_COUNT];
	struct ms_totals tot = {0};
	char a[32], b[32], c[32], d[32];
	unsigned n;
	const char *sep;

	if (pr->sp)
		ms_space_totals(pr->sp, &tot);
	printf("\nprocess %u", pr->pid);
	if (pr->exe)
		printf(" %s", pr->exe);
	if (pr->ppid)
		printf(", parent %u", pr->ppid);
	if (pr->exited && pr->exit_signal)
		printf(", killed by signal %d", pr->exit_signal);
	else if (pr->exited && pr->exit_code >= 0)
		printf(", exit %d", pr->exit_code);
	printf("\n  %" PRIu64 " events from %s to %s\n", pr->events,
	       fmt_ns(a, sizeof(a), pr->first_ns), fmt_ns(b, sizeof(b), pr->last_ns));
	printf("  %-9s %12s %12s %14s %12s\n", "bytes", "min", "peak", "(at)", "final");
	for (int k = MS_RESERVED; k < MS_STATE_COUNT; k++)
		printf("  %-9s %12s %12s %14s %12s\n", ms_state_name((unsigned)k),
		       fmt_bytes(a, sizeof(a), q->min[k]), fmt_bytes(b, sizeof(b), q->peak[k]),
		       q->peak[k] ? fmt_ns(c, sizeof(c), q->peak_t[k]) : "-",
		       fmt_bytes(d, sizeof(d), tot.bytes[k]));
	printf("  footprint (Prepared + Ready) peak %s",
	       fmt_bytes(a, sizeof(a), q->peak_footprint));
	if (tot.file_bytes)
		printf("; file-backed now %s", fmt_bytes(b, sizeof(b), tot.file_bytes));
	printf("\n");
	n = series_fill(&q->series, series);
	if (n > 1) {
		printf("  over time (one column per %s; height: share of the state's peak):\n",
		       fmt_ns(a, sizeof(a), q->series.span));
		for (int k = MS_RESERVED; k < MS_STATE_COUNT; k++)
			spark(ms_state_name((unsigned)k), series, n, k, q->peak[k]);
	}
	printf("  operations:");
	sep = " ";
	for (unsigned o = 0; o < MS_OP_COUNT; o++) {
		if (q->by_op[o]) {
			printf("%s%s %" PRIu64, sep, ms_op_name(o), q->by_op[o]);
			sep = ", ";
		}
	}
	printf("\n  sources:");
	sep = " ";
	for (unsigned s = 0; s < MS_SRC_COUNT; s++) {
		if (q->by_src[s]) {
			printf("%s%s %" PRIu64, sep, ms_source_name(s), q->by_src[s]);
			sep = ", ";
		}
	}
	printf("; refused by the OS: %" PRIu64 "\n", q->failed);
	printf("  page faults: %" PRIu64 " (outside tracked memory %" PRIu64
	       ", first touches %" PRIu64 ")\n",
	       tot.page_faults, tot.untracked_faults, q->first_touch);
	printf("  THP: %" PRIu64 " collapse%s (%s); %" PRIu64 " collapse request%s, %" PRIu64
	       " refused\n",
	       q->thp, q->thp == 1 ? "" : "s", fmt_bytes(a, sizeof(a), q->thp_bytes), q->req,
	       q->req == 1 ? "" : "s", q->req_failed);
	print_residency(pr, &tot, top);
	printf("  regions made: %" PRIu64 "\n", q->nmaps);
	print_top("transitions", q->top_tr, q->ntop_tr);
	print_top("faults", q->top_f, q->ntop_f);
	if (!q->viol_total) {
		printf("  violations: none\n");
		return;
	}
	printf("  violations: %" PRIu64, q->viol_total);
	sep = " (";
	for (unsigned k = 1; k < MS_V_COUNT; k++) {
		if (q->by_kind[k]) {
			printf("%s%s %" PRIu64, sep, ms_violation_name(k), q->by_kind[k]);
			sep = ", ";
		}
	}
	printf(")\n");
	for (unsigned i = 0; i < q->nviols; i++) {
		printf("    seq %" PRIu64 " at %s, tid %u, %s: %s", q->viols[i].seq,
		       fmt_ns(a, sizeof(a), q->viols[i].t_ns), q->viols[i].tid,
		       ms_violation_name(q->viols[i].kind), q->viols[i].message);
		if (q->viols[i].after_loss)
			printf(" [after loss: %" PRIu64 " events lost before it]",
			       q->viols[i].lost_before);
		printf("\n");
	}
	if (q->viol_total > q->nviols)
		printf("    ... %" PRIu64 " more\n", q->viol_total - q->nviols);
}

/* ------------------------------------------------------------------ JSON output */

static cJSON *num(uint64_t v)
{
	char tmp[24];

	snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
	return cJSON_CreateRaw(tmp);
}

static cJSON *inum(int64_t v)
{
	char tmp[24];

	snprintf(tmp, sizeof(tmp), "%" PRId64, v);
	return cJSON_CreateRaw(tmp);
}

/* cJSON copies strings as they are: keep its output valid UTF-8 (bad bytes -> U+FFFD). */
static cJSON *str(const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p), o = 0;
	char *clean = malloc(3 * n + 1);
	cJSON *j;

	if (!clean)
		return cJSON_CreateNull();
	for (size_t i = 0; i < n;) {
		size_t len = p[i] < 0x80	     ? 1
			     : (p[i] & 0xe0) == 0xc0 ? 2
			     : (p[i] & 0xf0) == 0xe0 ? 3
			     : (p[i] & 0xf8) == 0xf0 ? 4
						     : 0;
		bool ok = len && i + len <= n && !(len == 2 && p[i] < 0xc2) && p[i] < 0xf5;

		for (size_t k = 1; ok && k < len; k++)
			ok = (p[i + k] & 0xc0) == 0x80;
		if (ok) {
			memcpy(clean + o, p + i, len);
			o += len;
			i += len;
		} else {
			memcpy(clean + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	clean[o] = 0;
	j = cJSON_CreateString(clean);
	free(clean);
	return j;
}

static cJSON *json_top(const struct rp_map *list, unsigned n)
{
	cJSON *arr = cJSON_CreateArray();

	for (unsigned i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddItemToObject(o, "addr", num(list[i].s));
		cJSON_AddItemToObject(o, "len", num(list[i].e - list[i].s));
		cJSON_AddItemToObject(o, "transitions", num(list[i].transitions));
		cJSON_AddItemToObject(o, "ops", num(list[i].ops));
		cJSON_AddItemToObject(o, "faults", num(list[i].faults));
		cJSON_AddItemToObject(o, "thp_collapses", num(list[i].thp));
		cJSON_AddItemToObject(o, "made_by", str(ms_op_name(list[i].op)));
		cJSON_AddItemToObject(o, "made_seq", num(list[i].seq));
		cJSON_AddItemToObject(o, "live", cJSON_CreateBool(list[i].live));
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

static cJSON *json_residency(struct ms_tlp_proc *pr, const struct ms_totals *tot, unsigned top)
{
	struct ms_region buf[MAX_TOP];
	struct untouched u;
	cJSON *o = cJSON_CreateObject(), *list, *x;

	cJSON_AddItemToObject(o, "Prepared", num(tot->resident[MS_PREPARED]));
	cJSON_AddItemToObject(o, "Ready", num(tot->resident[MS_READY]));
	cJSON_AddItemToObject(o, "peak", num(tot->peak_resident));
	cJSON_AddItemToObject(o, "ready_untouched",
			      num(tot->bytes[MS_READY] - tot->resident[MS_READY]));
	cJSON_AddItemToObject(o, "lazy_free", num(tot->lazy_free));
	untouched_top(pr, &u, buf, top);
	list = cJSON_AddArrayToObject(o, "top_ready_untouched");
	for (unsigned i = 0; i < u.n; i++) {
		x = cJSON_CreateObject();
		cJSON_AddItemToObject(x, "addr", num(u.v[i].start));
		cJSON_AddItemToObject(x, "len", num(u.v[i].end - u.v[i].start));
		cJSON_AddItemToObject(x, "untouched",
				      num(u.v[i].end - u.v[i].start - u.v[i].resident));
		cJSON_AddItemToObject(x, "resident", num(u.v[i].resident));
		cJSON_AddItemToArray(list, x);
	}
	return o;
}

static cJSON *json_proc(struct ms_tlp_proc *pr, struct rp_proc *q, unsigned top)
{
	uint64_t series[SERIES_N][MS_STATE_COUNT];
	cJSON *o = cJSON_CreateObject(), *bytes, *x, *ser, *ops, *src, *viol, *list;
	struct ms_totals tot = {0};
	unsigned n;

	if (pr->sp)
		ms_space_totals(pr->sp, &tot);
	cJSON_AddItemToObject(o, "pid", num(pr->pid));
	cJSON_AddItemToObject(o, "ppid", num(pr->ppid));
	cJSON_AddItemToObject(o, "exe", pr->exe ? str(pr->exe) : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "exit_code",
			      pr->exited && pr->exit_code >= 0 ? inum(pr->exit_code)
							       : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "exit_signal",
			      pr->exit_signal ? inum(pr->exit_signal) : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "events", num(pr->events));
	cJSON_AddItemToObject(o, "first_t_ns", num(pr->first_ns));
	cJSON_AddItemToObject(o, "last_t_ns", num(pr->last_ns));
	bytes = cJSON_AddObjectToObject(o, "bytes");
	for (int k = MS_RESERVED; k < MS_STATE_COUNT; k++) {
		x = cJSON_AddObjectToObject(bytes, ms_state_name((unsigned)k));
		cJSON_AddItemToObject(x, "min", num(q->min[k]));
		cJSON_AddItemToObject(x, "peak", num(q->peak[k]));
		cJSON_AddItemToObject(x, "peak_t_ns", num(q->peak_t[k]));
		cJSON_AddItemToObject(x, "final", num(tot.bytes[k]));
	}
	cJSON_AddItemToObject(o, "peak_footprint", num(q->peak_footprint));
	cJSON_AddItemToObject(o, "file_bytes", num(tot.file_bytes));
	ser = cJSON_AddObjectToObject(o, "series");
	n = series_fill(&q->series, series);
	cJSON_AddItemToObject(ser, "t0_ns", num(q->series.t0));
	cJSON_AddItemToObject(ser, "bucket_ns", num(q->series.span));
	for (int k = MS_RESERVED; k < MS_STATE_COUNT; k++) {
		list = cJSON_AddArrayToObject(ser, ms_state_name((unsigned)k));
		for (unsigned i = 0; i < n; i++)
			cJSON_AddItemToArray(list, num(series[i][k]));
	}
	ops = cJSON_AddObjectToObject(o, "ops");
	for (unsigned i = 0; i < MS_OP_COUNT; i++)
		if (q->by_op[i])
			cJSON_AddItemToObject(ops, ms_op_name(i), num(q->by_op[i]));
	src = cJSON_AddObjectToObject(o, "sources");
	for (unsigned i = 0; i < MS_SRC_COUNT; i++)
		if (q->by_src[i])
			cJSON_AddItemToObject(src, ms_source_name(i), num(q->by_src[i]));
	cJSON_AddItemToObject(o, "refused_ops", num(q->failed));
	cJSON_AddItemToObject(o, "page_faults", num(tot.page_faults));
	cJSON_AddItemToObject(o, "untracked_faults", num(tot.untracked_faults));
	cJSON_AddItemToObject(o, "first_touches", num(q->first_touch));
	cJSON_AddItemToObject(o, "thp_collapses", num(q->thp));
	cJSON_AddItemToObject(o, "thp_bytes", num(q->thp_bytes));
	cJSON_AddItemToObject(o, "collapse_requests", num(q->req));
	cJSON_AddItemToObject(o, "collapse_refused", num(q->req_failed));
	if (tot.residency)
		cJSON_AddItemToObject(o, "resident", json_residency(pr, &tot, top));
	cJSON_AddItemToObject(o, "regions_made", num(q->nmaps));
	cJSON_AddItemToObject(o, "top_regions_by_transitions", json_top(q->top_tr, q->ntop_tr));
	cJSON_AddItemToObject(o, "top_regions_by_faults", json_top(q->top_f, q->ntop_f));
	viol = cJSON_AddObjectToObject(o, "violations");
	cJSON_AddItemToObject(viol, "count", num(q->viol_total));
	x = cJSON_AddObjectToObject(viol, "by_kind");
	for (unsigned k = 1; k < MS_V_COUNT; k++)
		if (q->by_kind[k])
			cJSON_AddItemToObject(x, ms_violation_name(k), num(q->by_kind[k]));
	list = cJSON_AddArrayToObject(viol, "first");
	for (unsigned i = 0; i < q->nviols; i++) {
		x = cJSON_CreateObject();
		cJSON_AddItemToObject(x, "seq", num(q->viols[i].seq));
		cJSON_AddItemToObject(x, "t_ns", num(q->viols[i].t_ns));
		cJSON_AddItemToObject(x, "tid", num(q->viols[i].tid));
		cJSON_AddItemToObject(x, "kind", str(ms_violation_name(q->viols[i].kind)));
		cJSON_AddItemToObject(x, "op", str(ms_op_name(q->viols[i].op)));
		cJSON_AddItemToObject(x, "addr", num(q->viols[i].addr));
		cJSON_AddItemToObject(x, "len", num(q->viols[i].len));
		cJSON_AddItemToObject(x, "message", str(q->viols[i].message));
		if (q->viols[i].after_loss) {
			cJSON_AddItemToObject(x, "after_loss", cJSON_CreateTrue());
			cJSON_AddItemToObject(x, "lost_before", num(q->viols[i].lost_before));
		}
		cJSON_AddItemToArray(list, x);
	}
	return o;
}

/* ------------------------------------------------------------------ the command */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: memstate report [options] TRACE\n"
		"\n"
		"Summarises a saved timeline (JSON or JSON Lines, plain or zstd; \"-\" reads\n"
		"stdin) per process: bytes per state over time (min, peak and when, final, and a\n"
		"coarse series), operations by kind and source, page faults, THP collapses, the\n"
		"busiest regions (a region is a mapping as the program made it: by transitions\n"
		"and by faults) and the violations. Figures come from replaying the operations.\n"
		"\n"
		"options:\n"
		"  -j, --json            machine-readable report (exact integers)\n"
		"  -t, --top N           regions per top list (default 5, at most 100)\n"
		"  -n, --violations N    violations listed per process (default 20)\n"
		"      --html            write one self-contained HTML page instead (needs -o):\n"
		"                        zoomable state map with hover, charts, tables, "
		"violations\n"
		"  -o, --output FILE     where --html writes\n"
		"  -h, --help            this text\n"
		"\n"
		"exit status: 0 done (violations are reported, not failed: see memstate check),\n"
		"2 the timeline cannot be read.\n"
		"\n"
		"examples:\n"
		"  memstate report trace.json\n"
		"  memstate report --json trace.jsonl | jq '.processes[0].bytes.Ready.peak'\n"
		"  memstate report --html -o report.html trace.json\n");
}

int ms_cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"top", required_argument, NULL, 't'},
		{"violations", required_argument, NULL, 'n'},
		{"html", no_argument, NULL, 'H'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct report rp = {.top = 5, .max_viols = 20};
	struct ms_tlp_step st;
	struct ms_tl_item it;
	const struct ms_tl_item *hdr;
	struct ms_totals sum;
	struct ms_tlp *p;
	bool json = false, html = false;
	const char *out = NULL;
	char msg[600], *end, a[32];
	unsigned long v;
	uint64_t events = 0;
	int c, ret;

	optind = 0;
	while ((c = getopt_long(argc, argv, "jt:n:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'H':
			html = true;
			break;
		case 'o':
			out = optarg;
			break;
		case 't':
		case 'n':
			v = strtoul(optarg, &end, 10);
			if (!*optarg || *end || v > (c == 't' ? MAX_TOP : 100000))
				return ms_usage_err("report",
						    "--%s wants a number up to %d, not '%s'",
						    c == 't' ? "top" : "violations",
						    c == 't' ? MAX_TOP : 100000, optarg);
			if (c == 't')
				rp.top = (unsigned)v;
			else
				rp.max_viols = (unsigned)v;
			break;
		case 'h':
			usage(stdout);
			return MS_EXIT_OK;
		default:
			return ms_usage_err("report", "unknown option");
		}
	}
	if (optind != argc - 1)
		return ms_usage_err("report", optind == argc ? "which timeline? give one TRACE"
							     : "one TRACE at a time");
	if (html || out)
		return ms_cli_report_html(argv[optind], html, out);
	p = ms_tlp_open(argv[optind], msg, sizeof(msg));
	if (!p)
		return ms_err("report: %s", msg);
	while ((ret = ms_tlp_next(p, &it, &st)) == 1 && !rp.err) {
		if (it.type == MS_TLI_EVENT) {
			events++;
			on_event(&rp, p, &it, &st);
		}
	}
	if (rp.err) {
		ret = ms_err("report: out of memory");
		goto out;
	}
	if (ret < 0) {
		ret = ms_err("report: %s", ms_tlp_error(p));
		goto out;
	}
	if (ret == MS_TLR_TRUNCATED)
		fprintf(stderr, "memstate report: warning: %s\n", ms_tlp_error(p));
	/* Regions still mapped at the end compete for the top lists too. */
	for (size_t i = 0; i < ms_tlp_nprocs(p); i++) {
		struct rp_proc *q = ms_tlp_proc_at(p, i)->user;
		struct walk_ctx wc = {.rp = &rp};

		if (!q)
			continue;
		wc.q = q;
		twalk_r(q->maps, retire_map, &wc);
	}
	ms_tlp_totals(p, &sum);
	hdr = ms_tlp_header(p);
	if (json) {
		cJSON *root = cJSON_CreateObject(), *procs, *cmd;
		char *text;

		cJSON_AddItemToObject(root, "timeline", str(ms_tlp_name(p)));
		cJSON_AddItemToObject(root, "form", str(ms_tlp_is_jsonl(p) ? "jsonl" : "json"));
		cJSON_AddItemToObject(root, "complete", cJSON_CreateBool(ret == MS_TLR_END));
		cmd = cJSON_AddArrayToObject(root, "command");
		for (int i = 0; hdr && i < hdr->header.argc; i++)
			cJSON_AddItemToArray(cmd, str(hdr->header.argv[i]));
		cJSON_AddItemToObject(root, "page_size", num(hdr ? hdr->header.page_size : 0));
		cJSON_AddItemToObject(root, "events", num(events));
		cJSON_AddItemToObject(root, "violations", num(sum.violations));
		cJSON_AddItemToObject(root, "disagreements", num(ms_tlp_disagreements(p)));
		cJSON_AddItemToObject(root, "lost_events", num(ms_tlp_lost(p)));
		procs = cJSON_AddArrayToObject(root, "processes");
		for (size_t i = 0; i < ms_tlp_nprocs(p); i++) {
			struct ms_tlp_proc *pr = ms_tlp_proc_at(p, i);

			if (pr->user)
				cJSON_AddItemToArray(procs, json_proc(pr, pr->user, rp.top));
		}
		text = cJSON_Print(root);
		cJSON_Delete(root);
		if (!text) {
			ret = ms_err("report: out of memory");
			goto out;
		}
		puts(text);
		free(text);
	} else {
		printf("memstate report: %s (%s)\n", ms_tlp_name(p),
		       ms_tlp_is_jsonl(p) ? "JSON Lines" : "JSON document");
		if (hdr && hdr->header.argc) {
			printf("  command:");
			for (int i = 0; i < hdr->header.argc; i++)
				printf(" %s", hdr->header.argv[i]);
			printf("\n");
		}
		printf("  %" PRIu64 " events, %zu process%s, %" PRIu64
		       " violation%s, page size %s\n",
		       events, ms_tlp_nprocs(p), ms_tlp_nprocs(p) == 1 ? "" : "es", sum.violations,
		       sum.violations == 1 ? "" : "s",
		       fmt_bytes(a, sizeof(a), hdr ? hdr->header.page_size : 0));
		if (ms_tlp_disagreements(p))
			printf("  warning: %" PRIu64
			       " places where the timeline disagrees with its "
			       "replay (memstate check lists them)\n",
			       ms_tlp_disagreements(p));
		if (ms_tlp_lost(p))
			printf("  warning: the trace lost %" PRIu64 " events\n", ms_tlp_lost(p));
		for (size_t i = 0; i < ms_tlp_nprocs(p); i++) {
			struct ms_tlp_proc *pr = ms_tlp_proc_at(p, i);

			if (pr->user)
				print_proc(pr, pr->user, rp.top);
		}
	}
	ret = fflush(stdout) ? ms_err("report: writing the report: %m") : MS_EXIT_OK;
out:
	for (size_t i = 0; i < ms_tlp_nprocs(p); i++) {
		struct rp_proc *q = ms_tlp_proc_at(p, i)->user;

		if (!q)
			continue;
		tdestroy(q->maps, free);
		free(q->top_tr);
		free(q->top_f);
		free(q->viols);
		free(q);
	}
	free(rp.found);
	ms_tlp_close(p);
	return ret;
}
