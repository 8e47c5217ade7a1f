// SPDX-License-Identifier: MIT
/* The shadow address space (space_int.h): jemalloc extents and residency, checked and tracked. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "memstate/space.h"
#include "extent.h"
#include "resident.h"
#include "tree.h"
#include "space_int.h"

/* ------------------------------------------------------------------ jemalloc extents */

/* Bytes per state of [s, e), without touching the event. */
static void states_of(struct ms_space *sp, uint64_t s, uint64_t e, uint64_t out[MS_STATE_COUNT])
{
	struct ms_event tmp = {.addr = s, .len = e - s};
	struct walk w;

	sp_walk_range(sp, &tmp, s, e, &w);
	memcpy(out, tmp.from, sizeof(tmp.from));
}

/*
 * May [s, e) be taken as an extent? A registered one, yes; one that overlaps none and whose
 * bytes are all mapped is an extent jemalloc made before its hooks were wrapped: learned
 * (queued for the commit), not a violation. Else false.
 */
static bool extent_known(struct ms_space *sp, uint64_t s, uint64_t e)
{
	struct pending *p = &sp->pend;
	uint64_t b[MS_STATE_COUNT];

	if (ms_ext_has(&sp->ext, s, e))
		return true;
	if (s >= e || ms_ext_overlaps(&sp->ext, s, e))
		return false;
	for (unsigned i = 0; i < p->nlearn; i++) { /* the other half of this merge */
		if (p->learn[i][0] < e && s < p->learn[i][1])
			return false;
	}
	states_of(sp, s, e, b);
	if (b[MS_NONE])
		return false;
	p->learn[p->nlearn][0] = s;
	p->learn[p->nlearn][1] = e;
	p->nlearn++;
	return true;
}

/* jemalloc's contract (SPEC section 11), judged on what the map and the registry hold. */
int sp_check_extent(struct ms_space *sp, struct ms_event *ev)
{
	const uint64_t *f = ev->from;
	uint64_t s = ev->addr, e = ev->addr + ev->len, mid = ev->addr + ev->arg;
	uint64_t a[MS_STATE_COUNT], b[MS_STATE_COUNT];
	char why[128];

	switch (ev->op) {
	case MS_OP_EXT_ALLOC:
		if (!ev->result && ms_ext_overlaps(&sp->ext, s, e))
			return sp_violate(sp, ev, MS_V_ILLEGAL_TRANSITION,
					  "returns memory of a live extent");
		break;
	case MS_OP_EXT_DALLOC:
	case MS_OP_EXT_DESTROY:
		if (!extent_known(sp, s, e))
			return sp_violate(sp, ev, MS_V_UNKNOWN_EXTENT,
					  f[MS_NONE] ? "names unmapped bytes, no extent"
						     : "does not match a known extent");
		break;
	case MS_OP_EXT_COMMIT:
		if (f[MS_PREPARED] || f[MS_READY])
			return sp_violate(sp, ev, MS_V_COMMIT_COMMITTED, "over committed bytes");
		if (f[MS_NONE])
			return sp_violate(sp, ev, MS_V_UNKNOWN_EXTENT, "over unmapped bytes");
		break;
	case MS_OP_EXT_DECOMMIT:
	case MS_OP_EXT_PURGE_LAZY:
	case MS_OP_EXT_PURGE_FORCED:
		if (f[MS_RESERVED] || f[MS_NONE])
			return sp_violate(sp, ev, MS_V_DECOMMIT_UNCOMMITTED,
					  "over bytes that are not committed");
		break;
	case MS_OP_EXT_SPLIT:
		if (mid <= s || mid >= e || (ev->arg & (sp->page_size - 1)) ||
		    !extent_known(sp, s, e)) {
			snprintf(why, sizeof(why), "at +%#" PRIx64 " is not within a known extent",
				 ev->arg);
			return sp_violate(sp, ev, MS_V_EXTENT_BOUNDS, why);
		}
		break;
	case MS_OP_EXT_MERGE:
		if ((ev->flags & MS_EVF_APART) || mid <= s || mid >= e ||
		    (ev->arg & (sp->page_size - 1)) || !extent_known(sp, s, mid) ||
		    !extent_known(sp, mid, e))
			return sp_violate(sp, ev, MS_V_EXTENT_BOUNDS,
					  (ev->flags & MS_EVF_APART)
						  ? "of extents that are not adjacent"
						  : "of ranges that are not two known extents");
		states_of(sp, s, mid, a);
		states_of(sp, mid, e, b);
		if (!a[MS_RESERVED] != !b[MS_RESERVED]) {
			snprintf(why, sizeof(why), "of a %s extent with a %s one",
				 a[MS_RESERVED] ? "decommitted" : "committed",
				 b[MS_RESERVED] ? "decommitted" : "committed");
			return sp_violate(sp, ev, MS_V_MERGE_COMMIT_DIFFERS, why);
		}
		break;
	default:
		break;
	}
	return 0;
}

