// SPDX-License-Identifier: MIT
/*
 * The API channel, tracer side (memstate/channel.h): a capture source that reads the API
 * events programs linked with libmemstate write into shared memory.
 *
 * The traced program is not trusted: each record is copied out, checked and rewritten
 * (pid and source forced to the slot owner's, results only through the fields the tracer
 * recomputes anyway), so a hostile or broken program can lose its own events, never crash
 * or mislead the tracer about another process. What it controls and how each is held:
 *  - the ring header: every field is read once into a local (it may change under us at
 *    any moment), the capacity is ours, not the slot's, so no index can leave the slot;
 *  - head: at most one ring's worth of records is taken per slot and poll, so a producer
 *    that keeps moving head cannot keep the tracer in the loop;
 *  - the drop counter: counted once, never backwards, and never faster than one drop per
 *    nanosecond since the last look (a jump beyond that is a scribble, not drops);
 *  - the owner pid: a live process that is neither memstate's descendant nor a holder of
 *    this channel cannot be named (pid 1, another user's daemon...); its records are lost;
 *  - tids: within pid_max, and at most TIDS_PER_SLOT distinct ones per claim unless the
 *    thread really exists, so a stream of made-up tids cannot grow the tracer's tables;
 *  - stat names: read once per id and claim, NUL-terminated here.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"
#include "memstate/channel.h"
#include "lib/source.h"

#define BATCH	      512
#define MAX_AUX_NS    1000000000u /* an API call's window is never longer than a second */
#define TIDS_PER_SLOT 1024	  /* distinct tids taken on trust per claim */

/* What the tracer knows about one slot's current claim (reset when the claim changes). */
struct slot_view {
	uint32_t owner;		      /* the claim these fields are about, 0: none */
	uint32_t generation;	      /* its generation */
	int8_t trusted;		      /* owner checked: 1 ok, -1 refused, 0 not yet */
	uint8_t source;		      /* the claim's source, read once: api or jemalloc */
	uint64_t drops;		      /* producer drops already counted */
	uint64_t read_ns;	      /* when the drops were last read (CLOCK_MONOTONIC) */
	uint32_t ntids;		      /* distinct tids taken */
	uint32_t tids[TIDS_PER_SLOT]; /* them, open addressing (0: free) */
	uint64_t named;		      /* bit per stat id whose name was read */
	char names[MS_CHAN_STATS][MS_CHAN_STAT_LEN]; /* those names */
};

struct chan {
	int fd;	   /* memfd the traced programs inherit */
	void *mem; /* its mapping */
	size_t size;
	dev_t dev; /* the memfd's device and inode, to know a process that maps it */
	ino_t ino;
	pid_t self;	  /* the tracer: never a slot owner */
	uint32_t pid_max; /* tids above are made up */
	const struct ms_sink *sink;
	struct slot_view view[MS_CHAN_SLOTS];
	uint64_t lost; /* dropped + refused records */
	struct ms_event buf[BATCH];
};

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
	{
		struct stat st;
		FILE *f = fopen("/proc/sys/kernel/pid_max", "r");
		unsigned long pm = 0;

		if (!fstat(c->fd, &st)) {
			c->dev = st.st_dev;
			c->ino = st.st_ino;
		}
		if (!f || fscanf(f, "%lu", &pm) != 1 || !pm || pm > (1u << 22))
			pm = 1u << 22; /* PID_MAX_LIMIT */
		if (f)
			fclose(f);
		c->pid_max = (uint32_t)pm;
	}
	c->self = getpid();
	*state = c;
	return 0;
}

/* ------------------------------------------------------------------ who may own a slot */

/* The parent of pid (zombies too), or 0 when it cannot be read. */
static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512], *s;
	ssize_t n;
	int fd, ppid = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	/* "pid (comm) S ppid ...": comm may hold spaces and parentheses, the last ')' ends it */
	s = strrchr(buf, ')');
	if (!s || sscanf(s + 1, " %*c %d", &ppid) != 1)
		return 0;
	return (pid_t)ppid;
}

/* Does pid map this channel (an orphan of the traced tree, re-parented away from us)? */
static bool maps_channel(const struct chan *c, pid_t pid)
{
	char path[64], line[512];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned maj, min;
		unsigned long long ino;

		if (sscanf(line, "%*x-%*x %*4s %*x %x:%x %llu", &maj, &min, &ino) == 3 &&
		    ino == (unsigned long long)c->ino && makedev(maj, min) == (dev_t)c->dev)
			found = true;
	}
	fclose(f);
	return found;
}

