// SPDX-License-Identifier: MIT
/*
 * memstate convert --to FORMAT TRACE -o OUT: a saved timeline as Perfetto / Chrome trace
 * JSON, as an SVG picture, or as the other form of timeline (json <-> jsonl). Copies are
 * byte-identical to what the writer would write: write -> read -> write is a fixed point.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "export/convert.h"
#include "lib/zio.h"
#include "memstate/timeline.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: memstate convert --to FORMAT [options] TRACE [-o OUT]\n"
		"\n"
		"Converts a saved timeline (JSON or JSON Lines, plain or zstd; \"-\" reads stdin)\n"
		"to:\n"
		"  perfetto       Perfetto's native protobuf trace for ui.perfetto.dev and\n"
		"                 trace_processor: per process, counter tracks of bytes per "
		"state,\n"
		"                 resident bytes (when recorded), page faults per second and each\n"
		"                 named stat; a slice per mapping's lifetime; violations and THP\n"
		"                 collapses as instant events. (An OUT named *.json or *.json.zst\n"
		"                 gets the JSON form, as --to perfetto wrote before.)\n"
		"  perfetto-json  Chrome trace-event JSON (ui.perfetto.dev, chrome://tracing):\n"
		"                 the same counters, violations and THP collapses\n"
		"  svg            a picture: time across, address (gaps collapsed) down, coloured\n"
		"                 by state, violations marked, and the final state map beside it\n"
		"  json           one timeline document      jsonl  JSON Lines\n"
		"The output (default stdout) is created 0600: it holds addresses; a name ending\n"
		"in .zst is written zstd-compressed.\n"
		"\n"
		"options:\n"
		"  -t, --to FORMAT        perfetto, perfetto-json, svg, json or jsonl\n"
		"  -o, --output OUT       output file (\"-\" for stdout)\n"
		"      --fault-window MS  perfetto: page-fault rate averaged over MS ms (default "
		"10)\n"
		"      --ops              perfetto: also each operation (an instant; a slice on\n"
		"                         its thread in perfetto-json)\n"
		"      --pid PID          svg: draw only this process (default: up to 4 busiest)\n"
		"      --size WxH         svg: picture size in pixels (default 1200x700)\n"
		"  -h, --help             this text\n"
		"\n"
		"exit status: 0 done, 2 the timeline cannot be read or the output not written.\n"
		"\n"
		"examples:\n"
		"  memstate convert --to perfetto trace.jsonl.zst -o trace.pftrace\n"
		"  memstate convert --to perfetto-json trace.json -o trace.perfetto.json\n"
		"  memstate convert --to svg trace.json -o trace.svg && xdg-open trace.svg\n"
		"  memstate convert --to json killed-run.jsonl -o whole.json\n");
}

/* ------------------------------------------------------------------ the command */

static void warn(void *ctx, const char *msg)
{
	fprintf(stderr, "memstate convert: warning: %s\n", msg);
}

/*
 * The SVG reads its input twice: stdin or a pipe is first copied to an anonymous file
 * (memfd), which *path then names. 0, or MS_EXIT_ERROR after one line.
 */
static int spool_if_pipe(const char **path, char *buf, size_t len)
{
	struct stat st;
	char chunk[1 << 16];
	ssize_t n;
	int in, fd;

	if (strcmp(*path, "-") && !stat(*path, &st) && S_ISREG(st.st_mode))
		return 0;
	if (strcmp(*path, "-") && access(*path, R_OK))
		return 0; /* the reader says what is wrong with it */
	in = strcmp(*path, "-") ? open(*path, O_RDONLY | O_CLOEXEC) : 0;
	fd = memfd_create("memstate-convert", MFD_CLOEXEC);
	if (in < 0 || fd < 0)
		return ms_err("convert: cannot keep a copy of %s to read twice: %s", *path,
			      strerror(errno));
	while ((n = read(in, chunk, sizeof(chunk))) > 0) {
		if (write(fd, chunk, (size_t)n) != n)
			return ms_err("convert: cannot keep a copy of %s: %s", *path,
				      strerror(errno));
	}
	if (in > 0)
		close(in);
	if (n < 0)
		return ms_err("convert: reading %s: %s", *path, strerror(errno));
	snprintf(buf, len, "/proc/self/fd/%d", fd);
	*path = buf;
	return 0;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n > t && !strcmp(s + n - t, tail);
}

static int parse_size(const char *s, unsigned *w, unsigned *h)
{
	char *end;
	unsigned long a = strtoul(s, &end, 10), b;

	if (end == s || (*end != 'x' && *end != 'X'))
		return -EINVAL;
	s = end + 1;
	b = strtoul(s, &end, 10);
	if (end == s || *end || a < 320 || b < 200 || a > 20000 || b > 20000)
		return -EINVAL;
	*w = (unsigned)a;
	*h = (unsigned)b;
	return 0;
}

