// SPDX-License-Identifier: MIT
/*
 * The shadow address space: checker, transitions and accounting over the interval tree.
 *
 * An operation is handled in two steps so the library can put the real syscall between
 * them: check (walk the range once, count bytes per state, decide the violation, reserve
 * the nodes the commit needs) and commit (apply what the OS now holds, count, log). Only
 * the check can fail; the commit splits, fills, erases and merges without a failure path.
 *
 * Transitions are applied per interval: each interval of the range gets the state and
 * attributes the operation gives it (target()), each gap gets the state the operation
 * creates there, if any (gap_target()); the range's boundary intervals are split only when
 * they really change, and equal neighbours are merged afterwards.
 */
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

static void account(struct ms_space *sp, const struct ms_node *n, int sign);
static void update_peaks(struct ms_space *sp);

/* ------------------------------------------------------------------ life cycle */

struct ms_space *ms_space_new(const struct ms_space_opts *opts)
{
	struct ms_space_opts o = opts ? *opts : (struct ms_space_opts){0};
	struct ms_space *sp = calloc(1, sizeof(*sp));
	long ps;

	if (!sp)
		return NULL;
	ps = o.page_size ? (long)o.page_size : sysconf(_SC_PAGESIZE);
	if (ps <= 0 || (ps & (ps - 1)))
		goto err;
	sp->page_size = (uint32_t)ps;
	pthread_mutex_init(&sp->lock, NULL);
	ms_tree_init(&sp->tree);
	sp->stats_cap = 16;
	sp->stats = calloc(sp->stats_cap, sizeof(*sp->stats));
	if (!sp->stats)
		goto err;
	sp->stats[0].name = strdup("");
	if (!sp->stats[0].name)
		goto err;
	sp->nstats = 1;
	if (o.ring) {
		sp->ring = o.ring;
	} else {
		uint32_t cap = o.log_capacity ? o.log_capacity : DEFAULT_LOG;

		sp->ring_mem = calloc(1, ms_ring_size(cap));
		sp->ring = ms_ring_init(sp->ring_mem, cap);
		if (!sp->ring)
			goto err;
	}
	sp->seq = o.seq_counter ? o.seq_counter : &sp->own_seq;
	sp->on_full = o.on_full;
	sp->on_full_ctx = o.on_full_ctx;
	sp->max_viol = o.max_violations ? o.max_violations : DEFAULT_MAX_VIOL;
	sp->res_on = !o.no_residency;
	ms_rbits_init(&sp->res);
	ms_rbits_init(&sp->lazy);
	ms_rbits_init(&sp->moved);
	ms_rbits_init(&sp->moved_lazy);
	/* Nodes for the first operations, so a space that was created can record. */
	if (ms_tree_reserve(&sp->tree, 8))
		goto err;
	return sp;
err:
	ms_space_free(sp);
	return NULL;
}

void ms_space_free(struct ms_space *sp)
{
	if (!sp)
		return;
	ms_tree_destroy(&sp->tree);
	ms_rbits_destroy(&sp->res);
	ms_rbits_destroy(&sp->lazy);
	ms_rbits_destroy(&sp->moved);
	ms_rbits_destroy(&sp->moved_lazy);
	for (unsigned i = 0; i < sp->nstats; i++)
		free(sp->stats[i].name);
	free(sp->stats);
	free(sp->viol);
	free(sp->ring_mem);
	ms_ext_destroy(&sp->ext);
	pthread_mutex_destroy(&sp->lock);
	free(sp);
}

struct ms_space *ms_space_clone(struct ms_space *sp, const struct ms_space_opts *opts)
{
	struct ms_space *c = ms_space_new(opts);
	struct ms_node *prev = NULL, *m;

	if (!c)
		return NULL;
	ms_space_lock(sp);
	for (unsigned i = 1; i < sp->nstats; i++) {
		if (ms_space_stat_id_locked(c, sp->stats[i].name) != (int)i)
			goto fail;
	}
	if (ms_tree_reserve(&c->tree, sp->tree.count) || ms_ext_copy(&c->ext, &sp->ext))
		goto fail;
	c->ext_learned = sp->ext_learned;
	for (const struct ms_node *n = ms_tree_first(&sp->tree); n; n = ms_tree_next(n)) {
		m = ms_tree_node_take(&c->tree);
		m->start = n->start;
		m->end = n->end;
		m->state = n->state;
		m->attr = n->attr;
		m->stat = n->stat;
		ms_tree_insert_after(&c->tree, prev, m);
		account(c, m, +1);
		prev = m;
	}
	/* The child shares its parent's resident pages (copy on write). */
	if (c->res_on && sp->res_on &&
	    (ms_rbits_copy(&c->res, &sp->res) || ms_rbits_copy(&c->lazy, &sp->lazy)))
		goto fail;
	sp_res_recount(c);
	ms_space_unlock(sp);
	update_peaks(c);
	return c;
fail:
	ms_space_unlock(sp);
	ms_space_free(c);
	return NULL;
}

