// SPDX-License-Identifier: MIT
/*
 * memstate view: replay a saved timeline in the TUI (load it through export/'s playback,
 * then hand it to ms_tui_replay), or, hidden, watch the synthetic demo producer live.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "export/playback.h"
#include "cli.h"
#include "tui/tui.h"

static const char usage_text[] =
	"usage: memstate view [options] TIMELINE\n"
	"\n"
	"Replays a saved timeline (JSON or JSON Lines, '-' for stdin) in the state map:\n"
	"step and seek through time, or play it at a chosen speed; the map shows every\n"
	"region's state at that moment.\n"
	"\n"
	"options:\n"
	"  --at SEQ        open at the event with this seq (default: the end)\n"
	"  --start         open before the first event\n"
	"  --pid PID       process shown first (default: the first one)\n"
	"  --speed X       play speed, trace seconds per second (e.g. 0.01, 1/64);\n"
	"                  default: the whole timeline in about 20 s\n"
	"  --play          start playing\n"
	"  --no-color      one character per state instead of colours (also NO_COLOR=1)\n"
	"  -h, --help      this text\n"
	"\n"
	"keys: arrows scroll, + - zoom, Enter region details, v next violation,\n"
	"      space play/pause, ] [ step, } { jump, < > speed, g go to seq, t to a time,\n"
	"      / go to address, p process, ? help, q quit\n"
	"\n"
	"examples:\n"
	"  memstate view trace.json\n"
	"  memstate view --start --play --speed 1/1000 trace.jsonl\n"
	"  memstate view --at 1234 --no-color trace.json\n";

enum { OPT_AT = 256, OPT_START, OPT_PID, OPT_SPEED, OPT_PLAY, OPT_NO_COLOR, OPT_DEMO, OPT_SEED };

static const struct option long_opts[] = {
	{"at", required_argument, NULL, OPT_AT},
	{"start", no_argument, NULL, OPT_START},
	{"pid", required_argument, NULL, OPT_PID},
	{"speed", required_argument, NULL, OPT_SPEED},
	{"play", no_argument, NULL, OPT_PLAY},
	{"no-color", no_argument, NULL, OPT_NO_COLOR},
	{"no-colour", no_argument, NULL, OPT_NO_COLOR},
	{"demo", optional_argument, NULL, OPT_DEMO}, /* hidden: synthetic live feed */
	{"seed", required_argument, NULL, OPT_SEED}, /* hidden: the demo's seed */
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-')
		return -EINVAL;
	*out = v;
	return 0;
}

/* "0.25", "4", "1/64" */
static int parse_speed(const char *s, double *out)
{
	char *end;
	double a, b = 1;

	a = strtod(s, &end);
	if (end == s)
		return -EINVAL;
	if (*end == '/') {
		const char *q = end + 1;

		b = strtod(q, &end);
		if (end == q || b <= 0)
			return -EINVAL;
	}
	if (*end || !(a > 0))
		return -EINVAL;
	*out = a / b;
	return 0;
}

/* ------------------------------------------------------------------ loading */

struct rec_region {
	uint32_t pid;
	uint64_t start, end;
	uint8_t state;
};

/* The replayed final maps against the recorded ones, byte for byte per state. */
static size_t check_final(struct ms_replay *rp, const struct rec_region *rr, size_t n)
{
	size_t bad = 0;

	if (ms_replay_seek(rp, rp->nev))
		return 0;
	for (size_t i = 0; i < n; i++) {
		struct ms_rp_proc *p = ms_replay_proc(rp, rr[i].pid);
		uint64_t b[MS_STATE_COUNT] = {0};

		if (!p || !p->base.sp) {
			bad++;
			continue;
		}
		ms_space_bytes_in(p->base.sp, rr[i].start, rr[i].end - rr[i].start, b);
		if (rr[i].state >= MS_STATE_COUNT || b[rr[i].state] != rr[i].end - rr[i].start)
			bad++;
	}
	return bad;
}

