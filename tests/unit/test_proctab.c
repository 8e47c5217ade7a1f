// SPDX-License-Identifier: MIT
/*
 * The process table (lib/proctab.c): what procFork, procExec and procExit do to a
 * process and its space (a fork of an unknown parent, a fork after the child's own
 * events, an exec clearing the map, an exit then the pid reused), a failed space leaving
 * the table as it was, and lookups over many pids against a plain array (fixed seed).
 */
#include <errno.h>

#include "lib/proctab.h"
#include "test.h"
#include "test_main.h"

#define PS 4096ull
#define A  0x10000000ull

/* A caller's entry: the common part inside, its own data around it. */
struct uproc {
	uint64_t before;     /* caller data before the member */
	struct ms_proc base; /* the table's part */
	int inits;	     /* init hook calls */
	uint32_t tag;	     /* caller data, set after creation */
};

struct ctx {
	unsigned spaces;	  /* spaces made */
	unsigned clones;	  /* of which copies */
	unsigned old;		  /* spaces handed back by a new life */
	bool fail;		  /* space_new fails */
	struct ms_space *kept[4]; /* spaces handed back, freed at the end */
};

static struct ms_space *ctx_space(void *c, struct ms_proc *p, struct ms_space *parent)
{
	struct ms_space_opts o = {.page_size = PS};
	struct ctx *x = c;

	(void)p;
	if (x->fail)
		return NULL;
	x->spaces++;
	x->clones += parent != NULL;
	return parent ? ms_space_clone(parent, &o) : ms_space_new(&o);
}

static void ctx_old(void *c, struct ms_proc *p, struct ms_space *sp)
{
	struct ctx *x = c;

	(void)p;
	if (x->old < 4)
		x->kept[x->old] = sp;
	else
		ms_space_free(sp);
	x->old++;
}

static void ctx_init(void *c, struct ms_proc *p)
{
	ms_proc_entry(p, struct uproc, base)->inits++;
}

static void setup(struct ms_proctab *t, struct ctx *x)
{
	struct ms_proctab_ops ops = {
		.entry_size = sizeof(struct uproc),
		.offset = offsetof(struct uproc, base),
		.space_new = ctx_space,
		.space_old = ctx_old,
		.init = ctx_init,
		.ctx = x,
	};

	memset(x, 0, sizeof(*x));
	assert_true(!ms_proctab_init(t, &ops), "init");
}

static void teardown(struct ms_proctab *t, struct ctx *x)
{
	for (unsigned i = 0; i < x->old && i < 4; i++)
		ms_space_free(x->kept[i]);
	ms_proctab_destroy(t);
}

static int ev_apply(struct ms_proctab *t, uint8_t op, uint32_t pid, uint64_t arg, int result,
		    uint32_t aux, struct ms_pt_change *c)
{
	struct ms_event ev = {
		.op = op, .pid = pid, .tid = pid, .arg = arg, .result = result, .aux = aux};

	return ms_proctab_apply(t, &ev, c);
}

/* An operation of pid in its space (what a caller does after the table). */
static void op(struct ms_proctab *t, uint32_t pid, uint8_t o, uint64_t addr, uint64_t len,
	       const char *stat)
{
	struct ms_pt_change c;
	struct ms_event ev = {
		.op = o, .pid = pid, .tid = pid, .addr = addr, .len = len, .source = MS_SRC_API};

	assert_true(!ms_proctab_get(t, pid, &c) && c.proc && c.proc->sp, "space for pid %u", pid);
	if (stat)
		ev.stat = (uint16_t)ms_space_stat_id(c.proc->sp, stat);
	assert_true(ms_space_apply(c.proc->sp, &ev) == 0, "clean op for pid %u", pid);
}

static uint64_t ready(struct ms_proc *p)
{
	struct ms_totals tot;

	ms_space_totals(p->sp, &tot);
	return tot.bytes[MS_READY];
}

static uint64_t events(struct ms_proc *p)
{
	struct ms_totals tot;

	ms_space_totals(p->sp, &tot);
	return tot.events;
}

