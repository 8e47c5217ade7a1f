// SPDX-License-Identifier: MIT
/*
 * libmemstate-jemalloc.so: jemalloc's extent hooks as memstate operations (SPEC section 11).
 *
 * `memstate run` preloads this library into programs that use a dynamically linked
 * jemalloc. At load it wraps the extent hooks of every arena: each wrapper calls the hook
 * it replaced and writes what the hook did, with the hook's own result, as one event
 * (source "jemalloc") into a slot of the tracer's API channel, stamped when the hook began
 * and carrying its duration, so that the tracer recognises the syscalls the hook made as
 * its own (tracer/trace.c).
 *
 * Coverage:
 *  - arenas 0 .. arenas.narenas-1 at load: writing the hooks of an automatic arena not yet
 *    created creates it with the wrapper;
 *  - the huge arena (index opt.narenas, made lazily for allocations at or above
 *    opt.oversize_threshold by jemalloc itself with the default hooks, which no setting
 *    changes): it cannot be written before it exists, so one allocation of
 *    oversize_threshold bytes makes it exist, then its hooks are wrapped;
 *  - arenas made later with `arenas.create`, and hooks a program installs itself: this
 *    library interposes mallctl, mallctlnametomib and mallctlbymib (it is preloaded, so
 *    its definitions come first), wraps the hooks written and unwraps the hooks read,
 *    so the program sees what it installed. A program that reaches jemalloc's mallctl by
 *    another name (dlsym on the library handle) escapes: its new arenas are traced by
 *    their syscalls only.
 * Extents that existed before the wrap are learned by the checker from the syscall stream.
 *
 * Hooks run under one lock, held across the wrapped hook and the record: the order of the
 * events is the order the kernel saw (memory one thread unmaps and another's mmap gets
 * back is freed before it is allocated), as in libmemstate's own calls.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "memstate/channel.h"
#include "jehooks.h"

#define MAX_WRAPS 64 /* distinct hook tables wrapped (default + the program's own) */
#define MIB_MAX	  8

#define EXPORT __attribute__((visibility("default")))

typedef int(mallctl_fn)(const char *, void *, size_t *, void *, size_t);
typedef int(nametomib_fn)(const char *, size_t *, size_t *);
typedef int(bymib_fn)(const size_t *, size_t, void *, size_t *, void *, size_t);
typedef void *(mallocx_fn)(size_t, int);
typedef void(dallocx_fn)(void *, int);

/* A wrapper table: jemalloc passes it back as the hooks' first argument. */
struct wrap {
	extent_hooks_t hooks; /* first: the pointer jemalloc holds is the wrap's */
	extent_hooks_t *orig; /* the table it stands for */
};

static struct {
	mallctl_fn *mallctl; /* jemalloc's own */
	nametomib_fn *nametomib;
	bymib_fn *bymib;
	void *chan; /* the tracer's channel */
	size_t chan_size;
	struct ms_chan_slot *slot; /* ours in it */
	struct ms_ring *ring;
	uint32_t pid;
	pthread_mutex_t lock; /* hooks and records */
	pthread_mutex_t setup;
	struct wrap wraps[MAX_WRAPS];
	unsigned nwraps;
	extent_hooks_t *dflt; /* jemalloc's default hooks, read before any wrap */
	size_t hooks_mib[MIB_MAX], create_mib[MIB_MAX];
	size_t epoch_mib[MIB_MAX];
	size_t hooks_miblen, create_miblen, epoch_miblen;
	bool marks;   /* --alloc-marks: stats at each epoch refresh and at exit */
	bool on;      /* recording */
	bool ptraced; /* the tracer is a ptrace one (TracerPid): never wait for it */
} g = {.lock = PTHREAD_MUTEX_INITIALIZER, .setup = PTHREAD_MUTEX_INITIALIZER};

