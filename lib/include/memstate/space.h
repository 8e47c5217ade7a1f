/* SPDX-License-Identifier: MIT */
/*
 * memstate: the shadow address space of one process.
 *
 * A space holds the shadow interval tree (every owned byte range with its state and
 * attributes), the checker that validates each operation against SPEC sections 2 and 3,
 * per-state and per-stat byte accounting with peaks, the violation list and the event log.
 * The library keeps one space for its own process (memstate.h); the tracer keeps one per
 * traced process and `memstate check` replays saved timelines through one.
 *
 * Operations arrive as struct ms_event requests: the caller fills op, source, addr, len,
 * arg, stat, pid, tid, t_ns, result, kind and flags; the space fills seq, from, to and
 * violation. Process events (MS_OP_PROC_*) pass through unapplied: they get a seq and a
 * place in the log, so that one timeline orders them with the memory operations.
 * Either ms_space_apply() does all at once, or, for a caller that must perform
 * the real syscall between validation and recording (the library), ms_space_lock(),
 * ms_space_check_locked(), the syscall, ms_space_commit_locked(), ms_space_unlock().
 *
 * Thread safety: every function takes the space's lock unless its name ends in _locked,
 * in which case the caller holds it. Functions return 0 or a negative errno; constructors
 * return NULL on failure.
 */
#ifndef MEMSTATE_SPACE_H
#define MEMSTATE_SPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ms_space;

/* Interval attribute flags (struct ms_region.flags). */
#define MS_RF_THP	0x01 /* collapsed to (or confirmed as) transparent huge pages */
#define MS_RF_INFERRED	0x02 /* Prepared state inferred from syscalls: first touch = sysUsed */
#define MS_RF_RESIDENCY 0x04 /* resident and lazy_free are known (residency is tracked) */

/* One interval of the shadow map: a maximal run of bytes with equal state and attributes. */
struct ms_region {
	uint64_t start;		/* first byte */
	uint64_t end;		/* one past the last byte */
	uint64_t faults;	/* page faults attributed to the interval */
	uint32_t thp_collapses; /* THP collapses that hit it */
	uint16_t stat;		/* stat id it is charged to, 0 for none */
	uint8_t state;		/* enum ms_state, never MS_NONE */
	uint8_t huge;		/* enum ms_huge */
	uint8_t kind;		/* enum ms_kind */
	uint8_t flags;		/* MS_RF_* */
	uint64_t resident;	/* bytes the kernel holds (anonymous Prepared/Ready only) */
	uint64_t lazy_free;	/* of which given back with MADV_FREE */
};

/* Counters of a space; bytes only count MS_KIND_ANON memory. */
struct ms_totals {
	uint64_t bytes[MS_STATE_COUNT];	     /* now, per state (bytes[MS_NONE] is 0) */
	uint64_t peak_bytes[MS_STATE_COUNT]; /* highest value each bytes[] reached */
	uint64_t peak_footprint;	     /* highest Prepared + Ready */
	uint64_t file_bytes;		     /* file-backed or shared mappings now */
	uint64_t events;		     /* operations applied */
	uint64_t violations;		     /* violations raised */
	uint64_t by_kind[MS_V_COUNT];	     /* violations per kind */
	uint64_t by_op[MS_OP_COUNT];	     /* operations per kind */
	uint64_t page_faults;		     /* pageFault events */
	uint64_t untracked_faults;	     /* of which outside any tracked interval */
	uint64_t thp_collapses;		     /* THP collapses */
	uint64_t dropped_events;	     /* events the log could not keep */
	uint64_t lost_ops;		     /* operations not applied for lack of memory */
	uint64_t regions;		     /* intervals in the shadow map */
	uint64_t ready_declared;	     /* Go's mappedReady as the API calls declared it */
	/* Residency (SPEC section 8); all 0 when the space does not track it. */
	uint64_t resident[MS_STATE_COUNT]; /* resident bytes per state (Prepared, Ready) */
	uint64_t peak_resident;		   /* highest Prepared + Ready resident */
	uint64_t lazy_free;		   /* resident bytes given back with MADV_FREE */
	uint64_t resident_memory;	   /* heap bytes the residency bitmaps take */
	uint8_t residency;		   /* 1 when residency is tracked */
};

