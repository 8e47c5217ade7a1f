// SPDX-License-Identifier: MIT
/* A tracing session: merge, dedup, apply, stream (see trace.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "memstate/pagemap.h"

#include "bpf/go.h"
#include "memstate/channel.h"
#include "trace.h"
#include "tui/live.h"
#include "trace_int.h"

/* The live view is optional (tui/ may not be built): call it only when linked in. */

uint64_t tr_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------------ processes */

struct tproc *tr_proc_find(struct ms_trace *t, uint32_t pid)
{
	return tr_proc_of(ms_proctab_find(&t->pt, pid));
}

static void drain_locked(struct ms_trace *t, struct tproc *p);

static void space_full(struct ms_space *sp, void *ctx)
{
	struct tproc *p = ctx;

	(void)sp;
	drain_locked(p->t, p);
}

/* The table's hooks (lib/proctab.h): a new entry, a space for it, a past life's space. */
static void proc_init(void *ctx, struct ms_proc *base)
{
	struct ms_trace *t = ctx;
	struct tproc *p = tr_proc_of(base);

	p->t = t;
	p->inf.ignore_files = !t->o.files;
}

static struct ms_space *proc_space(void *ctx, struct ms_proc *base, struct ms_space *parent)
{
	struct ms_trace *t = ctx;
	struct ms_space_opts o = {
		.page_size = t->o.page_size,
		.log_capacity = 1024,
		.seq_counter = &t->seq,
		.on_full = space_full,
		.on_full_ctx = tr_proc_of(base),
		.no_residency = t->o.no_residency,
	};

	return parent ? ms_space_clone(parent, &o) : ms_space_new(&o);
}

/* The live view still shows the past life (its entry points at the space): keep it. */
static void proc_space_old(void *ctx, struct ms_proc *base, struct ms_space *sp)
{
	struct ms_trace *t = ctx;

	(void)base;
	if (!t->o.live) {
		ms_space_free(sp);
		return;
	}
	if (t->nretired == t->retired_cap) {
		size_t cap = t->retired_cap ? 2 * t->retired_cap : 8;
		struct ms_space **v = realloc(t->retired, cap * sizeof(*v));

		if (!v)
			return; /* leaked rather than freed under the view */
		t->retired = v;
		t->retired_cap = cap;
	}
	t->retired[t->nretired++] = sp;
}

/*
 * The tracer's part of what the table did: a new space (a new pid, a fork's copy, a pid's
 * new life) comes with a new image, whose inference and Go state a fork copies from its
 * parent; an exec starts them afresh. exe: the exec's comm, or what the caller knows.
 */
static void proc_changed(struct ms_trace *t, const struct ms_pt_change *c, const char *exe)
{
	struct tproc *p = tr_proc_of(c->proc), *parent = tr_proc_of(c->parent);

	if (c->what & (MS_PT_SPACE | MS_PT_CLEARED)) {
		p->inf = (struct ms_infer_state){.ignore_files = !t->o.files};
		p->go_sys = 0;
		p->nslack = 0;
	}
	if ((c->what & MS_PT_SPACE) && parent) {
		p->inf = parent->inf;
		tr_go_copy(p, parent);
		snprintf(p->exe, sizeof(p->exe), "%s", parent->exe);
	} else if (c->what & MS_PT_NEW_LIFE) {
		p->exe[0] = 0;
	}
	if (exe)
		snprintf(p->exe, sizeof(p->exe), "%s", exe);
	if (t->o.live && (c->what & (MS_PT_CREATED | MS_PT_NEW_LIFE)))
		ms_live_add_proc(t->o.live, p->base.pid, p->base.ppid, p->exe, p->base.sp);
}

/* The process of a record; one never announced (attach, a missed fork) starts empty. */
struct tproc *tr_proc_get(struct ms_trace *t, uint32_t pid)
{
	struct ms_proc *base = ms_proctab_find(&t->pt, pid);
	struct ms_pt_change c;

	if (base) /* the hot path: every tracer entry has a space */
		return tr_proc_of(base);
	if (ms_proctab_get(&t->pt, pid, &c))
		return NULL;
	proc_changed(t, &c, NULL);
	return tr_proc_of(c.proc);
}

