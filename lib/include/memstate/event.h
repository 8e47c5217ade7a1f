/* SPDX-License-Identifier: MIT */
/*
 * memstate: the one event model.
 *
 * Every source (library API, eBPF syscalls and faults, Go uprobes, replay of a saved
 * timeline) produces struct ms_event; the shadow space (space.h) fills in what it found
 * (from, to, violation, seq) and the tui/ and export/ parts read nothing else.
 * Fixed-width and free of pointers so that it can cross a shared-memory ring.
 */
#ifndef MEMSTATE_EVENT_H
#define MEMSTATE_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ms_event.flags */
#define MS_EVF_WRITE	 0x001 /* pageFault: a write access */
#define MS_EVF_PRESENT	 0x002 /* pageFault: protection fault on a present page */
#define MS_EVF_INFERRED	 0x004 /* pageFault: first touch of inferred Prepared memory (sysUsed) */
#define MS_EVF_FAILED	 0x008 /* the operation failed: result holds the errno */
#define MS_EVF_NOTE	 0x010 /* API: recorded with ms_note(), the caller made the syscalls */
#define MS_EVF_SEED	 0x020 /* state found at attach time (/proc/PID/maps), not an operation */
#define MS_EVF_COMMITTED 0x040 /* jemalloc alloc, split, merge: the extent is committed */
#define MS_EVF_APART	 0x080 /* jemalloc merge: the second extent does not follow the first */
#define MS_EVF_LAZY	 0x100 /* sysUnused by MADV_FREE: the pages stay resident, lazily free */
/* pageFault served by a transparent huge page: addr, len are the huge page; a residency
 * notice, not one more fault */
#define MS_EVF_HUGE  0x200
#define MS_EVF_LOSSY 0x400 /* its violation came after lost events: maybe an artefact */

struct ms_event {
	uint64_t seq;		       /* order in the timeline; assigned by the space */
	uint64_t t_ns;		       /* CLOCK_MONOTONIC ns (bpf_ktime_get_ns() clock) */
	uint64_t addr;		       /* start of the range; pageFault: the faulting address */
	uint64_t len;		       /* bytes; pageFault: one page */
	uint64_t from[MS_STATE_COUNT]; /* bytes of the range per state before the operation */
	uint64_t arg;		       /* sysUsed: declared prepared bytes; sysReserve: hint;
					  pageFault: instruction pointer */
	uint32_t pid;		       /* process (tgid) */
	uint32_t tid;		       /* thread */
	int32_t result;		       /* 0, or the positive errno the operation failed with */
	uint16_t stat;		       /* stat id in the space's stat table, 0 for none */
	uint8_t op;		       /* enum ms_op */
	uint8_t source;		       /* enum ms_source */
	uint8_t to;		       /* enum ms_state or MS_STATE_UNCHANGED */
	uint8_t violation;	       /* enum ms_violation_kind, MS_V_NONE when clean */
	uint8_t kind;		       /* enum ms_kind of the range */
	uint16_t flags;		       /* MS_EVF_* */
	uint32_t aux;		       /* syscall: the syscall number; API: ns the syscall took
					  (t_ns is taken before it); procExit: the signal */
	int64_t resident_delta;	       /* resident bytes the operation added (or removed);
					  filled by the space */
};

_Static_assert(sizeof(struct ms_event) == 112, "ms_event is a fixed-width wire record");

/*
 * A page fault proper. A pageFault flagged MS_EVF_HUGE (a huge-page fault's notice) or
 * MS_EVF_SEED (pages present at attach time) only says which pages are resident.
 */
static inline int ms_event_is_fault(const struct ms_event *ev)
{
	return ev->op == MS_OP_PAGE_FAULT && !(ev->flags & (MS_EVF_HUGE | MS_EVF_SEED));
}

/*
 * The event log: a bounded single-producer ring of ms_event that may live in private or
 * shared memory (the tracer channel maps the same layout). The producer side is called
 * with the owning space's lock held; one consumer drains it, possibly from another thread
 * or process. A full ring either calls its flush hook (which may drain it, as the
 * standalone timeline writer does) or counts the event as dropped: never silent.
 */
#define MS_RING_MAGIC	0x4d53524eu /* "MSRN" */
#define MS_RING_VERSION 2	    /* 2: ms_event grew resident_delta */

struct ms_ring {
	uint32_t magic;	   /* MS_RING_MAGIC */
	uint32_t version;  /* MS_RING_VERSION */
	uint32_t rec_size; /* sizeof(struct ms_event) */
	uint32_t capacity; /* records, a power of two */
	uint64_t head;	   /* next record the producer writes (only it stores) */
	uint64_t dropped;  /* records lost because the ring was full */
	uint8_t pad0[32];  /* keep the consumer's index on its own cache line */
	uint64_t tail;	   /* next record the consumer reads (only it stores) */
	uint8_t pad1[56];
	struct ms_event recs[]; /* capacity records */
};

/* Bytes needed for a ring of capacity records (rounded up to a power of two). */
size_t ms_ring_size(uint32_t capacity);
/* Lay out a ring in mem (ms_ring_size() bytes). Returns it, or NULL for a bad capacity. */
struct ms_ring *ms_ring_init(void *mem, uint32_t capacity);
/* Check a ring that another process laid out: 0, or -EINVAL if its header is not sane. */
int ms_ring_validate(const struct ms_ring *r, size_t mapped_bytes);
/* Producer: append a copy of ev. 0, or -ENOSPC when full (the drop is counted). */
int ms_ring_push(struct ms_ring *r, const struct ms_event *ev);
/* Consumer: copy up to max records out, oldest first. Returns how many. */
size_t ms_ring_pop(struct ms_ring *r, struct ms_event *out, size_t max);
/* Records waiting to be read. */
uint64_t ms_ring_pending(const struct ms_ring *r);
uint64_t ms_ring_dropped(const struct ms_ring *r);

#ifdef __cplusplus
}
#endif

#endif /* MEMSTATE_EVENT_H */
