// SPDX-License-Identifier: MIT
/*
 * memstate run [options] -- PROG [ARGS...]: start a program and trace its memory states.
 *
 * The child is forked and held on a pipe until every capture source follows it, then
 * execs; a failed exec comes back on a close-on-exec pipe as an errno, so "no such
 * program" is one line and exit 2, not a timeline of a shell error. memstate exits with
 * the program's status (128+signal when it was killed).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "alloc.h"
#include "session.h"
#include "tui/live.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: memstate run [options] [--] PROG [ARGS...]\n\n"
		   "Runs PROG and traces how it moves memory through None, Reserved, Prepared\n"
		   "and Ready: its memory syscalls and page faults (eBPF, as root), or its memory\n"
		   "syscalls alone (ptrace fallback), plus the API events of libmemstate when the\n"
		   "program uses it. Exits with PROG's status.\n\noptions:\n");
	fprintf(f,
		"  -u, --user USER       run PROG as USER (name or uid) with USER's groups and\n"
		"                        no capabilities, while memstate keeps its own (root)\n");
	ms_session_usage(f);
	fprintf(f, "\nexamples:\n"
		   "  memstate run -o trace.json -- python3 -c 'x = [0] * 10**7'\n"
		   "  memstate run --capture ptrace -f jsonl -o t.jsonl -- sort big.txt\n"
		   "  memstate run --tui -- ./goheap\n"
		   "  memstate run -v --go-marks marks.jsonl -o t.json -- ./mygoprog\n");
}

/* execvp's search, done up front so a missing program is our one-line error. */
static int find_program(const char *prog, char *out, size_t len)
{
	const char *path = getenv("PATH");

	if (strchr(prog, '/')) {
		snprintf(out, len, "%s", prog);
		return access(prog, X_OK) ? -errno : 0;
	}
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *p = path; *p;) {
		const char *e = strchr(p, ':');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		struct stat st;

		snprintf(out, len, "%.*s/%s", (int)n, n ? p : ".", prog);
		if (!stat(out, &st) && S_ISREG(st.st_mode) && !access(out, X_OK))
			return 0;
		p += n + (e ? 1 : 0);
	}
	return -ENOENT;
}

/* -u USER: who the program runs as (looked up before the fork: NSS may allocate). */
struct run_as {
	bool set;
	uid_t uid;
	gid_t gid;
	gid_t groups[256];
	int ngroups;
};

static int run_as_lookup(struct run_as *u, const char *name)
{
	struct passwd *pw = getpwnam(name);
	char *end;

	if (!pw) {
		unsigned long v = strtoul(name, &end, 10);

		if (*name && !*end)
			pw = getpwuid((uid_t)v);
		if (!pw)
			return ms_err("-u: no user '%s'", name);
	}
	if (geteuid() != 0)
		return ms_err("-u %s: only root can run a program as another user", name);
	u->set = true;
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	u->ngroups = (int)(sizeof(u->groups) / sizeof(u->groups[0]));
	if (getgrouplist(pw->pw_name, pw->pw_gid, u->groups, &u->ngroups) < 0)
		return ms_err("-u %s: more than %zu groups", name,
			      sizeof(u->groups) / sizeof(u->groups[0]));
	return 0;
}

/*
 * Become the user (syscalls only: no allocation, nothing the ptrace source's filter
 * stops). Dropping uid 0 clears every capability: the program inherits none of memstate's.
 */
static int run_as_become(const struct run_as *u)
{
	if (!u->set)
		return 0;
	if (setgroups((size_t)u->ngroups, u->groups) || setresgid(u->gid, u->gid, u->gid) ||
	    setresuid(u->uid, u->uid, u->uid))
		return -1;
	return 0;
}

