// SPDX-License-Identifier: MIT
/*
 * The live feed (tui/live.c) and the scan step that reads it (tui/scan.c), without a
 * terminal: ordered copies with violation messages, skipping ahead when the consumer falls
 * behind (never blocking the producer), a producer thread racing the consumer, the process
 * table (exec, exit, pid reuse), and one scan filling the model from a real space.
 */
#include <errno.h>
#include <pthread.h>

#include "lib/util.h"
#include "test.h"
#include "test_main.h"
#include "tui/tui.h"

static struct ms_event ev_seq(uint64_t seq, unsigned violation)
{
	return (struct ms_event){
		.seq = seq, .pid = 7, .op = MS_OP_USED, .violation = (uint8_t)violation};
}

TEST_BEGIN(test_read_in_order)
{
	static struct ms_live live;
	static struct ms_event out[MS_LIVE_RECENT];
	struct ms_live_msg msgs[8];
	size_t nmsgs = 8, n;
	uint64_t cursor = 0, skipped = 1;

	ms_live_init(&live);
	for (uint64_t i = 0; i < 100; i++) {
		struct ms_event e = ev_seq(i, i % 40 == 5 ? MS_V_DOUBLE_FREE : 0);

		ms_live_publish(&live, &e,
				e.violation ? "freed twice" : "ignored: not a violation");
	}
	expect_u64_eq(live.events, 100, "events counted");
	n = ms_live_read(&live, &cursor, out, msgs, &nmsgs, MS_LIVE_RECENT, &skipped);
	expect_u64_eq(n, 100, "all of them");
	expect_u64_eq(skipped, 0, "none skipped");
	expect_u64_eq(cursor, 100, "cursor at the head");
	for (uint64_t i = 0; i < n; i++)
		expect_u64_eq(out[i].seq, i, "in order");
	expect_u64_eq(nmsgs, 3, "three violations: 5, 45, 85");
	expect_u64_eq(msgs[1].index, 45, "message index");
	expect_str_eq(msgs[1].text, "freed twice", "message text");
	nmsgs = 8;
	n = ms_live_read(&live, &cursor, out, msgs, &nmsgs, MS_LIVE_RECENT, &skipped);
	expect_u64_eq(n, 0, "nothing new");
	/* at most max, the newest ones */
	for (uint64_t i = 100; i < 110; i++) {
		struct ms_event e = ev_seq(i, 0);

		ms_live_publish(&live, &e, NULL);
	}
	nmsgs = 8;
	n = ms_live_read(&live, &cursor, out, msgs, &nmsgs, 4, &skipped);
	expect_u64_eq(n, 4, "max");
	expect_u64_eq(skipped, 6, "older ones skipped");
	expect_u64_eq(out[0].seq, 106, "newest four");
}
TEST_END

TEST_BEGIN(test_fall_behind)
{
	static struct ms_live live;
	static struct ms_event out[MS_LIVE_RECENT];
	struct ms_live_msg msgs[4];
	size_t nmsgs = 4, n;
	uint64_t cursor = 0, skipped, total = 3 * MS_LIVE_RECENT + 17;

	ms_live_init(&live);
	for (uint64_t i = 0; i < total; i++) {
		struct ms_event e = ev_seq(i, 0);

		ms_live_publish(&live, &e, NULL);
	}
	n = ms_live_read(&live, &cursor, out, msgs, &nmsgs, MS_LIVE_RECENT, &skipped);
	expect_u64_eq(n, MS_LIVE_RECENT, "the ring's worth");
	expect_u64_eq(skipped, total - MS_LIVE_RECENT, "the rest skipped, counted");
	expect_u64_eq(out[0].seq, total - MS_LIVE_RECENT, "oldest kept");
	expect_u64_eq(out[n - 1].seq, total - 1, "newest");
	for (size_t i = 1; i < n; i++)
		expect_u64_eq(out[i].seq, out[i - 1].seq + 1, "contiguous across the wrap");
}
TEST_END

struct race {
	struct ms_live *live;
	uint64_t n;
};

static void *producer(void *arg)
{
	struct race *r = arg;

	for (uint64_t i = 0; i < r->n; i++) {
		struct ms_event e = ev_seq(i, i % 1000 == 0 ? MS_V_MISALIGNED : 0);

		ms_live_publish(r->live, &e, e.violation ? "bad" : NULL);
	}
	ms_live_set_done(r->live);
	return NULL;
}

