/* SPDX-License-Identifier: MIT */
/*
 * The API channel: how a program linked with libmemstate hands its API events to the
 * memstate tracer that runs it, through shared memory set up via the environment.
 *
 * The tracer creates a memfd holding a header and MS_CHAN_SLOTS slots, and exports
 * MEMSTATE_CHANNEL=<fd> to the program. Each process image that initialises libmemstate
 * claims a free slot by compare-and-swap of its owner pid (a forked child claims its own),
 * publishes its stat names in the slot and makes the slot's ring its space's event log.
 * The tracer reads every claimed slot. It trusts nothing there: the ring header is
 * validated, every record is checked and its pid and source are forced to the owner's.
 */
#ifndef MEMSTATE_CHANNEL_H
#define MEMSTATE_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

#define MS_CHAN_MAGIC	  0x4d534348u /* "MSCH" */
#define MS_CHAN_VERSION	  1
#define MS_CHAN_SLOTS	  64
#define MS_CHAN_STATS	  64	/* stat names published per slot (ids 1..63) */
#define MS_CHAN_STAT_LEN  32	/* bytes per name, NUL included */
#define MS_CHAN_RING_RECS 16384 /* events per slot ring */
#define MS_CHAN_ENV	  "MEMSTATE_CHANNEL"
/* A jemalloc slot's stats mark (--alloc-marks), not an operation: addr = stats.mapped,
 * len = stats.retained, arg = stats.active, from[0] = stats.resident, stamped in order with
 * the hooks. */
#define MS_CHAN_OP_ALLOC_MARK 0xfe
#define MS_CHAN_HDR_BYTES     4096 /* the header page; the slots follow it */
#define MS_CHAN_ALIGN	      4096 /* each slot is a whole number of these bytes */

struct ms_chan_slot {
	uint32_t owner;	     /* pid that claimed it, 0 when free */
	uint32_t generation; /* bumped at each claim (exec reuses pids) */
	uint64_t claimed_ns; /* CLOCK_MONOTONIC at claim */
	char stat_names[MS_CHAN_STATS][MS_CHAN_STAT_LEN]; /* [id]: name, written before use */
	uint8_t source; /* enum ms_source of its events: api, or jemalloc (the hook adapter) */
	uint8_t pad[47];
	/* followed by the ring (struct ms_ring + MS_CHAN_RING_RECS records) */
};

struct ms_chan_hdr {
	uint32_t magic;	     /* MS_CHAN_MAGIC */
	uint32_t version;    /* MS_CHAN_VERSION */
	uint32_t nslots;     /* MS_CHAN_SLOTS */
	uint32_t slot_bytes; /* bytes from one slot to the next */
	uint64_t tracer_pid; /* who reads it */
	uint8_t pad[40];
};

/* Bytes of a slot (header + ring) and of the whole channel. */
size_t ms_chan_slot_bytes(void);
size_t ms_chan_bytes(void);
/* Lay out a fresh channel in mem (ms_chan_bytes(), zeroed). */
void ms_chan_init(void *mem, uint32_t tracer_pid);
/* Validate a mapped channel: 0 or -EINVAL. */
int ms_chan_validate(const void *mem, size_t mapped);
struct ms_chan_slot *ms_chan_slot(void *mem, unsigned idx);
struct ms_ring *ms_chan_ring(struct ms_chan_slot *slot);

/* Library side: claim a free slot for pid. Returns the slot, or NULL when all are taken. */
struct ms_chan_slot *ms_chan_claim(void *mem, uint32_t pid, uint64_t now_ns);
/* The same for a writer of another source (MS_SRC_JEMALLOC): one process may hold a slot
 * per source. */
struct ms_chan_slot *ms_chan_claim_source(void *mem, uint32_t pid, uint64_t now_ns, uint8_t source);

#endif /* MEMSTATE_CHANNEL_H */
