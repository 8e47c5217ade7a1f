/* SPDX-License-Identifier: MIT */
/*
 * Verdicts on metrics for the commands that give them (check --limit, diff --fail-on):
 * flags parsed into expressions, outcomes printed, exit statuses chosen here, the figures
 * themselves from export/metrics.h and export/diff.h.
 */
#ifndef MEMSTATE_TRACER_VERDICT_H
#define MEMSTATE_TRACER_VERDICT_H

#include <stddef.h>

#include "export/metrics.h"

#define MS_MAX_EXPRS 64 /* --limit / --fail-on given at most */

/*
 * Parse one --limit (growth false) or --fail-on (growth true) argument into exprs[*n].
 * MS_EXIT_OK, or MS_EXIT_ERROR after one line on stderr naming the valid metrics.
 */
int ms_cli_expr_add(const char *cmd, const char *flag, const char *arg, bool growth,
		    struct ms_mx_expr *exprs, size_t *n);
/*
 * Check the limits against a measured timeline, one line per verdict on stdout.
 * MS_EXIT_OK, MS_EXIT_VIOLATIONS (a limit exceeded) or MS_EXIT_ERROR (a prefix that picks no
 * process, a metric the timeline does not record: one line on stderr).
 */
int ms_cli_limits(const struct ms_metrics *m, const struct ms_mx_expr *exprs, size_t n);

/* report --html -o OUT TRACE (in cmd_diff.c, with diff's page). An exit status. */
int ms_cli_report_html(const char *path, bool html, const char *out);

#endif /* MEMSTATE_TRACER_VERDICT_H */