TEST_BEGIN(test_producer_race)
{
	static struct ms_live live;
	static struct ms_event out[MS_LIVE_RECENT];
	static struct ms_live_msg msgs[TUI_VMSG_CAP];
	struct race r = {.live = &live, .n = 1000000};
	uint64_t cursor = 0, got = 0, skipped_all = 0, last = UINT64_MAX, msg_bad = 0;
	struct ms_live_state *st = calloc(1, sizeof(*st));
	pthread_t th;
	bool done = false;

	ms_live_init(&live);
	assert_true(st && pthread_create(&th, NULL, producer, &r) == 0, "thread");
	while (!done) {
		size_t nmsgs = TUI_VMSG_CAP, n;
		uint64_t skipped;

		ms_live_state(&live, st);
		done = st->done;
		n = ms_live_read(&live, &cursor, out, msgs, &nmsgs, MS_LIVE_RECENT, &skipped);
		skipped_all += skipped;
		got += n;
		for (size_t i = 0; i < n; i++) {
			if (last != UINT64_MAX && out[i].seq != last + 1 + (i ? 0 : skipped))
				test_fail(__FILE__, __LINE__, "seq %" PRIu64 " after %" PRIu64,
					  out[i].seq, last);
			last = out[i].seq;
		}
		for (size_t i = 0; i < nmsgs; i++)
			msg_bad += strcmp(msgs[i].text, "bad") != 0 ||
				   out[msgs[i].index].violation != MS_V_MISALIGNED;
		if (test_state.failures)
			break;
	}
	pthread_join(th, NULL);
	expect_u64_eq(got + skipped_all, r.n, "every event read or counted as skipped");
	expect_u64_eq(last, r.n - 1, "ends at the newest");
	expect_u64_eq(msg_bad, 0, "messages match their events");
	free(st);
}
TEST_END

TEST_BEGIN(test_process_table)
{
	static struct ms_live live;
	struct ms_space *a = ms_space_new(NULL), *b = ms_space_new(NULL);
	struct ms_live_proc *p, *q;
	struct ms_event exit_ev = {.op = MS_OP_PROC_EXIT, .pid = 10, .result = -1, .aux = 9};

	ms_live_init(&live);
	p = ms_live_add_proc(&live, 10, 1, "/bin/prog", a);
	assert_true(p != NULL, "added");
	expect_u64_eq(live.nprocs, 1, "one");
	expect_int_eq(p->exit_code, -1, "no exit code yet");
	q = ms_live_add_proc(&live, 10, 1, "/bin/other", b);
	expect_true(q == p && q->space == b, "exec: same entry, new space");
	expect_str_eq(q->exe, "/bin/other", "new program");
	ms_live_publish(&live, &exit_ev, NULL);
	expect_true(p->exited && p->exit_signal == 9 && p->exit_code == -1, "exit recorded");
	q = ms_live_add_proc(&live, 10, 1, "/bin/again", a);
	expect_true(q != p && live.nprocs == 2, "a pid that came back is a new process");
	for (unsigned i = live.nprocs; i < MS_LIVE_MAX_PROCS; i++)
		ms_live_add_proc(&live, 100 + i, 1, NULL, NULL);
	expect_true(ms_live_add_proc(&live, 99999, 1, NULL, NULL) == NULL, "full table");
	ms_space_free(a);
	ms_space_free(b);
}
TEST_END