int ms_trace_add_process(struct ms_trace *t, uint32_t pid, uint32_t ppid, const char *exe)
{
	struct tproc *p = tr_proc_find(t, pid);
	struct ms_pt_change c;

	if (p) {
		if (exe)
			snprintf(p->exe, sizeof(p->exe), "%s", exe);
		return 0;
	}
	if (ms_proctab_get(&t->pt, pid, &c))
		return -ENOMEM;
	c.proc->ppid = ppid;
	proc_changed(t, &c, exe);
	return 0;
}

void ms_trace_exited(struct ms_trace *t, uint32_t pid, int exit_code, int exit_signal)
{
	struct tproc *p = tr_proc_find(t, pid);

	if (p)
		ms_proc_set_exit(&p->base, exit_code, exit_signal);
}

bool ms_trace_exit_status(struct ms_trace *t, uint32_t pid, int *code, int *sig)
{
	struct tproc *p = tr_proc_find(t, pid);

	if (!p || !p->base.exited || !ms_proc_status_known(&p->base))
		return false;
	*code = p->base.exit_code;
	*sig = p->base.exit_signal;
	return true;
}

bool ms_trace_all_exited(const struct ms_trace *t)
{
	for (size_t i = 0; i < ms_proctab_count(&t->pt); i++) {
		if (!ms_proctab_at(&t->pt, i)->exited)
			return false;
	}
	return true;
}

/* Gone, or a zombie nobody reaps: either way it will make no more records. */
static bool proc_ended(uint32_t pid)
{
	char path[64], buf[256], *s;
	FILE *f;

	if (kill((pid_t)pid, 0) && errno == ESRCH)
		return true;
	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return true;
	s = fgets(buf, sizeof(buf), f);
	fclose(f);
	s = s ? strrchr(buf, ')') : NULL;
	return s && s[1] == ' ' && (s[2] == 'Z' || s[2] == 'X');
}

/* Every process in the table has ended (those not seen exiting are looked up). */
static bool all_ended(struct ms_trace *t)
{
	for (size_t i = 0; i < ms_proctab_count(&t->pt); i++) {
		struct ms_proc *p = ms_proctab_at(&t->pt, i);

		if (p->exited)
			continue;
		if (!proc_ended(p->pid))
			return false;
		p->exited = true;
	}
	return true;
}

/*
 * Every traced process has ended, and so has every child a fork still in the merge names.
 * Then no record can come that sorts before what the merge holds: the sources, polled
 * once more, hold the last ones, and the merge may drain without waiting out its window.
 */
bool ms_trace_quiet(struct ms_trace *t)
{
	const struct mqueue *q = &t->mq[MQ_KERNEL];

	if (!all_ended(t))
		return false;
	for (size_t i = 0; i < q->n; i++) {
		const struct item *it = q->v[q->head + i].it;

		if (it->kind == IT_PROC && it->u.proc.type == MS_PROC_FORK &&
		    !proc_ended(it->u.proc.pid))
			return false;
	}
	return true;
}

bool ms_trace_settled(struct ms_trace *t)
{
	/* Records still in the merge may name processes not known yet (a fork whose
	 * child outlives its parent): those must be followed too. */
	return !t->nqueued && all_ended(t);
}

/* ------------------------------------------------------------------ output */

/* Stream what the process's space recorded to the timeline and the live view. */
static void drain_locked(struct ms_trace *t, struct tproc *p)
{
	struct ms_event evs[64];
	size_t n;

	while ((n = ms_space_events_read_locked(p->base.sp, evs, 64))) {
		for (size_t i = 0; i < n; i++) {
			if (t->o.writer)
				ms_tlw_event(t->o.writer, p->base.sp, &evs[i]);
			if (t->o.live)
				ms_live_publish(t->o.live, &evs[i],
						evs[i].violation
							? ms_space_violation_message_locked(
								  p->base.sp, evs[i].seq)
							: NULL);
		}
		t->st.events += n;
	}
}