static int load(const char *path, struct ms_replay **out, char *title, size_t tlen,
		size_t *mismatch)
{
	struct ms_tlp *r;
	struct ms_tl_item it;
	struct ms_replay *rp = NULL;
	struct rec_region *rr = NULL;
	size_t nrr = 0, rr_cap = 0;
	char msg[600] = "", lossmsg[400];
	int ret;

	r = ms_tlp_open(path, msg, sizeof(msg));
	if (!r)
		return ms_err("view: %s", msg[0] ? msg : strerror(EIO));
	while ((ret = ms_tlp_next(r, &it, NULL)) == 1) {
		if (!rp) {
			rp = ms_replay_new(it.type == MS_TLI_HEADER ? it.header.page_size : 0);
			if (!rp) {
				ret = -ENOMEM;
				break;
			}
		}
		switch (it.type) {
		case MS_TLI_HEADER: {
			size_t l = 0;

			title[0] = 0;
			for (int i = 0; i < it.header.argc && l + 1 < tlen; i++) {
				snprintf(title + l, tlen - l, "%s%s", i ? " " : "",
					 it.header.argv[i]);
				l = strlen(title);
			}
			break;
		}
		case MS_TLI_EVENT:
			if ((it.event.ev.flags & MS_EVF_LOSSY) && it.event.ev.violation) {
				snprintf(lossmsg, sizeof(lossmsg),
					 "%s [after loss: %" PRIu64 " events lost before it]",
					 it.event.message
						 ? it.event.message
						 : ms_violation_name(it.event.ev.violation),
					 it.event.lost_before);
				it.event.message = lossmsg;
			}
			ret = ms_replay_add_event(rp, &it.event.ev, it.event.stat,
						  it.event.message);
			break;
		case MS_TLI_VIOLATION:
			if (it.violation.after_loss) {
				snprintf(lossmsg, sizeof(lossmsg),
					 "%s [after loss: %" PRIu64 " events lost before it]",
					 it.violation.message, it.violation.lost_before);
				it.violation.message = lossmsg;
			}
			ret = ms_replay_add_message(rp, it.violation.seq, it.violation.message);
			break;
		case MS_TLI_PROCESS:
			ret = ms_replay_add_process(rp, it.process.pid, it.process.ppid,
						    it.process.exe, it.process.exit_code,
						    it.process.exit_signal,
						    it.process.totals.dropped_events);
			break;
		case MS_TLI_REGION:
			if (nrr == rr_cap) {
				size_t cap = rr_cap ? 2 * rr_cap : 256;
				struct rec_region *g = realloc(rr, cap * sizeof(*g));

				if (!g) {
					ret = -ENOMEM;
					break;
				}
				rr = g;
				rr_cap = cap;
			}
			rr[nrr++] = (struct rec_region){.pid = it.region.pid,
							.start = it.region.r.start,
							.end = it.region.r.end,
							.state = it.region.r.state};
			break;
		case MS_TLI_SUMMARY:
			rp->summary = it.summary.totals;
			rp->has_summary = true;
			break;
		}
		if (ret < 0)
			break;
		ret = 1;
	}
	if (ret < 0) {
		if (ret == -ENOMEM)
			ms_err("view: %s: out of memory", path);
		else
			ms_err("view: %s", ms_tlp_error(r));
		ms_tlp_close(r);
		ms_replay_free(rp);
		free(rr);
		return MS_EXIT_ERROR;
	}
	ms_tlp_close(r);
	if (!rp) {
		free(rr);
		return ms_err("view: %s: no timeline in it", path);
	}
	rp->truncated = ret == MS_TLR_TRUNCATED;
	*mismatch = check_final(rp, rr, nrr);
	free(rr);
	*out = rp;
	return 0;
}

/* ------------------------------------------------------------------ demo */