void ms_space_extent_totals(struct ms_space *sp, struct ms_extent_totals *out)
{
	uint64_t b[MS_STATE_COUNT];

	memset(out, 0, sizeof(*out));
	ms_space_lock(sp);
	out->learned = sp->ext_learned;
	for (const struct ms_node *n = ms_ext_first(&sp->ext); n; n = ms_ext_next(n)) {
		states_of(sp, n->start, n->end, b);
		out->extents++;
		out->bytes += n->end - n->start;
		for (unsigned k = 0; k < MS_STATE_COUNT; k++)
			out->state[k] += b[k];
	}
	ms_space_unlock(sp);
}

/* The registry after a committed extent operation (room was reserved by the check). */
void sp_commit_extent(struct ms_space *sp, const struct ms_event *ev)
{
	struct pending *p = &sp->pend;
	uint64_t s = ev->addr, e = ev->addr + ev->len, mid = ev->addr + ev->arg;

	for (unsigned i = 0; i < p->nlearn; i++) {
		if (!ms_ext_add(&sp->ext, p->learn[i][0], p->learn[i][1]))
			sp->ext_learned += p->learn[i][1] - p->learn[i][0];
	}
	if (ev->result || !p->apply)
		return;
	switch (ev->op) {
	case MS_OP_EXT_ALLOC:
		ms_ext_add(&sp->ext, s, e);
		break;
	case MS_OP_EXT_DALLOC:
	case MS_OP_EXT_DESTROY:
		ms_ext_remove(&sp->ext, s, e);
		break;
	case MS_OP_EXT_SPLIT:
		ms_ext_split(&sp->ext, s, mid, e);
		break;
	case MS_OP_EXT_MERGE:
		ms_ext_merge(&sp->ext, s, mid, e);
		break;
	default:
		break;
	}
}

/* A user page fault: attribute it, and decide access-reserved / access-prepared / first touch. */
int sp_check_page_fault(struct ms_space *sp, struct ms_event *ev)
{
	struct pending *p = &sp->pend;
	struct ms_node *n = sp_find_holding(sp, p->s);
	char why[96];

	ev->to = MS_STATE_UNCHANGED;
	ev->flags &= (uint16_t)~MS_EVF_INFERRED;
	p->tracked = n != NULL;
	p->first = n;
	ev->from[n ? n->state : MS_NONE] = sp->page_size;
	if (!n || (n->attr & MS_NA_FILE) || n->state == MS_READY)
		return 0;
	if (n->state == MS_PREPARED && (n->attr & MS_NA_INFERRED)) {
		/* Memory the syscalls made Prepared: touching it is how it becomes Ready. */
		p->op = MS_OP_USED;
		ev->to = MS_READY;
		ev->flags |= MS_EVF_INFERRED;
		return 0;
	}
	/* Reserved, or Prepared the program declared: a violation (the message only now). */
	snprintf(why, sizeof(why), "%s access at %#" PRIx64 " (ip %#" PRIx64 ") in %s",
		 (ev->flags & MS_EVF_WRITE) ? "write" : "read", ev->addr, ev->arg,
		 n->state == MS_RESERVED ? "Reserved memory: SIGSEGV follows"
					 : "Prepared memory before sysUsed");
	return sp_violate(
		sp, ev, n->state == MS_RESERVED ? MS_V_ACCESS_RESERVED : MS_V_ACCESS_PREPARED, why);
}

/* ------------------------------------------------------------------ residency */