/* One named counter of the space (a Go sysMemStat). */
struct ms_stat_info {
	const char *name; /* owned by the space */
	uint64_t bytes;	  /* charged now */
	uint64_t peak;	  /* highest value */
};

/* A violation as recorded: its event (seq, op, range, from, pid/tid, time) and a message. */
struct ms_violation {
	struct ms_event ev; /* the offending event, ev.violation is the kind */
	char message[192];  /* one line, no newline */
};

/* A consistent copy of the shadow map and counters, taken under the lock. */
struct ms_snapshot {
	struct ms_totals totals;
	size_t nregions;
	struct ms_region *regions; /* address order; freed with the snapshot */
};

typedef void (*ms_space_full_fn)(struct ms_space *sp, void *ctx);

struct ms_space_opts {
	uint32_t page_size;	  /* 0: the system's */
	uint32_t log_capacity;	  /* event log records; 0: 65536; a ring supplied below wins */
	struct ms_ring *ring;	  /* optional ring in caller-owned (e.g. shared) memory */
	uint64_t *seq_counter;	  /* optional counter shared by several spaces (one timeline) */
	ms_space_full_fn on_full; /* called, lock held, when the log is full; may drain it */
	void *on_full_ctx;
	uint32_t max_violations; /* violation records kept (all are counted); 0: 100000 */
	bool no_residency;	 /* do not track which pages are resident (SPEC section 8) */
};

struct ms_space *ms_space_new(const struct ms_space_opts *opts);
void ms_space_free(struct ms_space *sp);
/*
 * A new space holding a copy of sp's map and stat names (a forked child's address space),
 * with fresh counters and an empty log; opts as for ms_space_new. NULL on ENOMEM.
 */
struct ms_space *ms_space_clone(struct ms_space *sp, const struct ms_space_opts *opts);

void ms_space_lock(struct ms_space *sp);
void ms_space_unlock(struct ms_space *sp);

/*
 * Validate ev against the shadow map without changing it: fills ev->from, ev->to and
 * ev->violation. Returns the violation kind (0 when clean), or -ENOMEM when the nodes the
 * commit will need cannot be reserved (then the commit records nothing).
 */
int ms_space_check_locked(struct ms_space *sp, struct ms_event *ev);
/*
 * Apply ev as checked (ev->result != 0 means the OS refused it: no state changes), assign
 * its seq, record the violation and append it to the log. Cannot fail after a successful
 * check. A violation found by the accounting check is added here.
 */
void ms_space_commit_locked(struct ms_space *sp, struct ms_event *ev);
/* Stat ids whose bytes the last commit changed (at most 8 are listed). Lock held. */
unsigned ms_space_dirty_stats_locked(struct ms_space *sp, const uint16_t **ids);
/*
 * Between check and commit: raise a violation the space cannot see by itself (the tracer's
 * api-mismatch). Ignored when the event already carries one.
 */
void ms_space_flag_locked(struct ms_space *sp, struct ms_event *ev, unsigned kind,
			  const char *message);
/* Forget the whole map without events (an exec replaced the image); counters stay. */
void ms_space_clear_locked(struct ms_space *sp);
/* Make ring the event log from now on (the caller owns it; events in the old one stay). */
void ms_space_set_ring_locked(struct ms_space *sp, struct ms_ring *ring);
/* check + commit under the lock. Returns the violation kind or -ENOMEM (op lost, counted). */
int ms_space_apply(struct ms_space *sp, struct ms_event *ev);

