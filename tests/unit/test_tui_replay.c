// SPDX-License-Identifier: MIT
/*
 * Replay (tui/replay.c): the map and counters at any position, whichever way it was
 * reached (forward, backward through checkpoints, after thinning), equal those of a plain
 * forward application; procFork copies the parent's space, procExec clears the map; the
 * finders and recorded messages. Workloads are random with a fixed seed, recorded the way
 * the tracer records them (one space per process, events applied then kept).
 */
#include <errno.h>

#include "test.h"
#include "test_main.h"
#include "tui/replay.h"

#define PS   4096ull
#define BASE 0x40000000ull

/* The "tracer": one space per pid, each event applied then fed to the replay. */
struct rec {
	struct ms_space *sp[4]; /* by pid 1..3 */
	uint64_t seq, t;
	struct ms_replay *rp;
	unsigned violations;
};

static struct ms_space *rec_space(void)
{
	struct ms_space_opts o = {.page_size = PS, .log_capacity = 1 << 16};

	return ms_space_new(&o);
}

static void rec_emit(struct rec *r, uint32_t pid, unsigned op, unsigned src, uint64_t addr,
		     uint64_t len, uint64_t arg, const char *stat)
{
	struct ms_event ev = {.op = (uint8_t)op,
			      .source = (uint8_t)src,
			      .addr = addr,
			      .len = len,
			      .arg = arg,
			      .pid = pid,
			      .tid = pid};
	struct ms_space *sp = r->sp[pid];
	char msg[64];

	if (op == MS_OP_PROC_FORK) {
		ms_space_free(r->sp[pid]);
		r->sp[pid] = ms_space_clone(r->sp[arg], NULL);
	} else if (op == MS_OP_PROC_EXEC) {
		ms_space_lock(r->sp[pid]);
		ms_space_clear_locked(r->sp[pid]);
		ms_space_unlock(r->sp[pid]);
	} else if (op < MS_OP_PROC_FORK) {
		if (!sp)
			sp = r->sp[pid] = rec_space();
		if (stat)
			ev.stat = (uint16_t)ms_space_stat_id(sp, stat);
		ms_space_apply(sp, &ev);
	}
	ev.seq = r->seq++;
	ev.t_ns = (r->t += 1000);
	snprintf(msg, sizeof(msg), "violation at seq %" PRIu64, ev.seq);
	r->violations += ev.violation != 0;
	ms_replay_add_event(r->rp, &ev, stat, ev.violation ? msg : NULL);
}

/* A random operation of pid over [BASE, BASE + 256 pages): mostly legal, some not. */
static void rec_random_op(struct rec *r, uint32_t pid, uint64_t *seed)
{
	uint64_t a = BASE + (test_rand(seed) % 240) * PS, len = (1 + test_rand(seed) % 16) * PS;
	unsigned k = (unsigned)(test_rand(seed) % 10);
	uint64_t b[MS_STATE_COUNT] = {0};

	if (r->sp[pid])
		ms_space_bytes_in(r->sp[pid], a, len, b);
	switch (k) {
	case 0:
		rec_emit(r, pid, MS_OP_RESERVE, MS_SRC_API, a, len, 0, NULL);
		break;
	case 1:
	case 2:
		rec_emit(r, pid, MS_OP_MAP, MS_SRC_API, a, len, 0, "heap");
		break;
	case 3:
	case 4:
		rec_emit(r, pid, MS_OP_USED, MS_SRC_API, a, len, b[MS_PREPARED], NULL);
		break;
	case 5:
		rec_emit(r, pid, MS_OP_UNUSED, MS_SRC_API, a, len, 0, NULL);
		break;
	case 6:
		rec_emit(r, pid, MS_OP_FREE, MS_SRC_API, a, len, 0, "heap");
		break;
	case 7:
		rec_emit(r, pid, MS_OP_PAGE_FAULT, MS_SRC_KERNEL, a + 12, PS, 0x400000, NULL);
		break;
	case 8:
		rec_emit(r, pid, MS_OP_HUGE_PAGE, MS_SRC_API, a, len, 0, NULL);
		break;
	default:
		rec_emit(r, pid, MS_OP_ALLOC, MS_SRC_API, a, len, 0, "meta");
	}
}