/*
 * Which pages the kernel holds (SPEC section 8), as two sparse bitmaps (resident.h): the
 * resident pages, and of those the lazily free ones. Bits exist only inside anonymous
 * Prepared/Ready intervals: every operation that turns bytes into anything else clears
 * them, so per-state figures are counts of bits under intervals of that state. A commit
 * counts the bits of the range it may change before and after (resident_delta); the
 * page-fault path, the hot one, tests and sets one bit instead.
 */

bool sp_res_node(const struct ms_node *n)
{
	return !(n->attr & MS_NA_FILE) && (n->state == MS_PREPARED || n->state == MS_READY);
}

unsigned sp_page_shift(const struct ms_space *sp)
{
	return (unsigned)__builtin_ctz(sp->page_size);
}

/* Resident bytes per state and lazily free bytes in [s, e). */
void sp_res_tally(struct ms_space *sp, uint64_t s, uint64_t e, uint64_t res[MS_STATE_COUNT],
		  uint64_t *lazy)
{
	unsigned sh = sp_page_shift(sp);
	uint64_t lo, hi;

	memset(res, 0, MS_STATE_COUNT * sizeof(*res));
	*lazy = 0;
	if (!sp->res.pages)
		return;
	for (const struct ms_node *n = sp_find(sp, s); n && n->start < e; n = ms_tree_next(n)) {
		if (!sp_res_node(n))
			continue;
		lo = n->start > s ? n->start : s;
		hi = n->end < e ? n->end : e;
		res[n->state] += ms_rbits_count(&sp->res, lo >> sh, (hi - lo) >> sh) << sh;
		if (sp->lazy.pages)
			*lazy += ms_rbits_count(&sp->lazy, lo >> sh, (hi - lo) >> sh) << sh;
	}
}

void sp_res_recount(struct ms_space *sp)
{
	uint64_t lazy;

	sp_res_tally(sp, 0, UINT64_MAX, sp->resident, &lazy);
	sp->lazy_bytes = lazy;
}

/* Make the pages of [s, e) inside anonymous Prepared/Ready intervals resident, not lazy. */
static void res_fill(struct ms_space *sp, uint64_t s, uint64_t e)
{
	unsigned sh = sp_page_shift(sp);
	uint64_t lo, hi;

	for (const struct ms_node *n = sp_find(sp, s); n && n->start < e; n = ms_tree_next(n)) {
		if (!sp_res_node(n))
			continue;
		lo = n->start > s ? n->start : s;
		hi = n->end < e ? n->end : e;
		ms_rbits_set(&sp->res, lo >> sh, (hi - lo) >> sh);
		ms_rbits_clear(&sp->lazy, lo >> sh, (hi - lo) >> sh);
	}
}

/* A huge-page fault notice's range: the aligned huge page holding addr; false if bad. */
bool sp_huge_range(const struct ms_space *sp, const struct ms_event *ev, uint64_t *s, uint64_t *e)
{
	uint64_t len = ev->len;

	if (!len || (len & (len - 1)) || len < sp->page_size || len > (1ull << 40))
		return false;
	*s = ev->addr & ~(len - 1);
	*e = *s + len;
	return *e > *s;
}

/* Whether [s, e) is anonymous Prepared/Ready memory without a gap (one THP could fit). */
bool sp_huge_possible(struct ms_space *sp, uint64_t s, uint64_t e)
{
	uint64_t pos = s;

	for (const struct ms_node *n = sp_find(sp, s); n && n->start < e; n = ms_tree_next(n)) {
		if (n->start > pos || !sp_res_node(n))
			return false;
		pos = n->end;
	}
	return pos >= e;
}

/* An mremap step (SPEC section 5): its pages move from the old range to the new one. */
static bool from_mremap(const struct ms_event *ev)
{
	return ev->source == MS_SRC_SYSCALL && ev->aux == SYS_mremap;
}

/* mremap recreating moved memory: arg is where its first byte was. */
static bool moved_here(const struct ms_event *ev)
{
	return from_mremap(ev) && ev->arg && (ev->op == MS_OP_ALLOC || ev->op == MS_OP_MAP);
}

/*
 * At check time: the range whose residency ev may change (p->rs, p->re) and the bitmap
 * chunks that change needs. 0 or -ENOMEM.
 */