/* Check and commit one event in p's space (flag: an extra violation found by the tracer). */
void tr_apply_event(struct ms_trace *t, struct tproc *p, struct ms_event *ev, unsigned flag,
		    const char *flag_msg)
{
	ms_space_lock(p->base.sp);
	if (ms_space_check_locked(p->base.sp, ev) >= 0) {
		if (flag)
			ms_space_flag_locked(p->base.sp, ev, flag, flag_msg);
		if (ev->violation && t->loss_since_ns && ev->t_ns >= t->loss_since_ns)
			ev->flags |= MS_EVF_LOSSY;
		ms_space_commit_locked(p->base.sp, ev);
	}
	drain_locked(t, p);
	ms_space_unlock(p->base.sp);
}

/* ------------------------------------------------------------------ applying records */

/* The byte range a syscall record concerns (for note matching); false when none. */
static bool sys_range(const struct ms_sysrec *r, uint64_t *s, uint64_t *e)
{
	switch (r->nr) {
	case SYS_mmap:
		if (r->ret < 0)
			return false;
		*s = (uint64_t)r->ret;
		*e = *s + r->args[1];
		return true;
	case SYS_munmap:
	case SYS_mprotect:
	case SYS_pkey_mprotect:
	case SYS_madvise:
	case SYS_mremap:
		*s = r->args[0];
		*e = *s + r->args[1];
		return true;
	default:
		return false;
	}
}

static void apply_sys(struct ms_trace *t, struct item *it)
{
	struct tidq *q = tr_tidq_find(t, it->u.sys.tid, false);
	struct tproc *p;
	uint64_t s, e;

	if (q)
		tr_dq_remove(&q->sys, it);
	if (it->claimed) {
		t->st.suppressed++;
		return;
	}
	/* An allocator's own syscall, declared right after with ms_note(): the note wins. */
	if (q && sys_range(&it->u.sys, &s, &e)) {
		for (size_t i = 0; i < q->api.n; i++) {
			const struct item *a = tr_dq_at(&q->api, i);

			if (a->t > it->t + NOTE_WINDOW_NS)
				break;
			if (a->t >= it->t && (a->u.ev.flags & MS_EVF_NOTE) && a->u.ev.addr < e &&
			    s < a->u.ev.addr + a->u.ev.len) {
				t->st.suppressed++;
				return;
			}
		}
	}
	p = tr_proc_get(t, it->u.sys.pid);
	if (!p)
		return;
	ms_space_lock(p->base.sp);
	ms_infer_syscall_locked(p->base.sp, &p->inf, &it->u.sys);
	drain_locked(t, p);
	ms_space_unlock(p->base.sp);
}

/* The syscall an API operation makes (SPEC section 4), or -1 for none. */
static long api_syscall(const struct ms_event *ev)
{
	switch (ev->op) {
	case MS_OP_ALLOC:
	case MS_OP_RESERVE:
	case MS_OP_MAP:
	case MS_OP_FAULT:
		return SYS_mmap;
	case MS_OP_FREE:
		return SYS_munmap;
	case MS_OP_UNUSED:
	case MS_OP_HUGE_PAGE:
	case MS_OP_NO_HUGE_PAGE:
	case MS_OP_HUGE_PAGE_COLLAPSE:
		return SYS_madvise;
	default:
		return -1;
	}
}

/* Does syscall r do what the API event declared? A message when not. */
static bool api_matches(const struct ms_event *ev, const struct ms_sysrec *r, char *why, size_t len)
{
	long want = api_syscall(ev);
	uint64_t s = 0, e = 0, hint_align = 2u << 20;
	bool hint = ev->op == MS_OP_HUGE_PAGE || ev->op == MS_OP_NO_HUGE_PAGE ||
		    ev->op == MS_OP_HUGE_PAGE_COLLAPSE;

	sys_range(r, &s, &e);
	if (want != (long)r->nr) {
		snprintf(why, len, "%s made an unexpected %s [%#" PRIx64 ", %#" PRIx64 ")",
			 ms_op_name(ev->op), ms_syscall_name(r->nr) ? ms_syscall_name(r->nr) : "?",
			 s, e);
		return false;
	}
	if (r->nr == SYS_mmap && r->ret < 0)
		return true; /* the API event carries the same failure */
	if (hint ? (s < ev->addr || e > ev->addr + ev->len || (s & (hint_align - 1)))
		 : (s != ev->addr || ((e - s + 4095) & ~4095ull) != ev->len)) {
		snprintf(why, len,
			 "%s [%#" PRIx64 ", %#" PRIx64 ") made %s [%#" PRIx64 ", %#" PRIx64 ")",
			 ms_op_name(ev->op), ev->addr, ev->addr + ev->len, ms_syscall_name(r->nr),
			 s, e);
		return false;
	}
	return true;
}

