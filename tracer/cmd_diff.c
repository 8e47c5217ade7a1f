// SPDX-License-Identifier: MIT
/*
 * memstate diff BASE NEW: did this change make memory worse? Both timelines are measured
 * (export/metrics.h), matched and compared (export/diff.h); --fail-on turns the comparison
 * into an exit status for CI, --html into a page to share (export/html.h).
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "export/diff.h"
#include "export/html.h"
#include "verdict.h"

int ms_cli_report_html(const char *path, bool html, const char *out)
{
	struct ms_mx_opts mo = {.keep = true};
	struct ms_metrics *m;
	char msg[1200];
	int err;

	if (!html)
		return ms_usage_err("report", "-o is for --html");
	if (!out)
		return ms_usage_err("report", "--html needs -o FILE");
	if (!strcmp(path, "-"))
		return ms_usage_err("report",
				    "--html reads the timeline twice: give a file, not -");
	if (ms_mx_load(path, &mo, &m, msg, sizeof(msg)))
		return ms_err("report: %s", msg);
	if (!m->complete)
		fprintf(stderr, "memstate report: warning: %s was cut short: shown up to its end\n",
			m->name);
	err = ms_html_report(out, path, m, msg, sizeof(msg));
	ms_mx_free(m);
	return err ? ms_err("report: %s", msg) : MS_EXIT_OK;
}

/* One timeline measured on its own thread: BASE and NEW are read side by side. */
struct load {
	const char *path;	     /* the timeline */
	const struct ms_mx_opts *mo; /* what to keep */
	struct ms_metrics *m;	     /* result */
	int err;		     /* ms_mx_load()'s */
	char msg[1200];		     /* its line */
};

static void *load_thread(void *arg)
{
	struct load *l = arg;

	l->err = ms_mx_load(l->path, l->mo, &l->m, l->msg, sizeof(l->msg));
	return NULL;
}

/* Measure both; stdin cannot be read twice but may be one of them. 0 or the first error. */
static int load_both(struct load *a, struct load *b)
{
	pthread_t t;
	bool threaded = !pthread_create(&t, NULL, load_thread, a);

	if (!threaded)
		load_thread(a);
	load_thread(b);
	if (threaded)
		pthread_join(t, NULL);
	return a->err ? a->err : b->err;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: memstate diff [options] BASE NEW\n"
		"\n"
		"Compares two saved timelines (JSON or JSON Lines), in total and per process\n"
		"(processes matched by exe and order): bytes per state now and at peak,\n"
		"peak_footprint, residency when recorded, page faults, THP collapses, violations\n"
		"by kind, events by operation, the program's stats (Go: heap, stacks...), and the\n"
		"mappings that changed most, grouped by the operation that made them, their\n"
		"length and stat (addresses move between runs).\n"
		"\n"
		"options:\n"
		"  -j, --json                 machine-readable (exact integers)\n"
		"  -m, --markdown             Markdown tables (a CI comment)\n"
		"  -f, --fail-on METRIC=+N%%   fail when NEW exceeds BASE by more than N percent\n"
		"      --fail-on METRIC=+SIZE  ... or by more than SIZE (bytes or a count; K, M, "
		"G\n"
		"                             1024-based); =+0 fails on any increase (repeatable)\n"
		"      --html                 write an HTML page of both runs (needs -o)\n"
		"  -o, --output FILE          where --html writes\n"
		"  -t, --top N                mapping groups shown per process (default 10)\n"
		"  -h, --help                 this text\n"
		"\n"
		"metrics: %s.\n"
		"\n"
		"exit status: 0 done, no --fail-on exceeded; 1 a --fail-on exceeded;\n"
		"2 memstate's own error (unreadable timeline, unknown metric; one line on "
		"stderr).\n"
		"\n"
		"examples:\n"
		"  memstate diff base.json new.json\n"
		"  memstate diff --fail-on peak_footprint=+5%% --fail-on violations=+0 base.json "
		"new.json\n"
		"  memstate diff --markdown base.jsonl new.jsonl >comment.md\n"
		"  memstate diff --html -o diff.html base.json new.json\n",
		ms_mx_names_help());
}

