// SPDX-License-Identifier: MIT
/*
 * Replay of a saved timeline through one shadow space per process, with checkpoints so
 * that seeking anywhere costs at most one checkpoint restore and `every` applied events.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"

#define RP_EVERY	2048	   /* events between checkpoints, at first */
#define RP_CKPT_BUDGET	(2u << 20) /* regions all checkpoints may hold together */
#define RP_LOG_CAPACITY 64	   /* the replay spaces' own logs are drained at once */

struct ms_rp_ckpt_proc {
	struct ms_space *space;	    /* a clone, never applied to (NULL: none at that point) */
	struct ms_totals tot;	    /* the process's counters there */
	bool exited;		    /* its status there (struct ms_proc) */
	int exit_code, exit_signal; /* the same */
};

struct ms_rp_ckpt {
	size_t pos;		       /* position it stands for */
	size_t nprocs;		       /* entries in procs (processes known when taken) */
	struct ms_rp_ckpt_proc *procs; /* by process table index */
	uint64_t regions;	       /* regions its spaces hold */
};

/* ------------------------------------------------------------------ life cycle */

static struct ms_rp_proc *rp_proc_of(struct ms_proc *p)
{
	return p ? ms_proc_entry(p, struct ms_rp_proc, base) : NULL;
}

static struct ms_space_opts space_opts(const struct ms_replay *rp);

/* The table's hook: replay spaces (lib/proctab.h). */
static struct ms_space *rp_space(void *ctx, struct ms_proc *p, struct ms_space *parent)
{
	struct ms_space_opts o = space_opts(ctx);

	(void)p;
	return parent ? ms_space_clone(parent, &o) : ms_space_new(&o);
}

struct ms_replay *ms_replay_new(uint32_t page_size)
{
	struct ms_replay *rp = calloc(1, sizeof(*rp));

	if (!rp)
		return NULL;
	rp->page_size = page_size ? page_size : 4096;
	rp->every = RP_EVERY;
	rp->ckpt_budget = RP_CKPT_BUDGET;
	if (ms_proctab_init(&rp->pt, &(struct ms_proctab_ops){
					     .entry_size = sizeof(struct ms_rp_proc),
					     .offset = offsetof(struct ms_rp_proc, base),
					     .space_new = rp_space,
					     .ctx = rp,
				     })) {
		free(rp);
		return NULL;
	}
	return rp;
}

static void ckpt_free(struct ms_rp_ckpt *c)
{
	for (size_t i = 0; i < c->nprocs; i++)
		ms_space_free(c->procs[i].space);
	free(c->procs);
	memset(c, 0, sizeof(*c));
}

void ms_replay_free(struct ms_replay *rp)
{
	if (!rp)
		return;
	for (size_t i = 0; i < rp->nckpts; i++)
		ckpt_free(&rp->ckpts[i]);
	free(rp->ckpts);
	for (size_t i = 0; i < ms_replay_nprocs(rp); i++)
		free(ms_replay_proc_at(rp, i)->exe);
	ms_proctab_destroy(&rp->pt);
	for (unsigned i = 1; i < rp->nstats; i++)
		free(rp->stats[i]);
	free(rp->stats);
	for (size_t i = 0; i < rp->nmsgs; i++)
		free(rp->msgs[i].text);
	free(rp->msgs);
	free(rp->ev);
	free(rp);
}

/* Grow *arr (of *cap elements of size sz) to hold at least need. */
static int grow(void **arr, size_t *cap, size_t need, size_t sz)
{
	size_t c = *cap ? *cap : 16;
	void *p;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	p = realloc(*arr, c * sz);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = c;
	return 0;
}

/* ------------------------------------------------------------------ loading */

/* Every pid is in the table once loaded: seeks make no entries, only spaces. */
static struct ms_rp_proc *proc_add(struct ms_replay *rp, uint32_t pid)
{
	return rp_proc_of(ms_proctab_add(&rp->pt, pid));
}

struct ms_rp_proc *ms_replay_proc(struct ms_replay *rp, uint32_t pid)
{
	return rp_proc_of(ms_proctab_find(&rp->pt, pid));
}

size_t ms_replay_nprocs(const struct ms_replay *rp)
{
	return ms_proctab_count(&rp->pt);
}

struct ms_rp_proc *ms_replay_proc_at(const struct ms_replay *rp, size_t i)
{
	return rp_proc_of(ms_proctab_at(&rp->pt, i));
}

