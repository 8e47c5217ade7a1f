// SPDX-License-Identifier: MIT
/* Shared by run and attach: options, sources, the poll loop, signals, the end (session.h). */
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <sys/syscall.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"
#include "cli.h"
#include "bpf/go.h"
#include "memstate/channel.h"
#include "session.h"
#include "tui/live.h"

volatile int ms_session_stops;
static volatile pid_t forward_pid;

/* ------------------------------------------------------------------ options */

static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);

	if (!strncmp(argv[*i], name, n) && argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (strcmp(argv[*i], name))
		return NULL;
	if (*i + 1 >= argc)
		return "";
	return argv[++*i];
}

static int parse_size(const char *s, uint32_t *out)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	switch (*end) {
	case 'k':
	case 'K':
		v <<= 10, end++;
		break;
	case 'm':
	case 'M':
		v <<= 20, end++;
		break;
	case 'g':
	case 'G':
		v <<= 30, end++;
		break;
	}
	if (end == s || *end || v == 0 || v > (1ull << 31))
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int ms_session_option(struct ms_session_opts *o, int argc, char **argv, int *i)
{
	const char *a = argv[*i], *v;

	if (!strcmp(a, "--tui")) {
		o->tui = true;
	} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
		o->quiet = true;
	} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
		o->verbose++;
	} else if (!strcmp(a, "--no-faults")) {
		o->faults = false;
	} else if (!strcmp(a, "--no-residency")) {
		o->no_residency = true;
	} else if (!strcmp(a, "--no-files")) {
		o->files = false;
	} else if (!strcmp(a, "--no-api")) {
		o->api = false;
	} else if (!strcmp(a, "--no-color")) {
		o->no_color = true;
	} else if (!strcmp(a, "--verify-maps")) {
		o->verify_maps = true;
	} else if (!strcmp(a, "--go")) {
		o->go = 1;
	} else if (!strcmp(a, "--no-go")) {
		o->go = 0;
	} else if ((v = opt_value(argc, argv, i, "--alloc"))) {
		if (!strcmp(v, "jemalloc"))
			o->alloc = 1;
		else if (!strcmp(v, "none"))
			o->alloc = 0;
		else if (!strcmp(v, "auto"))
			o->alloc = -1;
		else
			return ms_usage_err(o->cmd,
					    "--alloc must be auto, jemalloc or none, not '%s'", v),
			       -1;
	} else if ((v = opt_value(argc, argv, i, "--alloc-marks"))) {
		if (!*v)
			return ms_usage_err(o->cmd, "--alloc-marks needs a file"), -1;
		o->alloc_marks = v;
	} else if ((v = opt_value(argc, argv, i, "--go-marks"))) {
		if (!*v)
			return ms_usage_err(o->cmd, "--go-marks needs a file"), -1;
		o->go_marks = v;
	} else if ((v = opt_value(argc, argv, i, "-o")) ||
		   (v = opt_value(argc, argv, i, "--output"))) {
		if (!*v)
			return ms_usage_err(o->cmd, "-o needs a file"), -1;
		o->out = v;
	} else if ((v = opt_value(argc, argv, i, "--format")) ||
		   (v = opt_value(argc, argv, i, "-f"))) {
		if (ms_tl_format_parse(v, &o->fmt))
			return ms_usage_err(o->cmd, "--format must be json or jsonl, not '%s'", v),
			       -1;
		o->fmt_given = true;
	} else if ((v = opt_value(argc, argv, i, "--capture"))) {
		if (!strcmp(v, "auto"))
			o->capture = MS_CAP_AUTO;
		else if (!strcmp(v, "ebpf"))
			o->capture = MS_CAP_EBPF;
		else if (!strcmp(v, "ptrace"))
			o->capture = MS_CAP_PTRACE;
		else if (!strcmp(v, "api"))
			o->capture = MS_CAP_API;
		else
			return ms_usage_err(o->cmd,
					    "--capture must be auto, ebpf, ptrace or api, "
					    "not '%s'",
					    v),
			       -1;
	} else if ((v = opt_value(argc, argv, i, "--ring-size"))) {
		if (parse_size(v, &o->ring_bytes))
			return ms_usage_err(o->cmd, "--ring-size takes a size like 16M, not '%s'",
					    v),
			       -1;
	} else if ((v = opt_value(argc, argv, i, "--child-output"))) {
		if (!*v)
			return ms_usage_err(o->cmd, "--child-output needs a file"), -1;
		o->child_output = v;
	} else {
		return 0;
	}
	return 1;
}