/* A recorded run: pid 1 works, forks pid 2, which works, execs, works, exits. */
static void record(struct rec *r, uint64_t seed, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i == n / 3)
			rec_emit(r, 2, MS_OP_PROC_FORK, MS_SRC_SYSCALL, 0, 0, 1, NULL);
		else if (i == n / 2)
			rec_emit(r, 2, MS_OP_PROC_EXEC, MS_SRC_SYSCALL, 0, 0, 0, NULL);
		else if (i == n - n / 8)
			rec_emit(r, 2, MS_OP_PROC_EXIT, MS_SRC_SYSCALL, 0, 0, 0, NULL);
		else
			rec_random_op(r, i > n / 3 && i < n - n / 8 && (i & 1) ? 2 : 1, &seed);
	}
}

static void rec_free(struct rec *r)
{
	for (int i = 0; i < 4; i++)
		ms_space_free(r->sp[i]);
}

/*
 * Same map: every interval's range, state, attributes and stat name. Not the per-interval
 * fault and THP counts: ms_space_clone() starts them at zero (right for a fork), so a map
 * restored from a checkpoint lacks them; the TUI counts them from the events instead.
 */
static bool same_map(struct ms_space *a, struct ms_space *b, char *why, size_t wl)
{
	struct ms_snapshot *x = a ? ms_space_snapshot(a) : NULL;
	struct ms_snapshot *y = b ? ms_space_snapshot(b) : NULL;
	size_t nx = x ? x->nregions : 0, ny = y ? y->nregions : 0;
	bool ok = nx == ny;

	snprintf(why, wl, "%zu regions vs %zu", nx, ny);
	for (size_t i = 0; ok && i < nx; i++) {
		const struct ms_region *p = &x->regions[i], *q = &y->regions[i];
		struct ms_stat_info si = {0}, sj = {0};

		if (p->stat)
			ms_space_stat_info(a, p->stat, &si);
		if (q->stat)
			ms_space_stat_info(b, q->stat, &sj);
		if (p->start != q->start || p->end != q->end || p->state != q->state ||
		    p->huge != q->huge || p->flags != q->flags ||
		    (si.name ? strcmp(si.name, sj.name ? sj.name : "") : !!sj.name)) {
			snprintf(why, wl,
				 "region %zu: %" PRIx64 "-%" PRIx64 " %u vs %" PRIx64 "-%" PRIx64
				 " %u",
				 i, p->start, p->end, p->state, q->start, q->end, q->state);
			ok = false;
		}
	}
	ms_snapshot_free(x);
	ms_snapshot_free(y);
	return ok;
}

static bool same_totals(const struct ms_totals *a, const struct ms_totals *b)
{
	return !memcmp(a->bytes, b->bytes, sizeof(a->bytes)) &&
	       !memcmp(a->peak_bytes, b->peak_bytes, sizeof(a->peak_bytes)) &&
	       a->events == b->events && a->violations == b->violations &&
	       a->page_faults == b->page_faults && a->peak_footprint == b->peak_footprint;
}

/* Load the same recorded events into a second replay (its reference, forward only). */
static struct ms_replay *copy_of(const struct ms_replay *rp)
{
	struct ms_replay *c = ms_replay_new(rp->page_size);

	for (size_t i = 0; i < rp->nev; i++)
		ms_replay_add_event(c, &rp->ev[i], ms_replay_stat_name(rp, rp->ev[i].stat),
				    ms_replay_message(rp, i));
	c->every = SIZE_MAX / 2; /* no checkpoints: only ever applies forward */
	return c;
}

