// SPDX-License-Identifier: MIT
/* The tracing session, Go runtime calls: matched to the syscalls they make, applied as one (trace_int.h). */
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

/* ------------------------------------------------------------------ Go runtime calls */

static void go_slack_add(struct tproc *p, uint64_t addr, uint64_t extra);

/*
 * A Go runtime function entry (go.h) is applied at its entry time, and claims the
 * syscalls Go's implementation makes for it (its wants): the thread's syscalls from the
 * entry up to its next runtime call. A syscall of a kind the call wants but over another
 * range flags the call api-mismatch (the kernel's version is applied as it is); syscalls
 * of other kinds (sysUnusedOS's NOHUGEPAGE hints, sysReserveAligned's trimming munmaps)
 * are not the call's and are applied as syscalls. sysAlloc and sysReserve take their
 * address from their mmap's result, so a call waits in the merge until that arrives.
 */

void tr_go_copy(struct tproc *p, const struct tproc *parent)
{
	p->go_sys = parent->go_sys;
	p->nslack = 0;
	for (size_t i = 0; i < parent->nslack; i++)
		go_slack_add(p, parent->slack[i].addr, parent->slack[i].extra);
}

/* What a syscall asks of memory, for telling a call's own syscalls from others. */
static int sys_class(uint32_t nr, uint64_t arg2)
{
	switch (nr) {
	case SYS_mmap:
	case SYS_mprotect:
		return arg2 == PROT_NONE ? 0 : 1;
	case SYS_madvise: /* MADV_FREE and MADV_DONTNEED both release: one kind */
		return arg2 == MADV_FREE ? MADV_DONTNEED : (int)arg2;
	default:
		return 0;
	}
}

static bool want_kind(const struct ms_go_want *w, const struct ms_sysrec *r)
{
	return w->nr == r->nr && sys_class(w->nr, w->arg2) == sys_class(r->nr, r->args[2]);
}

static bool want_match(const struct ms_go_want *w, const struct ms_sysrec *r)
{
	uint64_t a = r->args[0], l = r->args[1];

	if (r->nr == SYS_mmap) {
		bool fixed = r->args[3] & MAP_FIXED;

		if (l != w->len || !(r->args[3] & MAP_ANONYMOUS) || (r->args[3] & MAP_SHARED))
			return false;
		if (w->flags & MS_GW_HINT)
			return !fixed && a == w->addr;
		if (!w->addr)
			return !fixed && !a;
		return fixed && a == w->addr;
	}
	if (w->flags & MS_GW_WITHIN)
		return a >= w->addr && l <= w->len && a - w->addr <= w->len - l;
	return a == w->addr && l == w->len;
}

/* How a call's wants met the thread's syscalls. */
struct go_match {
	struct item *got[MS_GO_WANTS]; /* the syscall each want matched, or NULL */
	bool closed;		       /* the thread's next runtime call has arrived */
	bool complete;		       /* every mandatory want matched */
	bool mismatch;		       /* a syscall of a wanted kind over another range */
	char why[160];
};

static void go_match(struct item *it, struct tidq *q, struct go_match *m)
{
	const struct ms_go_call *c = &it->u.go;
	uint64_t end = UINT64_MAX;

	memset(m, 0, sizeof(*m));
	for (size_t i = 0; q && i < q->go.n; i++) {
		const struct item *o = tr_dq_at(&q->go, i);

		if (o != it && tr_item_before(it, o)) {
			end = o->t;
			m->closed = true;
			break;
		}
	}
	for (size_t i = 0; q && i < q->sys.n; i++) {
		struct item *s = tr_dq_at(&q->sys, i);

		if (s->t >= end)
			break;
		if (s->t < it->t || s->claimed)
			continue;
		/* Each syscall is weighed against the first open want of its kind. */
		for (unsigned w = 0; w < c->nwant; w++) {
			const struct ms_go_want *wa = &c->want[w];

			if (m->got[w] || !want_kind(wa, &s->u.sys))
				continue;
			if ((wa->flags & MS_GW_FALLBACK) &&
			    !(w > 0 && m->got[w - 1] && m->got[w - 1]->u.sys.ret < 0))
				continue;
			if (want_match(wa, &s->u.sys)) {
				m->got[w] = s;
			} else if (!(wa->flags & MS_GW_OPTIONAL) && !m->mismatch) {
				uint64_t a = s->u.sys.args[0], l = s->u.sys.args[1];

				m->mismatch = true;
				snprintf(m->why, sizeof(m->why),
					 "%s [%#" PRIx64 ", %#" PRIx64 ") made %s [%#" PRIx64
					 ", %#" PRIx64 ")",
					 ms_op_name(c->ev.op), c->ev.addr, c->ev.addr + c->ev.len,
					 ms_syscall_name(s->u.sys.nr), a, a + l);
			}
			break;
		}
	}
	m->complete = true;
	for (unsigned w = 0; w < c->nwant; w++) {
		if (!m->got[w] && !(c->want[w].flags & MS_GW_OPTIONAL))
			m->complete = false;
	}
}