void ms_session_usage(FILE *f)
{
	fprintf(f,
		"  -o, --output FILE     write the timeline to FILE (created 0600)\n"
		"  -f, --format FMT      json (one document, default) or jsonl (JSON Lines)\n"
		"      --capture SRC     auto (default: ebpf when root, else ptrace), ebpf, "
		"ptrace,\n"
		"                        or api (only programs linked with libmemstate)\n"
		"      --tui             show the live state map (needs a terminal)\n"
		"      --child-output F  with --tui, where the program's output goes\n"
		"      --no-color        with --tui, one character per state, no colours\n"
		"      --ring-size SIZE  eBPF ring buffer size, e.g. 64M\n"
		"      --no-faults       no page fault events\n"
		"      --no-files        leave file-backed mappings out of the map\n"
		"      --no-residency    do not track which pages are resident\n"
		"      --verify-maps     at each exit, compare the map with /proc/PID/maps and\n"
		"                        residency with /proc/PID/pagemap\n"
		"      --no-api          do not listen to libmemstate's API events\n"
		"      --go              Go programs: uprobes on the runtime's sys* functions\n"
		"                        (the default for Go binaries; says why when it cannot)\n"
		"      --no-go           trace a Go program by its syscalls alone\n"
		"      --go-marks FILE   write each runtime.ReadMemStats as a JSON line: the\n"
		"                        map's Prepared/Ready bytes the runtime accounts\n"
		"      --alloc A         run: auto (default: jemalloc when the program links or\n"
		"                        preloads a dynamic libjemalloc), jemalloc, or none;\n"
		"                        jemalloc records its extent hooks (docs/jemalloc.md)\n"
		"      --alloc-marks FILE  write jemalloc's stats at each epoch refresh and at\n"
		"                        exit beside the map's figures, as JSON Lines\n"
		"  -q, --quiet           no summary table at the end\n"
		"  -v, --verbose         say which sources run and why\n"
		"  -h, --help            this text\n");
}

/* ------------------------------------------------------------------ set-up */

static int pick_source(struct ms_session *s, const struct ms_source_cfg *cfg)
{
	const struct ms_source_ops *cands[2];
	char why[2][200] = {"", ""};
	unsigned n = 0;

	switch (s->o.capture) {
	case MS_CAP_API:
		return 0;
	case MS_CAP_EBPF:
		if (!&ms_src_ebpf)
			return ms_err("eBPF capture is not built into this memstate (install "
				      "clang, bpftool, libbpf-dev and rebuild)");
		cands[n++] = &ms_src_ebpf;
		break;
	case MS_CAP_PTRACE:
		cands[n++] = &ms_src_ptrace;
		break;
	case MS_CAP_AUTO:
		if (&ms_src_ebpf)
			cands[n++] = &ms_src_ebpf;
		cands[n++] = &ms_src_ptrace;
		break;
	}
	for (unsigned i = 0; i < n; i++) {
		void *st = NULL;
		/* Opening is the test (the eBPF probe's is a trial load: no need to load twice);
		 * only a failure asks probe() for the one line saying what is missing. */
		int err = cands[i]->open(cfg, ms_trace_sink(s->trace), &st);

		if (err &&
		    (!cands[i]->probe || !cands[i]->probe(why[i], sizeof(why[i])) || !why[i][0]))
			snprintf(why[i], sizeof(why[i]), "%s", strerror(-err));
		if (err) {
			if (s->o.capture != MS_CAP_AUTO)
				return ms_err("%s capture unavailable: %s", cands[i]->name, why[i]);
			if (s->o.verbose || i + 1 == n)
				fprintf(stderr, "memstate: %s capture unavailable: %s\n",
					cands[i]->name, why[i]);
			continue;
		}
		if (i > 0 && !s->o.quiet)
			fprintf(stderr,
				"memstate: eBPF unavailable (%s); using the ptrace "
				"fallback: syscalls only, no page faults\n",
				why[0]);
		s->src[s->nsrc] = cands[i];
		s->state[s->nsrc++] = st;
		return 0;
	}
	if (!s->o.quiet)
		fprintf(stderr, "memstate: no syscall capture: only libmemstate API events\n");
	return 0;
}

