// SPDX-License-Identifier: MIT
/*
 * memstate check TRACE: replay a saved timeline through the checker and report every
 * violation; also report where the timeline disagrees with its own replay. Made for CI:
 * 0 clean, 1 violations or disagreements, 2 unreadable.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/playback.h"
#include "cli.h"
#include "verdict.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: memstate check [options] TRACE\n"
		"\n"
		"Replays a saved timeline (JSON or JSON Lines, plain or zstd; \"-\" reads stdin)\n"
		"through the checker, one shadow space per process, and prints every violation\n"
		"it finds. It recomputes each event's states and violation from the operations\n"
		"alone and reports any place where the timeline recorded something else (a\n"
		"disagreement). A JSON Lines file cut short by a killed run is checked up to its\n"
		"last whole line.\n"
		"\n"
		"options:\n"
		"  -n, --max N     print at most N violations (default 100); all are counted\n"
		"  -q, --quiet     print only disagreements and the final line\n"
		"  -s, --strict    count violations after lost events as real (exit 1)\n"
		"  -l, --limit METRIC=SIZE\n"
		"                  fail when the timeline exceeds a budget (repeatable): SIZE\n"
		"                  is a count or bytes with K, M, G (1024-based); METRIC as in\n"
		"                  memstate diff (peak_footprint, bytes.Ready, page_faults,\n"
		"                  violations, stats.heap.peak...), PID: or EXE: for one process\n"
		"  -h, --help      this text\n"
		"\n"
		"exit status: 0 clean; 1 violations, a limit exceeded, or the timeline disagrees\n"
		"with its replay; "
		"2 the timeline cannot be read or a --limit is wrong (one line on stderr).\n"
		"A violation recorded after the capture lost events (after_loss, marked [after\n"
		"loss]) may be an artefact of what is missing: it is printed and counted, but\n"
		"only fails the check (exit 1) with --strict.\n"
		"\n"
		"examples:\n"
		"  memstate check trace.json\n"
		"  MEMSTATE_OUT=t.jsonl MEMSTATE_FORMAT=jsonl ./alloc_tests; memstate check "
		"t.jsonl\n"
		"  memstate check -q trace.json || echo \"memory state violations\"\n"
		"  memstate check --limit peak_footprint=64M --limit page_faults=10K trace.json\n");
}

static void print_violation(const struct ms_tlp_step *st, const struct ms_tl_item *it)
{
	const struct ms_event *ev = &st->ev;

	printf("pid %u tid %u seq %" PRIu64 " t=%" PRIu64 ".%06" PRIu64 "s %s: %s", ev->pid,
	       ev->tid, ev->seq, ev->t_ns / 1000000000u, ev->t_ns % 1000000000u / 1000u,
	       ms_violation_name(ev->violation), st->message ? st->message : "");
	if (ev->flags & MS_EVF_LOSSY)
		printf(" [after loss: %" PRIu64 " events lost before it]", it->event.lost_before);
	printf("\n");
}

int ms_cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{"max", required_argument, NULL, 'n'}, {"quiet", no_argument, NULL, 'q'},
		{"strict", no_argument, NULL, 's'},    {"limit", required_argument, NULL, 'l'},
		{"help", no_argument, NULL, 'h'},      {0},
	};
	uint64_t events = 0, by_kind[MS_V_COUNT] = {0}, violations = 0, printed = 0, lost;
	unsigned long max = 100;
	const char *const *lines;
	struct ms_tlp_step st;
	struct ms_tl_item it;
	struct ms_tlp *p;
	bool quiet = false, strict = false;
	uint64_t after_loss = 0;
	char msg[600], *end;
	static struct ms_mx_expr limits[MS_MAX_EXPRS];
	struct ms_metrics *mx = NULL;
	size_t nlines, nlimits = 0;
	int c, ret, lret, last;

	optind = 0;
	while ((c = getopt_long(argc, argv, "n:qsl:h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			max = strtoul(optarg, &end, 10);
			if (!*optarg || *end)
				return ms_usage_err("check", "--max wants a number, not '%s'",
						    optarg);
			break;
		case 'q':
			quiet = true;
			break;
		case 's':
			strict = true;
			break;
		case 'l':
			if (ms_cli_expr_add("check", "--limit", optarg, false, limits, &nlimits))
				return MS_EXIT_ERROR;
			break;
		case 'h':
			usage(stdout);
			return MS_EXIT_OK;
		default:
			return ms_usage_err("check", "unknown option");
		}
	}
	if (optind != argc - 1)
		return ms_usage_err("check", optind == argc ? "which timeline? give one TRACE"
							    : "one TRACE at a time");
	p = ms_tlp_open(argv[optind], msg, sizeof(msg));
	if (!p)
		return ms_err("check: %s", msg);
	if (nlimits && !(mx = ms_mx_new(NULL))) {
		ms_tlp_close(p);
		return ms_err("check: out of memory");
	}
	while ((ret = ms_tlp_next(p, &it, &st)) == 1) {
		if (mx)
			ms_mx_feed(mx, p, &it, &st);
		if (it.type != MS_TLI_EVENT)
			continue;
		events++;
		if (!st.ev.violation)
			continue;
		violations++;
		by_kind[st.ev.violation]++;
		if (st.ev.flags & MS_EVF_LOSSY)
			after_loss++;
		if (!quiet && printed < max) {
			print_violation(&st, &it);
			printed++;
		}
	}
	if (ret < 0) {
		fflush(stdout);
		ms_err("check: %s", ms_tlp_error(p));
		ms_tlp_close(p);
		ms_mx_free(mx);
		return MS_EXIT_ERROR;
	}
	last = ret;
	if (ret == MS_TLR_TRUNCATED)
		fprintf(stderr, "memstate check: warning: %s\n", ms_tlp_error(p));
	if (!quiet && violations > printed)
		printf("... %" PRIu64 " more violations not printed (--max)\n",
		       violations - printed);
	nlines = ms_tlp_disagreement_lines(p, &lines);
	for (size_t i = 0; i < nlines; i++)
		printf("disagreement: %s\n", lines[i]);
	if (ms_tlp_disagreements(p) > nlines)
		printf("disagreement: ... %" PRIu64 " more\n", ms_tlp_disagreements(p) - nlines);

	printf("%s: %" PRIu64 " events, %zu process%s, %" PRIu64 " violation%s", ms_tlp_name(p),
	       events, ms_tlp_nprocs(p), ms_tlp_nprocs(p) == 1 ? "" : "es", violations,
	       violations == 1 ? "" : "s");
	if (violations) {
		const char *sep = " (";

		for (unsigned k = 1; k < MS_V_COUNT; k++) {
			if (!by_kind[k])
				continue;
			printf("%s%s %" PRIu64, sep, ms_violation_name(k), by_kind[k]);
			sep = ", ";
		}
		printf(")");
	}
	if (after_loss)
		printf(", %" PRIu64 " after lost events (maybe artefacts%s)", after_loss,
		       strict ? "; --strict counts them" : ": --strict to fail on them");
	if (ms_tlp_disagreements(p))
		printf("; %" PRIu64 " disagreement%s with the recorded timeline",
		       ms_tlp_disagreements(p), ms_tlp_disagreements(p) == 1 ? "" : "s");
	else
		printf("; agrees with the recorded timeline");
	if (ms_tlp_computed(p))
		printf(" (%" PRIu64 " event%s recorded no states: computed from the operations)",
		       ms_tlp_computed(p), ms_tlp_computed(p) == 1 ? "" : "s");
	lost = ms_tlp_lost(p);
	if (lost)
		printf(" (the trace lost %" PRIu64 " events: the replay cannot be complete)", lost);
	if (ret == MS_TLR_TRUNCATED)
		printf(" (cut short: checked up to its last whole line)");
	printf("\n");
	if (!strict)
		violations -= after_loss;
	ret = violations || ms_tlp_disagreements(p) ? MS_EXIT_VIOLATIONS : MS_EXIT_OK;
	if (mx) {
		lret = ms_mx_finish(mx, p, last) ? ms_err("check: out of memory")
						 : ms_cli_limits(mx, limits, nlimits);
		if (lret != MS_EXIT_OK && ret != MS_EXIT_ERROR)
			ret = lret;
	}
	ms_tlp_close(p);
	ms_mx_free(mx);
	return ret;
}
