// SPDX-License-Identifier: MIT
/*
 * The shadow space: transitions, checker, accounting, merging, faults and the event log,
 * plus a randomized differential test (fixed seed, 1M operations) against a page array.
 */
#include <errno.h>

#include "memstate/space.h"
#include "tests/page_model.h"
#include "test.h"
#include "test_main.h"

#define PS   4096ull
#define BASE 0x10000000ull

static struct ms_space *new_space(void)
{
	struct ms_space_opts o = {.page_size = PS, .log_capacity = 1024};

	return ms_space_new(&o);
}

/* Apply one operation; returns the event as recorded. */
static struct ms_event op(struct ms_space *sp, unsigned o, unsigned src, uint64_t addr,
			  uint64_t len, uint64_t arg, uint16_t stat)
{
	struct ms_event ev = {.op = (uint8_t)o,
			      .source = (uint8_t)src,
			      .addr = addr,
			      .len = len,
			      .arg = arg,
			      .stat = stat,
			      .pid = 1,
			      .tid = 1};

	ms_space_apply(sp, &ev);
	return ev;
}

#define API(sp, o, a, l) op(sp, o, MS_SRC_API, a, l, 0, 0)

static void expect_valid(struct ms_space *sp, const char *when)
{
	char why[200];

	if (ms_space_verify(sp, why, sizeof(why)))
		test_fail(__FILE__, __LINE__, "%s: %s", when, why);
}

static void drain(struct ms_space *sp)
{
	struct ms_event evs[64];

	while (ms_space_events_read(sp, evs, 64))
		;
}

TEST_BEGIN(test_go_lifecycle)
{
	struct ms_space *sp = new_space();
	int heap = ms_space_stat_id(sp, "heap");
	struct ms_totals t;
	struct ms_event ev;

	assert_true(sp && heap > 0, "space");
	ev = API(sp, MS_OP_RESERVE, BASE, 64 * PS);
	expect_int_eq(ev.violation, 0, "reserve clean");
	expect_u64_eq(ev.from[MS_NONE], 64 * PS, "reserve from None");
	expect_int_eq(ev.to, MS_RESERVED, "reserve to");
	ev = op(sp, MS_OP_MAP, MS_SRC_API, BASE, 16 * PS, 0, (uint16_t)heap);
	expect_int_eq(ev.violation, 0, "map clean");
	expect_u64_eq(ev.from[MS_RESERVED], 16 * PS, "map from Reserved");
	ev = op(sp, MS_OP_USED, MS_SRC_API, BASE, 8 * PS, 8 * PS, 0);
	expect_int_eq(ev.violation, 0, "used clean");
	/* Used over Ready + Prepared is allowed with the exact prepared count. */
	ev = op(sp, MS_OP_USED, MS_SRC_API, BASE, 12 * PS, 4 * PS, 0);
	expect_int_eq(ev.violation, 0, "used mixed range");
	ev = API(sp, MS_OP_UNUSED, BASE + 4 * PS, 4 * PS);
	expect_int_eq(ev.violation, 0, "unused clean");
	ms_space_totals(sp, &t);
	expect_u64_eq(t.bytes[MS_READY], 8 * PS, "Ready");
	expect_u64_eq(t.bytes[MS_PREPARED], 8 * PS, "Prepared");
	expect_u64_eq(t.bytes[MS_RESERVED], 48 * PS, "Reserved");
	expect_u64_eq(t.peak_bytes[MS_READY], 12 * PS, "peak Ready");
	expect_u64_eq(t.regions, 5, "intervals R|P|R|P|Res");
	ev = op(sp, MS_OP_FREE, MS_SRC_API, BASE, 64 * PS, 0, (uint16_t)heap);
	expect_int_eq(ev.violation, 0, "free clean");
	expect_u64_eq(ev.from[MS_READY], 8 * PS, "free from Ready");
	ms_space_totals(sp, &t);
	expect_u64_eq(t.regions, 0, "nothing left");
	expect_u64_eq(t.violations, 0, "no violations");
	{
		struct ms_stat_info si;

		ms_space_stat_info(sp, (unsigned)heap, &si);
		expect_u64_eq(si.bytes, 0, "heap stat back to zero");
		expect_u64_eq(si.peak, 16 * PS, "heap stat peak");
	}
	expect_valid(sp, "end");
	ms_space_free(sp);
}
TEST_END