/*
 * Go programs: attach the runtime uprobes before the program runs. Everything that keeps
 * them off leaves tracing to the syscalls, with one line saying why when Go was asked
 * for (--go) or the program is Go.
 */
static void setup_go(struct ms_session *s)
{
	const struct ms_session_opts *o = &s->o;
	const struct ms_source_ops *uprobes = NULL;
	void *ebpf = NULL;
	char why[1024];
	bool is_go;
	int n;

	if (!o->go || !o->prog_path)
		return;
	for (unsigned i = 0; i < s->nsrc; i++) {
		if (s->src[i]->go_attach) {
			uprobes = s->src[i];
			ebpf = s->state[i];
		}
	}
	s->go = ms_go_open(o->prog_path, &is_go, why, sizeof(why));
	if (!s->go) {
		if ((o->go > 0 || is_go) && !o->quiet)
			fprintf(stderr, "memstate: go: %s; tracing its syscalls\n", why);
		return;
	}
	if (!ebpf) {
		if ((o->go > 0 || o->verbose) && !o->quiet)
			fprintf(stderr,
				"memstate: go: %s is a Go program (%s); runtime uprobes need the "
				"eBPF capture (root): tracing its syscalls\n",
				o->prog_path, ms_go_version(s->go));
		ms_go_free(s->go);
		s->go = NULL;
		return;
	}
	n = ms_go_attach(s->go, uprobes, ebpf, ms_trace_sink(s->trace), why, sizeof(why));
	if (n <= 0) {
		if (!o->quiet)
			fprintf(stderr, "memstate: go: %s; tracing its syscalls\n", why);
		ms_go_free(s->go);
		s->go = NULL;
		return;
	}
	if ((o->verbose || o->go > 0 || strstr(why, "NOT attached")) && !o->quiet)
		fprintf(stderr, "memstate: go: %s\n", why);
}

/*
 * Fresh memory in huge pages. Loading the probe has libbpf read and copy the kernel's BTF
 * (12 MB of buffers, freed at once), and the trace then grows its trees and buffers; in
 * 4 KiB pages each first touch is a fault, tens of microseconds each on a VM with shadow
 * paging (BENCHMARKS.md section 9: 2,800 faults, 60 ms of a 190 ms start-up). So big
 * blocks come from the heap, which is marked for transparent huge pages, first grown
 * by HEAP_PREFAULT and kept (no trim): libbpf's buffers reuse it, 2 MiB a fault. The
 * process's own memory only: the traced program starts from exec, with none of this.
 */
#define HEAP_PREFAULT (24u << 20)

static void heap_in_huge_pages(void)
{
	uintptr_t a, b, huge = ms_thp_size();
	char *p;

	if (huge > HEAP_PREFAULT / 4 || !mallopt(M_MMAP_THRESHOLD, 64 << 20) ||
	    !mallopt(M_TRIM_THRESHOLD, 128 << 20))
		return;
	p = malloc(HEAP_PREFAULT);
	if (!p)
		return;
	a = ((uintptr_t)p + huge - 1) & ~(huge - 1);
	b = ((uintptr_t)p + HEAP_PREFAULT) & ~(huge - 1);
	if (b > a && !madvise((void *)a, b - a, MADV_HUGEPAGE)) {
		for (uintptr_t q = a; q < b; q += huge)
			*(volatile char *)q = 0;
	}
	free(p);
}

void ms_session_own(const char *path)
{
	const char *u = getenv("SUDO_UID"), *g = getenv("SUDO_GID");
	char *end;
	unsigned long uid, gid;

	if (!path || !u || !g || geteuid() != 0)
		return;
	uid = strtoul(u, &end, 10);
	if (!*u || *end)
		return;
	gid = strtoul(g, &end, 10);
	if (!*g || *end)
		return;
	/* Best effort: where it fails, the file stays root's, as it would without sudo. */
	if (chown(path, (uid_t)uid, (gid_t)gid) < 0)
		errno = 0;
}