int ms_cmd_diff(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},	   {"markdown", no_argument, NULL, 'm'},
		{"fail-on", required_argument, NULL, 'f'}, {"html", no_argument, NULL, 'H'},
		{"output", required_argument, NULL, 'o'},  {"top", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},	   {0},
	};
	static struct ms_mx_expr exprs[MS_MAX_EXPRS];
	struct ms_mx_opts mo = {0};
	enum ms_diff_format fmt = MS_DIFF_TABLE;
	struct ms_metrics *base = NULL, *now = NULL;
	struct ms_diff d = {0};
	const char *out = NULL;
	bool html = false;
	unsigned long top = 10;
	char msg[1200], *end;
	size_t nexprs = 0;
	int c, ret, err;

	optind = 0;
	while ((c = getopt_long(argc, argv, "jmf:o:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			fmt = MS_DIFF_JSON;
			break;
		case 'm':
			fmt = MS_DIFF_MARKDOWN;
			break;
		case 'f':
			if (ms_cli_expr_add("diff", "--fail-on", optarg, true, exprs, &nexprs))
				return MS_EXIT_ERROR;
			break;
		case 'H':
			html = true;
			break;
		case 'o':
			out = optarg;
			break;
		case 't':
			top = strtoul(optarg, &end, 10);
			if (!*optarg || *end || top > 1000)
				return ms_usage_err("diff",
						    "--top wants a number up to 1000, not '%s'",
						    optarg);
			break;
		case 'h':
			usage(stdout);
			return MS_EXIT_OK;
		default:
			return ms_usage_err("diff", "unknown option");
		}
	}
	if (argc - optind != 2)
		return ms_usage_err("diff", "give two timelines: BASE NEW");
	if (html && !out)
		return ms_usage_err("diff", "--html needs -o FILE");
	if (out && !html)
		return ms_usage_err("diff", "-o is for --html");
	if (html && (!strcmp(argv[optind], "-") || !strcmp(argv[optind + 1], "-")))
		return ms_usage_err("diff", "--html reads each timeline twice: give files, not -");
	if (!strcmp(argv[optind], "-") && !strcmp(argv[optind + 1], "-"))
		return ms_usage_err("diff", "only one of BASE and NEW can be stdin");
	mo.keep = html;
	{
		struct load a = {.path = argv[optind], .mo = &mo},
			    b = {.path = argv[optind + 1], .mo = &mo};

		err = load_both(&a, &b);
		base = a.m;
		now = b.m;
		if (err) {
			ret = ms_err("diff: %s", a.err ? a.msg : b.msg);
			goto out;
		}
	}
	if (!base->complete)
		fprintf(stderr,
			"memstate diff: warning: %s was cut short: compared up to its end\n",
			base->name);
	if (!now->complete)
		fprintf(stderr,
			"memstate diff: warning: %s was cut short: compared up to its end\n",
			now->name);
	if (ms_diff_match(&d, base, now)) {
		ret = ms_err("diff: out of memory");
		goto out;
	}
	d.top = (unsigned)top;
	err = ms_diff_judge(&d, exprs, nexprs, msg, sizeof(msg));
	if (err) {
		ret = err == -ENOMEM ? ms_err("diff: out of memory") : ms_err("diff: %s", msg);
		goto out;
	}
	if (html) {
		err = ms_html_diff(out, argv[optind], argv[optind + 1], &d, msg, sizeof(msg));
		if (err) {
			ret = ms_err("diff: %s", msg);
			goto out;
		}
	}
	err = ms_diff_write(stdout, &d, fmt);
	if (err) {
		ret = err == -ENOMEM ? ms_err("diff: out of memory")
				     : ms_err("diff: writing the comparison: %s", strerror(-err));
		goto out;
	}
	ret = d.failed ? MS_EXIT_VIOLATIONS : MS_EXIT_OK;
out:
	ms_diff_release(&d);
	ms_mx_free(base);
	ms_mx_free(now);
	return ret;
}
