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

#define DEFAULT_WINDOW_NS 30000000ull	/* how long a record waits for slower sources */
#define NOTE_WINDOW_NS	  2000000ull	/* an ms_note() follows its allocator's syscall within */
#define SLACK_NS	  2000ull	/* the kernel's and the vDSO's reads of CLOCK_MONOTONIC */
#define SUMMARY_ROWS	  20		/* processes listed in the summary table */
#define GO_WAIT_NS	  1000000000ull /* longest a Go call waits for its syscall */

/* The live view is optional (tui/ may not be built): call it only when linked in. */

enum item_kind { IT_SYS, IT_EVENT, IT_API, IT_PROC, IT_GO };

/* One record waiting in the merge heap. */
struct item {
	uint64_t t;	  /* order key: CLOCK_MONOTONIC ns */
	uint64_t arrival; /* tie-break: order of arrival */
	uint8_t kind;	  /* enum item_kind */
	bool claimed;	  /* IT_SYS: the library's (or Go runtime's) own syscall, folded in */
	char stat[32];	  /* IT_API: the name of u.ev.stat */
	union {
		struct ms_sysrec sys;
		struct ms_event ev;
		struct ms_proc_event proc;
		struct ms_go_call go; /* IT_GO: a Go runtime function entry */
	} u;
	struct item *next_free; /* pool link */
};

/* A small deque of items, per thread. */
struct deque {
	struct item **v;
	size_t head, n, cap; /* ring buffer */
};

/* Records of one thread still in the heap, for matching API calls with their syscalls. */
struct tidq {
	uint32_t tid;	  /* 0 for a free slot */
	struct deque sys; /* IT_SYS items, oldest first */
	struct deque api; /* IT_API items, oldest first */
	struct deque go;  /* IT_GO items, oldest first */
};

struct tproc {
	uint32_t pid, ppid;
	char exe[256];
	struct ms_space *sp;
	struct ms_infer_state inf;
	bool exited;
	int exit_code, exit_signal;
	struct ms_trace *t; /* for the space's log hook */
	struct tproc *hnext;
	/* Go: the runtime's own sum of its sysMemStats, mirrored from its calls' arguments,
	 * and the bytes the kernel mapped beyond unaligned sysAlloc lengths (addr, extra). */
	uint64_t go_sys;
	struct go_slack {
		uint64_t addr, extra;
	} * slack;
	size_t nslack, slack_cap;
	struct ms_res_check *resck; /* --verify-maps: residency against pagemap at exit */
};

#define PROC_BUCKETS 1024

struct ms_trace {
	struct ms_trace_opts o;
	struct ms_sink sink;
	uint64_t seq;	   /* one sequence for all spaces: one timeline */
	struct hent *heap; /* min-heap on (t, arrival) */
	size_t nheap, heap_cap;
	uint64_t arrivals;
	uint64_t hold_ns;	 /* ms_trace_hold(): release nothing stamped from then on */
	uint64_t loss_since_ns;	 /* events may be missing from then on (0: none lost) */
	struct item *free_items; /* pool */
	struct tidq *tids;	 /* open addressing on tid */
	size_t ntids_cap, ntids;
	struct tproc *buckets[PROC_BUCKETS]; /* pid -> process */
	struct tproc **procs;		     /* creation order, for the closing sections */
	size_t nprocs, procs_cap;
	struct ms_trace_stats st;
	struct ms_go_mark *marks; /* Go: one per ReadMemStats, in order */
	size_t nmarks, marks_cap;
	uint64_t go_calls;	      /* Go runtime calls applied */
	uint64_t go_unplaced;	      /* sysAlloc/sysReserve whose mmap never came */
	struct ms_alloc_mark *amarks; /* jemalloc: one per epoch refresh and at exit */
	size_t namarks, amarks_cap;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void note_lost(struct ms_trace *t, uint64_t n, uint64_t since_ns);

/* ------------------------------------------------------------------ deques */

static int dq_push(struct deque *d, struct item *it)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 16;
		struct item **v = malloc(cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		for (size_t i = 0; i < d->n; i++)
			v[i] = d->v[(d->head + i) % d->cap];
		free(d->v);
		d->v = v;
		d->head = 0;
		d->cap = cap;
	}
	d->v[(d->head + d->n++) % d->cap] = it;
	return 0;
}

static struct item *dq_at(const struct deque *d, size_t i)
{
	return d->v[(d->head + i) % d->cap];
}

/* Remove it; records leave in time order, so it is nearly always the first. */
static void dq_remove(struct deque *d, struct item *it)
{
	for (size_t i = 0; i < d->n; i++) {
		if (dq_at(d, i) != it)
			continue;
		for (size_t k = i; k > 0; k--)
			d->v[(d->head + k) % d->cap] = d->v[(d->head + k - 1) % d->cap];
		d->head = (d->head + 1) % d->cap;
		d->n--;
		return;
	}
}

/* ------------------------------------------------------------------ per-thread queues */

static struct tidq *tidq_find(struct ms_trace *t, uint32_t tid, bool create)
{
	size_t mask, i;