static int stat_intern(struct ms_replay *rp, const char *name)
{
	size_t cap = rp->stats_cap;

	if (!name || !*name)
		return 0;
	for (unsigned i = 1; i < rp->nstats; i++) {
		if (!strcmp(rp->stats[i], name))
			return (int)i;
	}
	if (rp->nstats >= UINT16_MAX)
		return 0; /* more names than an event can carry: shown as none */
	if (!rp->nstats)
		rp->nstats = 1;
	if (grow((void **)&rp->stats, &cap, rp->nstats + 1, sizeof(char *)))
		return -ENOMEM;
	rp->stats_cap = (unsigned)cap;
	rp->stats[rp->nstats] = strdup(name);
	if (!rp->stats[rp->nstats])
		return -ENOMEM;
	return (int)rp->nstats++;
}

const char *ms_replay_stat_name(const struct ms_replay *rp, unsigned id)
{
	return id && id < rp->nstats ? rp->stats[id] : NULL;
}

/* Insert keeping index order (messages almost always arrive in order: append). */
static int msg_insert(struct ms_replay *rp, size_t index, const char *text)
{
	size_t at = rp->nmsgs;
	char *copy;

	if (grow((void **)&rp->msgs, &rp->msgs_cap, rp->nmsgs + 1, sizeof(*rp->msgs)))
		return -ENOMEM;
	copy = strdup(text);
	if (!copy)
		return -ENOMEM;
	while (at > 0 && rp->msgs[at - 1].index > index)
		at--;
	memmove(&rp->msgs[at + 1], &rp->msgs[at], (rp->nmsgs - at) * sizeof(*rp->msgs));
	rp->msgs[at] = (struct ms_rp_msg){.index = index, .text = copy};
	rp->nmsgs++;
	return 0;
}

int ms_replay_add_event(struct ms_replay *rp, const struct ms_event *ev, const char *stat,
			const char *message)
{
	struct ms_event *e;
	int id;

	if (grow((void **)&rp->ev, &rp->ev_cap, rp->nev + 1, sizeof(*rp->ev)))
		return -ENOMEM;
	id = stat_intern(rp, stat);
	if (id < 0)
		return id;
	if (!proc_add(rp, ev->pid))
		return -ENOMEM;
	if (ev->op == MS_OP_PROC_FORK && ev->arg <= UINT32_MAX && !proc_add(rp, (uint32_t)ev->arg))
		return -ENOMEM;
	if (message && *message && msg_insert(rp, rp->nev, message))
		return -ENOMEM;
	e = &rp->ev[rp->nev++];
	*e = *ev;
	e->stat = (uint16_t)id;
	return 0;
}

int ms_replay_add_process(struct ms_replay *rp, uint32_t pid, uint32_t ppid, const char *exe,
			  int exit_code, int exit_signal, uint64_t dropped)
{
	struct ms_rp_proc *p = proc_add(rp, pid);

	if (!p)
		return -ENOMEM;
	/* What the table holds until the events at a position say otherwise. */
	p->base.ppid = ppid;
	p->base.exit_code = exit_code;
	p->base.exit_signal = exit_signal;
	p->dropped = dropped;
	if (exe) {
		free(p->exe);
		p->exe = strdup(exe);
		if (!p->exe)
			return -ENOMEM;
	}
	return 0;
}

int ms_replay_add_message(struct ms_replay *rp, uint64_t seq, const char *message)
{
	size_t i = ms_replay_find_seq(rp, seq);

	if (i == SIZE_MAX || !message || ms_replay_message(rp, i))
		return 0;
	return msg_insert(rp, i, message);
}

/* ------------------------------------------------------------------ lookups */

const char *ms_replay_message(const struct ms_replay *rp, size_t i)
{
	size_t lo = 0, hi = rp->nmsgs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (rp->msgs[mid].index < i)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < rp->nmsgs && rp->msgs[lo].index == i ? rp->msgs[lo].text : NULL;
}

size_t ms_replay_find_violation(const struct ms_replay *rp, size_t i, int dir, uint32_t pid)
{
	if (dir > 0) {
		for (size_t j = i == SIZE_MAX ? 0 : i + 1; j < rp->nev; j++) {
			if (rp->ev[j].violation && (!pid || rp->ev[j].pid == pid))
				return j;
		}
		return SIZE_MAX;
	}
	for (size_t j = i > rp->nev ? rp->nev : i; j-- > 0;) {
		if (rp->ev[j].violation && (!pid || rp->ev[j].pid == pid))
			return j;
	}
	return SIZE_MAX;
}