int sp_res_check(struct ms_space *sp, const struct ms_event *ev)
{
	struct pending *p = &sp->pend;
	unsigned sh = sp_page_shift(sp);
	uint64_t hp = 2ull << 20, s, e;
	size_t need = 0;

	p->rs = p->re = 0;
	if (!sp->res_on)
		return 0;
	switch (ev->op) {
	case MS_OP_ALLOC:
	case MS_OP_MAP:
		p->rs = p->s;
		p->re = p->e;
		if (moved_here(ev)) { /* each stashed chunk lands on at most two */
			need = ms_rbits_chunks(p->s >> sh, (p->e - p->s) >> sh);
			if (need > 2 * sp->moved.used + 2)
				need = 2 * sp->moved.used + 2;
		}
		break;
	case MS_OP_FREE:
		p->rs = p->s;
		p->re = p->e;
		if (from_mremap(ev)) { /* stash the pages that move */
			need = ms_rbits_chunks(p->s >> sh, (p->e - p->s) >> sh);
			if (need > sp->res.used)
				need = sp->res.used;
			if (need && (ms_rbits_reserve(&sp->moved, need) ||
				     ms_rbits_reserve(&sp->moved_lazy, need)))
				return -ENOMEM;
		}
		need = 0; /* the pages leave: a clear */
		break;
	case MS_OP_RESERVE:
	case MS_OP_FAULT:
	case MS_OP_FILE_MAP:
		p->rs = p->s;
		p->re = p->e;
		break;	 /* a clear */
	case MS_OP_USED: /* no page changes, but resident bytes change state */
		p->rs = p->s;
		p->re = p->e;
		return 0;
	case MS_OP_EXT_DALLOC: /* returning the extent (-> None): its pages are gone */
	case MS_OP_EXT_DESTROY:
	case MS_OP_EXT_DECOMMIT:     /* -> Reserved */
	case MS_OP_EXT_PURGE_FORCED: /* MADV_DONTNEED: reads as zero */
		p->rs = p->s;
		p->re = p->e;
		break; /* a clear */
	case MS_OP_UNUSED:
	case MS_OP_EXT_PURGE_LAZY: /* MADV_FREE: resident still, lazily free (SPEC 8, 11) */
		p->rs = p->s;
		p->re = p->e;
		if (ev->op == MS_OP_EXT_PURGE_LAZY || (ev->flags & MS_EVF_LAZY)) {
			need = ms_rbits_chunks(p->s >> sh, (p->e - p->s) >> sh);
			if (need > sp->res.used)
				need = sp->res.used;
		}
		break;
	case MS_OP_PAGE_FAULT:
		p->rs = p->s;
		p->re = p->e;
		need = ms_rbits_chunks(p->s >> sh, (p->e - p->s) >> sh);
		break;
	case MS_OP_THP_COLLAPSE:
		p->rs = p->s;
		p->re = p->e;
		need = ms_rbits_chunks(p->s >> sh, (p->e - p->s) >> sh);
		break;
	case MS_OP_HUGE_PAGE_COLLAPSE:
		/* madvise(MADV_COLLAPSE) returned 0: every aligned huge page inside is one. */
		if (ev->source != MS_SRC_SYSCALL)
			return 0;
		s = (p->s + hp - 1) & ~(hp - 1);
		e = p->e & ~(hp - 1);
		if (e <= s)
			return 0;
		p->rs = s;
		p->re = e;
		need = ms_rbits_chunks(s >> sh, (e - s) >> sh);
		break;
	default:
		return 0;
	}
	/* Even a clear (need 0): of part of a fully set chunk, it takes a bitmap. */
	if (ms_rbits_reserve(&sp->res, need) || ms_rbits_reserve(&sp->lazy, need))
		return -ENOMEM;
	return 0;
}