int ms_cmd_convert(int argc, char **argv)
{
	enum { OPT_FAULT_WINDOW = 256, OPT_OPS, OPT_PID, OPT_SIZE };
	static const struct option opts[] = {
		{"to", required_argument, NULL, 't'},
		{"output", required_argument, NULL, 'o'},
		{"fault-window", required_argument, NULL, OPT_FAULT_WINDOW},
		{"ops", no_argument, NULL, OPT_OPS},
		{"pid", required_argument, NULL, OPT_PID},
		{"size", required_argument, NULL, OPT_SIZE},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	char msg[600], *end, err[1024] = "";
	struct ms_conv_opts o = {.fault_window = 10000000,
				 .width = 1200,
				 .height = 700,
				 .err = err,
				 .errlen = sizeof(err),
				 .warn = warn};
	const char *to = NULL, *out = "-", *in;
	char spooled[64];
	struct ms_tlp *p = NULL;
	unsigned long v;
	int c, fd = 1, ret;

	optind = 0;
	while ((c = getopt_long(argc, argv, "t:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			to = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case OPT_FAULT_WINDOW:
			v = strtoul(optarg, &end, 10);
			if (!*optarg || *end || !v || v > 3600000)
				return ms_usage_err("convert",
						    "--fault-window wants milliseconds "
						    "from 1 to 3600000, not '%s'",
						    optarg);
			o.fault_window = (uint64_t)v * 1000000u;
			break;
		case OPT_OPS:
			o.ops = true;
			break;
		case OPT_PID:
			v = strtoul(optarg, &end, 10);
			if (!*optarg || *end || !v || v > UINT32_MAX)
				return ms_usage_err("convert", "--pid wants a process id, not '%s'",
						    optarg);
			o.pid = (uint32_t)v;
			break;
		case OPT_SIZE:
			if (parse_size(optarg, &o.width, &o.height))
				return ms_usage_err("convert",
						    "--size wants WxH from 320x200 to "
						    "20000x20000, not '%s'",
						    optarg);
			break;
		case 'h':
			usage(stdout);
			return MS_EXIT_OK;
		default:
			return ms_usage_err("convert", "unknown option");
		}
	}
	if (!to)
		return ms_usage_err("convert", "which format? give --to perfetto, perfetto-json, "
					       "svg, json or jsonl");
	if (strcmp(to, "perfetto") && strcmp(to, "perfetto-json") && strcmp(to, "svg") &&
	    strcmp(to, "json") && strcmp(to, "jsonl"))
		return ms_usage_err(
			"convert",
			"unknown format '%s' (perfetto, perfetto-json, svg, json, jsonl)", to);
	/*
	 * --to perfetto wrote the JSON form before the native one existed: an output named
	 * *.json (or *.json.zst) still gets it, so scripts made then keep working.
	 */
	if (!strcmp(to, "perfetto") && (ends_with(out, ".json") || ends_with(out, ".json.zst")))
		to = "perfetto-json";
	if (optind != argc - 1)
		return ms_usage_err("convert", optind == argc ? "which timeline? give one TRACE"
							      : "one TRACE at a time");
	in = argv[optind];
	o.out_name = strcmp(out, "-") ? out : "<stdout>";
	o.zstd = ms_zio_path_is_zst(out);
	if (!strcmp(to, "svg")) {
		/* Two passes (layout, then drawing): it opens the input itself, twice. */
		p = NULL;
		if (spool_if_pipe(&in, spooled, sizeof(spooled)))
			return MS_EXIT_ERROR;
		if (in == spooled)
			o.in_name = strcmp(argv[optind], "-") ? argv[optind] : "<stdin>";
	} else {
		struct stat st;

		p = ms_tlp_open(argv[optind], msg, sizeof(msg));
		if (!p)
			return ms_err("convert: %s", msg);
		/*
		 * A copy needs no states, except to close a document cut short: a file it can
		 * read again is copied without replaying (and replayed only in that case).
		 */
		if ((!strcmp(to, "json") || !strcmp(to, "jsonl")) && strcmp(in, "-") &&
		    !stat(in, &st) && S_ISREG(st.st_mode)) {
			ms_tlp_set_replay(p, false);
			o.path = in;
		}
	}
	if (strcmp(out, "-")) {
		fd = ms_tl_create(out);
		if (fd < 0) {
			ms_tlp_close(p);
			return ms_err("convert: cannot write %s: %s", out, strerror(-fd));
		}
	}
	if (!strcmp(to, "perfetto"))
		ret = ms_conv_perfetto_pb(p, fd, &o);
	else if (!strcmp(to, "perfetto-json"))
		ret = ms_conv_perfetto(p, fd, &o);
	else if (!strcmp(to, "svg"))
		ret = ms_conv_svg(in, fd, &o);
	else
		ret = ms_conv_timeline(p, fd, !strcmp(to, "jsonl"), &o);
	if (ret < 0)
		ret = ms_err("convert: %s", err);
	if (fd != 1 && close(fd) && !ret)
		ret = ms_err("convert: writing %s: %s", out, strerror(errno));
	ms_tlp_close(p);
	return ret;
}