/*
 * A jemalloc hook's syscalls: the hook runs the allocator's own OS layer (or the program's
 * hooks), whose syscalls are not one per hook (an aligned alloc maps, unmaps and trims), so
 * every memory syscall the thread made inside the hook is its own: the hook's declared
 * transition stands for them all. At the window's edges (clock slack) only syscalls over
 * the hook's own range are taken.
 */
static void claim_hook_syscalls(struct tidq *q, const struct ms_event *ev)
{
	uint64_t b = ev->t_ns, e = ev->t_ns + ev->aux, s, end;

	for (size_t i = 0; i < q->sys.n; i++) {
		struct item *it = tr_dq_at(&q->sys, i);

		if (it->t > e + SLACK_NS)
			break;
		if (it->t + SLACK_NS < b || it->claimed)
			continue;
		if (it->t >= b && it->t <= e)
			it->claimed = true;
		else if (sys_range(&it->u.sys, &s, &end) && s < ev->addr + ev->len &&
			 ev->addr < end)
			it->claimed = true;
	}
}

/* jemalloc's stats at an epoch refresh, beside the map's figures at the same point. */
static void alloc_mark(struct ms_trace *t, struct tproc *p, const struct ms_event *ev)
{
	struct ms_alloc_mark *mk;
	struct ms_totals tot;

	if (t->namarks == t->amarks_cap) {
		size_t cap = t->amarks_cap ? 2 * t->amarks_cap : 16;
		struct ms_alloc_mark *v = realloc(t->amarks, cap * sizeof(*v));

		if (!v)
			return;
		t->amarks = v;
		t->amarks_cap = cap;
	}
	mk = &t->amarks[t->namarks++];
	memset(mk, 0, sizeof(*mk));
	mk->pid = ev->pid;
	mk->tid = ev->tid;
	mk->t_ns = ev->t_ns;
	mk->seq = t->seq;
	mk->mapped = ev->addr;
	mk->retained = ev->len;
	mk->active = ev->arg;
	mk->resident = ev->from[0];
	mk->at = ev->result >= 0 && ev->result <= 2 ? (uint32_t)ev->result : 0;
	ms_space_extent_totals(p->base.sp, &mk->ext);
	ms_space_totals(p->base.sp, &tot);
	mk->prepared = tot.bytes[MS_PREPARED];
	mk->ready = tot.bytes[MS_READY];
}

const struct ms_alloc_mark *ms_trace_alloc_marks(const struct ms_trace *t, size_t *n)
{
	*n = t->namarks;
	return t->namarks ? t->amarks : NULL;
}

int ms_trace_alloc_marks_write(const struct ms_trace *t, FILE *f, uint64_t t0)
{
	for (size_t i = 0; i < t->namarks; i++) {
		const struct ms_alloc_mark *m = &t->amarks[i];

		fprintf(f,
			"{\"mark\":%zu,\"at\":\"%s\",\"pid\":%u,\"tid\":%u,\"t_ns\":%" PRIu64
			",\"seq\":%" PRIu64 ",\"jemalloc\":{\"mapped\":%" PRIu64
			",\"retained\":%" PRIu64 ",\"active\":%" PRIu64 ",\"resident\":%" PRIu64
			"},\"extents\":{\"count\":%" PRIu64 ",\"bytes\":%" PRIu64
			",\"Reserved\":%" PRIu64 ",\"Prepared\":%" PRIu64 ",\"Ready\":%" PRIu64
			",\"None\":%" PRIu64 ",\"learned\":%" PRIu64
			"},\"process\":{\"Prepared\":%" PRIu64 ",\"Ready\":%" PRIu64 "}}\n",
			i + 1,
			m->at == 1   ? "wrap"
			: m->at == 2 ? "exit"
				     : "epoch",
			m->pid, m->tid, m->t_ns > t0 ? m->t_ns - t0 : 0, m->seq, m->mapped,
			m->retained, m->active, m->resident, m->ext.extents, m->ext.bytes,
			m->ext.state[MS_RESERVED], m->ext.state[MS_PREPARED],
			m->ext.state[MS_READY], m->ext.state[MS_NONE], m->ext.learned, m->prepared,
			m->ready);
	}
	return fflush(f) ? -errno : 0;
}