static __thread uint32_t tl_tid;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint32_t self_tid(void)
{
	if (!tl_tid)
		tl_tid = (uint32_t)syscall(SYS_gettid);
	return tl_tid;
}

/* ------------------------------------------------------------------ records */

static uint64_t hook_begin(void)
{
	pthread_mutex_lock(&g.lock);
	return now_ns();
}

/* Record one hook and release the lock taken by hook_begin(). */
static void hook_end(uint64_t t0, unsigned op, const void *addr, size_t len, uint64_t arg,
		     uint16_t flags, bool failed)
{
	uint64_t t1 = now_ns();
	struct ms_event ev = {
		.t_ns = t0,
		.addr = (uintptr_t)addr,
		.len = len,
		.arg = arg,
		.pid = g.pid,
		.tid = self_tid(),
		.result = failed ? 1 : 0,
		.op = (uint8_t)op,
		.source = MS_SRC_JEMALLOC,
		.flags = flags,
		.aux = t1 - t0 > UINT32_MAX ? UINT32_MAX : (uint32_t)(t1 - t0),
	};

	if (g.on) {
		/* A full ring waits for the tracer (it drains every few milliseconds) rather
		 * than lose the event; after a second it is counted as dropped. Not under
		 * ptrace: its tracer drains the channel between syscall stops, and threads
		 * waiting here make none. */
		for (int i = 0;
		     !g.ptraced && i < 20000 && ms_ring_pending(g.ring) >= g.ring->capacity; i++)
			nanosleep(&(struct timespec){0, 50000}, NULL);
		ms_ring_push(g.ring, &ev);
	}
	pthread_mutex_unlock(&g.lock);
}

static extent_hooks_t *orig_of(extent_hooks_t *h)
{
	return ((struct wrap *)h)->orig;
}

/* ------------------------------------------------------------------ the wrappers */

static void *w_alloc(extent_hooks_t *h, void *new_addr, size_t size, size_t alignment, bool *zero,
		     bool *commit, unsigned arena_ind)
{
	extent_hooks_t *o = orig_of(h);
	uint64_t t0 = hook_begin();
	void *p = o->alloc(o, new_addr, size, alignment, zero, commit, arena_ind);

	hook_end(t0, MS_OP_EXT_ALLOC, p, size, 0, *commit ? MS_EVF_COMMITTED : 0, !p);
	return p;
}

static bool w_dalloc(extent_hooks_t *h, void *addr, size_t size, bool committed, unsigned arena_ind)
{
	extent_hooks_t *o = orig_of(h);
	uint64_t t0 = hook_begin();
	bool r = o->dalloc(o, addr, size, committed, arena_ind);

	hook_end(t0, MS_OP_EXT_DALLOC, addr, size, 0, committed ? MS_EVF_COMMITTED : 0, r);
	return r;
}

static void w_destroy(extent_hooks_t *h, void *addr, size_t size, bool committed,
		      unsigned arena_ind)
{
	extent_hooks_t *o = orig_of(h);
	uint64_t t0 = hook_begin();

	o->destroy(o, addr, size, committed, arena_ind);
	hook_end(t0, MS_OP_EXT_DESTROY, addr, size, 0, committed ? MS_EVF_COMMITTED : 0, false);
}

#define RANGE_HOOK(name, field, op)                                                                \
	static bool name(extent_hooks_t *h, void *addr, size_t size, size_t offset, size_t length, \
			 unsigned arena_ind)                                                       \
	{                                                                                          \
		extent_hooks_t *o = orig_of(h);                                                    \
		uint64_t t0 = hook_begin();                                                        \
		bool r = o->field(o, addr, size, offset, length, arena_ind);                       \
                                                                                                   \
		hook_end(t0, op, (char *)addr + offset, length, (uintptr_t)addr, 0, r);            \
		return r;                                                                          \
	}