	if (!t->ntids_cap) {
		if (!create)
			return NULL;
		t->tids = calloc(256, sizeof(*t->tids));
		if (!t->tids)
			return NULL;
		t->ntids_cap = 256;
	}
	mask = t->ntids_cap - 1;
	for (i = (tid * 2654435761u) & mask;; i = (i + 1) & mask) {
		if (t->tids[i].tid == tid)
			return &t->tids[i];
		if (!t->tids[i].tid)
			break;
	}
	if (!create)
		return NULL;
	if (2 * (t->ntids + 1) > t->ntids_cap) { /* grow: rehash */
		struct tidq *old = t->tids;
		size_t ocap = t->ntids_cap;

		t->tids = calloc(2 * ocap, sizeof(*t->tids));
		if (!t->tids) {
			t->tids = old;
			return NULL;
		}
		t->ntids_cap = 2 * ocap;
		t->ntids = 0;
		for (size_t k = 0; k < ocap; k++) {
			if (old[k].tid) {
				struct tidq *q = tidq_find(t, old[k].tid, true);

				*q = old[k];
			}
		}
		free(old);
		return tidq_find(t, tid, true);
	}
	t->tids[i].tid = tid;
	t->ntids++;
	return &t->tids[i];
}

/* ------------------------------------------------------------------ the merge heap */

/*
 * A heap slot carries its item's key: sifting compares slots of one array instead of
 * following a pointer per comparison (a cache miss each; the heap holds a window's worth
 * of records, thousands, and every record passes through it).
 */
struct hent {
	uint64_t t, arrival;
	struct item *it;
};

static bool hent_before(const struct hent *a, const struct hent *b)
{
	return a->t < b->t || (a->t == b->t && a->arrival < b->arrival);
}

static bool item_before(const struct item *a, const struct item *b)
{
	return a->t < b->t || (a->t == b->t && a->arrival < b->arrival);
}

/* A record to queue; NULL (the record counted lost) when memory ran out. */
static struct item *item_new(struct ms_trace *t, uint8_t kind, uint64_t ts)
{
	struct item *it = t->free_items;

	if (it) {
		t->free_items = it->next_free;
	} else if (!(it = malloc(sizeof(*it)))) {
		note_lost(t, 1, 0);
		return NULL;
	}
	it->kind = kind;
	it->t = ts;
	it->arrival = t->arrivals++;
	it->claimed = false;
	it->stat[0] = 0;
	return it;
}

static void item_free(struct ms_trace *t, struct item *it)
{
	it->next_free = t->free_items;
	t->free_items = it;
}

static int heap_push(struct ms_trace *t, struct item *it)
{
	size_t i;

	struct hent e = {it->t, it->arrival, it};

	if (t->nheap == t->heap_cap) {
		size_t cap = t->heap_cap ? 2 * t->heap_cap : 1024;
		struct hent *h = realloc(t->heap, cap * sizeof(*h));

		if (!h)
			return -ENOMEM;
		t->heap = h;
		t->heap_cap = cap;
	}
	for (i = t->nheap++; i > 0 && hent_before(&e, &t->heap[(i - 1) / 2]); i = (i - 1) / 2)
		t->heap[i] = t->heap[(i - 1) / 2];
	t->heap[i] = e;
	return 0;
}

static struct item *heap_pop(struct ms_trace *t)
{
	struct item *top = t->heap[0].it;
	struct hent last = t->heap[--t->nheap];
	size_t i = 0, c;

	while ((c = 2 * i + 1) < t->nheap) {
		if (c + 1 < t->nheap && hent_before(&t->heap[c + 1], &t->heap[c]))
			c++;
		if (!hent_before(&t->heap[c], &last))
			break;
		t->heap[i] = t->heap[c];
		i = c;
	}
	if (t->nheap)
		t->heap[i] = last;
	return top;
}

/* ------------------------------------------------------------------ processes */

static struct tproc *proc_find(struct ms_trace *t, uint32_t pid)
{
	for (struct tproc *p = t->buckets[pid % PROC_BUCKETS]; p; p = p->hnext) {
		if (p->pid == pid)
			return p;
	}
	return NULL;
}

static void drain_locked(struct ms_trace *t, struct tproc *p);
static void go_copy(struct tproc *p, const struct tproc *parent);
static void queue(struct ms_trace *t, struct item *it);

static void space_full(struct ms_space *sp, void *ctx)
{
	struct tproc *p = ctx;

	(void)sp;
	drain_locked(p->t, p);
}

static struct ms_space *space_for(struct ms_trace *t, struct tproc *p, struct ms_space *parent)
{
	struct ms_space_opts o = {
		.page_size = t->o.page_size,
		.log_capacity = 1024,
		.seq_counter = &t->seq,
		.on_full = space_full,
		.on_full_ctx = p,
		.no_residency = t->o.no_residency,
	};

	return parent ? ms_space_clone(parent, &o) : ms_space_new(&o);
}

static struct tproc *proc_add(struct ms_trace *t, uint32_t pid, uint32_t ppid, const char *exe,
			      struct ms_space *parent)
{
	struct tproc *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->pid = pid;
	p->ppid = ppid;
	p->exit_code = -1;
	p->t = t;
	p->inf.ignore_files = !t->o.files;
	snprintf(p->exe, sizeof(p->exe), "%s", exe ? exe : "");
	p->sp = space_for(t, p, parent);
	if (!p->sp) {
		free(p);
		return NULL;
	}
	if (t->nprocs == t->procs_cap) {
		size_t cap = t->procs_cap ? 2 * t->procs_cap : 16;
		struct tproc **v = realloc(t->procs, cap * sizeof(*v));

		if (!v) {
			ms_space_free(p->sp);
			free(p);
			return NULL;
		}
		t->procs = v;
		t->procs_cap = cap;
	}
	t->procs[t->nprocs++] = p;
	p->hnext = t->buckets[pid % PROC_BUCKETS];
	t->buckets[pid % PROC_BUCKETS] = p;
	if (t->o.live)
		ms_live_add_proc(t->o.live, pid, ppid, p->exe, p->sp);
	return p;
}