TEST_BEGIN(test_violations_each_kind)
{
	struct ms_space *sp = new_space();
	int heap = ms_space_stat_id(sp, "heap"), other = ms_space_stat_id(sp, "other");
	struct ms_violation v;
	struct ms_event ev;

	ev = API(sp, MS_OP_MAP, BASE, PS);
	expect_int_eq(ev.violation, MS_V_ILLEGAL_TRANSITION, "map over None");
	expect_int_eq(ms_space_state_at(sp, BASE, NULL), MS_PREPARED, "what the OS holds");
	ev = API(sp, MS_OP_FREE, BASE, 2 * PS);
	expect_int_eq(ev.violation, MS_V_DOUBLE_FREE, "free over partly None");
	ev = API(sp, MS_OP_FREE, BASE, PS);
	expect_int_eq(ev.violation, MS_V_DOUBLE_FREE, "free again");
	ev = API(sp, MS_OP_RESERVE, BASE, 4 * PS);
	op(sp, MS_OP_MAP, MS_SRC_API, BASE, 4 * PS, 0, (uint16_t)heap);
	ev = op(sp, MS_OP_USED, MS_SRC_API, BASE, 4 * PS, PS, 0);
	expect_int_eq(ev.violation, MS_V_ACCOUNTING_MISMATCH, "used with a wrong prepared");
	ev = op(sp, MS_OP_FREE, MS_SRC_API, BASE, 4 * PS, 0, (uint16_t)other);
	expect_int_eq(ev.violation, MS_V_ACCOUNTING_MISMATCH, "free with another stat");
	ev = API(sp, MS_OP_UNUSED, BASE + 3, PS);
	expect_int_eq(ev.violation, MS_V_MISALIGNED, "misaligned address");
	expect_int_eq(ev.result, EINVAL, "misaligned refused");
	ev = API(sp, MS_OP_UNUSED, BASE, PS + 1);
	expect_int_eq(ev.violation, MS_V_MISALIGNED, "misaligned length");
	ev = API(sp, MS_OP_HUGE_PAGE, BASE, PS);
	expect_int_eq(ev.violation, MS_V_HINT_ON_UNMAPPED, "hint on None");
	ev = API(sp, MS_OP_UNUSED, 0, PS);
	expect_int_eq(ev.violation, MS_V_INVALID_RANGE, "NULL");
	ev = API(sp, MS_OP_UNUSED, BASE, 0);
	expect_int_eq(ev.violation, MS_V_INVALID_RANGE, "zero length");
	ev = API(sp, MS_OP_UNUSED, UINT64_MAX - PS + 1, 2 * PS);
	expect_int_eq(ev.violation, MS_V_INVALID_RANGE, "wrapping range");
	/* Replayed as recorded (`memstate check`), an event is judged the same again: an
	 * alloc claiming success at NULL must not read as a refused one the second time. */
	ev = API(sp, MS_OP_ALLOC, 0, PS + 1);
	expect_int_eq(ev.violation, MS_V_INVALID_RANGE, "alloc at NULL");
	{
		struct ms_event again = ev;

		again.violation = 0;
		ms_space_apply(sp, &again);
		expect_int_eq(again.violation, MS_V_INVALID_RANGE, "alloc at NULL, replayed");
	}
	ev = API(sp, MS_OP_ALLOC, BASE + 100 * PS, PS);
	expect_int_eq(ev.violation, 0, "alloc clean");
	ev = API(sp, MS_OP_ALLOC, BASE + 100 * PS, PS);
	expect_int_eq(ev.violation, MS_V_ILLEGAL_TRANSITION, "alloc over owned");
	ev = API(sp, MS_OP_FAULT, BASE + 100 * PS, PS);
	expect_int_eq(ev.violation, 0, "fault on Ready");
	ev = API(sp, MS_OP_FAULT, BASE + 100 * PS, PS);
	expect_int_eq(ev.violation, MS_V_ILLEGAL_TRANSITION, "fault on Reserved");
	ev = API(sp, MS_OP_USED, BASE + 100 * PS, PS);
	expect_int_eq(ev.violation, MS_V_ILLEGAL_TRANSITION, "used on Reserved");
	/* Kernel: faults */
	ev = op(sp, MS_OP_PAGE_FAULT, MS_SRC_KERNEL, BASE + 100 * PS + 17, 0, 0x401000, 0);
	expect_int_eq(ev.violation, MS_V_ACCESS_RESERVED, "fault in Reserved");
	API(sp, MS_OP_RESERVE, BASE + 200 * PS, PS);
	API(sp, MS_OP_MAP, BASE + 200 * PS, PS);
	ev = op(sp, MS_OP_PAGE_FAULT, MS_SRC_KERNEL, BASE + 200 * PS, 0, 0x401000, 0);
	expect_int_eq(ev.violation, MS_V_ACCESS_PREPARED, "fault in declared Prepared");
	/* Messages name the op, the range and the states. */
	assert_true(ms_space_violation_get(sp, 0, &v) == 0, "first violation kept");
	expect_true(strstr(v.message, "sysMap") && strstr(v.message, "None"), "message: %s",
		    v.message);
	{
		struct ms_totals t;

		ms_space_totals(sp, &t);
		expect_u64_eq(t.by_kind[MS_V_DOUBLE_FREE], 2, "double-free count");
		expect_u64_eq(t.by_kind[MS_V_INVALID_RANGE], 5, "invalid-range count");
		expect_u64_eq(t.violations, ms_space_violation_count(sp), "all kept");
	}
	expect_valid(sp, "end");
	ms_space_free(sp);
}
TEST_END

