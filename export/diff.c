// SPDX-License-Identifier: MIT
/* Two timelines compared: matching, rows, region groups, verdicts and writers (diff.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "lib/jsonbuf.h"

/* ------------------------------------------------------------------ matching */

static bool same_exe(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static void pair_label(struct ms_diff_pair *p)
{
	const struct ms_mx_scope *s = p->base ? p->base : p->now;
	const char *exe = s->exe ? s->exe : "(exe unknown)";

	if (p->base && p->now)
		snprintf(p->label, sizeof(p->label), "%s #%u (pid %u -> %u)", exe, s->exe_order + 1,
			 p->base->pid, p->now->pid);
	else
		snprintf(p->label, sizeof(p->label), "%s #%u (pid %u, only in %s)", exe,
			 s->exe_order + 1, s->pid, p->base ? "BASE" : "NEW");
}

int ms_diff_match(struct ms_diff *d, const struct ms_metrics *base, const struct ms_metrics *now)
{
	size_t n = 1;

	memset(d, 0, sizeof(*d));
	d->base = base;
	d->now = now;
	d->top = 10;
	d->pairs = calloc(1 + base->nprocs + now->nprocs, sizeof(*d->pairs));
	if (!d->pairs)
		return -ENOMEM;
	d->pairs[0] = (struct ms_diff_pair){.base = &base->total, .now = &now->total};
	snprintf(d->pairs[0].label, sizeof(d->pairs[0].label), "total");
	for (size_t i = 0; i < base->nprocs; i++) {
		const struct ms_mx_scope *b = &base->procs[i], *m = NULL;

		for (size_t k = 0; k < now->nprocs && !m; k++)
			if (same_exe(b->exe, now->procs[k].exe) &&
			    now->procs[k].exe_order == b->exe_order)
				m = &now->procs[k];
		d->pairs[n] = (struct ms_diff_pair){.base = b, .now = m};
		pair_label(&d->pairs[n++]);
	}
	for (size_t k = 0; k < now->nprocs; k++) {
		const struct ms_mx_scope *m = &now->procs[k];
		bool matched = false;

		for (size_t i = 0; i < base->nprocs && !matched; i++)
			matched = same_exe(base->procs[i].exe, m->exe) &&
				  base->procs[i].exe_order == m->exe_order;
		if (matched)
			continue;
		d->pairs[n] = (struct ms_diff_pair){.now = m};
		pair_label(&d->pairs[n++]);
	}
	d->npairs = n;
	return 0;
}

void ms_diff_release(struct ms_diff *d)
{
	free(d->pairs);
	free(d->verdicts);
	d->pairs = NULL;
	d->verdicts = NULL;
	d->npairs = d->nverdicts = 0;
}

/* ------------------------------------------------------------------ rows */

struct rows {
	struct ms_diff_row *v; /* the rows */
	long n, cap;	       /* used, allocated */
	int err;	       /* -ENOMEM */
};

static void row_add(struct rows *r, const struct ms_diff_pair *p, const char *metric, bool always)
{
	struct ms_diff_row row = {0};

	snprintf(row.metric, sizeof(row.metric), "%s", metric);
	row.in_base = p->base && !ms_mx_value(p->base, metric, &row.base);
	row.in_now = p->now && !ms_mx_value(p->now, metric, &row.now);
	if (!row.in_base && !row.in_now)
		return;
	if (!always && !row.base && !row.now)
		return;
	for (long i = 0; i < r->n; i++)
		if (!strcmp(r->v[i].metric, row.metric))
			return;
	if (r->n == r->cap) {
		long cap = r->cap ? 2 * r->cap : 64;
		struct ms_diff_row *v = realloc(r->v, (size_t)cap * sizeof(*v));

		if (!v) {
			r->err = -ENOMEM;
			return;
		}
		r->v = v;
		r->cap = cap;
	}
	r->v[r->n++] = row;
}

static void stat_rows(struct rows *r, const struct ms_diff_pair *p, const struct ms_mx_scope *s)
{
	char name[160];

	for (unsigned i = 0; s && i < s->nstats; i++) {
		snprintf(name, sizeof(name), "stats.%s", s->stats[i].name);
		row_add(r, p, name, true);
		snprintf(name, sizeof(name), "stats.%s.peak", s->stats[i].name);
		row_add(r, p, name, true);
	}
}

long ms_diff_rows(const struct ms_diff_pair *p, struct ms_diff_row **out)
{
	static const char *const fixed[] = {
		"peak_footprint",      "bytes.Reserved",      "bytes.Prepared",	  "bytes.Ready",
		"peak_bytes.Reserved", "peak_bytes.Prepared", "peak_bytes.Ready", "resident",
		"peak_resident",       "ready_untouched",     "lazy_free",	  "page_faults",
		"thp_collapses",       "violations",
	};
	struct rows r = {0};
	char name[160];

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		row_add(&r, p, fixed[i], true);
	for (unsigned k = 1; k < MS_V_COUNT; k++) {
		snprintf(name, sizeof(name), "violations.%s", ms_violation_name(k));
		row_add(&r, p, name, false);
	}
	row_add(&r, p, "events", true);
	for (unsigned o = 0; o < MS_OP_COUNT; o++) {
		snprintf(name, sizeof(name), "events.%s", ms_op_name(o));
		row_add(&r, p, name, false);
	}
	stat_rows(&r, p, p->base);
	stat_rows(&r, p, p->now);
	row_add(&r, p, "file_bytes", false);
	row_add(&r, p, "dropped_events", false);
	if (r.err) {
		free(r.v);
		*out = NULL;
		return r.err;
	}
	*out = r.v;
	return r.n;
}

/* ------------------------------------------------------------------ region groups */

static uint64_t absdiff(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

static int cmp_group(const void *x, const void *y)
{
	const struct ms_diff_group *a = x, *b = y;
	uint64_t da = absdiff(a->base_bytes, a->now_bytes),
		 db = absdiff(b->base_bytes, b->now_bytes);

	if (da != db)
		return da > db ? -1 : 1;
	if (a->now_bytes != b->now_bytes)
		return a->now_bytes > b->now_bytes ? -1 : 1;
	return a->op != b->op ? (a->op < b->op ? -1 : 1) : (a->len < b->len ? -1 : a->len > b->len);
}

long ms_diff_groups(const struct ms_diff_pair *p, unsigned max, struct ms_diff_group **out)
{
	size_t nb = p->base ? p->base->ngroups : 0, nn = p->now ? p->now->ngroups : 0, n = 0;
	struct ms_diff_group *v = calloc(nb + nn + 1, sizeof(*v));

	*out = NULL;
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < nb; i++) {
		const struct ms_mx_group *g = &p->base->groups[i];

		v[n] = (struct ms_diff_group){
			.op = g->op, .len = g->len, .base_count = g->count, .base_bytes = g->bytes};
		memcpy(v[n].stat, g->stat, sizeof(v[n].stat));
		n++;
	}
	for (size_t i = 0; i < nn; i++) {
		const struct ms_mx_group *g = &p->now->groups[i];
		size_t k;

		for (k = 0; k < nb; k++)
			if (v[k].op == g->op && v[k].len == g->len && !strcmp(v[k].stat, g->stat))
				break;
		if (k == nb) {
			v[n] = (struct ms_diff_group){.op = g->op, .len = g->len};
			memcpy(v[n].stat, g->stat, sizeof(v[n].stat));
			k = n++;
		}
		v[k].now_count = g->count;
		v[k].now_bytes = g->bytes;
	}
	qsort(v, n, sizeof(*v), cmp_group);
	/* Unchanged groups say nothing about the change. */
	while (n && v[n - 1].base_count == v[n - 1].now_count)
		n--;
	*out = v;
	return (long)(n < max ? n : max);
}

/* ------------------------------------------------------------------ verdicts */

int ms_diff_judge(struct ms_diff *d, const struct ms_mx_expr *exprs, size_t n, char *msg,
		  size_t msglen)
{
	d->verdicts = calloc(n * d->npairs + 1, sizeof(*d->verdicts));
	if (!d->verdicts)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct ms_mx_expr *e = &exprs[i];
		bool any = false;

		for (size_t k = 0; k < d->npairs; k++) {
			const struct ms_diff_pair *p = &d->pairs[k];
			struct ms_diff_verdict *v = &d->verdicts[d->nverdicts];
			int rb, rn;

			/* A process picked in BASE (or, new in NEW, there) is judged. */
			if (!(p->base ? ms_mx_expr_picks(e, p->base) : ms_mx_expr_picks(e, p->now)))
				continue;
			any = true;
			rb = p->base ? ms_mx_value(p->base, e->metric, &v->base) : 0;
			rn = p->now ? ms_mx_value(p->now, e->metric, &v->now) : 0;
			if (rb == -ENODATA || rn == -ENODATA) {
				snprintf(msg, msglen, "--fail-on %s: %s does not record %s",
					 e->text, rb == -ENODATA ? "BASE" : "NEW", e->metric);
				return -ENODATA;
			}
			v->e = e;
			v->pair = k;
			v->failed = ms_mx_exceeds(e, v->base, v->now);
			d->failed |= v->failed;
			d->nverdicts++;
		}
		if (!any) {
			snprintf(msg, msglen, "--fail-on %s: no process of BASE or NEW is %s %s",
				 e->text, e->kind == MS_MX_PID ? "pid" : "exe",
				 e->kind == MS_MX_PID ? "given" : e->exe);
			if (e->kind == MS_MX_PID)
				snprintf(msg, msglen, "--fail-on %s: no process %u in BASE or NEW",
					 e->text, e->pid);
			return -ESRCH;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ writers */

const char *ms_diff_pct(char *buf, size_t len, uint64_t base, uint64_t now)
{
	if (base == now)
		snprintf(buf, len, "0%%");
	else if (!base)
		snprintf(buf, len, "new");
	else if (now > base)
		snprintf(buf, len, "+%.1f%%", (double)(now - base) * 100.0 / (double)base);
	else
		snprintf(buf, len, "-%.1f%%", (double)(base - now) * 100.0 / (double)base);
	return buf;
}

static const char *fmt_change(char *buf, size_t len, const char *metric, uint64_t base,
			      uint64_t now)
{
	char tmp[48];

	if (base == now)
		snprintf(buf, len, "0");
	else
		snprintf(buf, len, "%c%s", now > base ? '+' : '-',
			 ms_mx_fmt(tmp, sizeof(tmp), metric, absdiff(base, now)));
	return buf;
}

static const char *side(char *buf, size_t len, const char *metric, bool in, uint64_t v)
{
	if (!in)
		return "-";
	return ms_mx_fmt(buf, len, metric, v);
}

static void group_name(char *buf, size_t len, const struct ms_diff_group *g)
{
	char sz[48];

	ms_mx_fmt(sz, sizeof(sz), "bytes.Ready", g->len);
	snprintf(buf, len, "%s %s%s%s", ms_op_name(g->op), sz, g->stat[0] ? " stat " : "", g->stat);
}

static int write_text(FILE *f, const struct ms_diff *d, bool md)
{
	char a[48], b[48], c[48], pc[32], gn[128];

	if (md)
		fprintf(f, "### memstate diff\n\nBASE `%s`, NEW `%s`\n", d->base->name,
			d->now->name);
	else
		fprintf(f, "memstate diff: BASE %s, NEW %s\n", d->base->name, d->now->name);
	for (size_t k = 0; k < d->npairs; k++) {
		const struct ms_diff_pair *p = &d->pairs[k];
		struct ms_diff_row *rows;
		struct ms_diff_group *groups;
		long n = ms_diff_rows(p, &rows), ng;

		if (n < 0)
			return (int)n;
		if (md)
			fprintf(f,
				"\n#### %s\n\n| metric | base | new | change | %% |\n"
				"|---|---:|---:|---:|---:|\n",
				p->label);
		else
			fprintf(f, "\n%s\n  %-28s %14s %14s %14s %9s\n", p->label, "metric", "base",
				"new", "change", "%");
		for (long i = 0; i < n; i++) {
			const struct ms_diff_row *r = &rows[i];

			side(a, sizeof(a), r->metric, r->in_base, r->base);
			side(b, sizeof(b), r->metric, r->in_now, r->now);
			fmt_change(c, sizeof(c), r->metric, r->base, r->now);
			ms_diff_pct(pc, sizeof(pc), r->base, r->now);
			if (md)
				fprintf(f, "| `%s` | %s | %s | %s | %s |\n", r->metric, a, b, c,
					pc);
			else
				fprintf(f, "  %-28s %14s %14s %14s %9s\n", r->metric, a, b, c, pc);
		}
		free(rows);
		ng = ms_diff_groups(p, d->top, &groups);
		if (ng < 0)
			return (int)ng;
		if (ng > 0) {
			if (md)
				fprintf(f,
					"\nregions that changed most (made by, length, stat):\n\n"
					"| mappings | base | new | bytes base | bytes new |\n"
					"|---|---:|---:|---:|---:|\n");
			else
				fprintf(f,
					"  regions that changed most (made by, length, stat):\n"
					"    %-40s %9s %9s %12s %12s\n",
					"mappings", "base", "new", "bytes base", "bytes new");
			for (long i = 0; i < ng; i++) {
				const struct ms_diff_group *g = &groups[i];

				group_name(gn, sizeof(gn), g);
				ms_mx_fmt(a, sizeof(a), "bytes.Ready", g->base_bytes);
				ms_mx_fmt(b, sizeof(b), "bytes.Ready", g->now_bytes);
				if (md)
					fprintf(f, "| %s | %" PRIu64 " | %" PRIu64 " | %s | %s |\n",
						gn, g->base_count, g->now_count, a, b);
				else
					fprintf(f,
						"    %-40s %9" PRIu64 " %9" PRIu64 " %12s %12s\n",
						gn, g->base_count, g->now_count, a, b);
			}
		}
		free(groups);
	}
	if (d->nverdicts) {
		fprintf(f, md ? "\n#### verdicts\n\n" : "\nverdicts:\n");
		for (size_t i = 0; i < d->nverdicts; i++) {
			const struct ms_diff_verdict *v = &d->verdicts[i];

			ms_mx_fmt(a, sizeof(a), v->e->metric, v->base);
			ms_mx_fmt(b, sizeof(b), v->e->metric, v->now);
			ms_diff_pct(pc, sizeof(pc), v->base, v->now);
			fprintf(f, "%s%s %s: %s, %s -> %s (%s)%s\n", md ? "- " : "  ",
				v->failed ? "FAIL" : "ok", v->e->text, d->pairs[v->pair].label, a,
				b, pc, v->failed ? ": more than allowed" : "");
		}
	}
	return 0;
}

static void jb_scope(struct ms_jbuf *j, const char *key, const struct ms_mx_scope *s)
{
	ms_jb_key(j, key, 0);
	if (!s) {
		ms_jb_puts(j, "null");
		return;
	}
	ms_jb_puts(j, "{\"pid\":");
	ms_jb_u64(j, s->pid);
	ms_jb_puts(j, ",\"exe\":");
	ms_jb_str(j, s->exe);
	ms_jb_puts(j, "}");
}

static int write_json(FILE *f, const struct ms_diff *d)
{
	struct ms_jbuf j;
	int err;

	fflush(f);
	if (ms_jb_init(&j, fileno(f), 1 << 16))
		return -ENOMEM;
	ms_jb_puts(&j, "{\"base\":");
	ms_jb_str(&j, d->base->name);
	ms_jb_puts(&j, ",\"new\":");
	ms_jb_str(&j, d->now->name);
	ms_jb_puts(&j, ",\"failed\":");
	ms_jb_puts(&j, d->failed ? "true" : "false");
	ms_jb_puts(&j, ",\"scopes\":[");
	for (size_t k = 0; k < d->npairs; k++) {
		const struct ms_diff_pair *p = &d->pairs[k];
		struct ms_diff_row *rows;
		struct ms_diff_group *groups;
		long n = ms_diff_rows(p, &rows), ng;

		if (n < 0) {
			ms_jb_release(&j);
			return (int)n;
		}
		ms_jb_puts(&j, k ? ",\n{" : "\n{");
		ms_jb_key(&j, "scope", 1);
		ms_jb_str(&j, p->label);
		jb_scope(&j, "base_process", k ? p->base : NULL);
		jb_scope(&j, "new_process", k ? p->now : NULL);
		ms_jb_puts(&j, ",\"metrics\":{");
		for (long i = 0; i < n; i++) {
			const struct ms_diff_row *r = &rows[i];

			ms_jb_key(&j, r->metric, i == 0);
			ms_jb_puts(&j, "{\"base\":");
			if (r->in_base)
				ms_jb_u64(&j, r->base);
			else
				ms_jb_puts(&j, "null");
			ms_jb_puts(&j, ",\"new\":");
			if (r->in_now)
				ms_jb_u64(&j, r->now);
			else
				ms_jb_puts(&j, "null");
			ms_jb_puts(&j, ",\"change\":");
			ms_jb_i64(&j, (int64_t)(r->now - r->base));
			ms_jb_puts(&j, ",\"percent\":");
			if (r->base == r->now) {
				ms_jb_puts(&j, "0");
			} else if (r->base) {
				char pc[48];

				snprintf(pc, sizeof(pc), "%.2f",
					 ((double)r->now - (double)r->base) * 100.0 /
						 (double)r->base);
				ms_jb_puts(&j, pc);
			} else {
				ms_jb_puts(&j, "null");
			}
			ms_jb_puts(&j, "}");
		}
		free(rows);
		ms_jb_puts(&j, "},\"regions_changed\":[");
		ng = ms_diff_groups(p, d->top, &groups);
		for (long i = 0; i < ng; i++) {
			const struct ms_diff_group *g = &groups[i];

			ms_jb_puts(&j, i ? ",{\"made_by\":" : "{\"made_by\":");
			ms_jb_str(&j, ms_op_name(g->op));
			ms_jb_puts(&j, ",\"len\":");
			ms_jb_u64(&j, g->len);
			ms_jb_puts(&j, ",\"stat\":");
			ms_jb_str(&j, g->stat[0] ? g->stat : NULL);
			ms_jb_puts(&j, ",\"base_count\":");
			ms_jb_u64(&j, g->base_count);
			ms_jb_puts(&j, ",\"new_count\":");
			ms_jb_u64(&j, g->now_count);
			ms_jb_puts(&j, ",\"base_bytes\":");
			ms_jb_u64(&j, g->base_bytes);
			ms_jb_puts(&j, ",\"new_bytes\":");
			ms_jb_u64(&j, g->now_bytes);
			ms_jb_puts(&j, "}");
		}
		free(groups);
		ms_jb_puts(&j, "]}");
		if (ng < 0) {
			ms_jb_release(&j);
			return (int)ng;
		}
	}
	ms_jb_puts(&j, "],\n\"verdicts\":[");
	for (size_t i = 0; i < d->nverdicts; i++) {
		const struct ms_diff_verdict *v = &d->verdicts[i];

		ms_jb_puts(&j, i ? ",{\"expr\":" : "{\"expr\":");
		ms_jb_str(&j, v->e->text);
		ms_jb_puts(&j, ",\"scope\":");
		ms_jb_str(&j, d->pairs[v->pair].label);
		ms_jb_puts(&j, ",\"metric\":");
		ms_jb_str(&j, v->e->metric);
		ms_jb_puts(&j, ",\"base\":");
		ms_jb_u64(&j, v->base);
		ms_jb_puts(&j, ",\"new\":");
		ms_jb_u64(&j, v->now);
		ms_jb_puts(&j, ",\"failed\":");
		ms_jb_puts(&j, v->failed ? "true}" : "false}");
	}
	ms_jb_puts(&j, "]}\n");
	err = ms_jb_flush(&j);
	ms_jb_release(&j);
	return err;
}

int ms_diff_write(FILE *f, const struct ms_diff *d, enum ms_diff_format fmt)
{
	int err =
		fmt == MS_DIFF_JSON ? write_json(f, d) : write_text(f, d, fmt == MS_DIFF_MARKDOWN);

	if (err)
		return err;
	return fflush(f) || ferror(f) ? -EIO : 0;
}