RANGE_HOOK(w_commit, commit, MS_OP_EXT_COMMIT)
RANGE_HOOK(w_decommit, decommit, MS_OP_EXT_DECOMMIT)
RANGE_HOOK(w_purge_lazy, purge_lazy, MS_OP_EXT_PURGE_LAZY)
RANGE_HOOK(w_purge_forced, purge_forced, MS_OP_EXT_PURGE_FORCED)

static bool w_split(extent_hooks_t *h, void *addr, size_t size, size_t size_a, size_t size_b,
		    bool committed, unsigned arena_ind)
{
	extent_hooks_t *o = orig_of(h);
	uint64_t t0 = hook_begin();
	bool r = o->split(o, addr, size, size_a, size_b, committed, arena_ind);

	/* size_b is size - size_a by jemalloc's contract; a hook that says otherwise names
	 * a second extent that is not the rest: bounds the checker judges on size_a. */
	hook_end(t0, MS_OP_EXT_SPLIT, addr, size_a + size_b == size ? size : size_a + size_b,
		 size_a, committed ? MS_EVF_COMMITTED : 0, r);
	return r;
}

static bool w_merge(extent_hooks_t *h, void *addr_a, size_t size_a, void *addr_b, size_t size_b,
		    bool committed, unsigned arena_ind)
{
	extent_hooks_t *o = orig_of(h);
	uint64_t t0 = hook_begin();
	bool r = o->merge(o, addr_a, size_a, addr_b, size_b, committed, arena_ind);
	uint16_t flags = committed ? MS_EVF_COMMITTED : 0;

	if ((char *)addr_a + size_a != (char *)addr_b)
		flags |= MS_EVF_APART;
	hook_end(t0, MS_OP_EXT_MERGE, addr_a, size_a + size_b, size_a, flags, r);
	return r;
}

/* The wrapper of table h (h itself when it is one); NULL when none is left. */
static extent_hooks_t *wrap_of(extent_hooks_t *h)
{
	extent_hooks_t *w = NULL;

	if (!h)
		return NULL;
	pthread_mutex_lock(&g.setup);
	for (unsigned i = 0; i < g.nwraps && !w; i++) {
		if (&g.wraps[i].hooks == h || g.wraps[i].orig == h)
			w = &g.wraps[i].hooks;
	}
	if (!w && g.nwraps < MAX_WRAPS) {
		struct wrap *n = &g.wraps[g.nwraps++];

		/* A NULL hook means "opt out" to jemalloc: the wrapper keeps it NULL. */
		n->orig = h;
		n->hooks = (extent_hooks_t){
			.alloc = h->alloc ? w_alloc : NULL,
			.dalloc = h->dalloc ? w_dalloc : NULL,
			.destroy = h->destroy ? w_destroy : NULL,
			.commit = h->commit ? w_commit : NULL,
			.decommit = h->decommit ? w_decommit : NULL,
			.purge_lazy = h->purge_lazy ? w_purge_lazy : NULL,
			.purge_forced = h->purge_forced ? w_purge_forced : NULL,
			.split = h->split ? w_split : NULL,
			.merge = h->merge ? w_merge : NULL,
		};
		w = &n->hooks;
	}
	pthread_mutex_unlock(&g.setup);
	return w;
}

/* What a program installed: the table a wrapper stands for. */
static extent_hooks_t *unwrap(extent_hooks_t *h)
{
	for (unsigned i = 0; i < g.nwraps; i++) {
		if (&g.wraps[i].hooks == h)
			return g.wraps[i].orig;
	}
	return h;
}

/* ------------------------------------------------------------------ stats marks */

