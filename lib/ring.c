// SPDX-License-Identifier: MIT
/*
 * Single-producer, single-consumer ring of ms_event (layout in event.h).
 *
 * The producer owns head and dropped, the consumer owns tail; each publishes its index
 * with a release store and reads the other's with an acquire load, which is all the
 * ordering a record copy needs. The consumer never trusts head: a ring shared with a
 * traced program is clamped to its capacity instead of being read out of bounds.
 */
#include <errno.h>
#include <string.h>

#include "memstate/event.h"

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 1;

	while (p < n && p < (1u << 30))
		p <<= 1;
	return p;
}

size_t ms_ring_size(uint32_t capacity)
{
	return sizeof(struct ms_ring) + (size_t)pow2_at_least(capacity) * sizeof(struct ms_event);
}

struct ms_ring *ms_ring_init(void *mem, uint32_t capacity)
{
	struct ms_ring *r = mem;

	if (!mem || capacity == 0 || capacity > (1u << 30))
		return NULL;
	memset(r, 0, sizeof(*r));
	r->magic = MS_RING_MAGIC;
	r->version = MS_RING_VERSION;
	r->rec_size = sizeof(struct ms_event);
	r->capacity = pow2_at_least(capacity);
	return r;
}

int ms_ring_validate(const struct ms_ring *r, size_t mapped_bytes)
{
	if (mapped_bytes < sizeof(*r) || r->magic != MS_RING_MAGIC ||
	    r->version != MS_RING_VERSION || r->rec_size != sizeof(struct ms_event))
		return -EINVAL;
	if (r->capacity == 0 || (r->capacity & (r->capacity - 1)) || r->capacity > (1u << 30))
		return -EINVAL;
	if (ms_ring_size(r->capacity) > mapped_bytes)
		return -EINVAL;
	return 0;
}

int ms_ring_push(struct ms_ring *r, const struct ms_event *ev)
{
	uint64_t head = r->head;
	uint64_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);

	if (head - tail >= r->capacity) {
		__atomic_store_n(&r->dropped, r->dropped + 1, __ATOMIC_RELAXED);
		return -ENOSPC;
	}
	r->recs[head & (r->capacity - 1)] = *ev;
	__atomic_store_n(&r->head, head + 1, __ATOMIC_RELEASE);
	return 0;
}

size_t ms_ring_pop(struct ms_ring *r, struct ms_event *out, size_t max)
{
	uint64_t tail = r->tail;
	uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	uint32_t cap = r->capacity;
	size_t n;

	if (head - tail > cap) /* a producer that lies about head: keep the newest cap */
		tail = head - cap;
	n = head - tail < max ? (size_t)(head - tail) : max;
	for (size_t i = 0; i < n; i++)
		out[i] = r->recs[(tail + i) & (cap - 1)];
	__atomic_store_n(&r->tail, tail + n, __ATOMIC_RELEASE);
	return n;
}

uint64_t ms_ring_pending(const struct ms_ring *r)
{
	uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	uint64_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);

	return head - tail > r->capacity ? r->capacity : head - tail;
}

uint64_t ms_ring_dropped(const struct ms_ring *r)
{
	return __atomic_load_n(&r->dropped, __ATOMIC_RELAXED);
}