/* The process of a record; one never announced (attach, a missed fork) starts empty. */
static struct tproc *proc_get(struct ms_trace *t, uint32_t pid)
{
	struct tproc *p = proc_find(t, pid);

	return p ? p : proc_add(t, pid, 0, NULL, NULL);
}

int ms_trace_add_process(struct ms_trace *t, uint32_t pid, uint32_t ppid, const char *exe)
{
	struct tproc *p = proc_find(t, pid);

	if (p) {
		if (exe)
			snprintf(p->exe, sizeof(p->exe), "%s", exe);
		return 0;
	}
	return proc_add(t, pid, ppid, exe, NULL) ? 0 : -ENOMEM;
}

void ms_trace_exited(struct ms_trace *t, uint32_t pid, int exit_code, int exit_signal)
{
	struct tproc *p = proc_find(t, pid);

	/* A status learned later (the source's exit record) beats "ended, status unknown". */
	if (!p || (p->exited && (p->exit_code >= 0 || p->exit_signal)))
		return;
	p->exited = true;
	p->exit_code = exit_code;
	p->exit_signal = exit_signal;
}

bool ms_trace_exit_status(struct ms_trace *t, uint32_t pid, int *code, int *sig)
{
	struct tproc *p = proc_find(t, pid);

	if (!p || !p->exited || (p->exit_code < 0 && !p->exit_signal))
		return false;
	*code = p->exit_code;
	*sig = p->exit_signal;
	return true;
}