void ms_space_lock(struct ms_space *sp)
{
	pthread_mutex_lock(&sp->lock);
}

void ms_space_unlock(struct ms_space *sp)
{
	pthread_mutex_unlock(&sp->lock);
}

uint32_t ms_space_page_size(const struct ms_space *sp)
{
	return sp->page_size;
}

/* ------------------------------------------------------------------ accounting */

unsigned sp_node_kind(const struct ms_node *n)
{
	return (n->attr & MS_NA_FILE) ? MS_KIND_FILE : MS_KIND_ANON;
}

static void mark_dirty(struct ms_space *sp, uint16_t id)
{
	for (unsigned i = 0; i < sp->ndirty; i++) {
		if (sp->dirty[i] == id)
			return;
	}
	if (sp->ndirty < MS_DIRTY_STATS)
		sp->dirty[sp->ndirty++] = id;
}

/* Add (sign > 0) or remove a node's bytes from the per-state and per-stat totals. */
static void account(struct ms_space *sp, const struct ms_node *n, int sign)
{
	uint64_t len = n->end - n->start;
	struct stat_slot *st;

	if (sign > 0)
		sp->bytes[sp_node_kind(n)][n->state] += len;
	else
		sp->bytes[sp_node_kind(n)][n->state] -= len;
	if (!n->stat || n->stat >= sp->nstats)
		return;
	st = &sp->stats[n->stat];
	if (sign > 0) {
		st->bytes += len;
		if (st->bytes > st->peak)
			st->peak = st->bytes;
	} else {
		st->bytes -= len;
	}
	mark_dirty(sp, n->stat);
}

static void update_peaks(struct ms_space *sp)
{
	const uint64_t *b = sp->bytes[MS_KIND_ANON];

	for (int s = MS_RESERVED; s < MS_STATE_COUNT; s++) {
		if (b[s] > sp->tot.peak_bytes[s])
			sp->tot.peak_bytes[s] = b[s];
	}
	if (b[MS_PREPARED] + b[MS_READY] > sp->tot.peak_footprint)
		sp->tot.peak_footprint = b[MS_PREPARED] + b[MS_READY];
	if (sp->resident[MS_PREPARED] + sp->resident[MS_READY] > sp->tot.peak_resident)
		sp->tot.peak_resident = sp->resident[MS_PREPARED] + sp->resident[MS_READY];
}

static uint32_t sat_add32(uint32_t a, uint32_t b)
{
	return a + b < a ? UINT32_MAX : a + b;
}

/* ------------------------------------------------------------------ transitions */

/* What an operation makes of one interval. */
struct target {
	uint8_t state;
	uint8_t attr;
	uint16_t stat;
	bool erase; /* the interval becomes None */
};

static bool inferred_source(const struct ms_event *ev)
{
	return ev->source == MS_SRC_SYSCALL || ev->source == MS_SRC_KERNEL;
}

/* Fill *t with what op makes of n; true when that differs from n. */
static bool target(const struct ms_event *ev, unsigned op, const struct ms_node *n,
		   struct target *t)
{
	bool file = n->attr & MS_NA_FILE;
	uint8_t infer = inferred_source(ev) ? MS_NA_INFERRED : 0;