int ms_session_setup(struct ms_session *s, const struct ms_session_opts *o, int argc,
		     char *const argv[])
{
	struct ms_source_cfg cfg = {.ring_bytes = o->ring_bytes,
				    .faults = o->faults,
				    .thp = true,
				    .files = o->files,
				    .exit_stops = o->verify_maps,
				    .verbose = o->verbose};
	struct ms_trace_opts topts = {
		.files = o->files, .seed_exec = true, .no_residency = o->no_residency};
	struct ms_tl_header hdr = {.argc = argc,
				   .argv = argv,
				   .page_size = (uint32_t)sysconf(_SC_PAGESIZE),
				   .tool = "memstate " MS_TOOL_VERSION};
	int err = 0;

	memset(s, 0, sizeof(*s));
	s->o = *o;
	s->t0 = ms_now_ns();
	if (o->capture != MS_CAP_API)
		heap_in_huge_pages();
	if (o->out) {
		s->writer = ms_tlw_open(
			o->out, o->fmt_given ? o->fmt : ms_tl_format_of_path(o->out, o->fmt), &err);
		if (!s->writer)
			return ms_err("cannot write %s: %s", o->out, strerror(-err));
		ms_session_own(o->out);
	}
	if (o->tui) {
		if (!ms_tui_available())
			return ms_err("--tui is not built into this memstate (install "
				      "libncurses-dev and rebuild)");
		s->live = calloc(1, sizeof(*s->live));
		if (!s->live)
			return ms_err("out of memory");
		ms_live_init(s->live);
		s->live->t0_ns = s->t0;
		s->live->no_color = o->no_color || getenv("NO_COLOR");
		for (int i = 0, off = 0; i < argc && off < (int)sizeof(s->live->command) - 1; i++)
			off += snprintf(s->live->command + off,
					sizeof(s->live->command) - (size_t)off, "%s%s",
					i ? " " : "", argv[i]);
	}
	topts.writer = s->writer;
	topts.live = s->live;
	s->trace = ms_trace_new(&topts);
	if (!s->trace)
		return ms_err("out of memory");
	if (pick_source(s, &cfg))
		return MS_EXIT_ERROR;
	/* Residency is learnt from first-touch faults: a capture without them (ptrace, the
	 * API channel alone, --no-faults) would call every touched page untouched. */
	if (!s->nsrc || !s->src[0]->sees_faults || !s->src[0]->sees_faults(s->state[0]))
		ms_trace_no_residency(s->trace);
	setup_go(s);
	if (o->verify_maps) {
		/* ptrace capture holds exits itself; beside eBPF a second, exit-only one does. */
		if (s->nsrc && s->src[0]->held) {
			s->held_src = s->src[0];
			s->held = s->state[0];
		} else {
			void *st;

			err = ms_src_ptrace.open(&cfg, ms_trace_sink(s->trace), &st);
			if (err)
				return ms_err("--verify-maps needs ptrace: %s", strerror(-err));
			ms_src_ptrace.hold_only(st);
			s->held_src = &ms_src_ptrace;
			s->held = st;
			s->src[s->nsrc] = &ms_src_ptrace;
			s->state[s->nsrc++] = st;
		}
	}
	if (o->api || o->capture == MS_CAP_API) {
		void *st;

		err = ms_src_channel.open(&cfg, ms_trace_sink(s->trace), &st);
		if (err)
			return ms_err("cannot set up the API channel: %s", strerror(-err));
		s->chan = st;
		s->src[s->nsrc] = &ms_src_channel;
		s->state[s->nsrc++] = st;
	}
	snprintf(s->capture_desc, sizeof(s->capture_desc), "%s%s%s%s",
		 s->nsrc && s->state[0] != s->chan ? s->src[0]->name : "", s->go ? "+go" : "",
		 s->nsrc && s->state[0] != s->chan && s->chan ? "+" : "", s->chan ? "api" : "");
	hdr.t0_ns = s->t0;
	hdr.capture = s->capture_desc;
	if (s->writer && ms_tlw_header(s->writer, &hdr))
		return ms_err("cannot write %s: %s", o->out, strerror(errno));
	return 0;
}