/*
 * May records be taken from a slot claimed in pid's name? A process that is gone can be
 * misrepresented no more (its pid is free); a live one must be memstate's descendant (a
 * zombie still names its parent) or map this channel itself.
 */
static bool owner_trusted(const struct chan *c, pid_t pid)
{
	pid_t p = pid;

	if (pid == c->self || pid <= 0 || (uint32_t)pid >= c->pid_max)
		return false;
	if (kill(pid, 0) && errno == ESRCH)
		return true;
	for (int depth = 0; depth < 4096 && p > 1; depth++) {
		p = parent_of(p);
		if (p == c->self)
			return true;
	}
	return maps_channel(c, pid);
}

/* The name of stat id as the slot published it, read once per claim; "" for none. */
static void stat_name(struct slot_view *v, struct ms_chan_slot *s, unsigned id,
		      char out[MS_CHAN_STAT_LEN])
{
	if (!id) {
		out[0] = 0;
	} else if (id < MS_CHAN_STATS) {
		/* Read once: a name that changes later would register one stat per change. */
		if (!(v->named & (1ull << id))) {
			memcpy(v->names[id], s->stat_names[id], MS_CHAN_STAT_LEN);
			v->names[id][MS_CHAN_STAT_LEN - 1] = 0;
			if (!v->names[id][0])
				snprintf(v->names[id], MS_CHAN_STAT_LEN, "stat#%u", id);
			v->named |= 1ull << id;
		}
		memcpy(out, v->names[id], MS_CHAN_STAT_LEN);
	} else {
		snprintf(out, MS_CHAN_STAT_LEN, "stat#%u", id);
	}
}

/* Is tid a thread of owner we may name? New ones are taken on trust up to a bound. */
static bool tid_ok(struct chan *c, struct slot_view *v, uint32_t owner, uint32_t tid)
{
	uint32_t i = (tid * 2654435761u) & (TIDS_PER_SLOT - 1);
	char path[64];

	if (tid == owner)
		return true;
	if (!tid || tid >= c->pid_max)
		return false;
	for (;; i = (i + 1) & (TIDS_PER_SLOT - 1)) {
		if (v->tids[i] == tid)
			return true;
		if (!v->tids[i])
			break;
	}
	if (v->ntids < TIDS_PER_SLOT / 2) {
		v->tids[i] = tid;
		v->ntids++;
		return true;
	}
	/* Past the bound, only threads that really are the owner's. */
	snprintf(path, sizeof(path), "/proc/%u/task/%u", owner, tid);
	return !access(path, F_OK);
}

/* Rewrite a record from a traced program into a request the tracer can apply; false: refuse. */
static bool sanitize(struct chan *c, struct slot_view *v, struct ms_event *ev, uint32_t owner,
		     uint64_t now)
{
	uint64_t resident = ev->from[0];

	if (v->source == MS_SRC_JEMALLOC
		    ? !ms_op_is_extent(ev->op) && ev->op != MS_CHAN_OP_ALLOC_MARK
		    : ev->op > MS_OP_HUGE_PAGE_COLLAPSE)
		return false;
	ev->pid = owner;
	if (!tid_ok(c, v, owner, ev->tid))
		ev->tid = owner;
	ev->source = v->source;
	ev->flags &= v->source == MS_SRC_JEMALLOC ? (MS_EVF_COMMITTED | MS_EVF_APART) : MS_EVF_NOTE;
	ev->kind = MS_KIND_ANON;
	ev->violation = 0;
	ev->seq = 0;
	memset(ev->from, 0, sizeof(ev->from));
	if (ev->op == MS_CHAN_OP_ALLOC_MARK)
		ev->from[0] = resident; /* figures, only copied into the marks file */
	ev->to = 0;
	if (ev->t_ns > now)
		ev->t_ns = now;
	if (ev->aux > MAX_AUX_NS)
		ev->aux = MAX_AUX_NS;
	if (ev->result < 0 || ev->result > MS_MAX_ERRNO)
		ev->result = EINVAL;
	return true;
}

static void lost(struct chan *c, uint64_t n, const char *where)
{
	c->lost = c->lost + n < c->lost ? UINT64_MAX : c->lost + n;
	if (c->sink->on_lost)
		c->sink->on_lost(c->sink->ctx, n, where);
}

/*
 * Take up to one ring's worth of records from a ring in shared memory. Every index is
 * read once and masked with our own capacity: whatever the program writes meanwhile, no
 * read leaves the slot. A record torn by a concurrent write is still one record of 96
 * bytes, checked like any other.
 */
