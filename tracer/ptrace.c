// SPDX-License-Identifier: MIT
/*
 * The no-root capture source: a seccomp filter that stops the traced program only at its
 * memory syscalls, plus ptrace to read their arguments and results (strace --seccomp-bpf's
 * method). Unlike LD_PRELOAD it sees glibc's internal calls and static and Go binaries.
 *
 * `run`: the child installs the filter itself before exec (child_setup), after the tracer
 * seized it; every other syscall runs without a stop. `attach`: a running process cannot
 * be given a filter, so every syscall stops (PTRACE_SYSCALL) and the rest are ignored.
 * Either way a memory syscall costs two stops: its entry (arguments) and its exit (result).
 *
 * PTRACE_O_EXITKILL: if memstate dies, the traced processes die with it instead of running
 * on with a filter whose memory syscalls would fail with ENOSYS.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/time.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"
#include "lib/source.h"

#define BATCH_STOPS    4096 /* stops handled per poll before letting the loop breathe */
#define POLL_BUDGET_US 5000 /* time spent following stops before the loop's turn */

struct task {
	pid_t tid;	      /* 0: free slot */
	pid_t tgid;	      /* its process */
	bool in_call;	      /* stopped at a memory syscall's entry, waiting for its exit */
	bool wanted;	      /* that syscall is a memory syscall */
	struct ms_sysrec rec; /* the call's arguments */
};

struct pt {
	const struct ms_sink *sink;
	bool filtered;	    /* seccomp filter (run) vs every syscall stopping (attach) */
	int sigfd;	    /* signalfd for SIGCHLD: the loop's wake-up */
	sigset_t oldmask;   /* SIGCHLD mask before us */
	struct task *tasks; /* open addressing on tid */
	size_t cap, ntasks;
	unsigned live_procs; /* processes not yet exited */
	uint64_t lost;
	bool exit_stops;       /* PTRACE_O_TRACEEXIT: hold processes at exit */
	bool exit_only;	       /* beside eBPF: exit stops only */
	pid_t held[64];	       /* tasks held at their exit stop */
	uint32_t held_pid[64]; /* their processes */
	unsigned nheld;
};

/* ------------------------------------------------------------------ tasks */

static struct task *task_find(struct pt *p, pid_t tid, bool create)
{
	size_t mask = p->cap - 1, i;

	for (i = ((uint32_t)tid * 2654435761u) & mask;; i = (i + 1) & mask) {
		if (p->tasks[i].tid == tid)
			return &p->tasks[i];
		if (!p->tasks[i].tid)
			break;
	}
	if (!create)
		return NULL;
	if (2 * (p->ntasks + 1) > p->cap) {
		struct task *old = p->tasks;
		size_t ocap = p->cap;

		p->tasks = calloc(2 * ocap, sizeof(*p->tasks));
		if (!p->tasks) {
			p->tasks = old;
			return NULL;
		}
		p->cap = 2 * ocap;
		p->ntasks = 0;
		for (size_t k = 0; k < ocap; k++) {
			if (old[k].tid)
				*task_find(p, old[k].tid, true) = old[k];
		}
		free(old);
		return task_find(p, tid, true);
	}
	p->tasks[i] = (struct task){.tid = tid, .tgid = tid};
	p->ntasks++;
	return &p->tasks[i];
}

/* Remove a task, keeping the probe chains of open addressing intact. */
static void task_drop(struct pt *p, struct task *t)
{
	size_t mask = p->cap - 1, i = (size_t)(t - p->tasks), j = i;

	p->tasks[i].tid = 0;
	p->ntasks--;
	for (;;) {
		j = (j + 1) & mask;
		if (!p->tasks[j].tid)
			return;
		size_t home = ((uint32_t)p->tasks[j].tid * 2654435761u) & mask;

		/* move j back to i if its home is not in (i, j] */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			p->tasks[i] = p->tasks[j];
			p->tasks[j].tid = 0;
			i = j;
		}
	}
}