int ms_session_child(struct ms_session *s)
{
	char fd[16];

	/* setenv may allocate, and an allocation may map memory: first, before the ptrace
	 * source's seccomp filter makes a memory syscall wait for a tracer that serves no
	 * stops until the exec. */
	if (s->chan) {
		snprintf(fd, sizeof(fd), "%d", ms_src_channel_fd(s->chan));
		setenv(MS_CHAN_ENV, fd, 1);
	} else {
		unsetenv(MS_CHAN_ENV);
	}
	if (s->chan && s->o.alloc_preload) {
		const char *old = getenv("LD_PRELOAD");
		char buf[8192];

		snprintf(buf, sizeof(buf), "%s%s%s", s->o.alloc_preload, old && *old ? ":" : "",
			 old && *old ? old : "");
		setenv("LD_PRELOAD", buf, 1);
		if (s->o.alloc == 2)
			setenv("MEMSTATE_ALLOC", "jemalloc", 1);
		if (s->o.alloc_marks)
			setenv("MEMSTATE_ALLOC_MARKS", "1", 1);
	}
	for (unsigned i = 0; i < s->nsrc; i++) {
		if (s->src[i]->child_setup && s->src[i]->child_setup(s->state[i]))
			return -1;
	}
	return 0;
}

int ms_session_start(struct ms_session *s, pid_t pid, bool attach)
{
	int err;

	for (unsigned i = 0; i < s->nsrc; i++) {
		if (attach && s->src[i]->attach)
			err = s->src[i]->attach(s->state[i], pid);
		else
			err = s->src[i]->start(s->state[i], pid);
		if (err)
			return ms_err("%s capture could not follow pid %d: %s", s->src[i]->name,
				      pid, strerror(-err));
	}
	return 0;
}

/* ------------------------------------------------------------------ signals */

static void on_stop_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	ms_session_stops++;
	/* A terminal's Ctrl-C reaches the whole foreground group already; a kill(1) aimed
	 * at memstate alone is passed on, so the program ends the way it was asked to. */
	if (forward_pid > 0 && si->si_code != SI_KERNEL)
		kill(forward_pid, sig);
}

