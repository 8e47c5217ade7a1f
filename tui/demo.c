// SPDX-License-Identifier: MIT
/*
 * A synthetic producer for the live view: a thread that drives a Go-like heap through a
 * shadow space (a reserved arena mapped 4 MiB at a time, spans made Ready and given back,
 * page faults, huge-page hints and collapses, metadata far away, and now and then a
 * deliberate violation) and publishes every event into struct ms_live, as the tracer does.
 *
 * It stands in for `memstate run --tui` in `memstate view --demo`, in the bats tests of
 * the live mode and in the benchmark that checks the frame rate at 1M events/s. It calls
 * no OS memory API: it is a feed, the addresses are made up.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"
#include "tui.h"

#define DEMO_ARENA	0xc000000000ull
#define DEMO_ARENA_LEN	(256ull << 20)
#define DEMO_CHUNK	(4ull << 20)
#define DEMO_PAGE	8192ull /* Go's heap page */
#define DEMO_META	0x7f3a00000000ull
#define DEMO_META_SLOTS 64
#define DEMO_BAD_EVERY	20000 /* events between two deliberate violations */

struct ms_demo {
	struct ms_live *live;	/* where events go */
	struct ms_space *space; /* the heap's shadow space (owned) */
	uint64_t rate;		/* events per second, 0: unlimited */
	uint64_t rng;		/* xorshift state */
	uint64_t mapped;	/* arena bytes mapped so far */
	uint64_t meta_live;	/* bitmap of allocated metadata slots */
	int heap, meta;		/* stat ids */
	uint32_t pid;		/* the pid it pretends to be */
	pthread_t thread;
	atomic_bool stop;	   /* ask the thread to end */
	atomic_uint_fast64_t done; /* events produced */
};

static uint64_t rnd(struct ms_demo *d)
{
	d->rng ^= d->rng >> 12;
	d->rng ^= d->rng << 25;
	d->rng ^= d->rng >> 27;
	return d->rng * 0x2545f4914f6cdd1dull;
}

static void drain_log(struct ms_space *sp, void *ctx)
{
	struct ms_event sink[64];

	(void)ctx;
	while (ms_space_events_read_locked(sp, sink, 64))
		;
}

/* Apply one operation and publish it, as the tracer's capture thread does. */
static void emit(struct ms_demo *d, unsigned op, unsigned src, uint64_t addr, uint64_t len,
		 uint64_t arg, int stat)
{
	struct ms_event ev = {.op = (uint8_t)op,
			      .source = (uint8_t)src,
			      .addr = addr,
			      .len = len,
			      .arg = arg,
			      .stat = (uint16_t)(stat > 0 ? stat : 0),
			      .pid = d->pid,
			      .tid = d->pid,
			      .t_ns = ms_now_ns()};
	char msg[96] = "";

	ms_space_lock(d->space);
	if (ms_space_check_locked(d->space, &ev) >= 0) {
		ms_space_commit_locked(d->space, &ev);
		if (ev.violation) {
			const char *m = ms_space_violation_message_locked(d->space, ev.seq);

			if (m)
				snprintf(msg, sizeof(msg), "%s", m);
		}
	}
	ms_space_unlock(d->space);
	ms_live_publish(d->live, &ev, msg);
	atomic_fetch_add_explicit(&d->done, 1, memory_order_relaxed);
}

static uint64_t bytes_in(struct ms_demo *d, uint64_t addr, uint64_t len, unsigned state)
{
	uint64_t b[MS_STATE_COUNT];

	ms_space_bytes_in(d->space, addr, len, b);
	return b[state];
}

/* One step of the workload. */
static void step(struct ms_demo *d)
{
	uint64_t n = d->mapped / DEMO_PAGE, r = rnd(d) % 100, p, len, addr;

	if (d->mapped < DEMO_ARENA_LEN && (n == 0 || rnd(d) % 2000 == 0)) {
		emit(d, MS_OP_MAP, MS_SRC_API, DEMO_ARENA + d->mapped, DEMO_CHUNK, 0, d->heap);
		d->mapped += DEMO_CHUNK;
		return;
	}
	p = rnd(d) % n;
	len = (1 + rnd(d) % 16) * DEMO_PAGE;
	if ((p + 16) * DEMO_PAGE > d->mapped)
		p = n - 16;
	addr = DEMO_ARENA + p * DEMO_PAGE;
	if (r < 45) { /* hand out a span: exactly its Prepared bytes, as Go passes them */
		emit(d, MS_OP_USED, MS_SRC_API, addr, len, bytes_in(d, addr, len, MS_PREPARED), 0);
	} else if (r < 70) { /* scavenge a span that is all Ready */
		if (bytes_in(d, addr, len, MS_READY) == len)
			emit(d, MS_OP_UNUSED, MS_SRC_API, addr, len, 0, 0);
		else
			emit(d, MS_OP_USED, MS_SRC_API, addr, len,
			     bytes_in(d, addr, len, MS_PREPARED), 0);
	} else if (r < 85) { /* the program touches Ready memory: page faults */
		if (bytes_in(d, addr, DEMO_PAGE, MS_READY) == DEMO_PAGE)
			emit(d, MS_OP_PAGE_FAULT, MS_SRC_KERNEL, addr + (rnd(d) % DEMO_PAGE), 4096,
			     0x401000, 0);
		else
			emit(d, MS_OP_USED, MS_SRC_API, addr, DEMO_PAGE,
			     bytes_in(d, addr, DEMO_PAGE, MS_PREPARED), 0);
	} else if (r < 87) { /* huge-page advice and a collapse on a 2 MiB chunk */
		addr = DEMO_ARENA + (rnd(d) % (d->mapped >> 21)) * (2ull << 20);
		if (rnd(d) % 3)
			emit(d, MS_OP_HUGE_PAGE, MS_SRC_API, addr, 2ull << 20, 0, 0);
		else
			emit(d, MS_OP_THP_COLLAPSE, MS_SRC_KERNEL, addr, 2ull << 20, 0, 0);
	} else { /* metadata, far from the arena */
		unsigned slot = (unsigned)(rnd(d) % DEMO_META_SLOTS);
		uint64_t m = DEMO_META + slot * (256ull << 10);

		if (d->meta_live & (1ull << slot))
			emit(d, MS_OP_FREE, MS_SRC_API, m, 64ull << 10, 0, d->meta);
		else
			emit(d, MS_OP_ALLOC, MS_SRC_API, m, 64ull << 10, 0, d->meta);
		d->meta_live ^= 1ull << slot;
	}
}