static pid_t tgid_of(pid_t tid)
{
	char path[64], buf[512];
	ssize_t n;
	int fd;
	char *s;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return tid;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return tid;
	buf[n] = 0;
	s = strstr(buf, "\nTgid:");
	return s ? (pid_t)atoi(s + 6) : tid;
}

static int threads_of(pid_t pid)
{
	char path[64], buf[1024];
	ssize_t n;
	int fd;
	char *s;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	s = strstr(buf, "\nThreads:");
	return s ? atoi(s + 9) : 0;
}

static void comm_of(pid_t pid, char out[16])
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	out[0] = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, out, 15);
	close(fd);
	out[n > 0 ? n : 0] = 0;
	if (n > 0 && out[n - 1] == '\n')
		out[n - 1] = 0;
}

static void emit_proc(struct pt *p, uint32_t type, pid_t pid, pid_t ppid, int code, int sig)
{
	struct ms_proc_event pe = {
		.t_ns = ms_now_ns(),
		.type = type,
		.pid = (uint32_t)pid,
		.ppid = (uint32_t)ppid,
		.exit_code = code,
		.exit_signal = sig,
	};

	if (p->exit_only) /* eBPF reports processes; this source only holds exits */
		return;
	if (type == MS_PROC_EXEC)
		comm_of(pid, pe.comm);
	if (p->sink->on_proc)
		p->sink->on_proc(p->sink->ctx, &pe);
}

/* ------------------------------------------------------------------ the filter */

static int pt_child_setup(void *state)
{
	static const int nrs[] = {SYS_mmap,    SYS_munmap, SYS_mprotect, SYS_pkey_mprotect,
				  SYS_madvise, SYS_mremap, SYS_brk};
	struct sock_filter f[4 + 7 + 2];
	struct sock_fprog prog = {.len = 0, .filter = f};
	unsigned n = 0, nn = sizeof(nrs) / sizeof(nrs[0]);
	struct pt *p = state;

	if (!p->filtered)
		return 0;
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, nr));
	for (unsigned i = 0; i < nn; i++) /* match: jump over the rest and the ALLOW */
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nrs[i],
						      (uint8_t)(nn - i), 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE);
	prog.len = (unsigned short)n;
	/* Unprivileged filters need no_new_privs (strace --seccomp-bpf does the same). */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
		return -errno;
	return 0;
}

/* ------------------------------------------------------------------ life cycle */

static int pt_probe(char *why, size_t len)
{
	int scope = 0;
	FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "r");

	if (f) {
		if (fscanf(f, "%d", &scope) != 1)
			scope = 0;
		fclose(f);
	}
	if (scope >= 3) {
		snprintf(why, len, "ptrace is disabled (kernel.yama.ptrace_scope=3)");
		return -EPERM;
	}
	return 0;
}

static void on_alarm(int sig)
{
	(void)sig; /* only there to interrupt a blocking waitpid */
}

static int pt_open(const struct ms_source_cfg *cfg, const struct ms_sink *sink, void **state)
{
	struct pt *p = calloc(1, sizeof(*p));
	sigset_t set;

	if (!p)
		return -ENOMEM;
	p->sink = sink;
	p->filtered = true;
	p->exit_stops = cfg->exit_stops;
	p->cap = 64;
	p->tasks = calloc(p->cap, sizeof(*p->tasks));
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &p->oldmask);
	{
		struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART: interrupt */

		sigemptyset(&sa.sa_mask);
		sigaction(SIGALRM, &sa, NULL);
	}
	p->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (!p->tasks || p->sigfd < 0) {
		int err = p->tasks ? -errno : -ENOMEM;

		sigprocmask(SIG_SETMASK, &p->oldmask, NULL);
		free(p->tasks);
		free(p);
		return err;
	}
	*state = p;
	return 0;
}

static const long seize_opts = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
			       PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL;

static void pt_hold_only(void *state)
{
	struct pt *p = state;

	p->exit_only = true;
	p->filtered = false;
	p->exit_stops = true;
}

