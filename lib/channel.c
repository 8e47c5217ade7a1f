// SPDX-License-Identifier: MIT
/* The API channel layout (channel.h): shared by the library (writer) and the tracer. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "memstate/channel.h"

size_t ms_chan_slot_bytes(void)
{
	size_t b = sizeof(struct ms_chan_slot) + ms_ring_size(MS_CHAN_RING_RECS);

	return (b + MS_CHAN_ALIGN - 1) & ~(size_t)(MS_CHAN_ALIGN - 1);
}

size_t ms_chan_bytes(void)
{
	return MS_CHAN_HDR_BYTES + MS_CHAN_SLOTS * ms_chan_slot_bytes();
}

void ms_chan_init(void *mem, uint32_t tracer_pid)
{
	struct ms_chan_hdr *h = mem;

	h->magic = MS_CHAN_MAGIC;
	h->version = MS_CHAN_VERSION;
	h->nslots = MS_CHAN_SLOTS;
	h->slot_bytes = (uint32_t)ms_chan_slot_bytes();
	h->tracer_pid = tracer_pid;
	for (unsigned i = 0; i < MS_CHAN_SLOTS; i++)
		ms_ring_init(ms_chan_ring(ms_chan_slot(mem, i)), MS_CHAN_RING_RECS);
}

int ms_chan_validate(const void *mem, size_t mapped)
{
	const struct ms_chan_hdr *h = mem;

	if (mapped < ms_chan_bytes() || h->magic != MS_CHAN_MAGIC ||
	    h->version != MS_CHAN_VERSION || h->nslots != MS_CHAN_SLOTS ||
	    h->slot_bytes != ms_chan_slot_bytes())
		return -EINVAL;
	return 0;
}

struct ms_chan_slot *ms_chan_slot(void *mem, unsigned idx)
{
	return (struct ms_chan_slot *)((char *)mem + MS_CHAN_HDR_BYTES +
				       (size_t)idx * ms_chan_slot_bytes());
}

struct ms_ring *ms_chan_ring(struct ms_chan_slot *slot)
{
	return (struct ms_ring *)(slot + 1);
}

struct ms_chan_slot *ms_chan_claim(void *mem, uint32_t pid, uint64_t now_ns)
{
	return ms_chan_claim_source(mem, pid, now_ns, MS_SRC_API);
}

struct ms_chan_slot *ms_chan_claim_source(void *mem, uint32_t pid, uint64_t now_ns, uint8_t source)
{
	for (unsigned i = 0; i < MS_CHAN_SLOTS; i++) {
		struct ms_chan_slot *s = ms_chan_slot(mem, i);
		uint32_t free_owner = 0;

		if (!__atomic_compare_exchange_n(&s->owner, &free_owner, pid, false,
						 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			continue;
		/* The tracer resets a slot's ring before it frees the slot. */
		memset(s->stat_names, 0, sizeof(s->stat_names));
		s->source = source;
		s->claimed_ns = now_ns;
		__atomic_store_n(&s->generation, s->generation + 1, __ATOMIC_RELEASE);
		return s;
	}
	return NULL;
}