bool ms_trace_all_exited(const struct ms_trace *t)
{
	for (size_t i = 0; i < t->nprocs; i++) {
		if (!t->procs[i]->exited)
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

bool ms_trace_settled(struct ms_trace *t)
{
	/* Records still in the merge may name processes not known yet (a fork whose
	 * child outlives its parent): those must be followed too. */
	if (t->nheap)
		return false;
	for (size_t i = 0; i < t->nprocs; i++) {
		struct tproc *p = t->procs[i];

		if (p->exited)
			continue;
		if (!proc_ended(p->pid))
			return false;
		p->exited = true;
	}
	return true;
}

/* ------------------------------------------------------------------ output */

/* Stream what the process's space recorded to the timeline and the live view. */
static void drain_locked(struct ms_trace *t, struct tproc *p)
{
	struct ms_event evs[64];
	size_t n;

	while ((n = ms_space_events_read_locked(p->sp, evs, 64))) {
		for (size_t i = 0; i < n; i++) {
			if (t->o.writer)
				ms_tlw_event(t->o.writer, p->sp, &evs[i]);
			if (t->o.live)
				ms_live_publish(t->o.live, &evs[i],
						evs[i].violation
							? ms_space_violation_message_locked(
								  p->sp, evs[i].seq)
							: NULL);
		}
		t->st.events += n;
	}
}

/* Check and commit one event in p's space (flag: an extra violation found by the tracer). */
static void apply_event(struct ms_trace *t, struct tproc *p, struct ms_event *ev, unsigned flag,
			const char *flag_msg)
{
	ms_space_lock(p->sp);
	if (ms_space_check_locked(p->sp, ev) >= 0) {
		if (flag)
			ms_space_flag_locked(p->sp, ev, flag, flag_msg);
		if (ev->violation && t->loss_since_ns && ev->t_ns >= t->loss_since_ns)
			ev->flags |= MS_EVF_LOSSY;
		ms_space_commit_locked(p->sp, ev);
	}
	drain_locked(t, p);
	ms_space_unlock(p->sp);
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
	struct tidq *q = tidq_find(t, it->u.sys.tid, false);
	struct tproc *p;
	uint64_t s, e;

	if (q)
		dq_remove(&q->sys, it);
	if (it->claimed) {
		t->st.suppressed++;
		return;
	}
	/* An allocator's own syscall, declared right after with ms_note(): the note wins. */
	if (q && sys_range(&it->u.sys, &s, &e)) {
		for (size_t i = 0; i < q->api.n; i++) {
			const struct item *a = dq_at(&q->api, i);

			if (a->t > it->t + NOTE_WINDOW_NS)
				break;
			if (a->t >= it->t && (a->u.ev.flags & MS_EVF_NOTE) && a->u.ev.addr < e &&
			    s < a->u.ev.addr + a->u.ev.len) {
				t->st.suppressed++;
				return;
			}
		}
	}
	p = proc_get(t, it->u.sys.pid);
	if (!p)
		return;
	ms_space_lock(p->sp);
	ms_infer_syscall_locked(p->sp, &p->inf, &it->u.sys);
	drain_locked(t, p);
	ms_space_unlock(p->sp);
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
		struct item *it = dq_at(&q->sys, i);

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
	ms_space_extent_totals(p->sp, &mk->ext);
	ms_space_totals(p->sp, &tot);
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
	struct tidq *q = tidq_find(t, ev->tid, false);
	struct tproc *p = proc_get(t, ev->pid);
	char why[160] = "";
	unsigned flag = 0;
	int id;

	if (q)
		dq_remove(&q->api, it);
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
			struct item *s = dq_at(&q->sys, i);

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
	ms_space_lock(p->sp);
	id = it->stat[0] ? ms_space_stat_id_locked(p->sp, it->stat) : 0;
	ms_space_unlock(p->sp);
	ev->stat = id > 0 ? (uint16_t)id : 0;
	apply_event(t, p, ev, flag, why);
}

static void apply_proc(struct ms_trace *t, struct item *it)
{
	const struct ms_proc_event *pe = &it->u.proc;
	struct ms_event ev = {
		.source = MS_SRC_KERNEL, .pid = pe->pid, .tid = pe->pid, .t_ns = pe->t_ns};
	struct tproc *p = proc_find(t, pe->pid), *parent;

	switch (pe->type) {
	case MS_PROC_FORK:
		if (p) /* announced before (the traced child itself): keep its space */
			break;
		parent = proc_find(t, pe->ppid);
		p = proc_add(t, pe->pid, pe->ppid, parent ? parent->exe : NULL,
			     parent ? parent->sp : NULL);
		if (p && parent) {
			p->inf = parent->inf;
			go_copy(p, parent);
		}
		ev.op = MS_OP_PROC_FORK;
		ev.arg = pe->ppid;
		break;
	case MS_PROC_EXEC:
		if (!p)
			p = proc_add(t, pe->pid, 0, pe->comm, NULL);
		else
			snprintf(p->exe, sizeof(p->exe), "%.*s", (int)sizeof(pe->comm), pe->comm);
		if (p) {
			ms_space_lock(p->sp);
			ms_space_clear_locked(p->sp);
			ms_space_unlock(p->sp);
			p->inf = (struct ms_infer_state){.ignore_files = !t->o.files};
			p->go_sys = 0;
			p->nslack = 0;
		}
		ev.op = MS_OP_PROC_EXEC;
		if (p) {
			apply_event(t, p, &ev, 0, NULL);
		}
		return;
	case MS_PROC_EXIT:
		if (!p)
			return;
		ms_trace_exited(t, pe->pid, pe->exit_code, pe->exit_signal);
		ev.op = MS_OP_PROC_EXIT;
		ev.result = pe->exit_signal ? -1 : pe->exit_code;
		ev.aux = (uint32_t)pe->exit_signal;
		break;
	default:
		return;
	}
	if (p)
		apply_event(t, p, &ev, 0, NULL);
}

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

static void go_copy(struct tproc *p, const struct tproc *parent)
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
		const struct item *o = dq_at(&q->go, i);

		if (o != it && item_before(it, o)) {
			end = o->t;
			m->closed = true;
			break;
		}
	}
	for (size_t i = 0; q && i < q->sys.n; i++) {
		struct item *s = dq_at(&q->sys, i);

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
static bool go_ready(struct ms_trace *t, struct item *it, uint64_t now)
{
	struct go_match m;

	if (it->u.go.mark || !it->u.go.nwant || it->t + t->o.window_ns + GO_WAIT_NS <= now)
		return true;
	go_match(it, tidq_find(t, it->u.go.ev.tid, false), &m);
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
	ms_space_foreach_region(p->sp, mark_region, &sum);
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

static void apply_go(struct ms_trace *t, struct item *it)
{
	struct ms_go_call *c = &it->u.go;
	struct ms_event ev = c->ev;
	struct tidq *q = tidq_find(t, ev.tid, false);
	struct tproc *p = proc_get(t, ev.pid);
	struct go_match m;
	unsigned flag = 0;
	bool primary_failed = false;
	int id;

	go_match(it, q, &m);
	if (q)
		dq_remove(&q->go, it);
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
			note_lost(t, 1, 0);
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
		if (!ms_space_bytes_in(p->sp, ev.addr, ev.len, b))
			ev.arg = b[MS_PREPARED];
	}
	ms_space_lock(p->sp);
	id = c->stat[0] ? ms_space_stat_id_locked(p->sp, c->stat) : 0;
	ms_space_unlock(p->sp);
	ev.stat = id > 0 ? (uint16_t)id : 0;
	apply_event(t, p, &ev, flag, m.why);
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

static void on_go(void *ctx, const struct ms_go_call *c)
{
	struct ms_trace *t = ctx;
	struct item *it = item_new(t, IT_GO, c->ev.t_ns);
	struct tidq *q;

	if (!it)
		return;
	it->u.go = *c;
	q = tidq_find(t, c->ev.tid, true);
	if (q)
		dq_push(&q->go, it);
	queue(t, it);
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
		apply_go(t, it);
		break;
	case IT_EVENT:
		p = proc_get(t, it->u.ev.pid);
		if (p)
			apply_event(t, p, &it->u.ev, 0, NULL);
		break;
	}
	item_free(t, it);
}

void ms_trace_hold(struct ms_trace *t, uint64_t t_ns)
{
	t->hold_ns = t_ns;
}

void ms_trace_flush(struct ms_trace *t, bool drain)
{
	uint64_t now = drain ? UINT64_MAX : mono_ns();

	while (t->nheap && (drain || t->heap[0].t + t->o.window_ns <= now)) {
		/* A call stamped at its entry and not returned yet sorts before what is next. */
		if (!drain && t->hold_ns && t->heap[0].t >= t->hold_ns)
			break;
		/* A Go call whose syscall has not come yet holds the merge (briefly). */
		if (!drain && t->heap[0].it->kind == IT_GO && !go_ready(t, t->heap[0].it, now))
			break;
		apply_item(t, heap_pop(t));
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

static void queue(struct ms_trace *t, struct item *it)
{
	t->st.records++;
	if (heap_push(t, it)) {
		item_free(t, it);
		note_lost(t, 1, 0);
	}
}

static void on_syscall(void *ctx, const struct ms_sysrec *rec)
{
	struct ms_trace *t = ctx;
	struct item *it = item_new(t, IT_SYS, rec->t_ns);
	struct tidq *q;

	if (!it)
		return;
	it->u.sys = *rec;
	q = tidq_find(t, rec->tid, true);
	if (q)
		dq_push(&q->sys, it);
	queue(t, it);
}

static void on_event(void *ctx, struct ms_event *ev)
{
	struct ms_trace *t = ctx;
	struct item *it = item_new(t, IT_EVENT, ev->t_ns);

	if (!it)
		return;
	it->u.ev = *ev;
	queue(t, it);
}

static void on_api(void *ctx, struct ms_event *ev, const char *stat_name)
{
	struct ms_trace *t = ctx;
	struct item *it = item_new(t, IT_API, ev->t_ns);
	struct tidq *q;

	if (!it)
		return;
	it->u.ev = *ev;
	snprintf(it->stat, sizeof(it->stat), "%s", stat_name ? stat_name : "");
	q = tidq_find(t, ev->tid, true);
	if (q)
		dq_push(&q->api, it);
	queue(t, it);
}

/* The start of /proc/PID/exe's path, or of the interpreter's: whose bss the kernel maps. */
static bool image_file(const char *path, const char *exe)
{
	const char *b = strrchr(path, '/');

	return !strcmp(path, exe) || (b && !strncmp(b + 1, "ld-", 3));
}

/*
 * Residency of memory memstate did not see being touched (SPEC section 8): the pages of
 * [addr, addr + len) present now in pid's pagemap, one fn call per run of them, so that
 * seeded memory starts with what the kernel holds. Quietly nothing when unreadable.
 */
static void present_runs(uint32_t pid, uint64_t addr, uint64_t len,
			 void (*fn)(void *ctx, uint64_t s, uint64_t e), void *ctx)
{
	uint64_t ps = (uint64_t)sysconf(_SC_PAGESIZE), buf[512], run = 0, a = addr;
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/pagemap", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	while (a < addr + len) {
		uint64_t n = (addr + len - a) / ps;
		ssize_t got;

		n = n > 512 ? 512 : n;
		got = pread(fd, buf, n * 8, (off_t)(a / ps * 8));
		if (got < (ssize_t)(n * 8))
			break;
		for (uint64_t k = 0; k < n; k++, a += ps) {
			bool present = buf[k] >> 63;

			if (present && !run)
				run = a;
			if (!present && run) {
				fn(ctx, run, a);
				run = 0;
			}
		}
	}
	if (run)
		fn(ctx, run, a);
	close(fd);
}

struct seed_ctx {
	struct ms_trace *t;
	uint32_t pid;
	uint64_t t_ns;
	bool queued; /* queue behind the exec (true) or apply now (attach) */
};

static void seed_present(void *arg, uint64_t s, uint64_t e)
{
	struct seed_ctx *c = arg;
	struct ms_event ev = {.op = MS_OP_PAGE_FAULT,
			      .source = MS_SRC_KERNEL,
			      .flags = MS_EVF_SEED,
			      .addr = s,
			      .len = e - s,
			      .pid = c->pid,
			      .tid = c->pid,
			      .t_ns = c->t_ns};
	struct item *it;
	struct tproc *p;

	if (c->queued) {
		it = item_new(c->t, IT_EVENT, c->t_ns);
		if (!it)
			return;
		it->u.ev = ev;
		queue(c->t, it);
	} else if ((p = proc_get(c->t, c->pid))) {
		apply_event(c->t, p, &ev, 0, NULL);
	}
}

/*
 * At exec the kernel maps the stack and the bss of the program and of its interpreter
 * without any syscall. Read them now, as the exec record arrives (under ptrace the program
 * is still stopped at its exec), and queue them right after the exec as seed events. Only
 * those: anything else in /proc/PID/maps may already come from syscalls queued behind.
 */
static void queue_exec_seeds(struct ms_trace *t, const struct ms_proc_event *pe)
{
	char path[64], exe[512] = "", line[1024], prev_path[512] = "";
	unsigned long prev_end = 0;
	struct item *it;
	struct ms_event ev;
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/exe", pe->pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	snprintf(path, sizeof(path), "/proc/%u/maps", pe->pid);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *p = strchr(line, '/'), *nl;
		bool stack = strstr(line, "[stack]") != NULL;

		if (!ms_maps_line(line, &ev))
			continue;
		if (ev.op == MS_OP_FILE_MAP) {
			snprintf(prev_path, sizeof(prev_path), "%s", p ? p : "");
			if ((nl = strchr(prev_path, '\n')))
				*nl = 0;
			prev_end = (unsigned long)(ev.addr + ev.len);
			continue;
		}
		if (stack || (ev.addr == prev_end && image_file(prev_path, exe))) {
			it = item_new(t, IT_EVENT, pe->t_ns);
			if (!it)
				break;
			ev.pid = ev.tid = pe->pid;
			ev.t_ns = pe->t_ns;
			ev.source = MS_SRC_SYSCALL;
			ev.flags |= MS_EVF_SEED;
			it->u.ev = ev;
			queue(t, it);
			if (ev.op == MS_OP_ALLOC) { /* what of it the kernel holds already */
				struct seed_ctx c = {t, pe->pid, pe->t_ns, true};

				present_runs(pe->pid, ev.addr, ev.len, seed_present, &c);
			}
		}
		prev_end = 0;
	}
	fclose(f);
}

static void on_proc(void *ctx, const struct ms_proc_event *pe)
{
	struct ms_trace *t = ctx;
	struct item *it = item_new(t, IT_PROC, pe->t_ns);

	if (!it)
		return;
	it->u.proc = *pe;
	queue(t, it);
	if (pe->type == MS_PROC_EXEC && t->o.seed_exec)
		queue_exec_seeds(t, pe);
}

/*
 * Events lost from since_ns on: a violation stamped from then on may be an artefact of
 * what is missing (a dropped munmap makes a later fault look like a touch of Reserved
 * memory), and is marked after_loss. Ring drops carry no pid: a loss counts for every
 * process. A loss whose time is unknown counts from a merge window before it was noticed.
 */
static void note_lost(struct ms_trace *t, uint64_t n, uint64_t since_ns)
{
	t->st.lost += n;
	if (!since_ns) {
		uint64_t now = mono_ns();

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
	note_lost(ctx, n, 0);
}

static void on_lost_at(void *ctx, uint64_t n, uint64_t since_ns, const char *where)
{
	(void)where;
	note_lost(ctx, n, since_ns ? since_ns : 1);
}

void ms_trace_lost(struct ms_trace *t, uint64_t n)
{
	note_lost(t, n, 0);
}

void ms_trace_count_invalid(struct ms_trace *t, uint64_t n)
{
	t->st.invalid += n;
}

const struct ms_sink *ms_trace_sink(struct ms_trace *t)
{
	return &t->sink;
}

bool ms_maps_line(const char *line, struct ms_event *ev)
{
	unsigned long lo, hi, off, inode;
	char perms[8] = "", dev[16], path[512] = "";
	int n = sscanf(line, "%lx-%lx %7s %lx %15s %lu %511[^\n]", &lo, &hi, perms, &off, dev,
		       &inode, path);

	if (n < 6 || hi <= lo)
		return false;
	/* [uprobes]: the page the kernel single-steps probed instructions in, made by the
	 * tracer's own uprobes (Go), never by the program. */
	if (!strcmp(path, "[vdso]") || !strcmp(path, "[vvar]") || !strcmp(path, "[vsyscall]") ||
	    !strcmp(path, "[vvar_vclock]") || !strcmp(path, "[uprobes]"))
		return false;
	*ev = (struct ms_event){.addr = lo, .len = hi - lo, .t_ns = mono_ns()};
	if (inode || perms[3] == 's' || path[0] == '/') {
		ev->op = MS_OP_FILE_MAP;
		ev->kind = MS_KIND_FILE;
	} else if (!strncmp(perms, "---", 3)) {
		ev->op = MS_OP_RESERVE;
	} else {
		ev->op = MS_OP_ALLOC;
	}
	return true;
}

int ms_trace_seed_from_proc(struct ms_trace *t, uint32_t pid)
{
	char path[64], line[1024];
	struct ms_event ev;
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/maps", pid);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (!ms_maps_line(line, &ev) || (!t->o.files && ev.op == MS_OP_FILE_MAP))
			continue;
		ev.tid = pid;
		if (!ms_trace_seed(t, pid, &ev))
			n++;
		if (ev.op == MS_OP_ALLOC) {
			struct seed_ctx c = {t, pid, ev.t_ns, false};

			present_runs(pid, ev.addr, ev.len, seed_present, &c);
		}
	}
	fclose(f);
	return n;
}

/* What a byte is, for the map check: not anonymous memory, Reserved, or usable. */
enum mclass { MC_OTHER, MC_RESERVED, MC_USABLE };

struct mrange {
	uint64_t s, e;
	uint8_t cls;
};

struct mlist {
	struct mrange *v;
	size_t n, cap;
};

static int mlist_add(struct mlist *l, uint64_t s, uint64_t e, uint8_t cls)
{
	if (l->n && l->v[l->n - 1].e == s && l->v[l->n - 1].cls == cls) {
		l->v[l->n - 1].e = e;
		return 0;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 256;
		struct mrange *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = (struct mrange){s, e, cls};
	return 0;
}

static int shadow_range(const struct ms_region *r, void *ctx)
{
	uint8_t cls = r->kind == MS_KIND_FILE	? MC_OTHER
		      : r->state == MS_RESERVED ? MC_RESERVED
						: MC_USABLE;

	return mlist_add(ctx, r->start, r->end, cls);
}

/* Class of addr in a sorted range list, and where that answer stops holding. */
static uint8_t class_at(const struct mlist *l, size_t *i, uint64_t a, uint64_t *until)
{
	while (*i < l->n && l->v[*i].e <= a)
		(*i)++;
	if (*i < l->n && l->v[*i].s <= a) {
		*until = l->v[*i].e;
		return l->v[*i].cls;
	}
	*until = *i < l->n ? l->v[*i].s : UINT64_MAX;
	return MC_OTHER;
}

static const char *human(uint64_t b, char *buf, size_t len);

#define RES_DIFFS_KEPT 32 /* disagreeing runs kept per process for the timeline */

/* Residency against /proc/PID/pagemap (SPEC section 8): the ground truth at exit. */
static void verify_resident(struct ms_trace *t, struct tproc *p, FILE *f)
{
	struct ms_totals tot;
	char a[32], b[32];
	int err;

	ms_space_totals(p->sp, &tot);
	if (!tot.residency)
		return;
	if (!p->resck && !(p->resck = calloc(1, sizeof(*p->resck))))
		return;
	ms_res_check_free(p->resck);
	err = ms_pagemap_check(p->sp, (int)p->pid, RES_DIFFS_KEPT, p->resck);
	if (err) {
		if (f)
			fprintf(f, "memstate: residency check, pid %u: /proc/%u/pagemap: %s\n",
				p->pid, p->pid, strerror(-err));
		return;
	}
	t->st.res_checked++;
	t->st.res_diffs += p->resck->ndiffs;
	for (size_t i = 0; f && i < p->resck->nkept && i < 5; i++) {
		const struct ms_res_diff *d = &p->resck->diffs[i];

		fprintf(f,
			"memstate: residency check, pid %u: [%#" PRIx64 ", %#" PRIx64
			"): memstate %s resident, the kernel %s\n",
			p->pid, d->start, d->end, human(d->memstate, a, sizeof(a)),
			human(d->kernel, b, sizeof(b)));
	}
	if (f && p->resck->ndiffs > 5)
		fprintf(f, "memstate: residency check, pid %u: %" PRIu64 " more ranges differ\n",
			p->pid, p->resck->ndiffs - 5);
}

int ms_trace_verify_maps(struct ms_trace *t, uint32_t pid, FILE *f)
{
	static const char *const cname[] = {"not anonymous", "Reserved", "Prepared/Ready"};
	struct tproc *p = proc_find(t, pid);
	struct mlist k = {0}, m = {0};
	char path[64], line[1024];
	struct ms_event ev;
	uint64_t a = 0;
	size_t ki = 0, mi = 0;
	int diffs = 0;
	FILE *maps;

	if (!p)
		return -ENOENT;
	snprintf(path, sizeof(path), "/proc/%u/maps", pid);
	maps = fopen(path, "r");
	if (!maps)
		return -errno;
	while (fgets(line, sizeof(line), maps)) {
		if (!ms_maps_line(line, &ev))
			continue;
		mlist_add(&k, ev.addr, ev.addr + ev.len,
			  ev.op == MS_OP_FILE_MAP  ? MC_OTHER
			  : ev.op == MS_OP_RESERVE ? MC_RESERVED
						   : MC_USABLE);
	}
	fclose(maps);
	ms_space_lock(p->sp);
	ms_space_foreach_region_locked(p->sp, shadow_range, &m);
	ms_space_unlock(p->sp);
	/* Walk both sorted lists at once, one run of equal answers at a time. */
	while (a != UINT64_MAX) {
		uint64_t ku, mu, end;
		uint8_t kc = class_at(&k, &ki, a, &ku), mc = class_at(&m, &mi, a, &mu);

		end = ku < mu ? ku : mu;
		if (kc != mc) {
			if (f && diffs < 5)
				fprintf(f,
					"memstate: map check, pid %u: [%#" PRIx64 ", %#" PRIx64
					") is %s for the kernel, %s for memstate\n",
					pid, a, end, cname[kc], cname[mc]);
			diffs++;
		}
		a = end;
	}
	free(k.v);
	free(m.v);
	t->st.maps_checked++;
	t->st.maps_diffs += (uint64_t)diffs;
	verify_resident(t, p, f);
	return diffs;
}

int ms_trace_seed(struct ms_trace *t, uint32_t pid, struct ms_event *ev)
{
	struct tproc *p = proc_get(t, pid);

	if (!p)
		return -ENOMEM;
	ev->flags |= MS_EVF_SEED;
	ev->source = MS_SRC_SYSCALL;
	ev->pid = pid;
	apply_event(t, p, ev, 0, NULL);
	return 0;
}

/* ------------------------------------------------------------------ life cycle */

struct ms_trace *ms_trace_new(const struct ms_trace_opts *opts)
{
	struct ms_trace *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->o = *opts;
	if (!t->o.window_ns)
		t->o.window_ns = DEFAULT_WINDOW_NS;
	t->sink = (struct ms_sink){
		.ctx = t,
		.on_syscall = on_syscall,
		.on_event = on_event,
		.on_api = on_api,
		.on_proc = on_proc,
		.on_lost = on_lost,
		.on_lost_at = on_lost_at,
		.on_go = on_go,
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
	while (t->nheap)
		item_free(t, heap_pop(t));
	while ((it = t->free_items)) {
		t->free_items = it->next_free;
		free(it);
	}
	free(t->heap);
	for (size_t i = 0; i < t->ntids_cap; i++) {
		free(t->tids[i].sys.v);
		free(t->tids[i].api.v);
		free(t->tids[i].go.v);
	}
	free(t->tids);
	for (size_t i = 0; i < t->nprocs; i++) {
		ms_space_free(t->procs[i]->sp);
		ms_res_check_free(t->procs[i]->resck);
		free(t->procs[i]->resck);
		free(t->procs[i]->slack);
		free(t->procs[i]);
	}
	free(t->marks);
	free(t->amarks);
	free(t->procs);
	free(t);
}

void ms_trace_get_stats(const struct ms_trace *t, struct ms_trace_stats *out)
{
	struct ms_totals tot;

	*out = t->st;
	out->violations = 0;
	for (size_t i = 0; i < t->nprocs; i++) {
		ms_space_totals(t->procs[i]->sp, &tot);
		out->violations += tot.violations;
	}
}

/* ------------------------------------------------------------------ the end */

static const char *human(uint64_t b, char *buf, size_t len)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)b;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
	return buf;
}

static const char *base(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static void print_summary(struct ms_trace *t, FILE *f, const char *what)
{
	uint64_t events = 0, viol = 0, by_kind[MS_V_COUNT] = {0};
	char a[16], b[16], c[16], d[16], e[16];

	for (size_t i = 0; i < t->nprocs; i++) {
		struct ms_totals tot;

		ms_space_totals(t->procs[i]->sp, &tot);
		events += tot.events;
		viol += tot.violations;
		for (int k = 0; k < MS_V_COUNT; k++)
			by_kind[k] += tot.by_kind[k];
	}
	fprintf(f,
		"memstate: %s; %zu process%s, %" PRIu64 " events, %" PRIu64 " violations, %" PRIu64
		" lost\n",
		what, t->nprocs, t->nprocs == 1 ? "" : "es", events, viol, t->st.lost);
	fprintf(f, "  %-7s %-16s %10s %10s %10s %10s %10s %8s %5s %8s %5s\n", "PID", "EXE",
		"RESERVED", "PREPARED", "READY", "PEAK READY", "RESIDENT", "FAULTS", "THP",
		"EVENTS", "VIOL");
	for (size_t i = 0; i < t->nprocs; i++) {
		struct tproc *p = t->procs[i];
		struct ms_totals tot;

		/* Keep the table readable for build scripts that fork hundreds of shells. */
		if (i == SUMMARY_ROWS && t->nprocs > SUMMARY_ROWS + 1) {
			fprintf(f, "  ... %zu more processes in the timeline\n", t->nprocs - i);
			break;
		}
		ms_space_totals(p->sp, &tot);
		fprintf(f,
			"  %-7u %-16.16s %10s %10s %10s %10s %10s %8" PRIu64 " %5" PRIu64
			" %8" PRIu64 " %5" PRIu64 "\n",
			p->pid, base(p->exe), human(tot.bytes[MS_RESERVED], a, sizeof(a)),
			human(tot.bytes[MS_PREPARED], b, sizeof(b)),
			human(tot.bytes[MS_READY], c, sizeof(c)),
			human(tot.peak_bytes[MS_READY], d, sizeof(d)),
			tot.residency ? human(tot.resident[MS_PREPARED] + tot.resident[MS_READY], e,
					      sizeof(e))
				      : "-",
			tot.page_faults, tot.thp_collapses, tot.events, tot.violations);
	}
	if (t->st.maps_checked)
		fprintf(f, "  map check: %" PRIu64 " process%s compared with /proc/PID/maps, %s\n",
			t->st.maps_checked, t->st.maps_checked == 1 ? "" : "es",
			t->st.maps_diffs ? "ranges differ (above)" : "all agree");
	if (t->st.res_checked)
		fprintf(f,
			"  residency check: %" PRIu64 " process%s compared with /proc/PID/pagemap, "
			"%s\n",
			t->st.res_checked, t->st.res_checked == 1 ? "" : "es",
			t->st.res_diffs ? "ranges differ (above)" : "all agree");
	if (viol) {
		fprintf(f, "  violations:");
		for (int k = 1; k < MS_V_COUNT; k++) {
			if (by_kind[k])
				fprintf(f, " %s %" PRIu64, ms_violation_name((unsigned)k),
					by_kind[k]);
		}
		fprintf(f, "\n");
	}
}

int ms_trace_finish(struct ms_trace *t, FILE *summary, const char *what)
{
	struct ms_tl_process *procs;
	int err = 0;

	ms_trace_flush(t, true);
	if (t->o.writer) {
		procs = calloc(t->nprocs ? t->nprocs : 1, sizeof(*procs));
		if (!procs)
			return -ENOMEM;
		for (size_t i = 0; i < t->nprocs; i++) {
			struct tproc *p = t->procs[i];

			procs[i] = (struct ms_tl_process){
				.pid = p->pid,
				.ppid = p->ppid,
				.exe = p->exe[0] ? p->exe : NULL,
				.exit_code = p->exited && !p->exit_signal ? p->exit_code : -1,
				.exit_signal = p->exit_signal,
				.space = p->sp,
				.dropped = i == 0 ? t->st.lost : 0,
				.pagemap = p->resck,
			};
		}
		err = ms_tlw_finish(t->o.writer, procs, t->nprocs);
		free(procs);
	}
	if (summary)
		print_summary(t, summary, what);
	return err;
}