	*t = (struct target){.state = n->state, .attr = n->attr, .stat = n->stat};
	switch (op) {
	case MS_OP_ALLOC:
		*t = (struct target){.state = MS_READY, .stat = ev->stat};
		break;
	case MS_OP_RESERVE:
		*t = (struct target){.state = MS_RESERVED};
		break;
	case MS_OP_MAP:
		*t = (struct target){.state = MS_PREPARED, .attr = infer, .stat = ev->stat};
		break;
	case MS_OP_USED:
		if (!file && n->state == MS_PREPARED) {
			t->state = MS_READY;
			t->attr &= ~MS_NA_INFERRED;
		}
		break;
	case MS_OP_UNUSED:
		/* The pages are gone, and with them any huge page that backed them. */
		if (!file && n->state == MS_READY) {
			t->state = MS_PREPARED;
			t->attr = (t->attr & ~(MS_NA_INFERRED | MS_NA_THP)) | infer;
		}
		break;
	case MS_OP_FREE:
		t->erase = true;
		break;
	case MS_OP_FAULT:
		/* A new PROT_NONE mapping: hints are gone, the stat stays charged (Go's rule). */
		t->state = MS_RESERVED;
		t->attr = 0;
		break;
	case MS_OP_HUGE_PAGE:
		t->attr = (t->attr & ~MS_NA_HUGE_MASK) | MS_HUGE_HUGEPAGE;
		break;
	case MS_OP_NO_HUGE_PAGE:
		t->attr = (t->attr & ~MS_NA_HUGE_MASK) | MS_HUGE_NOHUGEPAGE;
		break;
	case MS_OP_HUGE_PAGE_COLLAPSE:
	case MS_OP_THP_COLLAPSE:
		if (ev->result == 0 && !file && (n->state == MS_PREPARED || n->state == MS_READY))
			t->attr |= MS_NA_THP;
		break;
	case MS_OP_FILE_MAP:
		*t = (struct target){.state = MS_READY, .attr = MS_NA_FILE};
		break;
	case MS_OP_EXT_ALLOC:
		*t = (struct target){.state = (ev->flags & MS_EVF_COMMITTED) ? MS_READY
									     : MS_RESERVED};
		break;
	case MS_OP_EXT_DALLOC:
	case MS_OP_EXT_DESTROY:
		t->erase = true;
		break;
	case MS_OP_EXT_COMMIT:
		if (!file && n->state == MS_RESERVED)
			*t = (struct target){.state = MS_READY, .stat = n->stat};
		break;
	case MS_OP_EXT_DECOMMIT:
		if (!file)
			*t = (struct target){.state = MS_RESERVED, .stat = n->stat};
		break;
	case MS_OP_EXT_PURGE_LAZY:
	case MS_OP_EXT_PURGE_FORCED:
		/* Committed still: jemalloc reuses it by touching it (a first touch). */
		if (!file && n->state == MS_READY) {
			t->state = MS_PREPARED;
			t->attr = (t->attr & ~MS_NA_THP) | MS_NA_INFERRED;
		}
		break;
	default: /* pageFault, split, merge: counters only */
		break;
	}
	return t->erase || t->state != n->state || t->attr != n->attr || t->stat != n->stat;
}

/* What op creates in a gap (None bytes); false when it leaves the gap None. */
static bool gap_target(const struct ms_event *ev, unsigned op, struct target *t)
{
	uint8_t infer = inferred_source(ev) ? MS_NA_INFERRED : 0;

	switch (op) {
	case MS_OP_ALLOC:
		*t = (struct target){.state = MS_READY, .stat = ev->stat};
		return true;
	case MS_OP_RESERVE:
	case MS_OP_FAULT: /* mmap(PROT_NONE, MAP_FIXED) maps whatever was there */
		*t = (struct target){.state = MS_RESERVED};
		return true;
	case MS_OP_MAP:
		*t = (struct target){.state = MS_PREPARED, .attr = infer, .stat = ev->stat};
		return true;
	case MS_OP_FILE_MAP:
		*t = (struct target){.state = MS_READY, .attr = MS_NA_FILE};
		return true;
	case MS_OP_EXT_ALLOC:
		*t = (struct target){.state = (ev->flags & MS_EVF_COMMITTED) ? MS_READY
									     : MS_RESERVED};
		return true;
	default:
		return false;
	}
}

/* The part of a counter that goes with part of an interval's bytes (most counters are 0). */
static uint32_t share(uint32_t count, uint64_t part, uint64_t whole)
{
	return count ? (uint32_t)((unsigned __int128)count * part / whole) : 0;
}

/* Split n at addr (inside it); n keeps [start, addr), the new right part is returned. */
static struct ms_node *split(struct ms_space *sp, struct ms_node *n, uint64_t addr)
{
	struct ms_node *m = ms_tree_node_take(&sp->tree);
	uint64_t len = n->end - n->start, rlen = n->end - addr;

	m->start = addr;
	m->end = n->end;
	m->state = n->state;
	m->attr = n->attr;
	m->stat = n->stat;
	/* Counters follow the bytes, so that their sums stay exact across splits. */
	m->faults = share(n->faults, rlen, len);
	m->thp = share(n->thp, rlen, len);
	n->faults -= m->faults;
	n->thp -= m->thp;
	n->end = addr;
	ms_tree_insert_after(&sp->tree, n, m);
	return m;
}