TEST_BEGIN(test_first_event_and_fork)
{
	struct ms_proctab t;
	struct ms_pt_change c;
	struct ctx x;
	struct uproc *u;

	setup(&t, &x);
	expect_true(ms_proctab_find(&t, 10) == NULL, "empty table");
	assert_true(!ms_proctab_get(&t, 10, &c), "first event");
	expect_u64_eq(c.what, MS_PT_CREATED | MS_PT_SPACE, "new entry, new empty space");
	u = ms_proc_entry(c.proc, struct uproc, base);
	expect_int_eq(u->inits, 1, "init hook once");
	expect_int_eq(c.proc->exit_code, -1, "no status yet");
	u->tag = 7;
	op(&t, 10, MS_OP_ALLOC, A, 4 * PS, "heap");
	assert_true(!ms_proctab_get(&t, 10, &c), "second event");
	expect_u64_eq(c.what, 0, "found, nothing done");
	expect_u64_eq(ms_proc_entry(c.proc, struct uproc, base)->tag, 7, "caller data kept");

	/* The child copies its parent's map, with counters of its own. */
	assert_true(!ev_apply(&t, MS_OP_PROC_FORK, 11, 10, 0, 0, &c), "fork");
	expect_u64_eq(c.what, MS_PT_CREATED | MS_PT_SPACE | MS_PT_CLONED, "a copy");
	expect_true(c.parent == ms_proctab_find(&t, 10), "parent given");
	expect_u64_eq(c.proc->ppid, 10, "ppid");
	expect_u64_eq(ready(c.proc), 4 * PS, "the parent's map");
	expect_u64_eq(events(c.proc), 0, "fresh counters");
	expect_u64_eq(ms_space_stat_count(c.proc->sp), 2, "stat names copied");
	expect_u64_eq(x.clones, 1, "one clone");
	teardown(&t, &x);
}
TEST_END

TEST_BEGIN(test_fork_of_unknown_parent)
{
	struct ms_proctab t;
	struct ms_pt_change c;
	struct ctx x;

	setup(&t, &x);
	assert_true(!ev_apply(&t, MS_OP_PROC_FORK, 21, 20, 0, 0, &c), "fork");
	expect_u64_eq(c.what, MS_PT_CREATED | MS_PT_SPACE, "empty space, not a copy");
	expect_true(c.parent == NULL, "no parent entry");
	expect_true(ms_proctab_find(&t, 20) == NULL, "the parent is not made up");
	expect_u64_eq(c.proc->ppid, 20, "ppid still known");
	expect_u64_eq(ready(c.proc), 0, "nothing mapped");

	/* A parent listed but without a space (no events yet): the same. */
	assert_true(ms_proctab_add(&t, 30) && !ms_proctab_find(&t, 30)->sp, "listed");
	assert_true(!ev_apply(&t, MS_OP_PROC_FORK, 31, 30, 0, 0, &c), "fork");
	expect_u64_eq(c.what, MS_PT_CREATED | MS_PT_SPACE, "empty space");
	expect_true(c.parent == ms_proctab_find(&t, 30), "parent entry given");
	expect_u64_eq(x.clones, 0, "no clone");
	teardown(&t, &x);
}
TEST_END

TEST_BEGIN(test_fork_after_child_events)
{
	struct ms_proctab t;
	struct ms_pt_change c;
	struct ms_space *sp;
	struct ctx x;

	setup(&t, &x);
	op(&t, 1, MS_OP_ALLOC, A, 8 * PS, NULL);
	/* The child's own events merged ahead of its fork: they built its space. */
	op(&t, 2, MS_OP_ALLOC, A + 64 * PS, 2 * PS, NULL);
	sp = ms_proctab_find(&t, 2)->sp;
	assert_true(!ev_apply(&t, MS_OP_PROC_FORK, 2, 1, 0, 0, &c), "late fork");
	expect_u64_eq(c.what, 0, "kept");
	expect_true(c.proc->sp == sp, "same space");
	expect_u64_eq(ready(c.proc), 2 * PS, "what its events did");
	expect_u64_eq(c.proc->ppid, 1, "ppid learned from the fork");
	expect_u64_eq(ms_proctab_count(&t), 2, "two processes");
	teardown(&t, &x);
}
TEST_END