/* jemalloc's stats as of the last epoch refresh, written in order with the hooks. */
static void stats_mark(int at)
{
	size_t v[4] = {0}, len;
	static const char *const names[4] = {"stats.mapped", "stats.retained", "stats.active",
					     "stats.resident"};
	struct ms_event ev = {.op = MS_CHAN_OP_ALLOC_MARK, .source = MS_SRC_JEMALLOC};

	for (int i = 0; i < 4; i++) {
		len = sizeof(v[i]);
		if (g.mallctl(names[i], &v[i], &len, NULL, 0))
			return; /* a jemalloc built without stats: no marks */
	}
	ev.addr = v[0];
	ev.len = v[1];
	ev.arg = v[2];
	ev.from[0] = v[3];
	ev.result = at; /* 0 an epoch refresh, 1 the wrap, 2 exit */
	ev.pid = g.pid;
	ev.tid = self_tid();
	pthread_mutex_lock(&g.lock);
	ev.t_ns = now_ns();
	if (g.on)
		ms_ring_push(g.ring, &ev);
	pthread_mutex_unlock(&g.lock);
}

/* ------------------------------------------------------------------ mallctl interposed */

/* Write (and read) an arena's hooks through jemalloc, wrapping and unwrapping. */
static int hooks_ctl(const size_t *mib, size_t miblen, const char *name, void *oldp,
		     size_t *oldlenp, void *newp, size_t newlen)
{
	extent_hooks_t *old = NULL, *w = NULL;
	size_t oldlen = sizeof(old);
	int ret;

	if ((newp && newlen != sizeof(extent_hooks_t *)) ||
	    (oldp && (!oldlenp || *oldlenp != sizeof(extent_hooks_t *))))
		return EINVAL;
	if (newp && !(w = wrap_of(*(extent_hooks_t **)newp)))
		w = *(extent_hooks_t **)newp; /* no wrapper left: installed as given */
	if (mib)
		ret = g.bymib(mib, miblen, oldp ? &old : NULL, oldp ? &oldlen : NULL,
			      newp ? &w : NULL, newp ? sizeof(w) : 0);
	else
		ret = g.mallctl(name, oldp ? &old : NULL, oldp ? &oldlen : NULL, newp ? &w : NULL,
				newp ? sizeof(w) : 0);
	if (!ret && oldp)
		*(extent_hooks_t **)oldp = unwrap(old);
	return ret;
}

/* arenas.create, with the program's hooks wrapped, or the default ones. */
static int create_ctl(const size_t *mib, size_t miblen, void *oldp, size_t *oldlenp, void *newp,
		      size_t newlen)
{
	extent_hooks_t *w;

	if (newp && newlen != sizeof(extent_hooks_t *))
		return EINVAL;
	w = wrap_of(newp ? *(extent_hooks_t **)newp : g.dflt);
	if (!w) /* nothing to wrap with: as asked */
		return mib ? g.bymib(mib, miblen, oldp, oldlenp, newp, newlen)
			   : g.mallctl("arenas.create", oldp, oldlenp, newp, newlen);
	if (mib)
		return g.bymib(mib, miblen, oldp, oldlenp, &w, sizeof(w));
	return g.mallctl("arenas.create", oldp, oldlenp, &w, sizeof(w));
}

static bool is_hooks_name(const char *name)
{
	unsigned long i;
	int n = 0;

	return sscanf(name, "arena.%lu.extent_hooks%n", &i, &n) == 1 && name[n] == 0;
}

EXPORT int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen)
{
	if (!g.mallctl)
		return ENOENT;
	if (g.on && name && !strcmp(name, "arenas.create"))
		return create_ctl(NULL, 0, oldp, oldlenp, newp, newlen);
	if (g.on && name && is_hooks_name(name))
		return hooks_ctl(NULL, 0, name, oldp, oldlenp, newp, newlen);
	if (g.on && g.marks && newp && name && !strcmp(name, "epoch")) {
		int ret = g.mallctl(name, oldp, oldlenp, newp, newlen);

		if (!ret)
			stats_mark(0);
		return ret;
	}
	return g.mallctl(name, oldp, oldlenp, newp, newlen);
}

EXPORT int mallctlnametomib(const char *name, size_t *mibp, size_t *miblenp)
{
	return g.nametomib ? g.nametomib(name, mibp, miblenp) : ENOENT;
}