static void set_node(struct ms_space *sp, struct ms_node *n, const struct target *t)
{
	account(sp, n, -1);
	if (t->erase) {
		if (sp->finger == n)
			sp->finger = NULL;
		ms_tree_erase(&sp->tree, n);
		ms_tree_node_give(&sp->tree, n);
		return;
	}
	n->state = t->state;
	n->attr = t->attr;
	n->stat = t->stat;
	account(sp, n, +1);
}

static void fill_gap(struct ms_space *sp, const struct target *t, uint64_t s, uint64_t e)
{
	struct ms_node *n = ms_tree_node_take(&sp->tree);

	n->start = s;
	n->end = e;
	n->state = t->state;
	n->attr = t->attr;
	n->stat = t->stat;
	ms_tree_insert(&sp->tree, n);
	account(sp, n, +1);
}

bool sp_mergeable(const struct ms_node *a, const struct ms_node *b)
{
	return a->end == b->start && a->state == b->state && a->attr == b->attr &&
	       a->stat == b->stat;
}

/* Merge equal neighbours from a (the interval before the range, or its first) to e. */
static void merge_from(struct ms_space *sp, struct ms_node *a, uint64_t e)
{
	struct ms_node *b;

	while (a && (b = ms_tree_next(a)) && b->start <= e) {
		if (sp_mergeable(a, b)) {
			a->end = b->end;
			a->faults = sat_add32(a->faults, b->faults);
			a->thp = sat_add32(a->thp, b->thp);
			ms_tree_erase(&sp->tree, b);
			ms_tree_node_give(&sp->tree, b);
			continue;
		}
		if (b->start >= e)
			break;
		a = b;
	}
	sp->finger = a;
}

/* Would a node with target t merge with n? */
static bool same_as(const struct ms_node *n, const struct target *t)
{
	return !t->erase && n->state == t->state && n->attr == t->attr && n->stat == t->stat;
}

/*
 * Move [s, e), one end of "from", to its neighbour "to" (which ends at s or starts at e),
 * with the fault and THP counts of those bytes. Starts stay ordered: the tree is intact.
 */
static void shift_bytes(struct ms_space *sp, struct ms_node *from, struct ms_node *to, uint64_t s,
			uint64_t e)
{
	uint32_t f = share(from->faults, e - s, from->end - from->start);
	uint32_t h = share(from->thp, e - s, from->end - from->start);

	account(sp, from, -1);
	account(sp, to, -1);
	if (to->end == s) {
		to->end = e;
		from->start = e;
	} else {
		to->start = s;
		from->end = s;
	}
	from->faults -= f;
	from->thp -= h;
	to->faults = sat_add32(to->faults, f);
	to->thp = sat_add32(to->thp, h);
	account(sp, from, +1);
	account(sp, to, +1);
}

/*
 * Apply op to [s, e), starting from n, the first interval ending after s (the check found
 * it: one descent of the tree per operation). Nodes were reserved by the check: nothing
 * here can fail.
 */
static void apply_range(struct ms_space *sp, const struct ms_event *ev, unsigned op, uint64_t s,
			uint64_t e, struct ms_node *n)
{
	/* The interval before the range stays put whatever happens inside: merging starts
	 * there (with none, from the tree's first interval, which the range may create). */
	struct ms_node *left = n ? (n->start < s ? n : ms_tree_prev(n)) : ms_tree_last(&sp->tree);
	struct target t, g;
	bool fills = gap_target(ev, op, &g);
	uint64_t pos = s;
	struct ms_node *next;

	while (pos < e) {
		if (!n || n->start >= e) {
			if (fills)
				fill_gap(sp, &g, pos, e);
			break;
		}
		if (n->start > pos) {
			if (fills)
				fill_gap(sp, &g, pos, n->start);
			pos = n->start;
		}
		next = ms_tree_next(n);
		if (target(ev, op, n, &t)) {
			/* A sweep (pages released in order) turns the start or end of an
			 * interval into what its neighbour already is: move the boundary
			 * instead of splitting and merging again. */
			if (n->start == s && n->end > e && left && left->end == s &&
			    same_as(left, &t)) {
				shift_bytes(sp, n, left, s, e);
				sp->finger = left; /* nothing else can merge now */
				return;
			}
			if (n->start < s && n->end == e && next && next->start == e &&
			    same_as(next, &t)) {
				shift_bytes(sp, n, next, s, e);
				sp->finger = next;
				return;
			}
			if (n->start < s)
				n = split(sp, n, s);
			if (n->end > e)
				split(sp, n, e);
			pos = n->end;
			set_node(sp, n, &t);
		} else {
			pos = n->end;
		}
		n = next;
	}
	merge_from(sp, left ? left : ms_tree_first(&sp->tree), e);
}

