// SPDX-License-Identifier: MIT
/* check --limit and the parsing shared with diff --fail-on (verdict.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "cli.h"
#include "verdict.h"

int ms_cli_expr_add(const char *cmd, const char *flag, const char *arg, bool growth,
		    struct ms_mx_expr *exprs, size_t *n)
{
	char msg[1024];

	if (*n >= MS_MAX_EXPRS)
		return ms_err("%s: at most %d %s", cmd, MS_MAX_EXPRS, flag);
	if (ms_mx_parse(arg, growth, &exprs[*n], msg, sizeof(msg)))
		return ms_err("%s: %s %s", cmd, flag, msg);
	(*n)++;
	return MS_EXIT_OK;
}

int ms_cli_limits(const struct ms_metrics *m, const struct ms_mx_expr *exprs, size_t n)
{
	int ret = MS_EXIT_OK;

	for (size_t i = 0; i < n; i++) {
		const struct ms_mx_expr *e = &exprs[i];
		bool any = false;

		for (size_t k = 0; k <= m->nprocs; k++) {
			const struct ms_mx_scope *s = k ? &m->procs[k - 1] : &m->total;
			char a[48], b[48], who[256];
			uint64_t v;
			int err;

			if (!ms_mx_expr_picks(e, s))
				continue;
			any = true;
			err = ms_mx_value(s, e->metric, &v);
			if (err == -ENODATA)
				return ms_err("check: --limit %s: %s does not record %s", e->text,
					      m->name, e->metric);
			if (k)
				snprintf(who, sizeof(who), " (pid %u%s%s)", s->pid,
					 s->exe ? " " : "", s->exe ? s->exe : "");
			else
				who[0] = 0;
			ms_mx_fmt(a, sizeof(a), e->metric, v);
			ms_mx_fmt(b, sizeof(b), e->metric, e->amount);
			if (v > e->amount) {
				printf("limit exceeded: %s%s = %s > %s\n", e->metric, who, a, b);
				ret = MS_EXIT_VIOLATIONS;
			} else {
				printf("limit ok: %s%s = %s <= %s\n", e->metric, who, a, b);
			}
		}
		if (!any) {
			if (e->kind == MS_MX_PID)
				return ms_err("check: --limit %s: no process %u in %s", e->text,
					      e->pid, m->name);
			return ms_err("check: --limit %s: no process of %s runs '%s'", e->text,
				      m->name, e->exe);
		}
	}
	return ret;
}