EXPORT int mallctlbymib(const size_t *mib, size_t miblen, void *oldp, size_t *oldlenp, void *newp,
			size_t newlen)
{
	if (!g.bymib)
		return ENOENT;
	if (g.on && miblen == g.create_miblen && !memcmp(mib, g.create_mib, miblen * sizeof(*mib)))
		return create_ctl(mib, miblen, oldp, oldlenp, newp, newlen);
	if (g.on && miblen == g.hooks_miblen && miblen == 3 && mib[0] == g.hooks_mib[0] &&
	    mib[2] == g.hooks_mib[2])
		return hooks_ctl(mib, miblen, NULL, oldp, oldlenp, newp, newlen);
	if (g.on && g.marks && newp && miblen == g.epoch_miblen &&
	    !memcmp(mib, g.epoch_mib, miblen * sizeof(*mib))) {
		int ret = g.bymib(mib, miblen, oldp, oldlenp, newp, newlen);

		if (!ret)
			stats_mark(0);
		return ret;
	}
	return g.bymib(mib, miblen, oldp, oldlenp, newp, newlen);
}

/* ------------------------------------------------------------------ set-up */

/* Wrap arena i's hooks; false when the arena does not exist (and was not made). */
static bool wrap_arena(unsigned i)
{
	char name[64];
	extent_hooks_t *h = NULL, *w;
	size_t len = sizeof(h);

	snprintf(name, sizeof(name), "arena.%u.extent_hooks", i);
	if (g.mallctl(name, &h, &len, NULL, 0)) {
		/* Not created: an automatic arena is created by the write, with the wrapper. */
		h = g.dflt;
	}
	w = wrap_of(h);
	return w && !g.mallctl(name, NULL, NULL, &w, sizeof(w));
}

static void wrap_all(void)
{
	unsigned narenas = 0, nauto = 0;
	size_t len = sizeof(unsigned), oversize = 0, slen = sizeof(size_t), hlen = sizeof(g.dflt);
	char name[64];

	g.mallctl("arena.0.extent_hooks", &g.dflt, &hlen, NULL, 0);
	if (g.mallctl("arenas.narenas", &narenas, &len, NULL, 0) ||
	    g.mallctl("opt.narenas", &nauto, &len, NULL, 0))
		return;
	g.mallctl("opt.oversize_threshold", &oversize, &slen, NULL, 0);
	for (unsigned i = 0; i < narenas && i < nauto; i++)
		wrap_arena(i);
	/* The huge arena: made on first use, with default hooks: make it now. */
	snprintf(name, sizeof(name), "arena.%u.extent_hooks", nauto);
	if (oversize) {
		extent_hooks_t *h;

		hlen = sizeof(h);
		if (g.mallctl(name, &h, &hlen, NULL, 0)) {
			mallocx_fn *mx = (mallocx_fn *)dlsym(RTLD_NEXT, "mallocx");
			dallocx_fn *dx = (dallocx_fn *)dlsym(RTLD_NEXT, "dallocx");
			void *p = mx && dx ? mx(oversize, 0) : NULL;

			if (p)
				dx(p, 0);
		}
	}
	/* The huge arena and manual arenas made before us (a manual one may be gone). */
	g.mallctl("arenas.narenas", &narenas, &len, NULL, 0);
	for (unsigned i = nauto; i < narenas; i++) {
		extent_hooks_t *h, *w;

		hlen = sizeof(h);
		snprintf(name, sizeof(name), "arena.%u.extent_hooks", i);
		if (g.mallctl(name, &h, &hlen, NULL, 0))
			continue;
		w = wrap_of(h);
		if (w)
			g.mallctl(name, NULL, NULL, &w, sizeof(w));
	}
}

