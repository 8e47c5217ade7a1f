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

#include "lib/util.h"
#include "export/playback.h"
#include "cli.h"
#include "verdict.h"
#include "cmd_report_int.h"

const char *rp_fmt_ns(char *buf, size_t len, uint64_t ns)
{
	if (ns < 1000000)
		snprintf(buf, len, "%.3f ms", (double)ns / 1e6);
	else if (ns < 10000000000ull)
		snprintf(buf, len, "%.1f ms", (double)ns / 1e6);
	else
		snprintf(buf, len, "%.2f s", (double)ns / 1e9);
	return buf;
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
		q->series.n = SERIES_N;
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

			if (ms_space_bytes_in(st->proc->base.sp, m->s, m->e - m->s, bytes) ||
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
		ms_space_totals(st->proc->base.sp, &tot);
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
		ms_mx_series_add(&q->series, ev->t_ns, tot.bytes);
	}
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

		cJSON_AddItemToObject(root, "timeline", rp_str(ms_tlp_name(p)));
		cJSON_AddItemToObject(root, "form", rp_str(ms_tlp_is_jsonl(p) ? "jsonl" : "json"));
		cJSON_AddItemToObject(root, "complete", cJSON_CreateBool(ret == MS_TLR_END));
		cmd = cJSON_AddArrayToObject(root, "command");
		for (int i = 0; hdr && i < hdr->header.argc; i++)
			cJSON_AddItemToArray(cmd, rp_str(hdr->header.argv[i]));
		cJSON_AddItemToObject(root, "page_size", rp_num(hdr ? hdr->header.page_size : 0));
		cJSON_AddItemToObject(root, "events", rp_num(events));
		cJSON_AddItemToObject(root, "violations", rp_num(sum.violations));
		cJSON_AddItemToObject(root, "disagreements", rp_num(ms_tlp_disagreements(p)));
		cJSON_AddItemToObject(root, "lost_events", rp_num(ms_tlp_lost(p)));
		procs = cJSON_AddArrayToObject(root, "processes");
		for (size_t i = 0; i < ms_tlp_nprocs(p); i++) {
			struct ms_tlp_proc *pr = ms_tlp_proc_at(p, i);

			if (pr->user)
				cJSON_AddItemToArray(procs, rp_json_proc(pr, pr->user, rp.top));
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
		       ms_fmt_size(a, sizeof(a), hdr ? hdr->header.page_size : 0, MS_SIZE_TEXT));
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
				rp_print_proc(pr, pr->user, rp.top);
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