/* ------------------------------------------------------------------ checking */

/*
 * ms_tree_lower_bound(addr) that first tries the finger: programs work near where they
 * last did (a scavenger sweeping up, faults touching pages in order), and a step from the
 * finger costs nothing where a descent costs a cache miss per level.
 */
struct ms_node *sp_find(struct ms_space *sp, uint64_t addr)
{
	struct ms_node *f = sp->finger, *n;

	if (f) {
		if (addr >= f->end) {
			n = ms_tree_next(f);
			if (!n || n->end > addr)
				return n;
		} else if (addr >= f->start) {
			return f;
		} else {
			n = ms_tree_prev(f);
			if (!n || n->end <= addr)
				return f;
		}
	}
	n = ms_tree_lower_bound(&sp->tree, addr);
	if (n) /* the next look nearby (the update after a query) starts here */
		sp->finger = n;
	return n;
}

/* The interval holding addr, or NULL. */
struct ms_node *sp_find_holding(struct ms_space *sp, uint64_t addr)
{
	struct ms_node *n = sp_find(sp, addr);

	return n && n->start <= addr ? n : NULL;
}

void sp_walk_range(struct ms_space *sp, struct ms_event *ev, uint64_t s, uint64_t e, struct walk *w)
{
	const struct ms_node *n = sp_find(sp, s);
	uint64_t pos = s, lo, hi;

	*w = (struct walk){.first = (struct ms_node *)n};
	for (; n && n->start < e; n = ms_tree_next(n)) {
		if (n->start > pos) {
			ev->from[MS_NONE] += n->start - pos;
			w->gaps++;
		}
		lo = n->start > s ? n->start : s;
		hi = n->end < e ? n->end : e;
		ev->from[n->state] += hi - lo;
		if (n->stat == ev->stat) {
			w->charged_same += n->stat ? hi - lo : 0;
		} else if (n->stat) {
			w->charged_other += hi - lo;
			w->other_stat = n->stat;
		}
		pos = hi;
	}
	if (pos < e) {
		ev->from[MS_NONE] += e - pos;
		w->gaps++;
	}
}

static uint8_t dest_state(unsigned op)
{
	switch (op) {
	case MS_OP_ALLOC:
	case MS_OP_USED:
	case MS_OP_FILE_MAP:
		return MS_READY;
	case MS_OP_RESERVE:
	case MS_OP_FAULT:
		return MS_RESERVED;
	case MS_OP_MAP:
	case MS_OP_UNUSED:
		return MS_PREPARED;
	case MS_OP_FREE:
	case MS_OP_EXT_DALLOC:
	case MS_OP_EXT_DESTROY:
		return MS_NONE;
	case MS_OP_EXT_COMMIT:
		return MS_READY;
	case MS_OP_EXT_DECOMMIT:
		return MS_RESERVED;
	case MS_OP_EXT_PURGE_LAZY:
	case MS_OP_EXT_PURGE_FORCED:
		return MS_PREPARED;
	default:
		return MS_STATE_UNCHANGED;
	}
}

/* "Ready 4096, None 8192": the states a range held, for messages. */
static void describe_from(const struct ms_event *ev, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = 0;
	for (int s = MS_STATE_COUNT - 1; s >= 0 && off < len; s--) {
		if (!ev->from[s])
			continue;
		off += (size_t)snprintf(buf + off, len - off, "%s%s %" PRIu64, off ? ", " : "",
					ms_state_name((unsigned)s), ev->from[s]);
	}
}

int sp_violate(struct ms_space *sp, struct ms_event *ev, unsigned kind, const char *why)
{
	char held[96];

	describe_from(ev, held, sizeof(held));
	ev->violation = (uint8_t)kind;
	snprintf(sp->pend.msg, sizeof(sp->pend.msg), "%s [%#" PRIx64 ", %#" PRIx64 ") %s%s%s%s",
		 ms_op_name(ev->op), ev->addr, ev->addr + ev->len, why, held[0] ? " (held: " : "",
		 held, held[0] ? ")" : "");
	return (int)kind;
}

static const char *stat_name(struct ms_space *sp, uint16_t id)
{
	return id && id < sp->nstats ? sp->stats[id].name : "(none)";
}