/* The residency change of a committed operation (states already applied). */
void sp_res_update(struct ms_space *sp, struct ms_event *ev)
{
	struct pending *p = &sp->pend;
	unsigned sh = sp_page_shift(sp);
	uint64_t first = p->rs >> sh, n = (p->re - p->rs) >> sh;

	switch (ev->op) {
	case MS_OP_UNUSED:
	case MS_OP_EXT_PURGE_LAZY:
		if (ev->op == MS_OP_EXT_PURGE_LAZY || (ev->flags & MS_EVF_LAZY)) {
			ms_rbits_or_from(&sp->lazy, &sp->res, first, n, 0);
		} else { /* MADV_DONTNEED drops the pages */
			ms_rbits_clear(&sp->res, first, n);
			ms_rbits_clear(&sp->lazy, first, n);
		}
		break;
	case MS_OP_EXT_PURGE_FORCED:
	case MS_OP_EXT_DECOMMIT:
	case MS_OP_EXT_DALLOC:
	case MS_OP_EXT_DESTROY:
		ms_rbits_clear(&sp->res, first, n);
		ms_rbits_clear(&sp->lazy, first, n);
		break;
	case MS_OP_FREE:
		if (from_mremap(ev)) {
			ms_rbits_clear_all(&sp->moved);
			ms_rbits_clear_all(&sp->moved_lazy);
			ms_rbits_or_from(&sp->moved, &sp->res, first, n, 0);
			ms_rbits_or_from(&sp->moved_lazy, &sp->lazy, first, n, 0);
		}
		ms_rbits_clear(&sp->res, first, n);
		ms_rbits_clear(&sp->lazy, first, n);
		break;
	case MS_OP_ALLOC:
	case MS_OP_MAP:
		ms_rbits_clear(&sp->res, first, n);
		ms_rbits_clear(&sp->lazy, first, n);
		if (moved_here(ev)) {
			int64_t shift = (int64_t)(p->rs >> sh) - (int64_t)(ev->arg >> sh);

			ms_rbits_or_from(&sp->res, &sp->moved, ev->arg >> sh, n, shift);
			ms_rbits_or_from(&sp->lazy, &sp->moved_lazy, ev->arg >> sh, n, shift);
		}
		break;
	case MS_OP_RESERVE:
	case MS_OP_FAULT:
	case MS_OP_FILE_MAP:
		ms_rbits_clear(&sp->res, first, n);
		ms_rbits_clear(&sp->lazy, first, n);
		break;
	case MS_OP_PAGE_FAULT:
	case MS_OP_THP_COLLAPSE:
	case MS_OP_HUGE_PAGE_COLLAPSE:
		res_fill(sp, p->rs, p->re);
		break;
	default:
		break;
	}
}

/* A first touch of one page: the fast path of the commit. */
void sp_res_fault(struct ms_space *sp, struct ms_event *ev)
{
	struct ms_node *n = sp_find_holding(sp, sp->pend.s);
	uint64_t page = sp->pend.s >> sp_page_shift(sp);

	if (!n || !sp_res_node(n))
		return;
	if (!ms_rbits_test(&sp->res, page)) {
		ms_rbits_set(&sp->res, page, 1);
		sp->resident[n->state] += sp->page_size;
		ev->resident_delta = sp->page_size;
	} else if (sp->pend.op == MS_OP_USED) {
		/* a first touch made the resident page Ready (lazily free after MADV_FREE) */
		sp->resident[MS_PREPARED] -= sp->page_size;
		sp->resident[MS_READY] += sp->page_size;
	}
	if (sp->lazy.pages && ms_rbits_test(&sp->lazy, page)) {
		ms_rbits_clear(&sp->lazy, page, 1);
		sp->lazy_bytes -= sp->page_size;
	}
}

uint64_t ms_space_resident_mask_locked(struct ms_space *sp, uint64_t addr, unsigned n)
{
	uint64_t page = addr >> sp_page_shift(sp), mask = 0;

	if (!sp->res.pages)
		return 0;
	for (unsigned i = 0; i < n && i < 64; i++) {
		if (ms_rbits_test(&sp->res, page + i))
			mask |= 1ull << i;
	}
	return mask;
}

int ms_space_resident_in_locked(struct ms_space *sp, uint64_t addr, uint64_t len,
				uint64_t *resident, uint64_t *lazy_free)
{
	uint64_t res[MS_STATE_COUNT], lazy;

	if (addr + len < addr)
		return -EINVAL;
	sp_res_tally(sp, addr, addr + len, res, &lazy);
	*resident = res[MS_PREPARED] + res[MS_READY];
	if (lazy_free)
		*lazy_free = lazy;
	return 0;
}