TEST_BEGIN(test_seek_anywhere)
{
	struct rec r = {.rp = ms_replay_new(PS)};
	uint64_t seed = 0x5eec;
	struct ms_replay *ref;
	char why[160];

	assert_true(r.rp != NULL, "new");
	record(&r, 0x1234, 3000);
	r.rp->every = 64;	 /* many checkpoints */
	r.rp->ckpt_budget = 500; /* and thinning on the way */
	expect_u64_eq(r.rp->nev, 3000, "events");
	expect_u64_eq(ms_replay_nprocs(r.rp), 2, "processes");
	/* At the end the replay holds what the recorder holds. */
	assert_true(ms_replay_seek(r.rp, r.rp->nev) == 0, "seek end");
	for (uint32_t pid = 1; pid <= 2; pid++) {
		bool ok = same_map(ms_replay_proc(r.rp, pid)->base.sp, r.sp[pid], why, sizeof(why));

		expect_true(ok, "pid %u final map: %s", pid, why);
	}
	expect_true(r.rp->nckpts > 2, "checkpoints kept (%zu)", r.rp->nckpts);
	expect_true(r.rp->every > 64, "thinned out (every %zu)", r.rp->every);
	/* Random seeks, backwards and forwards, against a forward-only reference. */
	for (int i = 0; i < 60 && !test_state.failures; i++) {
		size_t pos = (size_t)(test_rand(&seed) % (r.rp->nev + 1));

		ref = copy_of(r.rp);
		assert_true(ms_replay_seek(r.rp, pos) == 0 && ms_replay_seek(ref, pos) == 0,
			    "seek");
		expect_u64_eq(r.rp->pos, pos, "position");
		for (uint32_t pid = 1; pid <= 2; pid++) {
			struct ms_rp_proc *a = ms_replay_proc(r.rp, pid),
					  *b = ms_replay_proc(ref, pid);

			expect_true(same_map(a->base.sp, b->base.sp, why, sizeof(why)),
				    "pid %u at %zu: %s", pid, pos, why);
			expect_true(same_totals(&a->tot, &b->tot), "pid %u totals at %zu", pid,
				    pos);
			expect_int_eq(a->alive, b->alive, "alive");
			expect_int_eq(a->seen, b->seen, "seen");
		}
		ms_replay_free(ref);
	}
	rec_free(&r);
	ms_replay_free(r.rp);
}
TEST_END

TEST_BEGIN(test_fork_exec_exit)
{
	struct rec r = {.rp = ms_replay_new(PS)};
	struct ms_rp_proc *p1, *p2;
	uint64_t b[MS_STATE_COUNT];

	rec_emit(&r, 1, MS_OP_ALLOC, MS_SRC_API, BASE, 4 * PS, 0, "heap"); /* 0 */
	rec_emit(&r, 2, MS_OP_PROC_FORK, MS_SRC_SYSCALL, 0, 0, 1, NULL);   /* 1 */
	rec_emit(&r, 2, MS_OP_FREE, MS_SRC_API, BASE, 2 * PS, 0, "heap");  /* 2 */
	rec_emit(&r, 2, MS_OP_PROC_EXEC, MS_SRC_SYSCALL, 0, 0, 0, NULL);   /* 3 */
	rec_emit(&r, 2, MS_OP_RESERVE, MS_SRC_API, BASE, PS, 0, NULL);	   /* 4 */
	rec_emit(&r, 2, MS_OP_PROC_EXIT, MS_SRC_SYSCALL, 0, 0, 0, NULL);   /* 5 */
	rec_emit(&r, 1, MS_OP_FREE, MS_SRC_API, BASE, 4 * PS, 0, "heap");  /* 6 */
	rec_emit(&r, 1, MS_OP_FREE, MS_SRC_API, BASE, 4 * PS, 0, "heap");  /* 7: double */

	assert_true(ms_replay_seek(r.rp, 1) == 0, "seek 1");
	p1 = ms_replay_proc(r.rp, 1);
	p2 = ms_replay_proc(r.rp, 2);
	assert_true(p1 && p2, "both known from the start");
	expect_true(p1->seen && p1->alive && !p2->seen && !p2->base.sp, "before the fork");
	expect_u64_eq(p1->tot.bytes[MS_READY], 4 * PS, "pid 1 Ready");

	ms_replay_seek(r.rp, 3);
	ms_space_bytes_in(p2->base.sp, BASE, 4 * PS, b);
	expect_u64_eq(b[MS_READY], 2 * PS, "the child freed half of its copy");
	ms_space_bytes_in(p1->base.sp, BASE, 4 * PS, b);
	expect_u64_eq(b[MS_READY], 4 * PS, "the parent keeps all");
	expect_u64_eq(p2->tot.events, 2, "child counters start at the fork");

	ms_replay_seek(r.rp, 4);
	expect_u64_eq(p2->tot.bytes[MS_READY], 0, "exec: the map cleared");
	expect_u64_eq(p2->tot.peak_bytes[MS_READY], 4 * PS, "peaks survive the exec");
	ms_replay_seek(r.rp, 6);
	expect_true(p2->seen && !p2->alive, "exited");
	expect_u64_eq(p2->tot.bytes[MS_RESERVED], PS, "its last map stays readable");

	ms_replay_seek(r.rp, 8);
	expect_u64_eq(p1->tot.violations, 1, "double free counted");
	expect_u64_eq(p1->tot.by_kind[MS_V_DOUBLE_FREE], 1, "by kind");
	/* back before the fork: the child is gone again */
	ms_replay_seek(r.rp, 1);
	expect_true(!p2->seen && !p2->base.sp && p2->tot.events == 0, "rewound");
	expect_u64_eq(p1->tot.violations, 0, "rewound counters");
	rec_free(&r);
	ms_replay_free(r.rp);
}
TEST_END