/* The semantic rules of SPEC section 3 for API and uprobe operations. */
static int check_semantics(struct ms_space *sp, struct ms_event *ev, const struct walk *w)
{
	const uint64_t *f = ev->from;
	uint64_t len = ev->len;
	char why[128];

	switch (ev->op) {
	case MS_OP_ALLOC:
	case MS_OP_RESERVE:
		if (f[MS_NONE] != len)
			return sp_violate(sp, ev, MS_V_ILLEGAL_TRANSITION,
					  "over address space already owned");
		break;
	case MS_OP_MAP:
		if (f[MS_RESERVED] != len)
			return sp_violate(sp, ev, MS_V_ILLEGAL_TRANSITION,
					  "over bytes that are not Reserved");
		break;
	case MS_OP_USED:
		if (f[MS_NONE] || f[MS_RESERVED])
			return sp_violate(sp, ev, MS_V_ILLEGAL_TRANSITION,
					  "over bytes that are neither Prepared nor Ready");
		if (ev->arg != f[MS_PREPARED]) {
			snprintf(why, sizeof(why),
				 "declares prepared=%" PRIu64 " but the range "
				 "holds %" PRIu64 " Prepared bytes",
				 ev->arg, f[MS_PREPARED]);
			return sp_violate(sp, ev, MS_V_ACCOUNTING_MISMATCH, why);
		}
		break;
	case MS_OP_UNUSED:
		if (f[MS_READY] != len)
			return sp_violate(sp, ev, MS_V_ILLEGAL_TRANSITION,
					  "over bytes that are not Ready");
		break;
	case MS_OP_FREE:
		if (f[MS_NONE])
			return sp_violate(sp, ev, MS_V_DOUBLE_FREE, "over bytes already None");
		if (w->charged_other) {
			const struct stat_slot *st = &sp->stats[ev->stat];

			if (ev->stat && st->bytes < w->charged_same + w->charged_other)
				snprintf(why, sizeof(why),
					 "would take stat '%s' below zero "
					 "(%" PRIu64 " charged, %" PRIu64 " freed)",
					 st->name, st->bytes, w->charged_same + w->charged_other);
			else
				snprintf(why, sizeof(why),
					 "with stat '%s' frees %" PRIu64
					 " bytes charged to stat '%s'",
					 stat_name(sp, ev->stat), w->charged_other,
					 stat_name(sp, w->other_stat));
			return sp_violate(sp, ev, MS_V_ACCOUNTING_MISMATCH, why);
		}
		break;
	case MS_OP_FAULT:
		if (f[MS_READY] != len)
			return sp_violate(sp, ev, MS_V_ILLEGAL_TRANSITION,
					  "over bytes that are not Ready");
		break;
	case MS_OP_HUGE_PAGE:
	case MS_OP_NO_HUGE_PAGE:
	case MS_OP_HUGE_PAGE_COLLAPSE:
		if (f[MS_NONE] || f[MS_RESERVED])
			return sp_violate(sp, ev, MS_V_HINT_ON_UNMAPPED,
					  "over bytes that are not mapped");
		break;
	default:
		break;
	}
	return 0;
}

