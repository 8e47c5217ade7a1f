/* SPDX-License-Identifier: MIT */
/*
 * Timeline metrics (SPEC section 10): the figures `memstate diff` compares and
 * `memstate check --limit` budgets, per process and for the whole timeline, computed in one
 * streaming pass over the playback (fed item by item, so a command that already replays a
 * timeline adds them without a second read).
 *
 * Names follow the summary, dotted for nesting: peak_footprint, bytes.STATE,
 * peak_bytes.STATE, resident, peak_resident, ready_untouched, lazy_free, page_faults,
 * thp_collapses, violations, violations.KIND, events, events.OP, stats.NAME,
 * stats.NAME.peak, file_bytes, dropped_events. "PID:" or "EXE:" before a name picks one
 * process (EXE: the exe path or its last component); without, the whole timeline.
 *
 * Whole-timeline peaks are the peaks of the sum over processes along time, not sums of
 * per-process peaks. Residency figures are present only when the timeline records them.
 *
 * Memory: per process a few counters, its stat names, a bounded table of region groups and
 * a fixed-size series; optionally (for the HTML page) a capped copy of final regions,
 * violations and state changes.
 */
#ifndef MEMSTATE_EXPORT_METRICS_H
#define MEMSTATE_EXPORT_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "playback.h"

#define MS_MX_SERIES	 256u /* points of a bytes-over-time series */
#define MS_MX_MAX_GROUPS 4096 /* region groups kept per process (more: counted as "other") */

/*
 * Bytes per state over time, in buckets that double in width as the trace goes on (shared
 * with `memstate report`, which keeps fewer: n).
 */
struct ms_mx_series {
	unsigned n;				     /* buckets, <= MS_MX_SERIES (0: all) */
	bool started;				     /* t0 is set */
	uint64_t t0, span;			     /* first sample, ns per bucket */
	bool set[MS_MX_SERIES];			     /* a sample fell in the bucket */
	uint64_t hi[MS_MX_SERIES][MS_STATE_COUNT];   /* highest value in it */
	uint64_t last[MS_MX_SERIES][MS_STATE_COUNT]; /* last value in it */
};

/* Add a sample of bytes per state at time t (ns). */
void ms_mx_series_add(struct ms_mx_series *s, uint64_t t, const uint64_t v[MS_STATE_COUNT]);
/* The buckets' highest values, empty ones carrying the value before them, into out[0..n);
 * returns how many are in use. */
unsigned ms_mx_series_points(const struct ms_mx_series *s, uint64_t out[][MS_STATE_COUNT]);

/* A named counter at the end. */
struct ms_mx_stat {
	char *name;	      /* owned */
	uint64_t bytes, peak; /* charged at the end, highest */
};

/*
 * Mappings grouped by how the program made them (addresses move between runs): the making
 * operation, its length and the stat it was charged to.
 */
struct ms_mx_group {
	uint8_t op;	/* sysAlloc, sysReserve, sysMap... that gave None bytes a state */
	uint64_t len;	/* length of that operation */
	char stat[40];	/* its stat, "" for none */
	uint64_t count; /* mappings made this way */
	uint64_t bytes; /* bytes they covered (count * len) */
};

/* One process, or the whole timeline (pid 0). */
struct ms_mx_scope {
	uint32_t pid, ppid;	      /* 0 for the whole timeline */
	char *exe;		      /* owned; NULL when unknown */
	unsigned exe_order;	      /* its rank among processes with the same exe */
	struct ms_totals tot;	      /* final figures; peaks as described above */
	uint64_t cur[MS_STATE_COUNT]; /* bytes per state now (while feeding) */
	unsigned nstats;	      /* entries of stats */
	struct ms_mx_stat *stats;     /* its counters */
	bool has_resident;	      /* the residency figures below were recorded */
	uint64_t resident, peak_resident, ready_untouched, lazy_free; /* bytes */
	uint64_t cur_resident;					      /* now (while feeding) */
	struct ms_mx_group *groups;				      /* region groups, unordered */
	size_t ngroups, groups_cap;				      /* used, allocated */
	uint64_t groups_other;	    /* mappings past MS_MX_MAX_GROUPS */
	struct ms_mx_series series; /* bytes per state over time */
	uint64_t first_ns, last_ns; /* its first and last event */
	bool seen;		    /* an event named it */
};

/* Kept for the HTML page (ms_mx_opts.keep): a violation with its event. */
struct ms_mx_viol {
	uint64_t seq, t_ns;	       /* when */
	uint32_t pid, tid;	       /* who */
	uint8_t kind, op;	       /* what */
	uint64_t addr, len;	       /* where */
	uint64_t from[MS_STATE_COUNT]; /* bytes per state found */
	char message[200];	       /* the replay's words */
};

/* Kept for the HTML page: a final region, or an event that moved bytes (history). */
struct ms_mx_region {
	uint32_t pid;	    /* whose */
	struct ms_region r; /* range, state, faults, THP */
	char stat[40];	    /* its stat's name */
};