static bool chan_attach(void)
{
	const char *env = getenv(MS_CHAN_ENV);
	struct stat st;
	void *mem;
	int fd;

	if (!env || !*env)
		return false;
	fd = atoi(env);
	if (fd < 0 || fstat(fd, &st) || (size_t)st.st_size < ms_chan_bytes())
		return false;
	mem = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED)
		return false;
	if (ms_chan_validate(mem, (size_t)st.st_size)) {
		munmap(mem, (size_t)st.st_size);
		return false;
	}
	g.chan = mem;
	g.chan_size = (size_t)st.st_size;
	g.slot = ms_chan_claim_source(mem, g.pid, now_ns(), MS_SRC_JEMALLOC);
	if (!g.slot) {
		fprintf(stderr,
			"memstate: the tracer's channel is full; jemalloc's hooks in "
			"pid %u are not recorded\n",
			g.pid);
		return false;
	}
	g.ring = ms_chan_ring(g.slot);
	return true;
}

/* A forked child records into a slot of its own; a hook the fork cut short left the lock
 * taken in this copy of it. */
static void fork_child(void)
{
	pthread_mutex_init(&g.lock, NULL);
	pthread_mutex_init(&g.setup, NULL);
	tl_tid = 0;
	g.pid = (uint32_t)getpid();
	g.slot = g.chan ? ms_chan_claim_source(g.chan, g.pid, now_ns(), MS_SRC_JEMALLOC) : NULL;
	g.on = g.slot != NULL;
	if (g.slot)
		g.ring = ms_chan_ring(g.slot);
}

__attribute__((constructor)) static void adapter_init(void)
{
	const char *forced = getenv("MEMSTATE_ALLOC");
	size_t miblen;

	g.pid = (uint32_t)getpid();
	g.mallctl = (mallctl_fn *)dlsym(RTLD_NEXT, "mallctl");
	g.nametomib = (nametomib_fn *)dlsym(RTLD_NEXT, "mallctlnametomib");
	g.bymib = (bymib_fn *)dlsym(RTLD_NEXT, "mallctlbymib");
	if (!g.mallctl || !g.nametomib || !g.bymib) {
		g.mallctl = NULL;
		if (forced && !strcmp(forced, "jemalloc") && getenv(MS_CHAN_ENV))
			fprintf(stderr,
				"memstate: pid %u has no dynamically linked jemalloc (a static "
				"one cannot be preloaded): tracing its syscalls only\n",
				g.pid);
		return;
	}
	if (!chan_attach())
		return;
	{
		char line[256];
		FILE *f = fopen("/proc/self/status", "re");

		while (f && fgets(line, sizeof(line), f)) {
			if (!strncmp(line, "TracerPid:", 10))
				g.ptraced = atoi(line + 10) != 0;
		}
		if (f)
			fclose(f);
	}
	miblen = MIB_MAX;
	if (!g.nametomib("arena.0.extent_hooks", g.hooks_mib, &miblen))
		g.hooks_miblen = miblen;
	miblen = MIB_MAX;
	if (!g.nametomib("arenas.create", g.create_mib, &miblen))
		g.create_miblen = miblen;
	miblen = MIB_MAX;
	if (!g.nametomib("epoch", g.epoch_mib, &miblen))
		g.epoch_miblen = miblen;
	g.marks = getenv("MEMSTATE_ALLOC_MARKS") != NULL;
	g.on = true;
	pthread_atfork(NULL, NULL, fork_child);
	wrap_all();
	if (g.marks) { /* what jemalloc held when its hooks were wrapped */
		uint64_t e = 1;
		size_t len = sizeof(e);

		if (!g.mallctl("epoch", &e, &len, &e, sizeof(e)))
			stats_mark(1);
	}
}

/* The last mark: jemalloc's stats as the program ends. */
__attribute__((destructor)) static void adapter_fini(void)
{
	uint64_t e = 1;
	size_t len = sizeof(e);

	if (g.on && g.marks && g.pid == (uint32_t)getpid() &&
	    !g.mallctl("epoch", &e, &len, &e, sizeof(e)))
		stats_mark(2);
}