static void apply_api(struct ms_trace *t, struct item *it)
{
	struct ms_event *ev = &it->u.ev;
	struct tidq *q = tr_tidq_find(t, ev->tid, false);
	struct tproc *p = tr_proc_get(t, ev->pid);
	char why[160] = "";
	unsigned flag = 0;
	int id;

	if (q)
		tr_dq_remove(&q->api, it);
	if (!p)
		return;
	if (ev->op == MS_CHAN_OP_ALLOC_MARK) {
		alloc_mark(t, p, ev);
		return;
	}
	/*
	 * The syscalls this thread made inside the call are the library's own. Calls of one
	 * thread follow each other within microseconds, so the window's slack (two clock
	 * reads) may reach a neighbour's syscall: one that matches what this call does is
	 * taken first; another of the same kind strictly inside it is a mismatch.
	 */
	if (q && ev->source == MS_SRC_JEMALLOC) {
		claim_hook_syscalls(q, ev);
	} else if (q && !(ev->flags & MS_EVF_NOTE)) {
		uint64_t b = ev->t_ns, e = ev->t_ns + ev->aux;
		unsigned want = api_syscall(ev) >= 0, got = 0;
		char other[160];

		for (size_t i = 0; i < q->sys.n; i++) {
			struct item *s = tr_dq_at(&q->sys, i);

			if (s->t > e + SLACK_NS)
				break;
			if (s->t + SLACK_NS < b || s->claimed)
				continue;
			if (got < want && api_matches(ev, &s->u.sys, other, sizeof(other))) {
				s->claimed = true;
				got++;
			} else if (s->t >= b && s->t <= e && (long)s->u.sys.nr == api_syscall(ev) &&
				   !flag) {
				/* The call's own syscall did something else than declared: what
				 * the kernel did is applied as it is, and the call is flagged. A
				 * syscall of another kind (the library's own malloc) is not the
				 * call's and is simply applied. */
				api_matches(ev, &s->u.sys, why, sizeof(why));
				flag = MS_V_API_MISMATCH;
			}
		}
	}
	if (flag)
		t->st.mismatches++;
	ms_space_lock(p->base.sp);
	id = it->stat[0] ? ms_space_stat_id_locked(p->base.sp, it->stat) : 0;
	ms_space_unlock(p->base.sp);
	ev->stat = id > 0 ? (uint16_t)id : 0;
	tr_apply_event(t, p, ev, flag, why);
}

static void apply_proc(struct ms_trace *t, struct item *it)
{
	const struct ms_proc_event *pe = &it->u.proc;
	struct ms_event ev = {
		.source = MS_SRC_KERNEL, .pid = pe->pid, .tid = pe->pid, .t_ns = pe->t_ns};
	char comm[sizeof(pe->comm) + 1];
	struct ms_pt_change c;

	switch (pe->type) {
	case MS_PROC_FORK:
		ev.op = MS_OP_PROC_FORK;
		ev.arg = pe->ppid;
		break;
	case MS_PROC_EXEC:
		ev.op = MS_OP_PROC_EXEC;
		break;
	case MS_PROC_EXIT:
		if (!tr_proc_find(t, pe->pid)) /* not one of ours: nothing to say */
			return;
		ev.op = MS_OP_PROC_EXIT;
		ev.result = pe->exit_signal ? -1 : pe->exit_code;
		ev.aux = (uint32_t)pe->exit_signal;
		break;
	default:
		return;
	}
	/* The table decides what the event does to the process and its space. */
	if (ms_proctab_apply(&t->pt, &ev, &c))
		return;
	snprintf(comm, sizeof(comm), "%.*s", (int)sizeof(pe->comm), pe->comm);
	proc_changed(t, &c, pe->type == MS_PROC_EXEC ? comm : NULL);
	tr_apply_event(t, tr_proc_of(c.proc), &ev, 0, NULL);
}

