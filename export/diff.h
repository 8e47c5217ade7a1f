/* SPDX-License-Identifier: MIT */
/*
 * Two timelines compared (`memstate diff BASE NEW`): processes matched by exe and order
 * (the second "python3" of BASE with the second "python3" of NEW), every metric of
 * metrics.h side by side with its change, the region groups that changed most (by the
 * operation that made them, their length and stat: addresses move between runs), and the
 * verdicts of --fail-on expressions. Writers for a table, JSON and Markdown.
 */
#ifndef MEMSTATE_EXPORT_DIFF_H
#define MEMSTATE_EXPORT_DIFF_H

#include <stdbool.h>
#include <stdio.h>

#include "metrics.h"

/* Two scopes side by side; one side NULL when a process has no match. */
struct ms_diff_pair {
	const struct ms_mx_scope *base, *now; /* [0]: the whole timelines */
	char label[256];		      /* "total", "EXE #N (pid A -> pid B)" */
};

/* One metric in one pair. */
struct ms_diff_row {
	char metric[160];     /* its name */
	uint64_t base, now;   /* values (0 on a missing side) */
	bool in_base, in_now; /* the side has the scope and records the metric */
};

/* One region group in one pair. */
struct ms_diff_group {
	uint8_t op;			/* the making operation */
	uint64_t len;			/* its length */
	char stat[40];			/* its stat */
	uint64_t base_count, now_count; /* mappings made this way */
	uint64_t base_bytes, now_bytes; /* bytes they covered */
};

/* The outcome of one --fail-on expression in one pair. */
struct ms_diff_verdict {
	const struct ms_mx_expr *e; /* the expression */
	size_t pair;		    /* which pair */
	uint64_t base, now;	    /* its values */
	bool failed;		    /* NEW grew past the allowance */
};

struct ms_diff {
	const struct ms_metrics *base, *now; /* compared (not owned) */
	struct ms_diff_pair *pairs;	     /* pairs[0] is the whole timeline */
	size_t npairs;			     /* entries */
	struct ms_diff_verdict *verdicts;    /* of ms_diff_judge() */
	size_t nverdicts;		     /* entries */
	bool failed;			     /* a verdict failed */
	unsigned top;			     /* region groups shown per pair (default 10) */
};

/* Match the processes of base and now into d (owned arrays: ms_diff_release()). 0 or -ENOMEM. */
int ms_diff_match(struct ms_diff *d, const struct ms_metrics *base, const struct ms_metrics *now);
/*
 * The metric rows of one pair; *rows is malloc'ed (caller frees). Returns the count or
 * -ENOMEM.
 */
long ms_diff_rows(const struct ms_diff_pair *p, struct ms_diff_row **rows);
/* The region groups of one pair that changed most in bytes, at most max; same contract. */
long ms_diff_groups(const struct ms_diff_pair *p, unsigned max, struct ms_diff_group **out);
/*
 * Apply the --fail-on expressions. 0; -ESRCH when a PID:/EXE: prefix picks no process of
 * BASE, -ENODATA when a metric is not recorded in both timelines (one line in msg), -ENOMEM.
 */
int ms_diff_judge(struct ms_diff *d, const struct ms_mx_expr *exprs, size_t n, char *msg,
		  size_t msglen);

enum ms_diff_format {
	MS_DIFF_TABLE = 0, /* aligned text for a terminal */
	MS_DIFF_JSON,	   /* exact integers */
	MS_DIFF_MARKDOWN,  /* tables for a CI comment */
};

/* Write the comparison. 0, -ENOMEM, or -EIO when f failed. */
int ms_diff_write(FILE *f, const struct ms_diff *d, enum ms_diff_format fmt);
void ms_diff_release(struct ms_diff *d);

/* "+12.5%", "-3.0%", "0%", "new" (base 0), in buf. */
const char *ms_diff_pct(char *buf, size_t len, uint64_t base, uint64_t now);

#endif /* MEMSTATE_EXPORT_DIFF_H */
