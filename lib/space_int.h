/* SPDX-License-Identifier: MIT */
/*
 * Inside the shadow address space (memstate/space.h): space.c checks, transitions and
 * commits; space_res.c checks and tracks jemalloc extents and residency; space_query.c
 * answers the queries (stats, regions, totals, snapshots, violations) and the
 * self-check. What they share:
 */
#ifndef MEMSTATE_LIB_SPACE_INT_H
#define MEMSTATE_LIB_SPACE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "memstate/space.h"
#include "extent.h"
#include "resident.h"
#include "tree.h"

#define MS_MAX_STATS	 65535
#define MS_DIRTY_STATS	 8
#define DEFAULT_LOG	 65536
#define DEFAULT_MAX_VIOL 100000

struct stat_slot {
	char *name;	/* owned copy */
	uint64_t bytes; /* charged now */
	uint64_t peak;	/* highest */
};

/* What a check decided, for the commit that follows under the same lock hold. */
struct pending {
	const struct ms_event *ev; /* the event checked, NULL when none is pending */
	struct ms_node *first;	   /* first interval ending after s, found by the check */
	uint64_t s, e;		   /* byte range the transition applies to */
	uint8_t op;		   /* transition to apply (a first touch applies MS_OP_USED) */
	bool apply;		   /* false: record only (bad range) */
	bool tracked;		   /* pageFault: the page is in a tracked interval */
	uint8_t nlearn;		   /* extent ops: extents learned from the map (pre-wrap) */
	uint64_t learn[2][2];	   /* their [start, end) */
	uint64_t rs, re;	   /* byte range whose residency the operation may change */
	char msg[sizeof(((struct ms_violation *)0)->message)];
};

struct ms_space {
	pthread_mutex_t lock;
	struct ms_tree tree;
	struct ms_node *finger; /* the interval the last operation ended on (locality) */
	uint32_t page_size;
	uint64_t bytes[MS_KIND_COUNT][MS_STATE_COUNT]; /* per kind and state, now */
	struct ms_totals tot;			       /* counters and peaks */
	struct stat_slot *stats;		       /* [0] is "none" */
	unsigned nstats, stats_cap;
	uint16_t dirty[MS_DIRTY_STATS]; /* stats changed by the current commit */
	unsigned ndirty;
	struct pending pend;
	struct ms_violation *viol; /* kept violations, seq order */
	size_t nviol, viol_cap, max_viol;
	struct ms_ring *ring;
	void *ring_mem; /* owned ring memory, NULL when supplied */
	uint64_t own_seq;
	uint64_t *seq;
	ms_space_full_fn on_full;
	void *on_full_ctx;
	struct ms_extents ext; /* jemalloc extents its hooks named (extent.h) */
	uint64_t ext_learned;  /* bytes of extents learned from the map, ever */
	/* Residency (SPEC section 8): bits only inside anonymous Prepared/Ready intervals. */
	bool res_on;			   /* tracked at all */
	struct ms_rbits res;		   /* resident pages */
	struct ms_rbits lazy;		   /* of which lazily free (MADV_FREE), a subset */
	struct ms_rbits moved, moved_lazy; /* the pages of the range mremap just took away */
	uint64_t resident[MS_STATE_COUNT]; /* resident bytes per state */
	uint64_t lazy_bytes;		   /* lazily free bytes */
};

/* What a walk over a range found. */
struct walk {
	struct ms_node *first;	/* first interval ending after the range's start */
	uint64_t gaps;		/* None runs */
	uint64_t charged_same;	/* bytes charged to the event's stat */
	uint64_t charged_other; /* bytes charged to another stat */
	uint16_t other_stat;	/* one such stat, for the message */
};

unsigned sp_node_kind(const struct ms_node *n);
struct ms_node *sp_find_holding(struct ms_space *sp, uint64_t addr);
bool sp_mergeable(const struct ms_node *a, const struct ms_node *b);
void sp_walk_range(struct ms_space *sp, struct ms_event *ev, uint64_t s, uint64_t e,
		   struct walk *w);
unsigned sp_page_shift(const struct ms_space *sp);
bool sp_res_node(const struct ms_node *n);
void sp_res_tally(struct ms_space *sp, uint64_t s, uint64_t e, uint64_t res[MS_STATE_COUNT],
		  uint64_t *lazy);
/* Shared with space_res.c (sp_find, sp_violate: space.c; the others: space_res.c). */
struct ms_node *sp_find(struct ms_space *sp, uint64_t addr);
int sp_violate(struct ms_space *sp, struct ms_event *ev, unsigned kind, const char *why);
int sp_check_extent(struct ms_space *sp, struct ms_event *ev);
void sp_commit_extent(struct ms_space *sp, const struct ms_event *ev);
int sp_check_page_fault(struct ms_space *sp, struct ms_event *ev);
void sp_res_recount(struct ms_space *sp);
bool sp_huge_range(const struct ms_space *sp, const struct ms_event *ev, uint64_t *s, uint64_t *e);
bool sp_huge_possible(struct ms_space *sp, uint64_t s, uint64_t e);
int sp_res_check(struct ms_space *sp, const struct ms_event *ev);
void sp_res_update(struct ms_space *sp, struct ms_event *ev);
void sp_res_fault(struct ms_space *sp, struct ms_event *ev);

#endif /* MEMSTATE_LIB_SPACE_INT_H */