/* Sources merge out of order: a child's own events may come before its procFork. */
TEST_BEGIN(test_child_events_before_fork)
{
	struct rec r = {.rp = ms_replay_new(PS)};
	struct ms_rp_proc *p3;

	rec_emit(&r, 1, MS_OP_ALLOC, MS_SRC_API, BASE, 4 * PS, 0, "heap");
	rec_emit(&r, 3, MS_OP_RESERVE, MS_SRC_API, BASE + 64 * PS, PS, 0, NULL);
	rec_emit(&r, 3, MS_OP_PROC_FORK, MS_SRC_SYSCALL, 0, 0, 1, NULL);
	ms_replay_seek(r.rp, 3);
	p3 = ms_replay_proc(r.rp, 3);
	expect_u64_eq(p3->tot.bytes[MS_RESERVED], PS, "its own reservation stays");
	expect_u64_eq(p3->tot.bytes[MS_READY], 0, "not replaced by the parent's copy");
	expect_u64_eq(p3->tot.events, 2, "its counters too");
	rec_free(&r);
	ms_replay_free(r.rp);
}
TEST_END

TEST_BEGIN(test_finders_and_messages)
{
	struct rec r = {.rp = ms_replay_new(PS)};
	size_t v1, v2;

	rec_emit(&r, 1, MS_OP_ALLOC, MS_SRC_API, BASE, PS, 0, "heap");	 /* 0 */
	rec_emit(&r, 1, MS_OP_MAP, MS_SRC_API, BASE, PS, 0, "heap");	 /* 1: illegal */
	rec_emit(&r, 1, MS_OP_HUGE_PAGE, MS_SRC_API, BASE, PS, 0, NULL); /* 2 */
	rec_emit(&r, 1, MS_OP_FREE, MS_SRC_API, BASE, PS, 0, "heap");	 /* 3 */
	rec_emit(&r, 1, MS_OP_FREE, MS_SRC_API, BASE, PS, 0, "heap");	 /* 4: double */
	v1 = ms_replay_find_violation(r.rp, SIZE_MAX, 1, 0);
	expect_u64_eq(v1, 1, "first violation");
	v2 = ms_replay_find_violation(r.rp, v1, 1, 0);
	expect_u64_eq(v2, 4, "next");
	expect_u64_eq(ms_replay_find_violation(r.rp, v2, 1, 0), SIZE_MAX, "no more");
	expect_u64_eq(ms_replay_find_violation(r.rp, v2, -1, 0), 1, "previous");
	expect_u64_eq(ms_replay_find_violation(r.rp, 5, -1, 0), 4, "previous from the end");
	expect_u64_eq(ms_replay_find_violation(r.rp, SIZE_MAX, 1, 7), SIZE_MAX, "other pid");
	expect_str_eq(ms_replay_message(r.rp, 4), "violation at seq 4", "inline message");
	expect_true(ms_replay_message(r.rp, 3) == NULL, "clean event");
	ms_replay_add_message(r.rp, 1, "from the violations section");
	expect_str_eq(ms_replay_message(r.rp, 1), "violation at seq 1", "inline wins");
	ms_replay_add_message(r.rp, 2, "late message");
	expect_str_eq(ms_replay_message(r.rp, 2), "late message", "inserted in order");
	expect_str_eq(ms_replay_message(r.rp, 4), "violation at seq 4", "still found");
	expect_u64_eq(ms_replay_find_seq(r.rp, 3), 3, "seq");
	expect_u64_eq(ms_replay_find_seq(r.rp, 99), SIZE_MAX, "unknown seq");
	expect_u64_eq(ms_replay_find_time(r.rp, 0), 0, "time 0");
	expect_u64_eq(ms_replay_find_time(r.rp, 2500), 2, "first at or after");
	expect_u64_eq(ms_replay_find_time(r.rp, 1u << 30), 5, "past the end");
	expect_str_eq(ms_replay_stat_name(r.rp, r.rp->ev[0].stat), "heap", "stat name");
	expect_true(ms_replay_stat_name(r.rp, 0) == NULL, "no stat");
	rec_free(&r);
	ms_replay_free(r.rp);
}
TEST_END