size_t ms_replay_find_time(const struct ms_replay *rp, uint64_t t)
{
	size_t lo = 0, hi = rp->nev;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (rp->ev[mid].t_ns < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t ms_replay_find_seq(const struct ms_replay *rp, uint64_t seq)
{
	size_t lo = 0, hi = rp->nev;

	/* Recorded seqs increase in file order; fall back to a scan if a file says otherwise. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (rp->ev[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < rp->nev && rp->ev[lo].seq == seq)
		return lo;
	for (size_t i = 0; i < rp->nev; i++) {
		if (rp->ev[i].seq == seq)
			return i;
	}
	return SIZE_MAX;
}

/* ------------------------------------------------------------------ applying */

/* The replay spaces' logs are of no use: empty them when full instead of counting drops. */
static void drain_log(struct ms_space *sp, void *ctx)
{
	struct ms_event sink[RP_LOG_CAPACITY];

	(void)ctx;
	while (ms_space_events_read_locked(sp, sink, RP_LOG_CAPACITY))
		;
}

static struct ms_space_opts space_opts(const struct ms_replay *rp)
{
	return (struct ms_space_opts){.page_size = rp->page_size,
				      .log_capacity = RP_LOG_CAPACITY,
				      .on_full = drain_log,
				      .max_violations = 1};
}

/* Bytes now, and the peaks they reach, from the replayed space. */
static void sample_bytes(struct ms_rp_proc *p)
{
	struct ms_totals st;
	uint64_t fp;

	if (!p->base.sp) {
		memset(p->tot.bytes, 0, sizeof(p->tot.bytes));
		p->tot.file_bytes = 0;
		p->tot.regions = 0;
		return;
	}
	ms_space_totals(p->base.sp, &st);
	memcpy(p->tot.bytes, st.bytes, sizeof(st.bytes));
	p->tot.file_bytes = st.file_bytes;
	p->tot.regions = st.regions;
	memcpy(p->tot.resident, st.resident, sizeof(st.resident));
	p->tot.lazy_free = st.lazy_free;
	p->tot.residency = st.residency;
	if (st.resident[MS_PREPARED] + st.resident[MS_READY] > p->tot.peak_resident)
		p->tot.peak_resident = st.resident[MS_PREPARED] + st.resident[MS_READY];
	for (unsigned s = 0; s < MS_STATE_COUNT; s++) {
		if (st.bytes[s] > p->tot.peak_bytes[s])
			p->tot.peak_bytes[s] = st.bytes[s];
	}
	fp = st.bytes[MS_PREPARED] + st.bytes[MS_READY];
	if (fp > p->tot.peak_footprint)
		p->tot.peak_footprint = fp;
}

/* Whether p has appeared, and is alive, at the current position. */
static void rp_life(struct ms_rp_proc *p)
{
	p->alive = p->base.sp && !p->base.exited;
	p->seen = p->base.sp || p->base.exited;
}

/* Apply event i to its process. Never fails: an operation that finds no memory is counted. */
static void apply(struct ms_replay *rp, size_t i)
{
	const struct ms_event *rec = &rp->ev[i];
	struct ms_event e = *rec;
	struct ms_pt_change c;
	struct ms_rp_proc *p;

	/* The table decides what a process event does to the process and its space. */
	if (ms_proctab_apply(&rp->pt, rec, &c))
		rp->lost++;
	p = rp_proc_of(c.proc);
	if (!p)
		return;
	/* A fork's child (not one whose own events came first) counts from its fork. */
	if (rec->op == MS_OP_PROC_FORK && (c.what & MS_PT_SPACE))
		memset(&p->tot, 0, sizeof(p->tot));
	if (!ms_op_is_proc(rec->op) && p->base.sp) {
		if (e.stat) {
			int id = ms_space_stat_id(p->base.sp, rp->stats[e.stat]);

			e.stat = id > 0 ? (uint16_t)id : 0;
		}
		if (ms_space_apply(p->base.sp, &e) == -ENOMEM)
			rp->lost++;
	}
	rp_life(p);
	/* Counters from what was recorded: the tracer may have seen more than a replay can. */
	p->tot.events++;
	if (rec->op < MS_OP_COUNT)
		p->tot.by_op[rec->op]++;
	if (rec->violation) {
		p->tot.violations++;
		if (rec->violation < MS_V_COUNT)
			p->tot.by_kind[rec->violation]++;
	}
	if (ms_event_is_fault(rec))
		p->tot.page_faults++;
	if (rec->op == MS_OP_THP_COLLAPSE && !rec->result)
		p->tot.thp_collapses++;
	sample_bytes(p);
}

/* ------------------------------------------------------------------ checkpoints */

static int ckpt_take(struct ms_replay *rp)
{
	struct ms_space_opts o = space_opts(rp);
	struct ms_rp_ckpt c = {.pos = rp->pos, .nprocs = ms_replay_nprocs(rp)};

	if (grow((void **)&rp->ckpts, &rp->ckpts_cap, rp->nckpts + 1, sizeof(c)))
		return -ENOMEM;
	c.procs = calloc(c.nprocs ? c.nprocs : 1, sizeof(*c.procs));
	if (!c.procs)
		return -ENOMEM;
	for (size_t i = 0; i < c.nprocs; i++) {
		struct ms_rp_proc *p = ms_replay_proc_at(rp, i);

		c.procs[i].tot = p->tot;
		c.procs[i].exited = p->base.exited;
		c.procs[i].exit_code = p->base.exit_code;
		c.procs[i].exit_signal = p->base.exit_signal;
		if (!p->base.sp)
			continue;
		c.procs[i].space = ms_space_clone(p->base.sp, &o);
		if (!c.procs[i].space) {
			ckpt_free(&c);
			return -ENOMEM;
		}
		c.regions += p->tot.regions;
	}
	rp->ckpts[rp->nckpts++] = c;
	rp->ckpt_regions += c.regions;
	return 0;
}

/* Over budget: keep every other checkpoint (position 0 always stays). */
static void ckpt_thin(struct ms_replay *rp)
{
	size_t kept = 0;

	while (rp->ckpt_regions > rp->ckpt_budget && rp->nckpts > 2) {
		rp->every *= 2;
		kept = 0;
		for (size_t i = 0; i < rp->nckpts; i++) {
			if (rp->ckpts[i].pos % rp->every == 0) {
				rp->ckpts[kept++] = rp->ckpts[i];
				continue;
			}
			rp->ckpt_regions -= rp->ckpts[i].regions;
			ckpt_free(&rp->ckpts[i]);
		}
		rp->nckpts = kept;
	}
}

/* Make the state that of checkpoint c; on ENOMEM nothing changes. */
static int ckpt_restore(struct ms_replay *rp, const struct ms_rp_ckpt *c)
{
	struct ms_space_opts o = space_opts(rp);
	size_t n = ms_replay_nprocs(rp);
	struct ms_space **sp = calloc(n ? n : 1, sizeof(*sp));

	if (!sp)
		return -ENOMEM;
	for (size_t i = 0; i < c->nprocs; i++) {
		if (!c->procs[i].space)
			continue;
		sp[i] = ms_space_clone(c->procs[i].space, &o);
		if (!sp[i]) {
			for (size_t j = 0; j < i; j++)
				ms_space_free(sp[j]);
			free(sp);
			return -ENOMEM;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct ms_rp_proc *p = ms_replay_proc_at(rp, i);

		ms_space_free(p->base.sp);
		p->base.sp = sp[i];
		if (i < c->nprocs) {
			p->tot = c->procs[i].tot;
			p->base.exited = c->procs[i].exited;
			p->base.exit_code = c->procs[i].exit_code;
			p->base.exit_signal = c->procs[i].exit_signal;
		} else {
			memset(&p->tot, 0, sizeof(p->tot));
			p->base.exited = false;
		}
		rp_life(p);
	}
	free(sp);
	rp->pos = c->pos;
	return 0;
}

int ms_replay_seek(struct ms_replay *rp, size_t pos)
{
	const struct ms_rp_ckpt *c;
	size_t lo = 0, hi;
	int err;

	if (pos > rp->nev)
		pos = rp->nev;
	if (!rp->nckpts && rp->pos == 0 && (err = ckpt_take(rp)))
		return err;
	if (pos == rp->pos)
		return 0;
	/* Last checkpoint at or before pos. */
	hi = rp->nckpts;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (rp->ckpts[mid].pos <= pos)
			lo = mid;
		else
			hi = mid;
	}
	c = &rp->ckpts[lo];
	if ((pos < rp->pos || c->pos > rp->pos) && (err = ckpt_restore(rp, c)))
		return err;
	while (rp->pos < pos) {
		if (rp->pos % rp->every == 0 && rp->ckpts[rp->nckpts - 1].pos < rp->pos) {
			/* Best effort: without it seeks back are just slower. */
			if (!ckpt_take(rp))
				ckpt_thin(rp);
		}
		apply(rp, rp->pos);
		rp->pos++;
	}
	return 0;
}