/* One scan step from a live feed fills the model: procs, totals, map, log, heat. */
TEST_BEGIN(test_scan_live)
{
	static struct ms_live live;
	struct ms_space_opts o = {.page_size = 4096, .log_capacity = 64};
	struct ms_space *sp = ms_space_new(&o);
	struct tui *t = calloc(1, sizeof(*t));
	struct ms_event ev;
	struct ms_cell c;

	assert_true(sp && t && tui_model_init(&t->m) == 0, "set-up");
	t->live = &live;
	t->rbuf = calloc(MS_LIVE_RECENT, sizeof(*t->rbuf));
	t->rmsgs = calloc(TUI_VMSG_CAP, sizeof(*t->rmsgs));
	t->lst = calloc(1, sizeof(*t->lst));
	t->map_rows = 10;
	t->map_cols = 64;
	ms_live_init(&live);
	snprintf(live.command, sizeof(live.command), "prog --flag");
	ms_live_add_proc(&live, 42, 1, "/usr/bin/prog", sp);
	ev = (struct ms_event){
		.op = MS_OP_RESERVE, .addr = 0xc000000000ull, .len = 1 << 20, .pid = 42};
	ms_space_apply(sp, &ev);
	ms_live_publish(&live, &ev, NULL);
	ev = (struct ms_event){
		.op = MS_OP_ALLOC, .addr = 0x7f0000000000ull, .len = 8192, .pid = 42};
	ms_space_apply(sp, &ev);
	ms_live_publish(&live, &ev, NULL);
	ev = (struct ms_event){.op = MS_OP_PAGE_FAULT,
			       .source = MS_SRC_KERNEL,
			       .addr = 0x7f0000000010ull,
			       .len = 4096,
			       .pid = 42,
			       .t_ns = ms_now_ns()};
	ms_space_apply(sp, &ev);
	ms_live_publish(&live, &ev, NULL);
	ev = (struct ms_event){.op = MS_OP_PAGE_FAULT,
			       .source = MS_SRC_KERNEL,
			       .addr = 0x7f0000000010ull,
			       .len = 4096,
			       .pid = 43,
			       .t_ns = ms_now_ns()}; /* another process: no heat here */
	ms_live_publish(&live, &ev, NULL);

	tui_scan(t);
	expect_u64_eq(t->m.nprocs, 1, "one process");
	expect_u64_eq(t->m.sel_pid, 42, "shown");
	expect_str_eq(t->m.title, "prog --flag", "title");
	expect_u64_eq(t->m.procs[0].tot.bytes[MS_RESERVED], 1 << 20, "Reserved bytes");
	expect_u64_eq(t->m.procs[0].tot.bytes[MS_READY], 8192, "Ready bytes");
	expect_u64_eq(t->m.procs[0].tot.page_faults, 1, "faults");
	expect_u64_eq(t->m.log_head, 4, "four events logged");
	expect_u64_eq(t->m.events, 4, "events");
	assert_true(t->m.snap && t->m.snap->nregions == 2, "snapshot");
	expect_u64_eq(t->m.map.nareas, 2, "two areas, one break");
	expect_true(t->m.map.ncells <= 640, "fits the map");
	ms_map_cells(&t->m.map, t->m.map.ncells - 2, 1, &c); /* the first page */
	ms_heat_apply(&t->m.heat, &t->m.map, t->m.map.ncells - 2, 1, &c, t->m.heat_now,
		      t->m.heat_window);
	expect_int_eq(c.state, MS_READY, "the alloc's cell");
	expect_int_eq(c.heat, MS_HEAT_LEVELS, "just faulted");
	expect_u64_eq(t->m.heat.head, 1, "only the shown process's fault heats");
	expect_u64_eq(t->cursor, 0, "cursor on the first region");
	/* nothing new: the log stays, the snapshot is fresh */
	tui_scan(t);
	expect_u64_eq(t->m.log_head, 4, "no new events");

	/* a region's history keeps its violations however many events came after */
	{
		struct ms_event h[8];
		uint64_t matched = 0;
		size_t n;

		ev = (struct ms_event){.op = MS_OP_FREE,
				       .addr = 0x7f0000000000ull,
				       .len = 8192,
				       .pid = 42,
				       .seq = 100,
				       .violation = MS_V_DOUBLE_FREE};
		ms_live_publish(&live, &ev, "freed twice");
		for (uint64_t i = 0; i < 50; i++) {
			ev = (struct ms_event){.op = MS_OP_HUGE_PAGE,
					       .addr = 0x7f0000000000ull,
					       .len = 8192,
					       .pid = 42,
					       .seq = 101 + i};
			ms_live_publish(&live, &ev, NULL);
		}
		tui_scan(t);
		n = tui_history(t, 42, 0x7f0000000000ull, 0x7f0000002000ull, h, 8, &matched);
		expect_u64_eq(n, 8, "a full window");
		expect_u64_eq(matched, 2 + 1 + 50, "alloc, fault, free, hints");
		expect_u64_eq(h[0].seq, 100, "the violation kept, in time order first");
		expect_u64_eq(h[7].seq, 150, "then the newest");
		expect_u64_eq(h[1].seq, 144, "seven of them");
		expect_str_eq(tui_vmsg_find(&t->m, 42, 100), "freed twice", "its message");
	}

	tui_model_free(&t->m);
	free(t->rbuf);
	free(t->rmsgs);
	free(t->lst);
	free(t);
	ms_space_free(sp);
}
TEST_END

int main(void)
{
	return test_run(test_read_in_order, test_fall_behind, test_producer_race,
			test_process_table, test_scan_live, NULL);
}
