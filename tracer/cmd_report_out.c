// SPDX-License-Identifier: MIT
/* memstate report (cmd_report_int.h): the output, as text and as JSON (--json). */
#include <cjson/cJSON.h>
#include <errno.h>
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
		       ms_fmt_size(a, sizeof(a), m->e - m->s, MS_SIZE_TEXT), m->transitions, m->ops,
		       m->faults, m->thp, by);
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
	if (pr->base.sp)
		ms_space_foreach_region(pr->base.sp, untouched_add, u);
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
	       ms_fmt_size(a, sizeof(a), tot->resident[MS_PREPARED] + tot->resident[MS_READY],
			   MS_SIZE_TEXT),
	       ms_fmt_size(b, sizeof(b), tot->resident[MS_PREPARED], MS_SIZE_TEXT),
	       ms_fmt_size(c, sizeof(c), tot->resident[MS_READY], MS_SIZE_TEXT),
	       ms_fmt_size(d, sizeof(d), tot->peak_resident, MS_SIZE_TEXT),
	       ms_fmt_size(e, sizeof(e), tot->bytes[MS_READY] - tot->resident[MS_READY],
			   MS_SIZE_TEXT),
	       ms_fmt_size(f, sizeof(f), tot->lazy_free, MS_SIZE_TEXT));
	untouched_top(pr, &u, buf, top);
	if (!u.n)
		return;
	printf("  most Ready bytes never touched (final map):\n    %-18s %10s %10s %10s\n", "addr",
	       "len", "untouched", "resident");
	for (unsigned i = 0; i < u.n; i++)
		printf("    %#-18" PRIx64 " %10s %10s %10s\n", u.v[i].start,
		       ms_fmt_size(a, sizeof(a), u.v[i].end - u.v[i].start, MS_SIZE_TEXT),
		       ms_fmt_size(b, sizeof(b), u.v[i].end - u.v[i].start - u.v[i].resident,
				   MS_SIZE_TEXT),
		       ms_fmt_size(c, sizeof(c), u.v[i].resident, MS_SIZE_TEXT));
}