static void apply_item(struct ms_trace *t, struct item *it)
{
	struct tproc *p;

	switch (it->kind) {
	case IT_SYS:
		apply_sys(t, it);
		break;
	case IT_API:
		apply_api(t, it);
		break;
	case IT_PROC:
		apply_proc(t, it);
		break;
	case IT_GO:
		tr_apply_go(t, it);
		break;
	case IT_EVENT:
		p = tr_proc_get(t, it->u.ev.pid);
		if (p)
			tr_apply_event(t, p, &it->u.ev, 0, NULL);
		break;
	}
	tr_item_free(t, it);
}

void ms_trace_hold(struct ms_trace *t, uint64_t t_ns)
{
	t->hold_ns = t_ns;
}

void ms_trace_flush(struct ms_trace *t, bool drain)
{
	uint64_t now = drain ? UINT64_MAX : tr_mono_ns();

	const struct hent *top;

	while (t->nqueued && (top = tr_merge_top(t)) && (drain || top->t + t->o.window_ns <= now)) {
		/* A call stamped at its entry and not returned yet sorts before what is next. */
		if (!drain && t->hold_ns && top->t >= t->hold_ns)
			break;
		/* A Go call whose syscall has not come yet holds the merge (briefly). */
		if (!drain && top->it->kind == IT_GO && !tr_go_ready(t, top->it, now))
			break;
		apply_item(t, tr_merge_pop(t, top));
	}
	if (t->o.live) { /* the view shows what the sources lost */
		pthread_mutex_lock(&t->o.live->lock);
		t->o.live->dropped = t->st.lost;
		pthread_mutex_unlock(&t->o.live->lock);
	}
	if (t->o.writer)
		ms_tlw_flush(t->o.writer);
}

/* ------------------------------------------------------------------ the sink */

void tr_queue(struct ms_trace *t, struct item *it)
{
	t->st.records++;
	if (tr_merge_push(t, it)) {
		tr_item_free(t, it);
		tr_note_lost(t, 1, 0);
	}
}

static void on_syscall(void *ctx, const struct ms_sysrec *rec)
{
	struct ms_trace *t = ctx;
	struct item *it = tr_item_new(t, IT_SYS, rec->t_ns);
	struct tidq *q;

	if (!it)
		return;
	it->u.sys = *rec;
	q = tr_tidq_find(t, rec->tid, true);
	if (q)
		tr_dq_push(&q->sys, it);
	tr_queue(t, it);
}

static void on_event(void *ctx, struct ms_event *ev)
{
	struct ms_trace *t = ctx;
	struct item *it = tr_item_new(t, IT_EVENT, ev->t_ns);

	if (!it)
		return;
	it->u.ev = *ev;
	tr_queue(t, it);
}

static void on_api(void *ctx, struct ms_event *ev, const char *stat_name)
{
	struct ms_trace *t = ctx;
	struct item *it = tr_item_new(t, IT_API, ev->t_ns);
	struct tidq *q;

	if (!it)
		return;
	it->u.ev = *ev;
	snprintf(it->stat, sizeof(it->stat), "%s", stat_name ? stat_name : "");
	q = tr_tidq_find(t, ev->tid, true);
	if (q)
		tr_dq_push(&q->api, it);
	tr_queue(t, it);
}

static void on_proc(void *ctx, const struct ms_proc_event *pe)
{
	struct ms_trace *t = ctx;
	struct item *it = tr_item_new(t, IT_PROC, pe->t_ns);

	if (!it)
		return;
	it->u.proc = *pe;
	tr_queue(t, it);
	if (pe->type == MS_PROC_EXEC && t->o.seed_exec)
		tr_queue_exec_seeds(t, pe);
}

