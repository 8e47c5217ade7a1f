// SPDX-License-Identifier: MIT
/*
 * The tracer's merge on synthetic sink records, no source and no traced program: records
 * come out in time order whatever order they arrive in, a hold keeps back what is stamped
 * from its time on, and an API call's own syscall is folded into it (de-duplication),
 * while a syscall that does something else than the call declared is flagged.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lib/reader.h"
#include "memstate/timeline.h"
#include "test.h"
#include "test_main.h"
#include "tracer/trace.h"

#define PG  4096ull
#define PID 4242u
#define A   0x10000000ull /* the addresses records map */
#define B   0x20000000ull
#define C   0x30000000ull

struct rig {
	struct ms_trace *t;
	struct ms_tl_writer *w;
	const struct ms_sink *sink;
	char path[64];
	uint64_t t0;	    /* records are stamped t0 + µs, a second in the past */
	uint64_t addrs[16]; /* the events' addresses, in timeline order */
	unsigned nev;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void rig_open(struct rig *r)
{
	struct ms_trace_opts o = {.page_size = PG, .window_ns = 1000000};
	int err, fd;

	memset(r, 0, sizeof(*r));
	snprintf(r->path, sizeof(r->path), "/tmp/memstate-test-trace-XXXXXX");
	fd = mkstemp(r->path);
	assert_true(fd >= 0, "mkstemp");
	close(fd);
	r->w = ms_tlw_open(r->path, MS_TL_JSONL, &err);
	assert_true(r->w, "writer: %d", err);
	r->t0 = now_ns() - 1000000000ull;
	ms_tlw_header(r->w, &(struct ms_tl_header){.page_size = PG, .t0_ns = r->t0});
	o.writer = r->w;
	r->t = ms_trace_new(&o);
	assert_true(r->t, "trace");
	r->sink = ms_trace_sink(r->t);
	assert_true(ms_trace_add_process(r->t, PID, 1, "synthetic") == 0, "process");
}

/* Finish, then read the events' addresses back through the reader. */
static void rig_finish(struct rig *r)
{
	struct ms_tl_reader *rd;
	struct ms_tl_item it;
	char msg[256];
	int err = 0;

	ms_trace_finish(r->t, NULL, "done");
	assert_true(ms_tlw_close(r->w) == 0, "timeline written");
	r->w = NULL;
	rd = ms_tlr_open(r->path, &err, msg, sizeof(msg));
	assert_true(rd, "reader: %s", msg);
	while (ms_tlr_next(rd, &it) == 1) {
		if (it.type == MS_TLI_EVENT && r->nev < 16)
			r->addrs[r->nev++] = it.event.ev.addr;
	}
	ms_tlr_close(rd);
}

static void rig_close(struct rig *r)
{
	ms_trace_free(r->t);
	if (r->w)
		ms_tlw_close(r->w);
	unlink(r->path);
}

/* mmap(NULL, len, RW, PRIVATE|ANON) that returned addr, by thread tid at t0 + us. */
static void sys_mmap(struct rig *r, uint32_t tid, uint64_t us, uint64_t addr, uint64_t len)
{
	struct ms_sysrec rec = {.t_ns = r->t0 + us * 1000,
				.pid = PID,
				.tid = tid,
				.nr = SYS_mmap,
				.ret = (int64_t)addr,
				.args = {0, len, PROT_READ | PROT_WRITE,
					 MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0}};

	r->sink->on_syscall(r->sink->ctx, &rec);
}

/* The library's ms_alloc(addr, len) by thread tid, from t0 + us for dur_us. */
static void api_alloc(struct rig *r, uint32_t tid, uint64_t us, uint64_t dur_us, uint64_t addr,
		      uint64_t len)
{
	struct ms_event ev = {.op = MS_OP_ALLOC,
			      .source = MS_SRC_API,
			      .addr = addr,
			      .len = len,
			      .pid = PID,
			      .tid = tid,
			      .t_ns = r->t0 + us * 1000,
			      .aux = dur_us * 1000};

	r->sink->on_api(r->sink->ctx, &ev, "");
}

TEST_BEGIN(test_time_order)
{
	struct rig r;

	rig_open(&r);
	/* Three threads' records arrive out of time order (sources lag differently). */
	sys_mmap(&r, PID + 2, 300, C, PG);
	sys_mmap(&r, PID, 100, A, PG);
	sys_mmap(&r, PID + 1, 200, B, PG);
	ms_trace_flush(r.t, true);
	rig_finish(&r);
	expect_u64_eq(r.nev, 3, "three events");
	expect_u64_eq(r.addrs[0], A, "the earliest first");
	expect_u64_eq(r.addrs[1], B, "then the next");
	expect_u64_eq(r.addrs[2], C, "the latest last");
	rig_close(&r);
}
TEST_END

TEST_BEGIN(test_hold)
{
	struct rig r;

	rig_open(&r);
	sys_mmap(&r, PID, 100, A, PG);
	sys_mmap(&r, PID, 200, B, PG);
	sys_mmap(&r, PID, 300, C, PG);
	/* A source still owes a record stamped at 200 µs: nothing from there on goes out. */
	ms_trace_hold(r.t, r.t0 + 200 * 1000);
	ms_trace_flush(r.t, false);
	expect_u64_eq(ms_tlw_events(r.w), 1, "only the record before the hold");
	ms_trace_hold(r.t, 0);
	ms_trace_flush(r.t, false);
	expect_u64_eq(ms_tlw_events(r.w), 3, "the rest once it is lifted");
	rig_finish(&r);
	expect_u64_eq(r.addrs[0], A, "in order");
	expect_u64_eq(r.addrs[2], C, "in order");
	rig_close(&r);
}
TEST_END

TEST_BEGIN(test_window)
{
	struct rig r;
	uint64_t late;

	rig_open(&r);
	sys_mmap(&r, PID, 100, A, PG);
	/* A record from just now waits the window out for slower sources. */
	late = (now_ns() - r.t0) / 1000;
	sys_mmap(&r, PID, late, B, PG);
	ms_trace_flush(r.t, false);
	expect_u64_eq(ms_tlw_events(r.w), 1, "the recent record waits");
	ms_trace_flush(r.t, true);
	expect_u64_eq(ms_tlw_events(r.w), 2, "draining releases it");
	rig_close(&r);
}
TEST_END

TEST_BEGIN(test_api_dedup)
{
	struct ms_trace_stats st;
	struct rig r;

	rig_open(&r);
	/* ms_alloc's own mmap (inside the call, same thread) is the call: one event. The
	 * syscall may arrive before the API record (another source). */
	sys_mmap(&r, PID, 105, A, 2 * PG);
	api_alloc(&r, PID, 100, 20, A, 2 * PG);
	/* Another thread's mmap at the same moment is its own. */
	sys_mmap(&r, PID + 1, 106, B, PG);
	ms_trace_flush(r.t, true);
	ms_trace_get_stats(r.t, &st);
	expect_u64_eq(st.suppressed, 1, "the call's syscall folded into it");
	expect_u64_eq(st.mismatches, 0, "no mismatch");
	rig_finish(&r);
	expect_u64_eq(r.nev, 2, "the call and the other thread's mmap");
	expect_u64_eq(r.addrs[0], A, "the call, at its start");
	expect_u64_eq(r.addrs[1], B, "then the other thread's");
	rig_close(&r);
}
TEST_END

TEST_BEGIN(test_api_mismatch)
{
	struct ms_trace_stats st;
	struct rig r;

	rig_open(&r);
	/* The call says A, its mmap made C: what the kernel did is applied, and flagged. */
	api_alloc(&r, PID, 100, 20, A, PG);
	sys_mmap(&r, PID, 110, C, PG);
	ms_trace_flush(r.t, true);
	ms_trace_get_stats(r.t, &st);
	expect_u64_eq(st.suppressed, 0, "nothing folded");
	expect_u64_eq(st.mismatches, 1, "an api-mismatch");
	rig_finish(&r);
	expect_u64_eq(r.nev, 2, "both applied");
	rig_close(&r);
}
TEST_END

int main(void)
{
	return test_run(test_time_order, test_hold, test_window, test_api_dedup, test_api_mismatch,
			NULL);
}
