// SPDX-License-Identifier: MIT
/*
 * memstate attach [options] -p PID: trace a running process from now on.
 *
 * What already exists is read from /proc/PID/maps and recorded as seed events (flagged,
 * at the start of the timeline): PROT_NONE private anonymous memory as Reserved, other
 * private anonymous memory as Ready, file-backed and shared mappings as their own kind.
 * Tracing ends when the process does, or at Ctrl-C, which detaches and leaves it running.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <unistd.h>

#include "cli.h"
#include "session.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: memstate attach [options] -p PID\n\n"
		   "Traces a running process from now on. Its existing memory is read from\n"
		   "/proc/PID/maps first (PROT_NONE anonymous = Reserved, other anonymous =\n"
		   "Ready, file and shared mappings as their own kind). Ctrl-C detaches and\n"
		   "leaves the process running.\n\noptions:\n"
		   "  -p, --pid PID         the process to trace\n");
	ms_session_usage(f);
	fprintf(f, "\nexamples:\n"
		   "  memstate attach -p 1234 -o trace.json\n"
		   "  memstate attach --tui -p $(pidof myserver)\n");
}

static int seed(struct ms_session *s, pid_t pid)
{
	int n = ms_trace_seed_from_proc(s->trace, (uint32_t)pid);

	return n < 0 ? ms_err("cannot read /proc/%d/maps: %s", pid, strerror(-n)) : 0;
}

static void read_exe(pid_t pid, char *out, size_t len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	n = readlink(path, out, len - 1);
	out[n > 0 ? n : 0] = 0;
}

int ms_cmd_attach(int argc, char **argv)
{
	struct ms_session_opts o = {.cmd = "attach", .faults = true, .files = true, .api = false};
	struct ms_session s;
	char exe[4096], what[128], pidbuf[16];
	char *cmdv[1] = {exe};
	int status = 0, ret, i, interrupted;
	long pid = 0;

	for (i = 1; i < argc; i++) {
		const char *v = NULL;

		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return MS_EXIT_OK;
		}
		if (!strcmp(argv[i], "-p") || !strcmp(argv[i], "--pid"))
			v = i + 1 < argc ? argv[++i] : "";
		else if (!strncmp(argv[i], "--pid=", 6))
			v = argv[i] + 6;
		if (v) {
			char *end;

			pid = strtol(v, &end, 10);
			if (!*v || *end || pid <= 0 || pid > 4194304)
				return ms_usage_err("attach", "-p needs a process id, not '%s'", v);
			continue;
		}
		ret = ms_session_option(&o, argc, argv, &i);
		if (ret < 0)
			return MS_EXIT_ERROR;
		if (!ret)
			return ms_usage_err("attach", "unknown argument '%s'", argv[i]);
	}
	if (!pid)
		return ms_usage_err("attach", "which process? -p PID");
	if (pid == getpid())
		return ms_err("cannot attach to memstate itself");
	if (kill((pid_t)pid, 0) && errno == ESRCH)
		return ms_err("cannot attach to pid %ld: no such process", pid);
	read_exe((pid_t)pid, exe, sizeof(exe));
	if (!exe[0]) /* /proc/PID/exe is readable by whoever may ptrace the process */
		return ms_err("cannot attach to pid %ld: %s", pid, strerror(EPERM));
	if (o.tui && (!isatty(0) || !isatty(1)))
		return ms_err("--tui needs a terminal on stdin and stdout");
	if (ms_session_setup(&s, &o, 1, cmdv)) {
		ms_session_close(&s);
		return MS_EXIT_ERROR;
	}
	ms_trace_add_process(s.trace, (uint32_t)pid, 0, exe);
	/* Follow first, then read the maps: an operation in between shows up twice (a
	 * harmless repeat) rather than not at all. */
	if (ms_session_start(&s, (pid_t)pid, true) || seed(&s, (pid_t)pid)) {
		ms_session_close(&s);
		if (o.out)
			unlink(o.out);
		return MS_EXIT_ERROR;
	}
	ms_session_signals(0);
	interrupted = ms_session_loop(&s, -1, &status);
	snprintf(pidbuf, sizeof(pidbuf), "%ld", pid);
	snprintf(what, sizeof(what), interrupted ? "detached from pid %s" : "pid %s ended", pidbuf);
	ret = ms_session_finish(&s, what);
	ms_session_close(&s);
	return ret ? MS_EXIT_ERROR : MS_EXIT_OK;
}
