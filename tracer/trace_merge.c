// SPDX-License-Identifier: MIT
/*
 * The merge's data structures (trace_int.h): the per-thread queues that match API calls
 * and Go calls with their syscalls, and the sorted per-stream queues the merge releases
 * records from, oldest first.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "trace_int.h"

/* ------------------------------------------------------------------ deques */

int tr_dq_push(struct deque *d, struct item *it)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 16;
		struct item **v = malloc(cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		for (size_t i = 0; i < d->n; i++)
			v[i] = d->v[(d->head + i) % d->cap];
		free(d->v);
		d->v = v;
		d->head = 0;
		d->cap = cap;
	}
	d->v[(d->head + d->n++) % d->cap] = it;
	return 0;
}

struct item *tr_dq_at(const struct deque *d, size_t i)
{
	return d->v[(d->head + i) % d->cap];
}

/* Remove it; records leave in time order, so it is nearly always the first. */
void tr_dq_remove(struct deque *d, struct item *it)
{
	for (size_t i = 0; i < d->n; i++) {
		if (tr_dq_at(d, i) != it)
			continue;
		for (size_t k = i; k > 0; k--)
			d->v[(d->head + k) % d->cap] = d->v[(d->head + k - 1) % d->cap];
		d->head = (d->head + 1) % d->cap;
		d->n--;
		return;
	}
}

/* ------------------------------------------------------------------ per-thread queues */

struct tidq *tr_tidq_find(struct ms_trace *t, uint32_t tid, bool create)
{
	size_t mask, i;

	if (!t->ntids_cap) {
		if (!create)
			return NULL;
		t->tids = calloc(256, sizeof(*t->tids));
		if (!t->tids)
			return NULL;
		t->ntids_cap = 256;
	}
	mask = t->ntids_cap - 1;
	for (i = (tid * 2654435761u) & mask;; i = (i + 1) & mask) {
		if (t->tids[i].tid == tid)
			return &t->tids[i];
		if (!t->tids[i].tid)
			break;
	}
	if (!create)
		return NULL;
	if (2 * (t->ntids + 1) > t->ntids_cap) { /* grow: rehash */
		struct tidq *old = t->tids;
		size_t ocap = t->ntids_cap;

		t->tids = calloc(2 * ocap, sizeof(*t->tids));
		if (!t->tids) {
			t->tids = old;
			return NULL;
		}
		t->ntids_cap = 2 * ocap;
		t->ntids = 0;
		for (size_t k = 0; k < ocap; k++) {
			if (old[k].tid) {
				struct tidq *q = tr_tidq_find(t, old[k].tid, true);

				*q = old[k];
			}
		}
		free(old);
		return tr_tidq_find(t, tid, true);
	}
	t->tids[i].tid = tid;
	t->ntids++;
	return &t->tids[i];
}

/* ------------------------------------------------------------------ the merge queues */

/*
 * The merge releases records in (t, arrival) order once they are a window old. Each
 * stream's records come nearly in that order (the probe stamps a record as it reserves its
 * ring slot; munmap and mremap carry their entry time, a few records early), so each
 * stream keeps a sorted array: a record is appended, or moved a few slots back, and the
 * oldest of the streams' heads goes first. A binary heap over all of them cost log n
 * cache-missing steps for every record both ways (a window holds thousands).
 */
static bool hent_before(const struct hent *a, const struct hent *b)
{
	return a->t < b->t || (a->t == b->t && a->arrival < b->arrival);
}

bool tr_item_before(const struct item *a, const struct item *b)
{
	return a->t < b->t || (a->t == b->t && a->arrival < b->arrival);
}

/* A record to queue; NULL (the record counted lost) when memory ran out. */
struct item *tr_item_new(struct ms_trace *t, uint8_t kind, uint64_t ts)
{
	struct item *it = t->free_items;

	if (it) {
		t->free_items = it->next_free;
		/* The next one, freed a batch ago and likely out of cache: on its way now. */
		__builtin_prefetch(t->free_items, 1);
	} else if (!(it = malloc(sizeof(*it)))) {
		tr_note_lost(t, 1, 0);
		return NULL;
	}
	it->kind = kind;
	it->t = ts;
	it->arrival = t->arrivals++;
	it->claimed = false;
	it->stat[0] = 0;
	return it;
}

void tr_item_free(struct ms_trace *t, struct item *it)
{
	it->next_free = t->free_items;
	t->free_items = it;
}

static struct mqueue *mq_of(struct ms_trace *t, const struct item *it)
{
	return &t->mq[it->kind == IT_API ? MQ_API : it->kind == IT_GO ? MQ_GO : MQ_KERNEL];
}

int tr_merge_push(struct ms_trace *t, struct item *it)
{
	struct mqueue *q = mq_of(t, it);
	struct hent e = {it->t, it->arrival, it};
	size_t end = q->head + q->n, lo, hi;

	if (end == q->cap) {
		if (q->head && q->head >= q->n) { /* half or more consumed: slide down */
			memmove(q->v, q->v + q->head, q->n * sizeof(*q->v));
			q->head = 0;
		} else {
			size_t cap = q->cap ? 2 * q->cap : 1024;
			struct hent *v = realloc(q->v, cap * sizeof(*v));

			if (!v)
				return -ENOMEM;
			q->v = v;
			q->cap = cap;
		}
		end = q->head + q->n;
	}
	if (!q->n || !hent_before(&e, &q->v[end - 1])) {
		q->v[end] = e;
	} else {
		/* Earlier than the last: after everything not later than it (arrival breaks
		 * ties, and it arrived last). */
		for (lo = q->head, hi = end - 1; lo < hi;) {
			size_t mid = lo + (hi - lo) / 2;

			if (hent_before(&e, &q->v[mid]))
				hi = mid;
			else
				lo = mid + 1;
		}
		memmove(&q->v[lo + 1], &q->v[lo], (end - lo) * sizeof(*q->v));
		q->v[lo] = e;
	}
	q->n++;
	t->nqueued++;
	return 0;
}

/* The oldest waiting record's slot (t->nqueued > 0). */
struct hent *tr_merge_top(struct ms_trace *t)
{
	struct hent *best = NULL;

	for (int i = 0; i < MQ_COUNT; i++) {
		struct mqueue *q = &t->mq[i];

		if (q->n && (!best || hent_before(&q->v[q->head], best)))
			best = &q->v[q->head];
	}
	return best;
}

struct item *tr_merge_pop(struct ms_trace *t, const struct hent *top)
{
	struct item *it = top->it;
	struct mqueue *q = mq_of(t, it);

	q->head++;
	if (!--q->n)
		q->head = 0;
	else if (q->n > 2) /* queued a window ago, out of cache: fetch what comes next */
		__builtin_prefetch(q->v[q->head + 2].it);
	t->nqueued--;
	return it;
}