void ms_session_signals(pid_t forward_to)
{
	struct sigaction sa = {.sa_sigaction = on_stop_signal, .sa_flags = SA_SIGINFO};

	forward_pid = forward_to;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* ------------------------------------------------------------------ the loop */

/* Processes held at their exit: bring the map up to now, compare, let them go. */
static void verify_held(struct ms_session *s)
{
	uint32_t pids[64];
	unsigned n = s->held_src->held(s->held, pids, 64);

	if (!n)
		return;
	for (unsigned i = 0; i < s->nsrc; i++)
		s->src[i]->poll(s->state[i], 0);
	ms_trace_flush(s->trace, true);
	for (unsigned i = 0; i < n; i++)
		ms_trace_verify_maps(s->trace, pids[i], stderr);
	s->held_src->release(s->held);
}

bool ms_session_status(struct ms_session *s, pid_t pid, int *status)
{
	int code, sig;

	ms_trace_flush(s->trace, true); /* the exit record may still wait in the merge */
	if (!ms_trace_exit_status(s->trace, (uint32_t)pid, &code, &sig))
		return false;
	*status = sig ? sig : (code & 0xff) << 8;
	return true;
}

/* The oldest time a source's records still to come may carry (0: none). */
static uint64_t pending_since(const struct ms_session *s)
{
	uint64_t oldest = 0, t;

	for (unsigned i = 0; i < s->nsrc; i++) {
		if (s->src[i]->pending_since && (t = s->src[i]->pending_since(s->state[i])) &&
		    (!oldest || t < oldest))
			oldest = t;
	}
	return oldest;
}

static bool reaping_source(const struct ms_session *s)
{
	for (unsigned i = 0; i < s->nsrc; i++) {
		if (s->src[i]->reaps)
			return true;
	}
	return false;
}

int ms_session_loop(struct ms_session *s, pid_t child, int *status)
{
	bool reaps = reaping_source(s), child_done = child <= 0;
	struct pollfd pfd[MS_MAX_SOURCES + 1];
	int stops_seen = 0, ret;
	/* Readable when the child ends: its end wakes the loop, not the next timeout. */
	int pidfd = child_done || reaps ? -1 : (int)syscall(SYS_pidfd_open, child, 0);

	for (;;) {
		unsigned n = 0;
		int fd;

		for (unsigned i = 0; i < s->nsrc; i++) {
			if ((fd = s->src[i]->fd(s->state[i])) >= 0)
				pfd[n++] = (struct pollfd){.fd = fd, .events = POLLIN};
		}
		if (pidfd >= 0 && !child_done)
			pfd[n++] = (struct pollfd){.fd = pidfd, .events = POLLIN};
		poll(pfd, n, 10);
		for (unsigned i = 0; i < s->nsrc; i++)
			s->src[i]->poll(s->state[i], 0);
		ms_trace_hold(s->trace, pending_since(s));
		ms_trace_flush(s->trace, false);
		if (s->held)
			verify_held(s);
		if (!child_done && !reaps) {
			if (waitpid(child, status, WNOHANG) == child) {
				child_done = true;
				ms_trace_exited(s->trace, (uint32_t)child,
						WIFEXITED(*status) ? WEXITSTATUS(*status) : -1,
						WIFSIGNALED(*status) ? WTERMSIG(*status) : 0);
			}
		} else if (!child_done) {
			for (unsigned i = 0; i < s->nsrc; i++) {
				if (s->src[i]->live && !s->src[i]->live(s->state[i]))
					child_done = true;
			}
		}
		/* Everything traced ended: take the sources' last records and drain the merge
		 * now, rather than waiting out its window (the drain of a short run). */
		if (child_done && ms_trace_quiet(s->trace)) {
			for (unsigned i = 0; i < s->nsrc; i++)
				s->src[i]->poll(s->state[i], 0);
			ms_trace_flush(s->trace, true);
		}
		if (child_done && ms_trace_settled(s->trace)) {
			/* The last records (an exit seen by one source while another reaped the
			 * process) may still wait in a ring: take them before saying done. */
			for (unsigned i = 0; i < s->nsrc; i++)
				s->src[i]->poll(s->state[i], 0);
			ret = 0;
			break;
		}
		if (ms_session_stops > stops_seen) {
			/* First request: passed on to the program (see the handler); the trace
			 * goes on until it ends. A second one stops tracing now. */
			if (stops_seen++ || child_done) {
				ret = 1;
				break;
			}
			if (!s->o.quiet && !s->o.tui)
				fprintf(stderr, "memstate: waiting for the traced program to end "
						"(again to stop tracing now)\n");
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	return ret;
}

int ms_session_finish(struct ms_session *s, const char *what)
{
	int err = 0;

	for (unsigned i = 0; i < s->nsrc; i++)
		s->src[i]->stop(s->state[i]);
	for (unsigned i = 0; i < s->nsrc; i++)
		s->src[i]->poll(s->state[i], 0);
	if (s->live)
		ms_live_set_done(s->live);
	err = ms_trace_finish(s->trace, s->o.quiet ? NULL : stderr, what);
	if (s->o.alloc_marks) {
		FILE *f = fopen(s->o.alloc_marks, "we");
		int werr = f ? ms_trace_alloc_marks_write(s->trace, f, s->t0) : -errno;

		ms_session_own(f ? s->o.alloc_marks : NULL);
		if (f && fclose(f) && !werr)
			werr = -errno;
		if (werr)
			return ms_err("writing %s failed: %s", s->o.alloc_marks, strerror(-werr));
	}
	if (s->o.go_marks) {
		FILE *f = fopen(s->o.go_marks, "we");
		int werr = f ? ms_trace_go_marks_write(s->trace, f, s->t0) : -errno;

		ms_session_own(f ? s->o.go_marks : NULL);
		if (f && fclose(f) && !werr)
			werr = -errno;
		if (werr)
			return ms_err("writing %s failed: %s", s->o.go_marks, strerror(-werr));
	}
	if (s->writer) {
		int cerr = ms_tlw_close(s->writer);

		s->writer = NULL;
		if (err || cerr)
			return ms_err("writing %s failed: %s", s->o.out,
				      strerror(-(err ? err : cerr)));
	}
	return 0;
}

void ms_session_close(struct ms_session *s)
{
	for (unsigned i = 0; i < s->nsrc; i++)
		s->src[i]->close(s->state[i]);
	s->nsrc = 0;
	if (s->writer)
		ms_tlw_close(s->writer);
	ms_trace_free(s->trace);
	ms_go_free(s->go);
	free(s->live);
	memset(s, 0, sizeof(*s));
}