/* May the call at the top of the merge be applied now? */
bool tr_go_ready(struct ms_trace *t, struct item *it, uint64_t now)
{
	struct go_match m;

	if (it->u.go.mark || !it->u.go.nwant || it->t + t->o.window_ns + GO_WAIT_NS <= now)
		return true;
	go_match(it, tr_tidq_find(t, it->u.go.ev.tid, false), &m);
	return m.complete || m.closed;
}

static void go_slack_add(struct tproc *p, uint64_t addr, uint64_t extra)
{
	if (p->nslack == p->slack_cap) {
		size_t cap = p->slack_cap ? 2 * p->slack_cap : 8;
		struct go_slack *v = realloc(p->slack, cap * sizeof(*v));

		if (!v)
			return;
		p->slack = v;
		p->slack_cap = cap;
	}
	p->slack[p->nslack++] = (struct go_slack){addr, extra};
}

static void go_slack_drop(struct tproc *p, uint64_t s, uint64_t e)
{
	for (size_t i = 0; i < p->nslack;) {
		if (p->slack[i].addr >= s && p->slack[i].addr < e)
			p->slack[i] = p->slack[--p->nslack];
		else
			i++;
	}
}

struct mark_sum {
	uint64_t prepared, ready, unstatted;
};

static int mark_region(const struct ms_region *r, void *ctx)
{
	struct mark_sum *m = ctx;
	uint64_t n = r->end - r->start;

	if (r->kind != MS_KIND_ANON || (r->state != MS_PREPARED && r->state != MS_READY))
		return 0;
	if (!r->stat)
		m->unstatted += n;
	else if (r->state == MS_PREPARED)
		m->prepared += n;
	else
		m->ready += n;
	return 0;
}

static void go_mark(struct ms_trace *t, struct tproc *p, const struct ms_go_call *c)
{
	struct mark_sum sum = {0};
	struct ms_go_mark *mk;

	if (t->nmarks == t->marks_cap) {
		size_t cap = t->marks_cap ? 2 * t->marks_cap : 16;
		struct ms_go_mark *v = realloc(t->marks, cap * sizeof(*v));

		if (!v)
			return;
		t->marks = v;
		t->marks_cap = cap;
	}
	ms_space_foreach_region(p->base.sp, mark_region, &sum);
	mk = &t->marks[t->nmarks++];
	*mk = (struct ms_go_mark){.pid = c->ev.pid,
				  .tid = c->ev.tid,
				  .t_ns = c->ev.t_ns,
				  .seq = t->seq,
				  .prepared = sum.prepared,
				  .ready = sum.ready,
				  .sys = p->go_sys,
				  .unstatted = sum.unstatted};
	for (size_t i = 0; i < p->nslack; i++)
		mk->rounding += p->slack[i].extra;
}