TEST_BEGIN(test_exec_clears_in_place)
{
	struct ms_proctab t;
	struct ms_pt_change c;
	struct ms_stat_info si;
	struct ms_space *sp;
	struct ctx x;
	uint64_t before;

	setup(&t, &x);
	op(&t, 5, MS_OP_ALLOC, A, 4 * PS, "heap");
	op(&t, 5, MS_OP_RESERVE, A + 32 * PS, 16 * PS, NULL);
	sp = ms_proctab_find(&t, 5)->sp;
	before = events(ms_proctab_find(&t, 5));
	assert_true(!ev_apply(&t, MS_OP_PROC_EXEC, 5, 0, 0, 0, &c), "exec");
	expect_u64_eq(c.what, MS_PT_CLEARED, "cleared");
	expect_true(c.proc->sp == sp, "the same space");
	expect_u64_eq(ready(c.proc), 0, "map gone");
	expect_u64_eq(ms_space_state_at(sp, A + 32 * PS, NULL), MS_NONE, "reservation gone");
	expect_u64_eq(events(c.proc), before, "counters stay");
	assert_true(!ms_space_stat_info(sp, 1, &si), "stat name stays");
	expect_str_eq(si.name, "heap", "its name");
	expect_u64_eq(si.bytes, 0, "at zero bytes");
	expect_u64_eq(si.peak, 4 * PS, "its peak stays");

	/* Exec of a pid never seen: an empty space of its own. */
	assert_true(!ev_apply(&t, MS_OP_PROC_EXEC, 6, 0, 0, 0, &c), "exec of unknown");
	expect_u64_eq(c.what, MS_PT_CREATED | MS_PT_SPACE, "new");
	teardown(&t, &x);
}
TEST_END

TEST_BEGIN(test_exit_then_pid_reuse)
{
	struct ms_proctab t;
	struct ms_pt_change c;
	struct ms_space *old;
	struct ctx x;

	setup(&t, &x);
	op(&t, 1, MS_OP_ALLOC, A, 2 * PS, NULL);
	op(&t, 7, MS_OP_ALLOC, A + 100 * PS, 8 * PS, NULL);
	old = ms_proctab_find(&t, 7)->sp;
	assert_true(!ev_apply(&t, MS_OP_PROC_EXIT, 7, 0, 3, 0, &c), "exit");
	expect_u64_eq(c.what, MS_PT_EXITED, "exited");
	expect_true(c.proc->exited && c.proc->exit_code == 3 && !c.proc->exit_signal, "status");
	ms_proc_set_exit(c.proc, -1, 0);
	expect_int_eq(c.proc->exit_code, 3, "unknown does not beat known");

	/* A late event of the dead process stays with it. */
	assert_true(!ms_proctab_get(&t, 7, &c), "late event");
	expect_true(c.what == 0 && c.proc->exited && c.proc->sp == old, "still the old one");

	/* pid 7 comes back as pid 1's child: a new life, a copy of its new parent. */
	assert_true(!ev_apply(&t, MS_OP_PROC_FORK, 7, 1, 0, 0, &c), "reuse");
	expect_u64_eq(c.what, MS_PT_NEW_LIFE | MS_PT_SPACE | MS_PT_CLONED, "new life");
	expect_true(!c.proc->exited && c.proc->exit_code == -1 && !c.proc->exit_signal,
		    "status reset");
	expect_true(c.proc->sp != old, "another space");
	expect_u64_eq(ready(c.proc), 2 * PS, "its new parent's map");
	expect_u64_eq(x.old, 1, "old space handed back");
	expect_true(x.kept[0] == old, "the dead process's");
	expect_u64_eq(ms_proctab_count(&t), 2, "one entry per pid");

	/* Killed: code -1, the signal. */
	assert_true(!ev_apply(&t, MS_OP_PROC_EXIT, 7, 0, -1, 9, &c), "killed");
	expect_true(c.proc->exit_code == -1 && c.proc->exit_signal == 9, "signal");
	expect_true(ms_proc_status_known(c.proc), "a signal is a status");

	/* A late exec record after the status came (the tracer's waitpid): status kept. */
	assert_true(!ev_apply(&t, MS_OP_PROC_EXEC, 7, 0, 0, 0, &c), "exec after exit");
	expect_u64_eq(c.what, MS_PT_CLEARED, "cleared, nothing else");
	expect_true(c.proc->exited && c.proc->exit_signal == 9, "status kept");
	expect_u64_eq(ready(c.proc), 0, "cleared");
	teardown(&t, &x);
}
TEST_END