struct ms_mx_change {
	uint64_t seq, t_ns; /* when */
	uint32_t pid;	    /* whose */
	uint8_t op, to;	    /* operation, destination state */
	uint64_t addr, len; /* range */
};

struct ms_mx_opts {
	bool keep;	    /* keep regions, violations and changes for a page */
	size_t max_regions; /* final regions kept (0: 20000) */
	size_t max_viols;   /* violations kept (0: 500) */
	size_t max_changes; /* state changes kept (0: 4000) */
};

struct ms_metrics {
	char *name;		      /* the timeline as messages name it (owned) */
	int argc;		      /* words of the command */
	char **argv;		      /* owned */
	uint32_t page_size;	      /* bytes */
	bool complete;		      /* it ended with a summary */
	uint64_t events;	      /* events read */
	uint64_t lost;		      /* events the trace lost */
	uint64_t disagreements;	      /* places where it disagrees with the replay */
	struct ms_mx_scope total;     /* the whole timeline */
	size_t nprocs;		      /* processes, in the order they first appeared */
	struct ms_mx_scope *procs;    /* each process */
	struct ms_mx_opts opts;	      /* what is kept */
	struct ms_mx_viol *viols;     /* the first violations (keep) */
	size_t nviols;		      /* entries of viols */
	struct ms_mx_region *regions; /* final regions (keep), address order per process */
	size_t nregions;	      /* entries of regions */
	uint64_t regions_total;	      /* all of them, kept or not */
	struct ms_mx_change *changes; /* the first state changes (keep) */
	size_t nchanges;	      /* entries of changes */
	uint64_t changes_total;	      /* all of them */
	int err;		      /* first error while feeding (-ENOMEM) */
};

/* An empty set to feed; NULL on ENOMEM. opts may be NULL. Free with ms_mx_free(). */
struct ms_metrics *ms_mx_new(const struct ms_mx_opts *opts);
/* Account one item and its replay step (as ms_tlp_next() gave them). */
void ms_mx_feed(struct ms_metrics *m, struct ms_tlp *p, const struct ms_tl_item *it,
		const struct ms_tlp_step *st);
/*
 * After the last item (ret: ms_tlp_next()'s last result): final figures, processes and
 * their stats. 0 or -ENOMEM.
 */
int ms_mx_finish(struct ms_metrics *m, struct ms_tlp *p, int ret);
/*
 * Open, replay and measure path. 0, or a negative errno with one line in msg (unreadable,
 * malformed). A JSON Lines file cut short is measured up to its last whole line
 * (m->complete is false).
 */
int ms_mx_load(const char *path, const struct ms_mx_opts *opts, struct ms_metrics **out, char *msg,
	       size_t msglen);
void ms_mx_free(struct ms_metrics *m);

/* ------------------------------------------------------------------ names and values */

/* Whether name is a metric (syntax only, whatever the timeline holds). */
bool ms_mx_name_valid(const char *name);
/* Whether its values are bytes (else counts). */
bool ms_mx_name_is_bytes(const char *name);
/* The valid names, for messages: one line. */
const char *ms_mx_names_help(void);
/*
 * The value of a metric in a scope. 0; -ENOENT when name is no metric; -ENODATA when the
 * timeline does not record it (residency).
 */
int ms_mx_value(const struct ms_mx_scope *s, const char *name, uint64_t *out);

/* ------------------------------------------------------------------ expressions */

enum ms_mx_scope_kind {
	MS_MX_WHOLE = 0, /* no prefix */
	MS_MX_PID,	 /* "1234:" */
	MS_MX_EXE,	 /* "name:" */
};

/* METRIC=SIZE (a limit) or METRIC=+N% / =+SIZE (an allowed growth). */
struct ms_mx_expr {
	char text[256];		    /* as given */
	enum ms_mx_scope_kind kind; /* which processes */
	uint32_t pid;		    /* MS_MX_PID */
	char exe[192];		    /* MS_MX_EXE */
	char metric[128];	    /* the metric's name */
	bool percent;		    /* amount is a percentage (growth only) */
	double pct;		    /* percent allowed */
	uint64_t amount;	    /* bytes or count: the limit, or the growth allowed */
};

/*
 * Parse s. growth: "METRIC=+N%" or "=+SIZE"; else "METRIC=SIZE". SIZE: a count, or bytes
 * with K, M, G or T (1024-based, optional "iB"/"B"). 0, or -EINVAL with one line in msg
 * (naming the valid metrics when the name is unknown).
 */
int ms_mx_parse(const char *s, bool growth, struct ms_mx_expr *e, char *msg, size_t msglen);
/* Whether scope s is one the expression picks (MS_MX_WHOLE: the total only). */
bool ms_mx_expr_picks(const struct ms_mx_expr *e, const struct ms_mx_scope *s);
/* Whether a growth from base to now breaks e. */
bool ms_mx_exceeds(const struct ms_mx_expr *e, uint64_t base, uint64_t now);

/* "12.0 MiB" or "1234": a value as messages show it. */
const char *ms_mx_fmt(char *buf, size_t len, const char *metric, uint64_t v);

#endif /* MEMSTATE_EXPORT_METRICS_H */
