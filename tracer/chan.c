// SPDX-License-Identifier: MIT
/*
 * The API channel, tracer side (memstate/channel.h): a capture source that reads the API
 * events programs linked with libmemstate write into shared memory.
 *
 * The traced program is not trusted: each record is copied out, checked and rewritten
 * (pid and source forced to the slot owner's, results only through the fields the tracer
 * recomputes anyway), so a hostile or broken program can lose its own events, never crash
 * or mislead the tracer about another process.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "memstate/channel.h"
#include "source.h"

#define BATCH	   512
#define MAX_AUX_NS 1000000000u /* an API call's window is never longer than a second */

struct chan {
	int fd;	   /* memfd the traced programs inherit */
	void *mem; /* its mapping */
	size_t size;
	const struct ms_sink *sink;
	uint32_t gen[MS_CHAN_SLOTS];   /* generation of the claim being read */
	uint64_t drops[MS_CHAN_SLOTS]; /* producer drops already reported */
	uint64_t lost;		       /* dropped + refused records */
	struct ms_event buf[BATCH];
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int chan_probe(char *why, size_t len)
{
	(void)why;
	(void)len;
	return 0;
}

static int chan_open(const struct ms_source_cfg *cfg, const struct ms_sink *sink, void **state)
{
	struct chan *c = calloc(1, sizeof(*c));

	(void)cfg;
	if (!c)
		return -ENOMEM;
	c->sink = sink;
	c->size = ms_chan_bytes();
	/* Not close-on-exec: the traced program inherits it through MEMSTATE_CHANNEL. */
	c->fd = memfd_create("memstate-channel", 0);
	if (c->fd < 0 || ftruncate(c->fd, (off_t)c->size)) {
		int err = -errno;

		if (c->fd >= 0)
			close(c->fd);
		free(c);
		return err;
	}
	c->mem = mmap(NULL, c->size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
	if (c->mem == MAP_FAILED) {
		int err = -errno;

		close(c->fd);
		free(c);
		return err;
	}
	ms_chan_init(c->mem, (uint32_t)getpid());
	*state = c;
	return 0;
}

/* Copy of a stat name from the slot: NUL-terminated whatever the program wrote. */
static void stat_name(struct ms_chan_slot *s, unsigned id, char out[MS_CHAN_STAT_LEN])
{
	if (!id) {
		out[0] = 0;
	} else if (id < MS_CHAN_STATS) {
		memcpy(out, s->stat_names[id], MS_CHAN_STAT_LEN);
		out[MS_CHAN_STAT_LEN - 1] = 0;
		if (!out[0])
			snprintf(out, MS_CHAN_STAT_LEN, "stat#%u", id);
	} else {
		snprintf(out, MS_CHAN_STAT_LEN, "stat#%u", id);
	}
}

/* Rewrite a record from a traced program into a request the tracer can apply; false: refuse. */
static bool sanitize(struct ms_event *ev, uint32_t owner, uint64_t now)
{
	if (ev->op > MS_OP_HUGE_PAGE_COLLAPSE)
		return false;
	ev->pid = owner;
	if (!ev->tid)
		ev->tid = owner;
	ev->source = MS_SRC_API;
	ev->flags &= MS_EVF_NOTE;
	ev->kind = MS_KIND_ANON;
	ev->violation = 0;
	ev->seq = 0;
	if (ev->t_ns > now)
		ev->t_ns = now;
	if (ev->aux > MAX_AUX_NS)
		ev->aux = MAX_AUX_NS;
	if (ev->result < 0 || ev->result > 4095)
		ev->result = EINVAL;
	return true;
}

static int read_slot(struct chan *c, unsigned i)
{
	struct ms_chan_slot *s = ms_chan_slot(c->mem, i);
	struct ms_ring *r = ms_chan_ring(s);
	uint32_t owner = __atomic_load_n(&s->owner, __ATOMIC_ACQUIRE);
	uint64_t now = mono_ns(), drops;
	char name[MS_CHAN_STAT_LEN];
	int got = 0;
	size_t n;

	if (!owner)
		return 0;
	/* The ring header lives in memory the program can scribble on. */
	if (r->magic != MS_RING_MAGIC || r->capacity != MS_CHAN_RING_RECS ||
	    r->rec_size != sizeof(struct ms_event)) {
		ms_ring_init(r, MS_CHAN_RING_RECS);
		c->lost++;
		if (c->sink->on_lost)
			c->sink->on_lost(c->sink->ctx, 1, "api channel (corrupt ring)");
	}
	drops = ms_ring_dropped(r);
	if (drops > c->drops[i]) {
		if (c->sink->on_lost)
			c->sink->on_lost(c->sink->ctx, drops - c->drops[i], "api channel");
		c->lost += drops - c->drops[i];
		c->drops[i] = drops;
	}
	while ((n = ms_ring_pop(r, c->buf, BATCH))) {
		for (size_t k = 0; k < n; k++) {
			struct ms_event *ev = &c->buf[k];

			if (!sanitize(ev, owner, now)) {
				c->lost++;
				if (c->sink->on_lost)
					c->sink->on_lost(c->sink->ctx, 1, "api channel (refused)");
				continue;
			}
			stat_name(s, ev->stat, name);
			c->sink->on_api(c->sink->ctx, ev, name);
			got++;
		}
	}
	/* A slot whose owner is gone and whose ring is read is free again. */
	if (kill((pid_t)owner, 0) && errno == ESRCH && !ms_ring_pending(r)) {
		ms_ring_init(r, MS_CHAN_RING_RECS);
		c->drops[i] = 0;
		__atomic_store_n(&s->owner, 0, __ATOMIC_RELEASE);
	}
	return got;
}

static int chan_poll(void *state, int timeout_ms)
{
	struct chan *c = state;
	int got = 0;

	(void)timeout_ms; /* shared memory has nothing to wait on: the caller's loop paces us */
	for (unsigned i = 0; i < MS_CHAN_SLOTS; i++)
		got += read_slot(c, i);
	return got;
}

static int chan_start(void *state, pid_t pid)
{
	(void)state;
	(void)pid;
	return 0;
}

static int chan_fd(void *state)
{
	(void)state;
	return -1;
}

static int chan_stop(void *state)
{
	chan_poll(state, 0);
	return 0;
}

static void chan_close(void *state)
{
	struct chan *c = state;

	if (!c)
		return;
	munmap(c->mem, c->size);
	close(c->fd);
	free(c);
}

static uint64_t chan_lost(void *state)
{
	return ((struct chan *)state)->lost;
}

/* The value of MEMSTATE_CHANNEL for the traced program. */
int ms_src_channel_fd(void *state)
{
	return ((struct chan *)state)->fd;
}

const struct ms_source_ops ms_src_channel = {
	.name = "api",
	.probe = chan_probe,
	.open = chan_open,
	.start = chan_start,
	.poll = chan_poll,
	.fd = chan_fd,
	.stop = chan_stop,
	.close = chan_close,
	.lost = chan_lost,
};