/* The forked child: wait for the tracer, set up, exec. Never returns. */
static void child(struct ms_session *s, const struct run_as *u, int go, int err_fd, char **argv)
{
	char c;
	int e;

	if (read(go, &c, 1) != 1)
		_exit(127);
	close(go);
	if (s->o.tui) {
		const char *out = s->o.child_output;
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

		if (fd >= 0) {
			ms_session_own(out);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (null >= 0)
			dup2(null, 0);
	}
	if (ms_session_child(s) || run_as_become(u)) {
		e = errno;
		if (write(err_fd, &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	execvp(argv[0], argv);
	e = errno;
	if (write(err_fd, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

/* One traced run: what the capture thread needs and what it tells back. */
struct loop_ctx {
	struct ms_session *s;
	char **argv;	    /* the program and its arguments */
	const char *path;   /* where it was found */
	pid_t pid;	    /* the child, once forked */
	struct run_as user; /* -u: who it runs as */
	int status;	    /* its wait status, -1 until known */
	bool reaped;	    /* status is the child's */
	int interrupted;    /* tracing stopped at the user's request */
	int failed;	    /* MS_EXIT_ERROR: could not start (message printed) */
	pthread_mutex_t lock;
	pthread_cond_t started_cv;
	bool started; /* spawn() finished, failed or not */
};

/*
 * Fork the child, have every source follow it, let it exec. Runs on the thread that then
 * polls the sources: ptrace requests only work from the thread that attached.
 */
static int spawn(struct loop_ctx *l)
{
	struct ms_session *s = l->s;
	int go[2], errp[2], e = 0;
	pid_t pid;

	if (pipe2(go, O_CLOEXEC) || pipe2(errp, O_CLOEXEC))
		return ms_err("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		return ms_err("fork: %s", strerror(errno));
	if (pid == 0) {
		close(go[1]);
		close(errp[0]);
		child(s, &l->user, go[0], errp[1], l->argv);
	}
	close(go[0]);
	close(errp[1]);
	l->pid = pid;
	ms_session_signals(pid);
	ms_trace_add_process(s->trace, (uint32_t)pid, (uint32_t)getpid(), l->path);
	if (ms_session_start(s, pid, false)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(go[1]);
		close(errp[0]);
		return MS_EXIT_ERROR;
	}
	if (write(go[1], "g", 1) != 1)
		e = errno;
	close(go[1]);
	if (read(errp[0], &e, sizeof(e)) == sizeof(e) || e) {
		/* The exec failed: nothing of the program ever ran. */
		close(errp[0]);
		waitpid(pid, NULL, 0);
		return ms_err("cannot run '%s': %s", l->argv[0], strerror(e));
	}
	close(errp[0]);
	return 0;
}

static void *capture_thread(void *arg)
{
	struct loop_ctx *l = arg;

	l->status = -1;
	l->failed = spawn(l);
	pthread_mutex_lock(&l->lock);
	l->started = true;
	pthread_cond_signal(&l->started_cv);
	pthread_mutex_unlock(&l->lock);
	if (l->failed)
		return NULL;
	l->interrupted = ms_session_loop(l->s, l->pid, &l->status);
	l->reaped = l->status != -1;
	/* Stopped tracing at the user's request: the program must not run on untraced and
	 * unwatched (under ptrace it could not: its seccomp filter needs the tracer). */
	if (l->interrupted && !l->reaped)
		kill(l->pid, SIGKILL);
	if (l->s->live)
		ms_live_set_done(l->s->live);
	return NULL;
}

int ms_cmd_run(int argc, char **argv)
{
	struct ms_session_opts o = {
		.cmd = "run", .faults = true, .files = true, .api = true, .go = -1, .alloc = -1};
	struct ms_session s;
	struct loop_ctx l = {
		.s = &s, .lock = PTHREAD_MUTEX_INITIALIZER, .started_cv = PTHREAD_COND_INITIALIZER};
	char path[4096], what[512], outbuf[64], adapter[4096];
	int e = 0, i, ret;
	pid_t pid;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return MS_EXIT_OK;
		}
		if (argv[i][0] != '-')
			break;
		if (!strcmp(argv[i], "-u") || !strcmp(argv[i], "--user")) {
			if (i + 1 >= argc)
				return ms_usage_err("run", "%s needs a user", argv[i]);
			if (run_as_lookup(&l.user, argv[++i]))
				return MS_EXIT_ERROR;
			continue;
		}
		ret = ms_session_option(&o, argc, argv, &i);
		if (ret < 0)
			return MS_EXIT_ERROR;
		if (!ret)
			return ms_usage_err("run", "unknown option '%s'", argv[i]);
	}
	if (i >= argc)
		return ms_usage_err("run", "no program to run");
	if ((e = find_program(argv[i], path, sizeof(path))))
		return ms_err("cannot run '%s': %s", argv[i], strerror(-e));
	o.prog_path = path;
	if (o.alloc < 0)
		o.alloc = ms_alloc_uses_jemalloc(path, getenv("LD_PRELOAD")) ? 1 : 0;
	else if (o.alloc > 0)
		o.alloc = 2; /* forced: the adapter says so when there is no dynamic jemalloc */
	if (o.alloc && o.api) {
		if (ms_alloc_adapter_path(adapter, sizeof(adapter)))
			return ms_err("cannot find %s next to memstate; set "
				      "MEMSTATE_JEMALLOC_ADAPTER",
				      "libmemstate-jemalloc.so");
		o.alloc_preload = adapter;
	}
	if (o.tui && (!isatty(0) || !isatty(1)))
		return ms_err("--tui needs a terminal on stdin and stdout");
	if (o.tui && !o.child_output) {
		snprintf(outbuf, sizeof(outbuf), "memstate-%d.log", (int)getpid());
		o.child_output = outbuf;
	}
	if (ms_session_setup(&s, &o, argc - i, argv + i)) {
		ms_session_close(&s);
		if (o.out)
			unlink(o.out);
		return MS_EXIT_ERROR;
	}
	l.argv = argv + i;
	l.path = path;
	if (s.live) {
		pthread_t th;

		/* Capture on its own thread (the view never slows it), the view on this one. */
		pthread_create(&th, NULL, capture_thread, &l);
		pthread_mutex_lock(&l.lock);
		while (!l.started)
			pthread_cond_wait(&l.started_cv, &l.lock);
		pthread_mutex_unlock(&l.lock);
		if (!l.failed) {
			ms_tui_run(s.live);
			if (!s.live->done && !o.quiet)
				fprintf(stderr,
					"memstate: view closed; still tracing %s (pid %d); "
					"Ctrl-C stops\n",
					argv[i], (int)l.pid);
		}
		pthread_join(th, NULL);
		if (!l.failed && !o.quiet)
			fprintf(stderr, "memstate: the program's output is in %s\n",
				o.child_output);
	} else {
		capture_thread(&l);
	}
	if (l.failed) {
		ms_session_close(&s);
		if (o.out)
			unlink(o.out);
		return MS_EXIT_ERROR;
	}
	pid = l.pid;
	/* Under ptrace the source reaped the child: its status came as a record. */
	if (!l.reaped)
		l.reaped = ms_session_status(&s, pid, &l.status);
	if (!l.reaped || (l.interrupted && !WIFEXITED(l.status) && !WIFSIGNALED(l.status)))
		snprintf(what, sizeof(what), "stopped tracing %s (pid %d)%s", argv[i], (int)pid,
			 l.interrupted ? " and killed it" : "");
	else if (WIFSIGNALED(l.status))
		snprintf(what, sizeof(what), "%s killed by signal %d", argv[i], WTERMSIG(l.status));
	else
		snprintf(what, sizeof(what), "%s exited with %d", argv[i], WEXITSTATUS(l.status));
	if (ms_session_finish(&s, what)) {
		ms_session_close(&s);
		return MS_EXIT_ERROR;
	}
	ms_session_close(&s);
	if (!l.reaped)
		return MS_EXIT_ERROR;
	if (WIFSIGNALED(l.status))
		return 128 + WTERMSIG(l.status);
	return WIFEXITED(l.status) ? WEXITSTATUS(l.status) : MS_EXIT_ERROR;
}