/* A bug now and then, so that `v` has something to find. */
static void misbehave(struct ms_demo *d)
{
	uint64_t m = DEMO_META + (DEMO_META_SLOTS + 1) * (256ull << 10);

	if (rnd(d) % 2) {
		emit(d, MS_OP_ALLOC, MS_SRC_API, m, 64ull << 10, 0, d->meta);
		emit(d, MS_OP_FREE, MS_SRC_API, m, 64ull << 10, 0, d->meta);
		emit(d, MS_OP_FREE, MS_SRC_API, m, 64ull << 10, 0, d->meta); /* double-free */
	} else {
		/* Touch of a span given back with sysUnused: access-prepared. */
		uint64_t a = DEMO_ARENA + (rnd(d) % (d->mapped / DEMO_PAGE)) * DEMO_PAGE;

		emit(d, MS_OP_USED, MS_SRC_API, a, DEMO_PAGE,
		     bytes_in(d, a, DEMO_PAGE, MS_PREPARED), 0);
		emit(d, MS_OP_UNUSED, MS_SRC_API, a, DEMO_PAGE, 0, 0);
		emit(d, MS_OP_PAGE_FAULT, MS_SRC_KERNEL, a + 64, 4096, 0x401000, 0);
	}
}

static void *run(void *arg)
{
	struct ms_demo *d = arg;
	uint64_t start = ms_now_ns(), n = 0;

	emit(d, MS_OP_RESERVE, MS_SRC_API, DEMO_ARENA, DEMO_ARENA_LEN, DEMO_ARENA, 0);
	while (!atomic_load_explicit(&d->stop, memory_order_relaxed)) {
		/* Work in slices of 1 ms worth of events, then sleep if ahead of the rate. */
		uint64_t batch = d->rate ? (d->rate + 999) / 1000 : 4096;

		for (uint64_t i = 0; i < batch; i++, n++) {
			if (n && n % DEMO_BAD_EVERY == 0)
				misbehave(d);
			else
				step(d);
		}
		if (d->rate) {
			uint64_t due = start + n * 1000000000ull / d->rate, now = ms_now_ns();

			if (due > now) {
				struct timespec ts = {
					.tv_sec = (time_t)((due - now) / 1000000000ull),
					.tv_nsec = (long)((due - now) % 1000000000ull)};

				nanosleep(&ts, NULL);
			}
		}
	}
	return NULL;
}

struct ms_demo *ms_demo_start(struct ms_live *live, uint64_t rate, uint64_t seed)
{
	struct ms_space_opts o = {.page_size = 4096, .log_capacity = 1024, .on_full = drain_log};
	struct ms_demo *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->live = live;
	d->rate = rate;
	d->rng = seed ? seed : 0x5eed;
	d->pid = (uint32_t)getpid();
	d->space = ms_space_new(&o);
	if (!d->space)
		goto fail;
	d->heap = ms_space_stat_id(d->space, "heap");
	d->meta = ms_space_stat_id(d->space, "metadata");
	if (!ms_live_add_proc(live, d->pid, (uint32_t)getppid(), "demo: a synthetic Go-like heap",
			      d->space))
		goto fail;
	if (pthread_create(&d->thread, NULL, run, d))
		goto fail;
	return d;
fail:
	ms_space_free(d->space);
	free(d);
	return NULL;
}

uint64_t ms_demo_produced(const struct ms_demo *d)
{
	return atomic_load_explicit(&((struct ms_demo *)d)->done, memory_order_relaxed);
}

uint64_t ms_demo_stop(struct ms_demo *d)
{
	uint64_t n;

	if (!d)
		return 0;
	atomic_store(&d->stop, true);
	pthread_join(d->thread, NULL);
	n = ms_demo_produced(d);
	ms_space_free(d->space);
	free(d);
	return n;
}