TEST_BEGIN(test_syscall_source_never_semantic)
{
	struct ms_space *sp = new_space();
	struct ms_event ev;
	struct ms_totals t;

	/* The kernel accepted these: they are the truth, never violations. */
	ev = op(sp, MS_OP_FREE, MS_SRC_SYSCALL, BASE, 4 * PS, 0, 0);
	expect_int_eq(ev.violation, 0, "munmap of nothing");
	ev = op(sp, MS_OP_ALLOC, MS_SRC_SYSCALL, BASE, 4 * PS, 0, 0);
	ev = op(sp, MS_OP_ALLOC, MS_SRC_SYSCALL, BASE, 4 * PS, 0, 0);
	expect_int_eq(ev.violation, 0, "alloc over owned");
	ev = op(sp, MS_OP_FAULT, MS_SRC_SYSCALL, BASE, 2 * PS, 0, 0);
	expect_int_eq(ev.violation, 0, "decommit");
	ev = op(sp, MS_OP_MAP, MS_SRC_SYSCALL, BASE, 2 * PS, 0, 0);
	expect_int_eq(ev.violation, 0, "mprotect RW over Reserved");
	/* First touch of inferred Prepared memory is an inferred sysUsed. */
	ev = op(sp, MS_OP_PAGE_FAULT, MS_SRC_KERNEL, BASE + PS + 8, 0, 0, 0);
	expect_int_eq(ev.violation, 0, "first touch is not a violation");
	expect_int_eq(ev.to, MS_READY, "first touch makes Ready");
	expect_true(ev.flags & MS_EVF_INFERRED, "marked inferred");
	expect_int_eq(ms_space_state_at(sp, BASE + PS, NULL), MS_READY, "page Ready");
	expect_int_eq(ms_space_state_at(sp, BASE, NULL), MS_PREPARED, "neighbour untouched");
	/* Failed syscalls change nothing. */
	{
		struct ms_event f = {.op = MS_OP_FREE,
				     .source = MS_SRC_SYSCALL,
				     .addr = BASE,
				     .len = 4 * PS,
				     .result = EINVAL};

		ms_space_apply(sp, &f);
		expect_true(f.flags & MS_EVF_FAILED, "failed flag");
		expect_int_eq(ms_space_state_at(sp, BASE, NULL), MS_PREPARED, "unchanged");
	}
	ms_space_totals(sp, &t);
	expect_u64_eq(t.violations, 0, "no violations from syscalls");
	expect_valid(sp, "end");
	ms_space_free(sp);
}
TEST_END