/*
 * Events lost from since_ns on: a violation stamped from then on may be an artefact of
 * what is missing (a dropped munmap makes a later fault look like a touch of Reserved
 * memory), and is marked after_loss. Ring drops carry no pid: a loss counts for every
 * process. A loss whose time is unknown counts from a merge window before it was noticed.
 */
void tr_note_lost(struct ms_trace *t, uint64_t n, uint64_t since_ns)
{
	t->st.lost += n;
	if (!since_ns) {
		uint64_t now = tr_mono_ns();

		since_ns = now > t->o.window_ns ? now - t->o.window_ns : 1;
	}
	if (!t->loss_since_ns || since_ns < t->loss_since_ns)
		t->loss_since_ns = since_ns;
	if (t->o.writer)
		ms_tlw_set_lost(t->o.writer, t->st.lost);
}

static void on_lost(void *ctx, uint64_t n, const char *where)
{
	(void)where;
	tr_note_lost(ctx, n, 0);
}

static void on_lost_at(void *ctx, uint64_t n, uint64_t since_ns, const char *where)
{
	(void)where;
	tr_note_lost(ctx, n, since_ns ? since_ns : 1);
}

void ms_trace_lost(struct ms_trace *t, uint64_t n)
{
	tr_note_lost(t, n, 0);
}

void ms_trace_count_invalid(struct ms_trace *t, uint64_t n)
{
	t->st.invalid += n;
}

const struct ms_sink *ms_trace_sink(struct ms_trace *t)
{
	return &t->sink;
}

struct ms_trace *ms_trace_new(const struct ms_trace_opts *opts)
{
	struct ms_trace *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->o = *opts;
	if (!t->o.window_ns)
		t->o.window_ns = DEFAULT_WINDOW_NS;
	if (ms_proctab_init(&t->pt, &(struct ms_proctab_ops){
					    .entry_size = sizeof(struct tproc),
					    .offset = offsetof(struct tproc, base),
					    .space_new = proc_space,
					    .space_old = proc_space_old,
					    .init = proc_init,
					    .ctx = t,
				    })) {
		free(t);
		return NULL;
	}
	t->sink = (struct ms_sink){
		.ctx = t,
		.on_syscall = on_syscall,
		.on_event = on_event,
		.on_api = on_api,
		.on_proc = on_proc,
		.on_lost = on_lost,
		.on_lost_at = on_lost_at,
		.on_go = tr_on_go,
	};
	return t;
}

void ms_trace_no_residency(struct ms_trace *t)
{
	t->o.no_residency = true;
}

void ms_trace_free(struct ms_trace *t)
{
	struct item *it;

	if (!t)
		return;
	while (t->nqueued)
		tr_item_free(t, tr_merge_pop(t, tr_merge_top(t)));
	for (int i = 0; i < MQ_COUNT; i++)
		free(t->mq[i].v);
	while ((it = t->free_items)) {
		t->free_items = it->next_free;
		free(it);
	}
	for (size_t i = 0; i < t->ntids_cap; i++) {
		free(t->tids[i].sys.v);
		free(t->tids[i].api.v);
		free(t->tids[i].go.v);
	}
	free(t->tids);
	for (size_t i = 0; i < ms_proctab_count(&t->pt); i++) {
		struct tproc *p = tr_proc_at(t, i);

		ms_res_check_free(p->resck);
		free(p->resck);
		free(p->slack);
	}
	ms_proctab_destroy(&t->pt);
	for (size_t i = 0; i < t->nretired; i++)
		ms_space_free(t->retired[i]);
	free(t->retired);
	free(t->marks);
	free(t->amarks);
	free(t);
}

void ms_trace_get_stats(const struct ms_trace *t, struct ms_trace_stats *out)
{
	struct ms_totals tot;

	*out = t->st;
	out->violations = 0;
	for (size_t i = 0; i < ms_proctab_count(&t->pt); i++) {
		ms_space_totals(ms_proctab_at(&t->pt, i)->sp, &tot);
		out->violations += tot.violations;
	}
}