static int run_demo(uint64_t rate, uint64_t seed, bool no_color)
{
	struct ms_live *live = calloc(1, sizeof(*live));
	struct ms_demo *d;
	int ret;

	if (!live)
		return ms_err("view: out of memory");
	ms_live_init(live);
	snprintf(live->command, sizeof(live->command),
		 "demo: synthetic Go-like heap, %" PRIu64 " events/s", rate);
	live->no_color = no_color;
	d = ms_demo_start(live, rate, seed);
	if (!d) {
		free(live);
		return ms_err("view: cannot start the demo producer");
	}
	ret = ms_tui_run(live);
	ms_demo_stop(d);
	if (ret < 0) {
		free(live);
		return ms_err("view: needs a terminal (%s)", strerror(-ret));
	}
	ret = live->quit_signal ? 128 + live->quit_signal : MS_EXIT_OK;
	free(live);
	return ret;
}

/* ------------------------------------------------------------------ the command */

int ms_cmd_view(int argc, char **argv)
{
	struct tui_opts o = {.color = true};
	struct ms_replay *rp = NULL;
	uint64_t at = UINT64_MAX, v, rate = 0, seed = 0;
	bool start = false, demo = false;
	size_t mismatch = 0;
	char title[512];
	int c, ret;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", long_opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(usage_text, stdout);
			return MS_EXIT_OK;
		case OPT_AT:
			if (parse_u64(optarg, &at))
				return ms_usage_err("view", "--at wants an event seq, not '%s'",
						    optarg);
			break;
		case OPT_START:
			start = true;
			break;
		case OPT_PID:
			if (parse_u64(optarg, &v) || v > UINT32_MAX)
				return ms_usage_err("view", "--pid wants a pid, not '%s'", optarg);
			o.pid = (uint32_t)v;
			break;
		case OPT_SPEED:
			if (parse_speed(optarg, &o.speed))
				return ms_usage_err("view",
						    "--speed wants a positive number or a "
						    "fraction like 1/64, not '%s'",
						    optarg);
			break;
		case OPT_PLAY:
			o.play = true;
			break;
		case OPT_NO_COLOR:
			o.color = false;
			break;
		case OPT_DEMO:
			demo = true;
			rate = 5000;
			if (optarg && parse_u64(optarg, &rate))
				return ms_usage_err("view", "--demo wants events per second");
			break;
		case OPT_SEED:
			if (parse_u64(optarg, &seed))
				return ms_usage_err("view", "--seed wants a number");
			break;
		case '?':
		default:
			if (optopt)
				return ms_usage_err("view",
						    "option '-%c' is not known or lacks "
						    "its value",
						    optopt);
			return ms_usage_err("view", "option '%s' is not known or lacks its value",
					    argv[optind - 1]);
		}
	}
	if (demo) {
		if (optind != argc)
			return ms_usage_err("view", "--demo takes no timeline");
		return run_demo(rate, seed, !o.color);
	}
	if (optind != argc - 1)
		return ms_usage_err("view",
				    optind == argc ? "which timeline?" : "one timeline at a time");
	ret = load(argv[optind], &rp, title, sizeof(title), &mismatch);
	if (ret)
		return ret;
	o.start = rp->nev;
	if (start)
		o.start = 0;
	if (at != UINT64_MAX) {
		size_t i = ms_replay_find_seq(rp, at);

		if (i == SIZE_MAX) {
			ms_replay_free(rp);
			return ms_usage_err("view", "no event with seq %" PRIu64, at);
		}
		o.start = i + 1;
	}
	if (o.pid && !ms_replay_proc(rp, o.pid)) {
		ms_replay_free(rp);
		return ms_usage_err("view", "no process %u in this timeline", o.pid);
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		ms_replay_free(rp);
		return ms_err("view: needs a terminal");
	}
	ret = ms_tui_replay(rp, title, &o);
	ms_replay_free(rp);
	/* Once the terminal is back, where it can be read. */
	if (mismatch)
		fprintf(stderr,
			"memstate: view: %zu recorded final region%s differ from the replay\n",
			mismatch, mismatch == 1 ? "" : "s");
	if (ret < 0)
		return ms_err("view: needs a terminal (%s)", strerror(-ret));
	return ret > 0 ? 128 + ret : MS_EXIT_OK;
}
