// SPDX-License-Identifier: MIT
/* The shadow address space: stats, queries (regions, totals, snapshots, violations) and the self-check (space_int.h). */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memstate/space.h"
#include "extent.h"
#include "resident.h"
#include "tree.h"
#include "space_int.h"

/* ------------------------------------------------------------------ stats */

int ms_space_stat_id_locked(struct ms_space *sp, const char *name)
{
	struct stat_slot *grown;
	char *copy;

	if (!name || !*name)
		return 0;
	for (unsigned i = 1; i < sp->nstats; i++) {
		if (strcmp(sp->stats[i].name, name) == 0)
			return (int)i;
	}
	if (sp->nstats >= MS_MAX_STATS)
		return -ENOSPC;
	if (sp->nstats == sp->stats_cap) {
		grown = realloc(sp->stats, 2 * sp->stats_cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		sp->stats = grown;
		sp->stats_cap *= 2;
	}
	copy = strdup(name);
	if (!copy)
		return -ENOMEM;
	sp->stats[sp->nstats] = (struct stat_slot){.name = copy};
	return (int)sp->nstats++;
}

int ms_space_stat_id(struct ms_space *sp, const char *name)
{
	int id;

	ms_space_lock(sp);
	id = ms_space_stat_id_locked(sp, name);
	ms_space_unlock(sp);
	return id;
}

unsigned ms_space_stat_count(struct ms_space *sp)
{
	unsigned n;

	ms_space_lock(sp);
	n = sp->nstats;
	ms_space_unlock(sp);
	return n;
}

int ms_space_stat_info_locked(struct ms_space *sp, unsigned id, struct ms_stat_info *out)
{
	if (id >= sp->nstats)
		return -ENOENT;
	out->name = sp->stats[id].name;
	out->bytes = sp->stats[id].bytes;
	out->peak = sp->stats[id].peak;
	return 0;
}

int ms_space_stat_info(struct ms_space *sp, unsigned id, struct ms_stat_info *out)
{
	int err;

	ms_space_lock(sp);
	err = ms_space_stat_info_locked(sp, id, out);
	ms_space_unlock(sp);
	return err;
}

/* ------------------------------------------------------------------ queries */

/* The residency of [lo, hi) inside node n into r. */
static void region_res(struct ms_space *sp, const struct ms_node *n, uint64_t lo, uint64_t hi,
		       struct ms_region *r)
{
	unsigned sh = sp_page_shift(sp);

	r->resident = r->lazy_free = 0;
	if (sp->res_on)
		r->flags |= MS_RF_RESIDENCY;
	if (!sp_res_node(n) || !sp->res.pages)
		return;
	r->resident = ms_rbits_count(&sp->res, lo >> sh, (hi - lo) >> sh) << sh;
	if (sp->lazy.pages)
		r->lazy_free = ms_rbits_count(&sp->lazy, lo >> sh, (hi - lo) >> sh) << sh;
}

static void node_to_region(struct ms_space *sp, const struct ms_node *n, struct ms_region *r)
{
	r->start = n->start;
	r->end = n->end;
	r->faults = n->faults;
	r->thp_collapses = n->thp;
	r->stat = n->stat;
	r->state = n->state;
	r->huge = n->attr & MS_NA_HUGE_MASK;
	r->kind = (uint8_t)sp_node_kind(n);
	r->flags = (uint8_t)(((n->attr & MS_NA_THP) ? MS_RF_THP : 0) |
			     ((n->attr & MS_NA_INFERRED) ? MS_RF_INFERRED : 0));
	region_res(sp, n, n->start, n->end, r);
}

enum ms_state ms_space_state_at(struct ms_space *sp, uint64_t addr, struct ms_region *out)
{
	const struct ms_node *n;
	enum ms_state st = MS_NONE;

	ms_space_lock(sp);
	n = sp_find_holding(sp, addr);
	if (n) {
		st = (enum ms_state)n->state;
		if (out)
			node_to_region(sp, n, out);
	}
	ms_space_unlock(sp);
	return st;
}

int ms_space_bytes_in(struct ms_space *sp, uint64_t addr, uint64_t len,
		      uint64_t bytes[MS_STATE_COUNT])
{
	struct ms_event probe = {.addr = addr, .len = len};
	struct walk w;

	if (addr + len < addr)
		return -EINVAL;
	ms_space_lock(sp);
	sp_walk_range(sp, &probe, addr, addr + len, &w);
	ms_space_unlock(sp);
	memcpy(bytes, probe.from, sizeof(probe.from));
	return 0;
}

void ms_space_totals_locked(struct ms_space *sp, struct ms_totals *out)
{
	*out = sp->tot;
	memcpy(out->bytes, sp->bytes[MS_KIND_ANON], sizeof(out->bytes));
	out->file_bytes = sp->bytes[MS_KIND_FILE][MS_READY];
	out->regions = sp->tree.count;
	out->dropped_events = ms_ring_dropped(sp->ring);
	memcpy(out->resident, sp->resident, sizeof(out->resident));
	out->lazy_free = sp->lazy_bytes;
	out->resident_memory = ms_rbits_memory(&sp->res) + ms_rbits_memory(&sp->lazy);
	out->residency = sp->res_on;
}

void ms_space_totals(struct ms_space *sp, struct ms_totals *out)
{
	ms_space_lock(sp);
	ms_space_totals_locked(sp, out);
	ms_space_unlock(sp);
}

int ms_space_foreach_region_locked(struct ms_space *sp, int (*fn)(const struct ms_region *, void *),
				   void *ctx)
{
	struct ms_region r;
	int ret;

	for (const struct ms_node *n = ms_tree_first(&sp->tree); n; n = ms_tree_next(n)) {
		node_to_region(sp, n, &r);
		ret = fn(&r, ctx);
		if (ret)
			return ret;
	}
	return 0;
}

int ms_space_foreach_region(struct ms_space *sp, int (*fn)(const struct ms_region *, void *),
			    void *ctx)
{
	int ret;

	ms_space_lock(sp);
	ret = ms_space_foreach_region_locked(sp, fn, ctx);
	ms_space_unlock(sp);
	return ret;
}

int ms_space_foreach_in_locked(struct ms_space *sp, uint64_t addr, uint64_t len,
			       int (*fn)(const struct ms_region *, void *), void *ctx)
{
	uint64_t end = addr + len < addr ? UINT64_MAX : addr + len;
	struct ms_region r;
	int ret;

	for (const struct ms_node *n = ms_tree_lower_bound(&sp->tree, addr); n && n->start < end;
	     n = ms_tree_next(n)) {
		node_to_region(sp, n, &r);
		if (r.start < addr)
			r.start = addr;
		if (r.end > end)
			r.end = end;
		region_res(sp, n, r.start, r.end, &r);
		ret = fn(&r, ctx);
		if (ret)
			return ret;
	}
	return 0;
}

struct ms_snapshot *ms_space_snapshot(struct ms_space *sp)
{
	struct ms_snapshot *snap = calloc(1, sizeof(*snap));
	size_t i = 0;

	if (!snap)
		return NULL;
	ms_space_lock(sp);
	snap->regions = calloc(sp->tree.count ? sp->tree.count : 1, sizeof(*snap->regions));
	if (!snap->regions) {
		ms_space_unlock(sp);
		free(snap);
		return NULL;
	}
	for (const struct ms_node *n = ms_tree_first(&sp->tree); n; n = ms_tree_next(n))
		node_to_region(sp, n, &snap->regions[i++]);
	snap->nregions = i;
	ms_space_totals_locked(sp, &snap->totals);
	ms_space_unlock(sp);
	return snap;
}

void ms_snapshot_free(struct ms_snapshot *snap)
{
	if (!snap)
		return;
	free(snap->regions);
	free(snap);
}

size_t ms_space_violation_count(struct ms_space *sp)
{
	size_t n;

	ms_space_lock(sp);
	n = sp->nviol;
	ms_space_unlock(sp);
	return n;
}

int ms_space_violation_get(struct ms_space *sp, size_t idx, struct ms_violation *out)
{
	int err = -ENOENT;

	ms_space_lock(sp);
	if (idx < sp->nviol) {
		*out = sp->viol[idx];
		err = 0;
	}
	ms_space_unlock(sp);
	return err;
}

const char *ms_space_violation_message_locked(struct ms_space *sp, uint64_t seq)
{
	size_t lo = 0, hi = sp->nviol;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (sp->viol[mid].ev.seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < sp->nviol && sp->viol[lo].ev.seq == seq ? sp->viol[lo].message : NULL;
}

size_t ms_space_events_read_locked(struct ms_space *sp, struct ms_event *out, size_t max)
{
	return ms_ring_pop(sp->ring, out, max);
}

size_t ms_space_events_read(struct ms_space *sp, struct ms_event *out, size_t max)
{
	size_t n;

	ms_space_lock(sp);
	n = ms_space_events_read_locked(sp, out, max);
	ms_space_unlock(sp);
	return n;
}

/* ------------------------------------------------------------------ self-check */

int ms_space_verify(struct ms_space *sp, char *why, size_t whylen)
{
	uint64_t bytes[MS_KIND_COUNT][MS_STATE_COUNT] = {{0}};
	uint64_t *stat_bytes;
	const struct ms_node *n, *prev = NULL;
	const char *twhy;
	int err = 0;

	ms_space_lock(sp);
	stat_bytes = calloc(sp->nstats, sizeof(*stat_bytes));
	if (!stat_bytes) {
		err = -ENOMEM;
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	if (ms_tree_check(&sp->tree, &twhy)) {
		snprintf(why, whylen, "tree: %s", twhy);
		err = -EFAULT;
		goto out;
	}
	for (n = ms_tree_first(&sp->tree); n; prev = n, n = ms_tree_next(n)) {
		if (n->state == MS_NONE || n->state >= MS_STATE_COUNT) {
			snprintf(why, whylen, "interval %#" PRIx64 " has state %u", n->start,
				 n->state);
			err = -EFAULT;
			goto out;
		}
		if (prev && sp_mergeable(prev, n)) {
			snprintf(why, whylen, "equal neighbours not merged at %#" PRIx64, n->start);
			err = -EFAULT;
			goto out;
		}
		bytes[sp_node_kind(n)][n->state] += n->end - n->start;
		if (n->stat < sp->nstats)
			stat_bytes[n->stat] += n->end - n->start;
	}
	if (memcmp(bytes, sp->bytes, sizeof(bytes))) {
		snprintf(why, whylen, "per-state bytes differ from a recount");
		err = -EFAULT;
		goto out;
	}
	if (sp->res_on) {
		uint64_t res[MS_STATE_COUNT], lazy, bits = 0, lbits = 0;

		sp_res_tally(sp, 0, UINT64_MAX, res, &lazy);
		for (int s = 0; s < MS_STATE_COUNT; s++)
			bits += res[s];
		lbits = lazy;
		if (memcmp(res, sp->resident, sizeof(res)) || lazy != sp->lazy_bytes) {
			snprintf(why, whylen, "resident bytes differ from a recount");
			err = -EFAULT;
			goto out;
		}
		if (bits != sp->res.pages * sp->page_size ||
		    lbits != sp->lazy.pages * sp->page_size) {
			snprintf(why, whylen, "resident pages outside Prepared/Ready intervals");
			err = -EFAULT;
			goto out;
		}
	}
	for (unsigned i = 1; i < sp->nstats; i++) {
		if (stat_bytes[i] != sp->stats[i].bytes) {
			snprintf(why, whylen, "stat '%s' holds %" PRIu64 ", recount %" PRIu64,
				 sp->stats[i].name, sp->stats[i].bytes, stat_bytes[i]);
			err = -EFAULT;
			goto out;
		}
	}
out:
	free(stat_bytes);
	ms_space_unlock(sp);
	return err;
}
