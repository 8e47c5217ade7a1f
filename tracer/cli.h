/* SPDX-License-Identifier: MIT */
/*
 * The memstate command line: one binary, one subcommand per job, each implemented by the
 * folder that owns the job (tracer/: run, attach; tui/: view; export/: check, report,
 * convert). A folder left out of the build leaves its commands as weak NULL symbols, and
 * the dispatcher says what is missing instead of failing to link.
 *
 * Exit statuses: 0 success; 1 violations found (check); 2 memstate's own error (bad flags,
 * unreadable input, failed set-up); `run` returns the traced program's status (128+signal
 * when it was killed).
 */
#ifndef MEMSTATE_TRACER_CLI_H
#define MEMSTATE_TRACER_CLI_H

#include <stdio.h>

#include "lib/version.h"

#define MS_EXIT_OK	   0
#define MS_EXIT_VIOLATIONS 1
#define MS_EXIT_ERROR	   2

typedef int (*ms_command_fn)(int argc, char **argv);

/* Subcommands: argv[0] is the subcommand name. Weak: NULL when their folder is not built. */
int ms_cmd_run(int argc, char **argv) __attribute__((weak));
int ms_cmd_attach(int argc, char **argv) __attribute__((weak));
int ms_cmd_view(int argc, char **argv) __attribute__((weak));
int ms_cmd_check(int argc, char **argv) __attribute__((weak));
int ms_cmd_diff(int argc, char **argv) __attribute__((weak));
int ms_cmd_report(int argc, char **argv) __attribute__((weak));
int ms_cmd_convert(int argc, char **argv) __attribute__((weak));

/* "memstate: <message>" on stderr, one line. Returns MS_EXIT_ERROR for `return ms_err(...)`. */
int ms_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* For option parsers: "memstate <cmd>: <message>; see 'memstate <cmd> --help'". */
int ms_usage_err(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* MEMSTATE_TRACER_CLI_H */