/* Register a stat name; returns its id (> 0, same id for the same name) or -ENOSPC. */
int ms_space_stat_id(struct ms_space *sp, const char *name);
int ms_space_stat_id_locked(struct ms_space *sp, const char *name);
/* Number of stat ids (ids run 1 .. count-1), and one stat's name and counters. */
unsigned ms_space_stat_count(struct ms_space *sp);
int ms_space_stat_info(struct ms_space *sp, unsigned id, struct ms_stat_info *out);
int ms_space_stat_info_locked(struct ms_space *sp, unsigned id, struct ms_stat_info *out);

/* ---- queries ---- */

/* State of the byte at addr (MS_NONE if untracked); the interval copied to *out if non-NULL. */
enum ms_state ms_space_state_at(struct ms_space *sp, uint64_t addr, struct ms_region *out);
/* Bytes per state in [addr, addr+len) (bytes[MS_NONE] counts untracked bytes). */
int ms_space_bytes_in(struct ms_space *sp, uint64_t addr, uint64_t len,
		      uint64_t bytes[MS_STATE_COUNT]);
void ms_space_totals(struct ms_space *sp, struct ms_totals *out);

/* jemalloc extents the space's registry knows (SPEC section 11), with their bytes by state. */
struct ms_extent_totals {
	uint64_t extents;		/* how many */
	uint64_t bytes;			/* their bytes */
	uint64_t state[MS_STATE_COUNT]; /* those bytes by state */
	uint64_t learned;		/* bytes ever learned from the map (made before the
					    hooks were wrapped), not named by an alloc hook */
};
void ms_space_extent_totals(struct ms_space *sp, struct ms_extent_totals *out);
void ms_space_totals_locked(struct ms_space *sp, struct ms_totals *out);
/* Resident and lazily free bytes in [addr, addr+len) (Prepared/Ready anonymous only). */
int ms_space_resident_in_locked(struct ms_space *sp, uint64_t addr, uint64_t len,
				uint64_t *resident, uint64_t *lazy_free);
/* Pages [addr, addr + n pages) (n <= 64) that are resident, bit i for page i. */
uint64_t ms_space_resident_mask_locked(struct ms_space *sp, uint64_t addr, unsigned n);
/* Call fn for each interval in address order; stop early when fn returns non-zero. */
int ms_space_foreach_region(struct ms_space *sp, int (*fn)(const struct ms_region *, void *),
			    void *ctx);
int ms_space_foreach_region_locked(struct ms_space *sp, int (*fn)(const struct ms_region *, void *),
				   void *ctx);
/* Call fn for each interval overlapping [addr, addr+len), clipped to it; gaps are skipped. */
int ms_space_foreach_in_locked(struct ms_space *sp, uint64_t addr, uint64_t len,
			       int (*fn)(const struct ms_region *, void *), void *ctx);
/* Copy of map and counters; NULL on ENOMEM. Free with ms_snapshot_free(). */
struct ms_snapshot *ms_space_snapshot(struct ms_space *sp);
void ms_snapshot_free(struct ms_snapshot *snap);

/* Violations kept so far (see opts.max_violations): count, and one by index. */
size_t ms_space_violation_count(struct ms_space *sp);
int ms_space_violation_get(struct ms_space *sp, size_t idx, struct ms_violation *out);
/* The message recorded for the violation of event seq; NULL if not kept. Lock held. */
const char *ms_space_violation_message_locked(struct ms_space *sp, uint64_t seq);

/* The event log: drain up to max events (oldest first). Returns how many. */
size_t ms_space_events_read(struct ms_space *sp, struct ms_event *out, size_t max);
size_t ms_space_events_read_locked(struct ms_space *sp, struct ms_event *out, size_t max);
uint32_t ms_space_page_size(const struct ms_space *sp);

/*
 * Verify every internal invariant (tree order and balance, no equal neighbours, byte
 * accounting equal to a recount). 0, or -EFAULT with a description in why. For tests.
 */
int ms_space_verify(struct ms_space *sp, char *why, size_t whylen);

#ifdef __cplusplus
}
#endif

#endif /* MEMSTATE_SPACE_H */