TEST_BEGIN(test_split_merge_and_counters)
{
	struct ms_space *sp = new_space();
	struct ms_region r;
	struct ms_totals t;
	uint64_t faults = 0;

	API(sp, MS_OP_ALLOC, BASE, 100 * PS);
	for (int i = 0; i < 100; i += 3) {
		op(sp, MS_OP_PAGE_FAULT, MS_SRC_KERNEL, BASE + (uint64_t)i * PS, 0, 0, 0);
		faults++;
	}
	/* Punch holes of every other state, then restore: must merge back into one. */
	API(sp, MS_OP_UNUSED, BASE + 10 * PS, 5 * PS);
	API(sp, MS_OP_HUGE_PAGE, BASE + 30 * PS, 5 * PS);
	API(sp, MS_OP_FAULT, BASE + 50 * PS, 5 * PS);
	ms_space_totals(sp, &t);
	expect_u64_eq(t.regions, 7, "three holes make seven intervals");
	op(sp, MS_OP_USED, MS_SRC_API, BASE + 10 * PS, 5 * PS, 5 * PS, 0);
	API(sp, MS_OP_HUGE_PAGE, BASE, 30 * PS);
	API(sp, MS_OP_HUGE_PAGE, BASE + 35 * PS, 65 * PS);
	ms_space_totals(sp, &t);
	expect_u64_eq(t.regions, 3, "hint everywhere but the fault: H | Res | H");
	{
		uint64_t sum = 0;
		struct ms_snapshot *s = ms_space_snapshot(sp);

		assert_true(s != NULL, "snapshot");
		for (size_t i = 0; i < s->nregions; i++)
			sum += s->regions[i].faults;
		expect_u64_eq(sum, faults, "fault counts survive splits and merges");
		ms_snapshot_free(s);
	}
	expect_int_eq(ms_space_state_at(sp, BASE + 52 * PS, &r), MS_RESERVED, "faulted");
	expect_u64_eq(r.start, BASE + 50 * PS, "faulted start");
	expect_u64_eq(r.end, BASE + 55 * PS, "faulted end");
	expect_valid(sp, "end");
	ms_space_free(sp);
}
TEST_END

TEST_BEGIN(test_fault_keeps_stat_charged)
{
	struct ms_space *sp = new_space();
	int heap = ms_space_stat_id(sp, "heap");
	struct ms_stat_info si;
	struct ms_event ev;

	op(sp, MS_OP_ALLOC, MS_SRC_API, BASE, 4 * PS, 0, (uint16_t)heap);
	API(sp, MS_OP_FAULT, BASE, 2 * PS);
	ms_space_stat_info(sp, (unsigned)heap, &si);
	expect_u64_eq(si.bytes, 4 * PS, "sysFault leaves the stat charged (Go's rule)");
	ev = op(sp, MS_OP_FREE, MS_SRC_API, BASE, 4 * PS, 0, (uint16_t)heap);
	expect_int_eq(ev.violation, 0, "freeing faulted memory with its stat is clean");
	ms_space_stat_info(sp, (unsigned)heap, &si);
	expect_u64_eq(si.bytes, 0, "stat back to zero");
	ms_space_free(sp);
}
TEST_END

TEST_BEGIN(test_log_overflow_counted)
{
	struct ms_space_opts o = {.page_size = PS, .log_capacity = 16};
	struct ms_space *sp = ms_space_new(&o);
	struct ms_event evs[32];
	struct ms_totals t;
	size_t n;

	for (int i = 0; i < 40; i++)
		API(sp, MS_OP_HUGE_PAGE, BASE, PS); /* violations, cheap */
	ms_space_totals(sp, &t);
	expect_u64_eq(t.events, 40, "all applied");
	expect_u64_eq(t.dropped_events, 24, "overflow counted");
	n = ms_space_events_read(sp, evs, 32);
	expect_u64_eq(n, 16, "ring keeps the oldest");
	expect_u64_eq(evs[0].seq, 0, "first seq");
	expect_u64_eq(evs[15].seq, 15, "last seq");
	ms_space_free(sp);
}
TEST_END