TEST_BEGIN(test_no_memory_changes_nothing)
{
	struct ms_proctab t;
	struct ms_pt_change c;
	struct ms_space *old;
	struct ctx x;

	setup(&t, &x);
	op(&t, 1, MS_OP_ALLOC, A, 2 * PS, NULL);
	op(&t, 2, MS_OP_ALLOC, A, 4 * PS, NULL);
	assert_true(!ev_apply(&t, MS_OP_PROC_EXIT, 2, 0, 0, 0, &c), "exit");
	old = c.proc->sp;
	x.fail = true;
	expect_int_eq(ms_proctab_get(&t, 3, &c), -ENOMEM, "first event");
	expect_true(c.proc == NULL && ms_proctab_find(&t, 3) == NULL, "no entry left");
	expect_u64_eq(ms_proctab_count(&t), 2, "count unchanged");
	expect_int_eq(ev_apply(&t, MS_OP_PROC_FORK, 2, 1, 0, 0, &c), -ENOMEM, "reuse");
	expect_true(c.proc == ms_proctab_find(&t, 2), "the entry that was there");
	expect_true(c.proc->exited && c.proc->exit_code == 0 && c.proc->sp == old, "as it was");
	x.fail = false;
	assert_true(!ev_apply(&t, MS_OP_PROC_FORK, 2, 1, 0, 0, &c), "reuse");
	expect_true(!c.proc->exited && ready(c.proc) == 2 * PS, "now it took");
	teardown(&t, &x);
}
TEST_END

TEST_BEGIN(test_many_pids)
{
	enum { N = 100000 };
	struct ms_proctab t;
	struct ms_pt_change c;
	uint32_t *pids = malloc(N * sizeof(*pids));
	uint64_t seed = 0x5eed, misses = 0;
	struct ctx x;

	assert_true(pids, "memory");
	assert_true(!ms_proctab_init(&t, &(struct ms_proctab_ops){.ctx = &x}), "init");
	/* Distinct pids over the whole range, listed in random order. */
	for (uint32_t i = 0; i < N; i++)
		pids[i] = (uint32_t)(i * 40503u + 1) ^ (uint32_t)(test_rand(&seed) & 0xff000000u);
	for (uint32_t i = 0; i < N; i++)
		expect_true(ms_proctab_add(&t, pids[i]) != NULL, "add %u", pids[i]);
	expect_u64_eq(ms_proctab_count(&t), N, "all there");
	expect_true(t.bits > 10, "buckets grew");
	for (uint32_t k = 0; k < 4 * N; k++) {
		uint32_t i = (uint32_t)(test_rand(&seed) % N);
		struct ms_proc *p = ms_proctab_find(&t, pids[i]);

		if (!p || p->pid != pids[i] || ms_proctab_at(&t, i) != p)
			misses++;
	}
	expect_u64_eq(misses, 0, "every lookup finds its entry, in creation order");
	for (uint32_t k = 0; k < 1000; k++) {
		uint32_t pid = (uint32_t)(N * 40503u + 1 + 2 * k); /* past every pid made */

		if (ms_proctab_find(&t, pid) && ms_proctab_find(&t, pid)->pid != pid)
			misses++;
	}
	expect_u64_eq(misses, 0, "no wrong entry for an unknown pid");
	/* Default spaces (no hooks): one event gives one. */
	assert_true(!ms_proctab_get(&t, pids[N / 2], &c) && c.proc->sp, "space");
	expect_u64_eq(c.what, MS_PT_SPACE, "made for a listed pid");
	ms_proctab_destroy(&t);
	free(pids);
}
TEST_END

int main(void)
{
	return test_run(test_first_event_and_fork, test_fork_of_unknown_parent,
			test_fork_after_child_events, test_exec_clears_in_place,
			test_exit_then_pid_reuse, test_no_memory_changes_nothing, test_many_pids,
			NULL);
}