/* Peaks at a position are the highest values before it, also after seeking back. */
TEST_BEGIN(test_peaks_rewind)
{
	struct rec r = {.rp = ms_replay_new(PS)};
	struct ms_rp_proc *p;

	r.rp->every = 2;
	rec_emit(&r, 1, MS_OP_ALLOC, MS_SRC_API, BASE, 8 * PS, 0, "heap");
	rec_emit(&r, 1, MS_OP_FREE, MS_SRC_API, BASE, 6 * PS, 0, "heap");
	rec_emit(&r, 1, MS_OP_ALLOC, MS_SRC_API, BASE + 64 * PS, 2 * PS, 0, "heap");
	rec_emit(&r, 1, MS_OP_ALLOC, MS_SRC_API, BASE + 96 * PS, 16 * PS, 0, "heap");
	ms_replay_seek(r.rp, 4);
	p = ms_replay_proc(r.rp, 1);
	expect_u64_eq(p->tot.peak_bytes[MS_READY], 20 * PS, "peak at the end");
	ms_replay_seek(r.rp, 3);
	expect_u64_eq(p->tot.peak_bytes[MS_READY], 8 * PS, "peak before the last alloc");
	expect_u64_eq(p->tot.bytes[MS_READY], 4 * PS, "bytes there");
	ms_replay_seek(r.rp, 0);
	expect_u64_eq(p->tot.peak_bytes[MS_READY], 0, "nothing yet");
	expect_true(p->base.sp == NULL, "no space before its first event");
	rec_free(&r);
	ms_replay_free(r.rp);
}
TEST_END

/* A pid that exited and forks again is a new process: a copy of its new parent. */
TEST_BEGIN(test_pid_reuse)
{
	struct rec r = {.rp = ms_replay_new(PS)};
	struct ms_rp_proc *p2;
	char why[160];

	r.rp->every = 2;
	rec_emit(&r, 1, MS_OP_ALLOC, MS_SRC_API, BASE, 4 * PS, 0, "heap");	     /* 0 */
	rec_emit(&r, 2, MS_OP_PROC_FORK, MS_SRC_SYSCALL, 0, 0, 1, NULL);	     /* 1 */
	rec_emit(&r, 2, MS_OP_RESERVE, MS_SRC_API, BASE + 64 * PS, 8 * PS, 0, NULL); /* 2 */
	rec_emit(&r, 2, MS_OP_PROC_EXIT, MS_SRC_SYSCALL, 0, 0, 0, NULL);	     /* 3 */
	rec_emit(&r, 1, MS_OP_FREE, MS_SRC_API, BASE, 2 * PS, 0, "heap");	     /* 4 */
	rec_emit(&r, 2, MS_OP_PROC_FORK, MS_SRC_SYSCALL, 0, 0, 1, NULL);	     /* 5 */
	assert_true(ms_replay_seek(r.rp, 4) == 0, "seek");
	p2 = ms_replay_proc(r.rp, 2);
	expect_true(p2->seen && !p2->alive, "first life over");
	expect_u64_eq(p2->tot.bytes[MS_RESERVED], 8 * PS, "its last map");
	assert_true(ms_replay_seek(r.rp, 6) == 0, "seek end");
	expect_true(p2->alive, "alive again");
	expect_true(same_map(p2->base.sp, r.sp[2], why, sizeof(why)), "new parent's copy: %s", why);
	expect_u64_eq(p2->tot.bytes[MS_RESERVED], 0, "not the dead process's map");
	expect_u64_eq(p2->tot.bytes[MS_READY], 2 * PS, "what pid 1 had then");
	expect_u64_eq(p2->tot.events, 1, "counters from the new fork");
	assert_true(ms_replay_seek(r.rp, 3) == 0, "back into the first life");
	expect_true(p2->alive && p2->tot.bytes[MS_RESERVED] == 8 * PS, "first life again");
	rec_free(&r);
	ms_replay_free(r.rp);
}
TEST_END

int main(void)
{
	return test_run(test_seek_anywhere, test_fork_exec_exit, test_child_events_before_fork,
			test_pid_reuse, test_finders_and_messages, test_peaks_rewind, NULL);
}