static struct ms_event drained[8];
static void on_full(struct ms_space *sp, void *ctx)
{
	int *calls = ctx;

	(*calls)++;
	ms_space_events_read_locked(sp, drained, 8);
}

TEST_BEGIN(test_log_flush_hook)
{
	int calls = 0;
	struct ms_space_opts o = {
		.page_size = PS, .log_capacity = 8, .on_full = on_full, .on_full_ctx = &calls};
	struct ms_space *sp = ms_space_new(&o);
	struct ms_totals t;

	for (int i = 0; i < 40; i++)
		API(sp, MS_OP_HUGE_PAGE, BASE, PS);
	ms_space_totals(sp, &t);
	expect_int_eq(calls, 4, "hook drains each time the ring fills");
	expect_u64_eq(t.dropped_events, 0, "nothing dropped with a draining hook");
	ms_space_free(sp);
}
TEST_END

/* ------------------------------------------------------------------ differential test */

#define NPAGES 1024

static struct page model[NPAGES];

struct cmp_ctx {
	uint64_t page; /* next page expected */
	int bad;
	char why[160];
};

static int cmp_region(const struct ms_region *r, void *arg)
{
	struct cmp_ctx *c = arg;
	uint64_t p0 = (r->start - BASE) / PS, p1 = (r->end - BASE) / PS;

	/* pages before r are None */
	for (; c->page < p0; c->page++) {
		if (model[c->page].state != MS_NONE) {
			snprintf(c->why, sizeof(c->why), "page %" PRIu64 " should be tracked",
				 c->page);
			return c->bad = 1;
		}
	}
	for (uint64_t i = p0; i < p1; i++) {
		const struct page *p = &model[i];

		if (p->state != r->state || p->huge != r->huge ||
		    p->file != (r->kind == MS_KIND_FILE) ||
		    p->inferred != !!(r->flags & MS_RF_INFERRED) ||
		    p->thp != !!(r->flags & MS_RF_THP) || p->stat != r->stat) {
			snprintf(c->why, sizeof(c->why),
				 "page %" PRIu64 ": model state %u stat %u, tree %u/%u", i,
				 p->state, p->stat, r->state, r->stat);
			return c->bad = 1;
		}
	}
	/* maximal: the page after must differ (or be None) */
	if (p1 < NPAGES && model[p1].state != MS_NONE &&
	    page_model_same(&model[p1], &model[p1 - 1])) {
		/* it may be the next region only if they differ; equal means a missed merge */
		snprintf(c->why, sizeof(c->why),
			 "interval ends at page %" PRIu64 " without a change", p1);
		return c->bad = 1;
	}
	c->page = p1;
	return 0;
}