void rp_print_proc(struct ms_tlp_proc *pr, struct rp_proc *q, unsigned top)
{
	uint64_t series[SERIES_N][MS_STATE_COUNT];
	struct ms_totals tot = {0};
	char a[32], b[32], c[32], d[32];
	unsigned n;
	const char *sep;

	if (pr->base.sp)
		ms_space_totals(pr->base.sp, &tot);
	printf("\nprocess %u", pr->base.pid);
	if (pr->exe)
		printf(" %s", pr->exe);
	if (pr->base.ppid)
		printf(", parent %u", pr->base.ppid);
	if (pr->base.exited && pr->base.exit_signal)
		printf(", killed by signal %d", pr->base.exit_signal);
	else if (pr->base.exited && pr->base.exit_code >= 0)
		printf(", exit %d", pr->base.exit_code);
	printf("\n  %" PRIu64 " events from %s to %s\n", pr->events,
	       rp_fmt_ns(a, sizeof(a), pr->first_ns), rp_fmt_ns(b, sizeof(b), pr->last_ns));
	printf("  %-9s %12s %12s %14s %12s\n", "bytes", "min", "peak", "(at)", "final");
	for (int k = MS_RESERVED; k < MS_STATE_COUNT; k++)
		printf("  %-9s %12s %12s %14s %12s\n", ms_state_name((unsigned)k),
		       ms_fmt_size(a, sizeof(a), q->min[k], MS_SIZE_TEXT),
		       ms_fmt_size(b, sizeof(b), q->peak[k], MS_SIZE_TEXT),
		       q->peak[k] ? rp_fmt_ns(c, sizeof(c), q->peak_t[k]) : "-",
		       ms_fmt_size(d, sizeof(d), tot.bytes[k], MS_SIZE_TEXT));
	printf("  footprint (Prepared + Ready) peak %s",
	       ms_fmt_size(a, sizeof(a), q->peak_footprint, MS_SIZE_TEXT));
	if (tot.file_bytes)
		printf("; file-backed now %s",
		       ms_fmt_size(b, sizeof(b), tot.file_bytes, MS_SIZE_TEXT));
	printf("\n");
	n = ms_mx_series_points(&q->series, series);
	if (n > 1) {
		printf("  over time (one column per %s; height: share of the state's peak):\n",
		       rp_fmt_ns(a, sizeof(a), q->series.span));
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
	       q->thp, q->thp == 1 ? "" : "s",
	       ms_fmt_size(a, sizeof(a), q->thp_bytes, MS_SIZE_TEXT), q->req,
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
		       rp_fmt_ns(a, sizeof(a), q->viols[i].t_ns), q->viols[i].tid,
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

cJSON *rp_num(uint64_t v)
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
cJSON *rp_str(const char *s)
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

		cJSON_AddItemToObject(o, "addr", rp_num(list[i].s));
		cJSON_AddItemToObject(o, "len", rp_num(list[i].e - list[i].s));
		cJSON_AddItemToObject(o, "transitions", rp_num(list[i].transitions));
		cJSON_AddItemToObject(o, "ops", rp_num(list[i].ops));
		cJSON_AddItemToObject(o, "faults", rp_num(list[i].faults));
		cJSON_AddItemToObject(o, "thp_collapses", rp_num(list[i].thp));
		cJSON_AddItemToObject(o, "made_by", rp_str(ms_op_name(list[i].op)));
		cJSON_AddItemToObject(o, "made_seq", rp_num(list[i].seq));
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

	cJSON_AddItemToObject(o, "Prepared", rp_num(tot->resident[MS_PREPARED]));
	cJSON_AddItemToObject(o, "Ready", rp_num(tot->resident[MS_READY]));
	cJSON_AddItemToObject(o, "peak", rp_num(tot->peak_resident));
	cJSON_AddItemToObject(o, "ready_untouched",
			      rp_num(tot->bytes[MS_READY] - tot->resident[MS_READY]));
	cJSON_AddItemToObject(o, "lazy_free", rp_num(tot->lazy_free));
	untouched_top(pr, &u, buf, top);
	list = cJSON_AddArrayToObject(o, "top_ready_untouched");
	for (unsigned i = 0; i < u.n; i++) {
		x = cJSON_CreateObject();
		cJSON_AddItemToObject(x, "addr", rp_num(u.v[i].start));
		cJSON_AddItemToObject(x, "len", rp_num(u.v[i].end - u.v[i].start));
		cJSON_AddItemToObject(x, "untouched",
				      rp_num(u.v[i].end - u.v[i].start - u.v[i].resident));
		cJSON_AddItemToObject(x, "resident", rp_num(u.v[i].resident));
		cJSON_AddItemToArray(list, x);
	}
	return o;
}

cJSON *rp_json_proc(struct ms_tlp_proc *pr, struct rp_proc *q, unsigned top)
{
	uint64_t series[SERIES_N][MS_STATE_COUNT];
	cJSON *o = cJSON_CreateObject(), *bytes, *x, *ser, *ops, *src, *viol, *list;
	struct ms_totals tot = {0};
	unsigned n;

	if (pr->base.sp)
		ms_space_totals(pr->base.sp, &tot);
	cJSON_AddItemToObject(o, "pid", rp_num(pr->base.pid));
	cJSON_AddItemToObject(o, "ppid", rp_num(pr->base.ppid));
	cJSON_AddItemToObject(o, "exe", pr->exe ? rp_str(pr->exe) : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "exit_code",
			      pr->base.exited && pr->base.exit_code >= 0 ? inum(pr->base.exit_code)
									 : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "exit_signal",
			      pr->base.exit_signal ? inum(pr->base.exit_signal)
						   : cJSON_CreateNull());
	cJSON_AddItemToObject(o, "events", rp_num(pr->events));
	cJSON_AddItemToObject(o, "first_t_ns", rp_num(pr->first_ns));
	cJSON_AddItemToObject(o, "last_t_ns", rp_num(pr->last_ns));
	bytes = cJSON_AddObjectToObject(o, "bytes");
	for (int k = MS_RESERVED; k < MS_STATE_COUNT; k++) {
		x = cJSON_AddObjectToObject(bytes, ms_state_name((unsigned)k));
		cJSON_AddItemToObject(x, "min", rp_num(q->min[k]));
		cJSON_AddItemToObject(x, "peak", rp_num(q->peak[k]));
		cJSON_AddItemToObject(x, "peak_t_ns", rp_num(q->peak_t[k]));
		cJSON_AddItemToObject(x, "final", rp_num(tot.bytes[k]));
	}
	cJSON_AddItemToObject(o, "peak_footprint", rp_num(q->peak_footprint));
	cJSON_AddItemToObject(o, "file_bytes", rp_num(tot.file_bytes));
	ser = cJSON_AddObjectToObject(o, "series");
	n = ms_mx_series_points(&q->series, series);
	cJSON_AddItemToObject(ser, "t0_ns", rp_num(q->series.t0));
	cJSON_AddItemToObject(ser, "bucket_ns", rp_num(q->series.span));
	for (int k = MS_RESERVED; k < MS_STATE_COUNT; k++) {
		list = cJSON_AddArrayToObject(ser, ms_state_name((unsigned)k));
		for (unsigned i = 0; i < n; i++)
			cJSON_AddItemToArray(list, rp_num(series[i][k]));
	}
	ops = cJSON_AddObjectToObject(o, "ops");
	for (unsigned i = 0; i < MS_OP_COUNT; i++)
		if (q->by_op[i])
			cJSON_AddItemToObject(ops, ms_op_name(i), rp_num(q->by_op[i]));
	src = cJSON_AddObjectToObject(o, "sources");
	for (unsigned i = 0; i < MS_SRC_COUNT; i++)
		if (q->by_src[i])
			cJSON_AddItemToObject(src, ms_source_name(i), rp_num(q->by_src[i]));
	cJSON_AddItemToObject(o, "refused_ops", rp_num(q->failed));
	cJSON_AddItemToObject(o, "page_faults", rp_num(tot.page_faults));
	cJSON_AddItemToObject(o, "untracked_faults", rp_num(tot.untracked_faults));
	cJSON_AddItemToObject(o, "first_touches", rp_num(q->first_touch));
	cJSON_AddItemToObject(o, "thp_collapses", rp_num(q->thp));
	cJSON_AddItemToObject(o, "thp_bytes", rp_num(q->thp_bytes));
	cJSON_AddItemToObject(o, "collapse_requests", rp_num(q->req));
	cJSON_AddItemToObject(o, "collapse_refused", rp_num(q->req_failed));
	if (tot.residency)
		cJSON_AddItemToObject(o, "resident", json_residency(pr, &tot, top));
	cJSON_AddItemToObject(o, "regions_made", rp_num(q->nmaps));
	cJSON_AddItemToObject(o, "top_regions_by_transitions", json_top(q->top_tr, q->ntop_tr));
	cJSON_AddItemToObject(o, "top_regions_by_faults", json_top(q->top_f, q->ntop_f));
	viol = cJSON_AddObjectToObject(o, "violations");
	cJSON_AddItemToObject(viol, "count", rp_num(q->viol_total));
	x = cJSON_AddObjectToObject(viol, "by_kind");
	for (unsigned k = 1; k < MS_V_COUNT; k++)
		if (q->by_kind[k])
			cJSON_AddItemToObject(x, ms_violation_name(k), rp_num(q->by_kind[k]));
	list = cJSON_AddArrayToObject(viol, "first");
	for (unsigned i = 0; i < q->nviols; i++) {
		x = cJSON_CreateObject();
		cJSON_AddItemToObject(x, "seq", rp_num(q->viols[i].seq));
		cJSON_AddItemToObject(x, "t_ns", rp_num(q->viols[i].t_ns));
		cJSON_AddItemToObject(x, "tid", rp_num(q->viols[i].tid));
		cJSON_AddItemToObject(x, "kind", rp_str(ms_violation_name(q->viols[i].kind)));
		cJSON_AddItemToObject(x, "op", rp_str(ms_op_name(q->viols[i].op)));
		cJSON_AddItemToObject(x, "addr", rp_num(q->viols[i].addr));
		cJSON_AddItemToObject(x, "len", rp_num(q->viols[i].len));
		cJSON_AddItemToObject(x, "message", rp_str(q->viols[i].message));
		if (q->viols[i].after_loss) {
			cJSON_AddItemToObject(x, "after_loss", cJSON_CreateTrue());
			cJSON_AddItemToObject(x, "lost_before", rp_num(q->viols[i].lost_before));
		}
		cJSON_AddItemToArray(list, x);
	}
	return o;
}