static long opts_for(const struct pt *p)
{
	return seize_opts | (p->filtered ? PTRACE_O_TRACESECCOMP : 0) |
	       (p->exit_stops ? PTRACE_O_TRACEEXIT : 0);
}

static int pt_start(void *state, pid_t pid)
{
	struct pt *p = state;
	struct task *t;

	if (ptrace(PTRACE_SEIZE, pid, 0, opts_for(p)))
		return -errno;
	t = task_find(p, pid, true);
	if (!t)
		return -ENOMEM;
	p->live_procs++;
	return 0;
}

/*
 * Attach to a running process: seize every thread, then stop each once so that syscall
 * tracing can begin (no filter can be added to a running process).
 */
static int pt_attach(void *state, pid_t pid)
{
	struct pt *p = state;
	char path[64], buf[4096];
	int n = 0, dfd;
	long got;

	p->filtered = false;
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	/* Threads come and go while we attach; PTRACE_O_TRACECLONE catches the new ones. */
	while ((got = syscall(SYS_getdents64, dfd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < got;) {
			struct dirent64_hdr {
				uint64_t ino;
				int64_t off;
				unsigned short reclen;
				unsigned char type;
				char name[];
			} *d = (void *)(buf + off);
			pid_t tid = (pid_t)atoi(d->name);
			struct task *t;

			off += d->reclen;
			if (tid <= 0 || ptrace(PTRACE_SEIZE, tid, 0, opts_for(p)))
				continue;
			ptrace(PTRACE_INTERRUPT, tid, 0, 0);
			t = task_find(p, tid, true);
			if (t)
				t->tgid = pid;
			n++;
		}
	}
	close(dfd);
	if (!n)
		return -EPERM;
	p->live_procs++;
	return 0;
}

static void resume(struct pt *p, pid_t tid, int sig)
{
	ptrace(p->filtered || p->exit_only ? PTRACE_CONT : PTRACE_SYSCALL, tid, 0, sig);
}

/* ------------------------------------------------------------------ stops */

static void syscall_entry(struct pt *p, struct task *t)
{
	struct user_regs_struct r;

	/* Attach mode stops at every syscall, entry and exit: remember we are inside one. */
	t->in_call = true;
	if (ptrace(PTRACE_GETREGS, t->tid, 0, &r)) {
		t->wanted = false;
		ptrace(PTRACE_SYSCALL, t->tid, 0, 0);
		return;
	}
	t->rec = (struct ms_sysrec){
		.t_ns = ms_now_ns(),
		.pid = (uint32_t)t->tgid,
		.tid = (uint32_t)t->tid,
		.nr = (uint32_t)r.orig_rax,
		.args = {r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9},
	};
	t->wanted = ms_infer_wants(t->rec.nr);
	ptrace(PTRACE_SYSCALL, t->tid, 0, 0); /* stop again at its exit */
}

/*
 * When a call happened, for the time-ordered merge. The tracer sees a stop only when it
 * gets to it, and threads' stops come in any order: thread B's munmap(X) may be handled
 * after thread A's mmap() that the kernel gave X once B had unmapped it, and the shadow
 * map would free A's new memory. A call that gives address space back does so after its
 * entry, and any call that gets that space returns after it was given back, so those are
 * stamped at entry, all others at exit: every such pair is then in the kernel's order.
 */
static bool gives_back(uint32_t nr)
{
	return nr == SYS_munmap || nr == SYS_mremap;
}

static void syscall_exit(struct pt *p, struct task *t)
{
	struct user_regs_struct r;

	t->in_call = false;
	if (!t->wanted) {
		resume(p, t->tid, 0);
		return;
	}
	if (ptrace(PTRACE_GETREGS, t->tid, 0, &r)) {
		p->lost++;
		resume(p, t->tid, 0);
		return;
	}
	t->rec.ret = (int64_t)r.rax;
	if (!gives_back(t->rec.nr))
		t->rec.t_ns = ms_now_ns();
	/* Let the program go on first: recording the call is off its path. */
	resume(p, t->tid, 0);
	p->sink->on_syscall(p->sink->ctx, &t->rec);
}

static void new_task(struct pt *p, struct task *parent, int event)
{
	unsigned long msg = 0;
	pid_t child, tgid, parent_tgid = parent->tgid; /* task_find() may move the table */
	struct task *c;

	ptrace(PTRACE_GETEVENTMSG, parent->tid, 0, &msg);
	child = (pid_t)msg;
	tgid = event == PTRACE_EVENT_CLONE ? tgid_of(child) : child;
	c = task_find(p, child, true);
	if (c)
		c->tgid = tgid;
	if (tgid == child) { /* a new process: a copy of its parent's address space */
		p->live_procs++;
		emit_proc(p, MS_PROC_FORK, child, parent_tgid, 0, 0);
	}
}

static void handle_stop(struct pt *p, pid_t tid, int status)
{
	struct task *t = task_find(p, tid, true);
	int sig = WSTOPSIG(status), event = status >> 16;

	if (!t) {
		p->lost++;
		ptrace(PTRACE_CONT, tid, 0, 0);
		return;
	}
	if (sig == (SIGTRAP | 0x80)) { /* syscall stop */
		if (t->in_call)
			syscall_exit(p, t);
		else
			syscall_entry(p, t);
		return;
	}
	if (sig == SIGTRAP && event) {
		switch (event) {
		case PTRACE_EVENT_SECCOMP:
			syscall_entry(p, t);
			return;
		case PTRACE_EVENT_FORK:
		case PTRACE_EVENT_VFORK:
		case PTRACE_EVENT_CLONE:
			new_task(p, t, event);
			break;
		case PTRACE_EVENT_EXEC:
			emit_proc(p, MS_PROC_EXEC, t->tgid, 0, 0, 0);
			break;
		case PTRACE_EVENT_EXIT:
			/* The leader (exit_group stops every thread, so the map is still
			 * whole) or the last thread leaving: hold it for the map check;
			 * pt_release() lets it go. */
			if ((tid == t->tgid || threads_of(t->tgid) <= 1) && p->nheld < 64) {
				p->held[p->nheld] = tid;
				p->held_pid[p->nheld++] = (uint32_t)t->tgid;
				return;
			}
			break;
		default:
			break;
		}
		resume(p, tid, 0);
		return;
	}
	if (event == PTRACE_EVENT_STOP) {
		/* A group-stop (SIGSTOP...) is kept with LISTEN; the initial stop just goes on. */
		if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
			ptrace(PTRACE_LISTEN, tid, 0, 0);
		else
			resume(p, tid, 0);
		return;
	}
	resume(p, tid, sig); /* a signal for the program: deliver it */
}

static void handle_exit(struct pt *p, pid_t tid, int status)
{
	struct task *t = task_find(p, tid, false);
	pid_t tgid = t ? t->tgid : tid;

	if (t)
		task_drop(p, t);
	if (tgid != tid) /* a thread */
		return;
	if (p->live_procs)
		p->live_procs--;
	emit_proc(p, MS_PROC_EXIT, tgid, 0, WIFEXITED(status) ? WEXITSTATUS(status) : -1,
		  WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/*
 * Handle stops for up to POLL_BUDGET_US. A resumed program stops again within
 * microseconds at its next memory syscall and waits for us meanwhile: blocking in waitpid
 * is the fastest way to see that stop (going back to the caller's poll, or waking on
 * SIGCHLD through the signalfd, makes every syscall of the program twice as slow). A
 * one-shot timer interrupts the wait so the caller's loop still gets its turn.
 */
static int pt_poll(void *state, int timeout_ms)
{
	static const struct itimerval budget = {.it_value = {0, POLL_BUDGET_US}};
	static const struct itimerval off;
	struct pt *p = state;
	struct signalfd_siginfo si;
	int status, n = 0;
	pid_t tid;

	(void)timeout_ms;
	while (read(p->sigfd, &si, sizeof(si)) == sizeof(si))
		;
	setitimer(ITIMER_REAL, &budget, NULL);
	while (n < BATCH_STOPS && !p->nheld) {
		tid = waitpid(-1, &status, __WALL);
		if (tid <= 0) /* the timer (EINTR), or no child left (ECHILD) */
			break;
		n++;
		if (WIFSTOPPED(status))
			handle_stop(p, tid, status);
		else if (WIFEXITED(status) || WIFSIGNALED(status))
			handle_exit(p, tid, status);
	}
	setitimer(ITIMER_REAL, &off, NULL);
	return n;
}

static int pt_fd(void *state)
{
	return ((struct pt *)state)->sigfd;
}

static int pt_stop(void *state)
{
	struct pt *p = state;
	int status;

	for (size_t i = 0; i < p->cap; i++) {
		pid_t tid = p->tasks[i].tid;

		if (!tid)
			continue;
		/* With a filter in place, a detached program's memory syscalls would fail with
		 * ENOSYS (RET_TRACE and no tracer): it cannot run on untraced. */
		if (p->filtered) {
			kill(tid, SIGKILL);
			continue;
		}
		/* Attached: stop it, let go, and it runs on as before. */
		if (ptrace(PTRACE_INTERRUPT, tid, 0, 0))
			continue;
		while (waitpid(tid, &status, __WALL) == tid && !WIFSTOPPED(status)) {
			if (WIFEXITED(status) || WIFSIGNALED(status))
				break;
		}
		ptrace(PTRACE_DETACH, tid, 0, 0);
	}
	return 0;
}

static void pt_close(void *state)
{
	struct pt *p = state;

	if (!p)
		return;
	close(p->sigfd);
	sigprocmask(SIG_SETMASK, &p->oldmask, NULL);
	free(p->tasks);
	free(p);
}

static uint64_t pt_lost(void *state)
{
	return ((struct pt *)state)->lost;
}

static unsigned pt_held(void *state, uint32_t *pids, unsigned max)
{
	struct pt *p = state;
	unsigned n = p->nheld < max ? p->nheld : max;

	memcpy(pids, p->held_pid, n * sizeof(*pids));
	return n;
}

static void pt_release(void *state)
{
	struct pt *p = state;

	for (unsigned i = 0; i < p->nheld; i++)
		ptrace(PTRACE_CONT, p->held[i], 0, 0);
	p->nheld = 0;
}

/* The entry stamp of the oldest munmap/mremap entered and not yet returned, or 0. */
static uint64_t pt_pending_since(void *state)
{
	struct pt *p = state;
	uint64_t oldest = 0, now = ms_now_ns();

	for (size_t i = 0; i < p->cap; i++) {
		const struct task *t = &p->tasks[i];

		/* (a call entered more than a second ago no longer holds the merge: a thread
		 * that never comes back must not stop it) */
		if (t->tid && t->in_call && t->wanted && gives_back(t->rec.nr) &&
		    now - t->rec.t_ns < 1000000000ull && (!oldest || t->rec.t_ns < oldest))
			oldest = t->rec.t_ns;
	}
	return oldest;
}

/* Processes still alive under the source. */
static unsigned pt_live(void *state)
{
	return ((struct pt *)state)->live_procs;
}

const struct ms_source_ops ms_src_ptrace = {
	.name = "ptrace",
	.probe = pt_probe,
	.open = pt_open,
	.child_setup = pt_child_setup,
	.start = pt_start,
	.poll = pt_poll,
	.fd = pt_fd,
	.stop = pt_stop,
	.close = pt_close,
	.lost = pt_lost,
	.pending_since = pt_pending_since,
	.reaps = true,
	.attach = pt_attach,
	.live = pt_live,
	.hold_only = pt_hold_only,
	.held = pt_held,
	.release = pt_release,
};