TEST_BEGIN(test_differential_1m)
{
	struct ms_space *sp = new_space();
	uint64_t seed = 0xc0ffee, bytes[MS_STATE_COUNT];
	uint16_t stats[4] = {0};
	struct ms_totals t;
	unsigned long ops = 1000000, mismatches = 0;

	memset(model, 0, sizeof(model));
	stats[1] = (uint16_t)ms_space_stat_id(sp, "heap");
	stats[2] = (uint16_t)ms_space_stat_id(sp, "stack");
	stats[3] = (uint16_t)ms_space_stat_id(sp, "meta");
	for (unsigned long i = 0; i < ops; i++) {
		uint64_t r = test_rand(&seed);
		unsigned o = (unsigned)(r % MS_OP_PROC_FORK); /* memory operations */
		uint64_t p0 = (r >> 8) % NPAGES, np, want_from[MS_STATE_COUNT] = {0};
		struct ms_event ev = {.pid = 1, .tid = 1};
		unsigned want_v;

		if (o == MS_OP_THP_COLLAPSE)
			o = MS_OP_HUGE_PAGE_COLLAPSE;
		np = 1 + ((r >> 24) % 4 ? (r >> 32) % 8 : (r >> 32) % 128);
		if (p0 + np > NPAGES)
			np = NPAGES - p0;
		ev.op = (uint8_t)o;
		ev.source = (r >> 40) % 3 ? MS_SRC_API : MS_SRC_SYSCALL;
		ev.stat = stats[(r >> 44) % 4];
		ev.result = (r >> 48) % 50 == 0 ? ENOMEM : 0;
		if (o == MS_OP_PAGE_FAULT) {
			np = 1;
			ev.source = MS_SRC_KERNEL;
			ev.addr = BASE + p0 * PS + (r >> 50) % PS;
			ev.result = 0;
		} else {
			ev.addr = BASE + p0 * PS;
			ev.len = np * PS;
		}
		for (uint64_t k = p0; k < p0 + np; k++)
			want_from[model[k].state] += PS;
		if (o == MS_OP_USED) /* mostly the exact count, sometimes a lie */
			ev.arg = (r >> 56) % 8 ? want_from[MS_PREPARED]
					       : want_from[MS_PREPARED] + PS;
		if (o == MS_OP_PAGE_FAULT) {
			const struct page *p = &model[p0];

			want_v = p->state == MS_RESERVED && !p->file	   ? MS_V_ACCESS_RESERVED
				 : p->state == MS_PREPARED && !p->inferred ? MS_V_ACCESS_PREPARED
									   : 0;
		} else {
			want_v = page_model_violation(model, PS, &ev, want_from, p0, np);
		}
		ms_space_apply(sp, &ev);
		if (memcmp(ev.from, want_from, sizeof(want_from)) || ev.violation != want_v) {
			if (mismatches++ < 5)
				test_fail(__FILE__, __LINE__,
					  "op %lu %s src %u [%" PRIu64 "+%" PRIu64
					  "]: violation %u want %u, "
					  "from R%" PRIu64 "/P%" PRIu64 "/Y%" PRIu64
					  " want R%" PRIu64 "/P%" PRIu64 "/Y%" PRIu64,
					  i, ms_op_name(o), ev.source, p0, np, ev.violation, want_v,
					  ev.from[1], ev.from[2], ev.from[3], want_from[1],
					  want_from[2], want_from[3]);
		}
		if (o == MS_OP_PAGE_FAULT) {
			struct page *p = &model[p0];

			if (p->state == MS_PREPARED && p->inferred && !p->file) {
				p->state = MS_READY;
				p->inferred = 0;
			}
		} else {
			page_model_apply(model, &ev, p0, np);
		}
		if (i % 997 == 0 || i == ops - 1) {
			struct cmp_ctx c = {0};

			ms_space_foreach_region(sp, cmp_region, &c);
			for (; !c.bad && c.page < NPAGES; c.page++) {
				if (model[c.page].state != MS_NONE) {
					snprintf(c.why, sizeof(c.why), "page %" PRIu64 " missing",
						 c.page);
					c.bad = 1;
				}
			}
			assert_true(!c.bad, "after op %lu: %s", i, c.why);
		}
		if (i % 50021 == 0)
			expect_valid(sp, "periodic");
		drain(sp);
	}
	assert_true(mismatches == 0, "%lu mismatches", mismatches);
	/* Totals agree with a recount of the model. */
	memset(bytes, 0, sizeof(bytes));
	for (int k = 0; k < NPAGES; k++) {
		if (!model[k].file)
			bytes[model[k].state] += PS;
	}
	ms_space_totals(sp, &t);
	for (int s = MS_RESERVED; s < MS_STATE_COUNT; s++)
		expect_u64_eq(t.bytes[s], bytes[s], ms_state_name((unsigned)s));
	expect_u64_eq(t.events, ops, "events");
	expect_valid(sp, "end");
	ms_space_free(sp);
}
TEST_END

int main(void)
{
	return test_run(test_go_lifecycle, test_violations_each_kind,
			test_syscall_source_never_semantic, test_split_merge_and_counters,
			test_fault_keeps_stat_charged, test_log_overflow_counted,
			test_log_flush_hook, test_differential_1m, NULL);
}