void tr_apply_go(struct ms_trace *t, struct item *it)
{
	struct ms_go_call *c = &it->u.go;
	struct ms_event ev = c->ev;
	struct tidq *q = tr_tidq_find(t, ev.tid, false);
	struct tproc *p = tr_proc_get(t, ev.pid);
	struct go_match m;
	unsigned flag = 0;
	bool primary_failed = false;
	int id;

	go_match(it, q, &m);
	if (q)
		tr_dq_remove(&q->go, it);
	if (!p)
		return;
	if (c->mark) {
		go_mark(t, p, c);
		return;
	}
	for (unsigned w = 0; w < c->nwant; w++) {
		if (!m.got[w])
			continue;
		m.got[w]->claimed = true;
		/* The call failed when its first syscall did, unless a fallback made up. */
		if (w == 0 && m.got[w]->u.sys.ret < 0)
			primary_failed = true;
		else if ((c->want[w].flags & MS_GW_FALLBACK) && m.got[w]->u.sys.ret >= 0)
			primary_failed = false;
	}
	if (ev.op == MS_OP_ALLOC || ev.op == MS_OP_RESERVE) {
		if (!m.got[0]) { /* no address: nothing to apply (its mmap was lost) */
			t->go_unplaced++;
			tr_note_lost(t, 1, 0);
			return;
		}
		if (m.got[0]->u.sys.ret < 0)
			ev.result = (int32_t)-m.got[0]->u.sys.ret;
		else
			ev.addr = (uint64_t)m.got[0]->u.sys.ret;
	} else if (primary_failed && !(c->want[0].flags & MS_GW_OPTIONAL)) {
		ev.result = (int32_t)-m.got[0]->u.sys.ret;
	}
	if (m.mismatch) {
		flag = MS_V_API_MISMATCH;
	} else if (!m.complete && m.closed && !t->st.lost) {
		/* Returned (its thread made another runtime call) without its syscall. */
		for (unsigned w = 0; w < c->nwant; w++) {
			if (!m.got[w] && !(c->want[w].flags & MS_GW_OPTIONAL)) {
				snprintf(m.why, sizeof(m.why),
					 "%s [%#" PRIx64 ", %#" PRIx64 ") made no %s",
					 ms_op_name(ev.op), ev.addr, ev.addr + ev.len,
					 ms_syscall_name(c->want[w].nr));
				break;
			}
		}
		flag = MS_V_API_MISMATCH;
	}
	if (flag)
		t->st.mismatches++;
	if (c->prep_unknown && ev.op == MS_OP_USED) {
		uint64_t b[MS_STATE_COUNT];

		/* sysUsed inlined: prepared is what the map holds (nothing to check it by). */
		if (!ms_space_bytes_in(p->base.sp, ev.addr, ev.len, b))
			ev.arg = b[MS_PREPARED];
	}
	ms_space_lock(p->base.sp);
	id = c->stat[0] ? ms_space_stat_id_locked(p->base.sp, c->stat) : 0;
	ms_space_unlock(p->base.sp);
	ev.stat = id > 0 ? (uint16_t)id : 0;
	tr_apply_event(t, p, &ev, flag, m.why);
	t->go_calls++;
	/* The runtime's own arithmetic (mem.go): stat += n at sysAlloc (failed or not) and
	 * sysMap, stat -= n at sysFree. */
	if (c->stat[0]) {
		if (ev.op == MS_OP_ALLOC || ev.op == MS_OP_MAP)
			p->go_sys += c->req_len;
		else if (ev.op == MS_OP_FREE)
			p->go_sys -= c->req_len;
	}
	if (ev.op == MS_OP_ALLOC && !ev.result && ev.len > c->req_len)
		go_slack_add(p, ev.addr, ev.len - c->req_len);
	else if (ev.op == MS_OP_FREE && !ev.result)
		go_slack_drop(p, ev.addr, ev.addr + ev.len);
}

void tr_on_go(void *ctx, const struct ms_go_call *c)
{
	struct ms_trace *t = ctx;
	struct item *it = tr_item_new(t, IT_GO, c->ev.t_ns);
	struct tidq *q;

	if (!it)
		return;
	it->u.go = *c;
	q = tr_tidq_find(t, c->ev.tid, true);
	if (q)
		tr_dq_push(&q->go, it);
	tr_queue(t, it);
}

const struct ms_go_mark *ms_trace_go_marks(const struct ms_trace *t, size_t *n)
{
	*n = t->nmarks;
	return t->nmarks ? t->marks : NULL;
}

int ms_trace_go_marks_write(const struct ms_trace *t, FILE *f, uint64_t t0)
{
	for (size_t i = 0; i < t->nmarks; i++) {
		const struct ms_go_mark *m = &t->marks[i];

		fprintf(f,
			"{\"mark\":%zu,\"pid\":%u,\"tid\":%u,\"t_ns\":%" PRIu64 ",\"seq\":%" PRIu64
			",\"prepared\":%" PRIu64 ",\"ready\":%" PRIu64 ",\"sys\":%" PRIu64
			",\"rounding\":%" PRIu64 ",\"unstatted\":%" PRIu64 "}\n",
			i + 1, m->pid, m->tid, m->t_ns > t0 ? m->t_ns - t0 : 0, m->seq, m->prepared,
			m->ready, m->sys, m->rounding, m->unstatted);
	}
	return fflush(f) ? -errno : 0;
}