static size_t take(struct ms_ring *r, uint64_t *tail, uint64_t head, struct ms_event *out,
		   size_t max)
{
	const uint64_t cap = MS_CHAN_RING_RECS;
	size_t n = head - *tail < max ? (size_t)(head - *tail) : max;

	for (size_t i = 0; i < n; i++)
		memcpy(&out[i], (const void *)&r->recs[(*tail + i) & (cap - 1)], sizeof(*out));
	*tail += n;
	return n;
}

static int read_slot(struct chan *c, unsigned i)
{
	struct ms_chan_slot *s = ms_chan_slot(c->mem, i);
	struct ms_ring *r = ms_chan_ring(s);
	struct slot_view *v = &c->view[i];
	uint32_t owner = __atomic_load_n(&s->owner, __ATOMIC_ACQUIRE);
	uint32_t gen = __atomic_load_n(&s->generation, __ATOMIC_ACQUIRE);
	uint64_t now, drops, head, tail, end;
	char name[MS_CHAN_STAT_LEN];
	int got = 0;
	size_t n;

	if (!owner)
		return 0;
	now = ms_now_ns(); /* after the owner: 64 slots a poll, most of them free */
	if (owner != v->owner || gen != v->generation) {
		/* A new claim: what we knew about the last one does not hold. Its ring was
		 * reset before the slot was freed, so its drops count from zero. */
		memset(v, 0, sizeof(*v));
		v->owner = owner;
		v->generation = gen;
		v->read_ns = __atomic_load_n(&s->claimed_ns, __ATOMIC_RELAXED);
		v->source = __atomic_load_n(&s->source, __ATOMIC_RELAXED) == MS_SRC_JEMALLOC
				    ? MS_SRC_JEMALLOC
				    : MS_SRC_API;
		if (v->read_ns > now)
			v->read_ns = 0; /* a claim time from the future: no bound from it */
	}
	if (!v->trusted)
		v->trusted = owner_trusted(c, (pid_t)owner) ? 1 : -1;
	/* The ring header lives in memory the program can scribble on. */
	if (__atomic_load_n(&r->magic, __ATOMIC_RELAXED) != MS_RING_MAGIC ||
	    __atomic_load_n(&r->version, __ATOMIC_RELAXED) != MS_RING_VERSION ||
	    __atomic_load_n(&r->capacity, __ATOMIC_RELAXED) != MS_CHAN_RING_RECS ||
	    __atomic_load_n(&r->rec_size, __ATOMIC_RELAXED) != sizeof(struct ms_event)) {
		ms_ring_init(r, MS_CHAN_RING_RECS);
		v->drops = 0;
		lost(c, 1, "api channel (corrupt ring)");
	}
	drops = __atomic_load_n(&r->dropped, __ATOMIC_RELAXED);
	if (drops > v->drops && drops - v->drops > now - v->read_ns + 1000000)
		lost(c, 1, "api channel (corrupt drop count)");
	else if (drops > v->drops)
		lost(c, drops - v->drops, "api channel");
	v->drops = drops; /* never counted twice, and a counter set back is no credit */
	v->read_ns = now;
	/* One snapshot of head, at most one ring's worth behind it: a producer that lies
	 * about head, or keeps moving it, costs one ring per poll. */
	head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	tail = __atomic_load_n(&r->tail, __ATOMIC_RELAXED);
	if (head - tail > MS_CHAN_RING_RECS)
		tail = head - MS_CHAN_RING_RECS;
	end = head;
	while ((n = take(r, &tail, end, c->buf, BATCH))) {
		__atomic_store_n(&r->tail, tail, __ATOMIC_RELEASE);
		if (v->trusted < 0) {
			lost(c, n, "api channel (slot owner not traced)");
			continue;
		}
		for (size_t k = 0; k < n; k++) {
			struct ms_event *ev = &c->buf[k];

			if (!sanitize(c, v, ev, owner, now)) {
				lost(c, 1, "api channel (refused)");
				continue;
			}
			stat_name(v, s, ev->stat, name);
			c->sink->on_api(c->sink->ctx, ev, name);
			got++;
		}
	}
	/* A slot whose owner is gone (or never was a pid) and whose ring is read is free again. */
	if ((owner >= c->pid_max || (kill((pid_t)owner, 0) && errno == ESRCH)) &&
	    __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) == tail) {
		ms_ring_init(r, MS_CHAN_RING_RECS);
		memset(v, 0, sizeof(*v));
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