int ms_space_check_locked(struct ms_space *sp, struct ms_event *ev)
{
	struct pending *p = &sp->pend;
	bool semantic, null_ok;
	uint64_t mask = sp->page_size - 1;
	struct walk w;
	size_t need;
	int v = 0;

	if (ev->op >= MS_OP_COUNT || ev->source >= MS_SRC_COUNT)
		return -EINVAL;
	semantic = ev->source == MS_SRC_API || ev->source == MS_SRC_UPROBE ||
		   ev->source == MS_SRC_JEMALLOC;
	memset(ev->from, 0, sizeof(ev->from));
	ev->resident_delta = 0;
	ev->violation = MS_V_NONE;
	ev->to = dest_state(ev->op);
	p->ev = ev;
	p->op = ev->op;
	p->apply = false;
	p->tracked = false;
	p->nlearn = 0;
	p->msg[0] = 0;
	if (ev->op == MS_OP_EXT_ALLOC)
		ev->to = (ev->flags & MS_EVF_COMMITTED) ? MS_READY : MS_RESERVED;

	if (ms_op_is_proc(ev->op)) { /* recorded in order, applied by the tracer */
		ev->to = MS_STATE_UNCHANGED;
		return 0;
	}
	if (ev->op == MS_OP_PAGE_FAULT && (ev->flags & (MS_EVF_HUGE | MS_EVF_SEED))) {
		/* A fill notice: residency only. A huge-page fault (the fault itself came
		 * before), or pages found present at attach time (pagemap). */
		bool huge = ev->flags & MS_EVF_HUGE;

		ev->to = MS_STATE_UNCHANGED;
		p->s = ev->addr & ~mask;
		p->e = ev->addr + ev->len;
		if (huge ? !sp_huge_range(sp, ev, &p->s, &p->e)
			 : (!ev->len || (ev->len & mask) || p->e <= p->s)) {
			if (!ev->result)
				ev->result = EINVAL;
			return 0;
		}
		ev->addr = p->s;
		ev->len = p->e - p->s;
		sp_walk_range(sp, ev, p->s, p->e, &w);
		if (huge && !sp_huge_possible(sp, p->s, p->e)) {
			p->apply = false; /* the kernel maps huge pages in anonymous memory only */
			return 0;
		}
		if (sp_res_check(sp, ev)) {
			p->ev = NULL;
			sp->tot.lost_ops++;
			return -ENOMEM;
		}
		p->apply = true;
		return 0;
	}
	if (ev->op == MS_OP_PAGE_FAULT) {
		p->s = ev->addr & ~mask;
		p->e = p->s + sp->page_size;
		ev->len = sp->page_size;
	} else {
		p->s = ev->addr;
		p->e = ev->addr + ev->len;
	}
	/* Ranges that cannot be walked are recorded, never applied. */
	/* sysAlloc/sysReserve that the kernel (or the length check) refused have no address. */
	null_ok = (ev->op == MS_OP_ALLOC || ev->op == MS_OP_RESERVE || ev->op == MS_OP_EXT_ALLOC) &&
		  ev->result;
	if (ev->len == 0 || p->e < p->s || p->e == 0 || (semantic && !ev->addr && !null_ok)) {
		ev->to = MS_STATE_UNCHANGED;
		/* Marked refused, except an alloc or reserve at NULL: refused, it would read
		 * as "no address" on replay (null_ok) and be judged otherwise. */
		if (!ev->result &&
		    !((ev->op == MS_OP_ALLOC || ev->op == MS_OP_RESERVE) && !ev->addr))
			ev->result = EINVAL;
		if (!semantic)
			return 0;
		return sp_violate(sp, ev, MS_V_INVALID_RANGE,
				  ev->len == 0	  ? "has zero length"
				  : ev->addr == 0 ? "has a NULL address"
						  : "wraps around the address space");
	}
	if (ev->op != MS_OP_PAGE_FAULT && ((ev->addr | ev->len) & mask)) {
		ev->to = MS_STATE_UNCHANGED;
		if (!ev->result)
			ev->result = EINVAL;
		if (!semantic)
			return 0;
		return sp_violate(sp, ev, MS_V_MISALIGNED, "is not page aligned");
	}

	if (ev->op == MS_OP_PAGE_FAULT) {
		v = sp_check_page_fault(sp, ev);
		need = 2;
	} else {
		struct target g;

		sp_walk_range(sp, ev, p->s, p->e, &w);
		p->first = w.first;
		if (ms_op_is_extent(ev->op))
			v = semantic ? sp_check_extent(sp, ev) : 0;
		else if (semantic)
			v = check_semantics(sp, ev, &w);
		need = 2 + (gap_target(ev, ev->op, &g) ? w.gaps : 0);
	}
	if (ms_tree_reserve(&sp->tree, need) ||
	    (ms_op_is_extent(ev->op) && ms_ext_reserve(&sp->ext, 3)) || sp_res_check(sp, ev)) {
		p->ev = NULL;
		sp->tot.lost_ops++;
		return -ENOMEM;
	}
	p->apply = true;
	return v;
}

/* ------------------------------------------------------------------ committing */

static void record_violation(struct ms_space *sp, const struct ms_event *ev, const char *msg)
{
	struct ms_violation *v;

	sp->tot.violations++;
	if (ev->violation < MS_V_COUNT)
		sp->tot.by_kind[ev->violation]++;
	if (sp->nviol >= sp->max_viol)
		return;
	if (sp->nviol == sp->viol_cap) {
		size_t cap = sp->viol_cap ? 2 * sp->viol_cap : 64;
		struct ms_violation *grown = realloc(sp->viol, cap * sizeof(*grown));

		if (!grown)
			return; /* counted above; the event itself still carries the kind */
		sp->viol = grown;
		sp->viol_cap = cap;
	}
	v = &sp->viol[sp->nviol++];
	v->ev = *ev;
	snprintf(v->message, sizeof(v->message), "%s", msg);
}

static void log_event(struct ms_space *sp, const struct ms_event *ev)
{
	if (sp->on_full && ms_ring_pending(sp->ring) >= sp->ring->capacity)
		sp->on_full(sp, sp->on_full_ctx);
	ms_ring_push(sp->ring, ev); /* a full ring counts the drop itself */
}

