// SPDX-License-Identifier: MIT
/* memstate: dispatch to the subcommand that owns the job. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct command {
	const char *name;
	ms_command_fn fn;
	const char *summary;
	const char *needs; /* what to install when it is not built */
};

static const struct command commands[] = {
	{"run", ms_cmd_run, "run a program and trace its memory states", NULL},
	{"attach", ms_cmd_attach, "trace a running process from now on", NULL},
	{"view", ms_cmd_view, "live or replayed state map (ncurses)", "libncurses-dev"},
	{"check", ms_cmd_check, "replay a saved timeline through the checker", NULL},
	{"diff", ms_cmd_diff, "compare two timelines; gate CI with --fail-on", NULL},
	{"report", ms_cmd_report, "per-process report of a saved timeline", "libcjson-dev"},
	{"convert", ms_cmd_convert, "convert a timeline to Perfetto JSON or SVG", NULL},
};

int ms_err(const char *fmt, ...)
{
	va_list ap;

	fputs("memstate: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return MS_EXIT_ERROR;
}

int ms_usage_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "memstate %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "; see 'memstate %s --help'\n", cmd);
	return MS_EXIT_ERROR;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: memstate <command> [options] ...\n\n"
		   "Shows and checks how programs move address space through the states\n"
		   "None -> Reserved -> Prepared -> Ready.\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-9s %s%s\n", commands[i].name, commands[i].summary,
			commands[i].fn ? "" : " (not built)");
	fprintf(f, "\nexamples:\n"
		   "  memstate run -o trace.json -- ./prog arg     trace a program, write its "
		   "timeline\n"
		   "  memstate run --tui -- python3 script.py      watch it live\n"
		   "  memstate check trace.json                    re-check a saved timeline\n"
		   "  memstate diff --fail-on peak_footprint=+5%% base.json new.json\n"
		   "  memstate convert --to perfetto trace.json -o trace.perfetto.json\n"
		   "\n'memstate <command> --help' tells more.\n");
}

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : NULL;

	if (!name || !strcmp(name, "-h") || !strcmp(name, "--help") || !strcmp(name, "help")) {
		usage(name ? stdout : stderr);
		return name ? MS_EXIT_OK : MS_EXIT_ERROR;
	}
	if (!strcmp(name, "--version") || !strcmp(name, "version")) {
		printf("memstate %s\n", MS_TOOL_VERSION);
		return MS_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(name, commands[i].name))
			continue;
		if (!commands[i].fn)
			return ms_err("'%s' is not built into this memstate%s%s", name,
				      commands[i].needs ? "; install " : "",
				      commands[i].needs ? commands[i].needs : "");
		return commands[i].fn(argc - 1, argv + 1);
	}
	return ms_err("unknown command '%s'; see 'memstate --help'", name);
}