void ms_space_commit_locked(struct ms_space *sp, struct ms_event *ev)
{
	struct pending *p = &sp->pend;
	bool huge = ev->op == MS_OP_PAGE_FAULT && (ev->flags & (MS_EVF_HUGE | MS_EVF_SEED));
	uint64_t before[MS_STATE_COUNT], after[MS_STATE_COUNT], lazy0 = 0, lazy1;
	bool res_range = p->re > p->rs && (ev->op != MS_OP_PAGE_FAULT || huge);
	struct ms_node *n;

	if (p->ev != ev) /* no successful check of this event: nothing to record */
		return;
	sp->ndirty = 0;
	if (p->apply && ev->result == 0) {
		if (res_range)
			sp_res_tally(sp, p->rs, p->re, before, &lazy0);
		n = p->first;
		if (huge) {
			n = NULL; /* residency only */
		} else if (ev->op != MS_OP_PAGE_FAULT || p->op != MS_OP_PAGE_FAULT) {
			apply_range(sp, ev, p->op, p->s, p->e, n);
			n = NULL; /* the map changed: look the page up again below */
		}
		if (ev->op == MS_OP_PAGE_FAULT && p->tracked &&
		    (n || (n = sp_find_holding(sp, p->s))))
			n->faults = sat_add32(n->faults, 1);
		if (ev->op == MS_OP_THP_COLLAPSE && (n = sp_find_holding(sp, p->s)))
			n->thp = sat_add32(n->thp, 1);
		if (res_range) {
			sp_res_update(sp, ev);
			sp_res_tally(sp, p->rs, p->re, after, &lazy1);
			for (int st = MS_PREPARED; st <= MS_READY; st++) {
				sp->resident[st] += after[st] - before[st];
				ev->resident_delta += (int64_t)(after[st] - before[st]);
			}
			sp->lazy_bytes += lazy1 - lazy0;
		} else if (ev->op == MS_OP_PAGE_FAULT && p->re > p->rs) {
			sp_res_fault(sp, ev);
		}
	} else if (ev->result) {
		ev->flags |= MS_EVF_FAILED;
		ev->to = MS_STATE_UNCHANGED;
	}
	if (ms_op_is_extent(ev->op))
		sp_commit_extent(sp, ev);
	if (huge) {
		/* a notice about the fault recorded before it, not a fault of its own */
	} else if (ev->op == MS_OP_PAGE_FAULT) {
		sp->tot.page_faults++;
		if (!p->tracked)
			sp->tot.untracked_faults++;
	}
	if (ev->op == MS_OP_THP_COLLAPSE && ev->result == 0)
		sp->tot.thp_collapses++;
	ev->seq = (*sp->seq)++;
	sp->tot.events++;
	sp->tot.by_op[ev->op]++;
	if (ev->violation)
		record_violation(sp, ev, p->msg);
	update_peaks(sp);
	log_event(sp, ev);
	p->ev = NULL;
}

int ms_space_apply(struct ms_space *sp, struct ms_event *ev)
{
	int v;

	ms_space_lock(sp);
	v = ms_space_check_locked(sp, ev);
	if (v >= 0)
		ms_space_commit_locked(sp, ev);
	ms_space_unlock(sp);
	return v;
}

void ms_space_flag_locked(struct ms_space *sp, struct ms_event *ev, unsigned kind,
			  const char *message)
{
	if (sp->pend.ev != ev || ev->violation || !kind || kind >= MS_V_COUNT)
		return;
	ev->violation = (uint8_t)kind;
	snprintf(sp->pend.msg, sizeof(sp->pend.msg), "%s", message ? message : "");
}

void ms_space_clear_locked(struct ms_space *sp)
{
	struct ms_node *n, *next;

	ms_rbits_clear_all(&sp->res);
	ms_rbits_clear_all(&sp->lazy);
	memset(sp->resident, 0, sizeof(sp->resident));
	sp->lazy_bytes = 0;
	sp->finger = NULL;
	ms_ext_clear(&sp->ext);
	sp->ext_learned = 0;
	for (n = ms_tree_first(&sp->tree); n; n = next) {
		next = ms_tree_next(n);
		account(sp, n, -1);
		ms_tree_erase(&sp->tree, n);
		ms_tree_node_give(&sp->tree, n);
	}
}

void ms_space_set_ring_locked(struct ms_space *sp, struct ms_ring *ring)
{
	sp->ring = ring;
}

/* Stat ids the last commit changed (for callers that mirror stat values). */
unsigned ms_space_dirty_stats_locked(struct ms_space *sp, const uint16_t **ids)
{
	*ids = sp->dirty;
	return sp->ndirty;
}
