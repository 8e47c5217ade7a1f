/* SPDX-License-Identifier: MIT */
/*
 * Inside memstate report: cmd_report.c gathers (series, regions, events) and runs the
 * command; cmd_report_out.c prints the text and JSON forms. What they share:
 */
#ifndef MEMSTATE_TRACER_CMD_REPORT_INT_H
#define MEMSTATE_TRACER_CMD_REPORT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "export/metrics.h"
#include "export/playback.h"

#define SERIES_N 64 /* buckets of the bytes-over-time series */
#define MAX_TOP	 100

/* A mapping as the program made it, and what happened inside it. */
struct rp_map {
	uint64_t s, e;	      /* its range */
	uint64_t seq;	      /* the event that created it */
	uint8_t op;	      /* that event's operation */
	bool live;	      /* still (partly) mapped at the end */
	uint64_t ops;	      /* operations that touched it */
	uint64_t transitions; /* of which moved bytes between states */
	uint64_t faults;      /* page faults in it */
	uint64_t thp;	      /* THP collapses in it */
};

struct rp_viol {
	uint64_t seq, t_ns;   /* when */
	uint32_t tid;	      /* who */
	uint8_t kind, op;     /* what */
	uint64_t addr, len;   /* where */
	char message[192];    /* the replay's words */
	bool after_loss;      /* after the capture lost events: maybe an artefact */
	uint64_t lost_before; /* events lost before it */
};

struct rp_proc {
	bool seen;			 /* min/peak hold a value */
	uint64_t min[MS_STATE_COUNT];	 /* lowest bytes per state */
	uint64_t peak[MS_STATE_COUNT];	 /* highest */
	uint64_t peak_t[MS_STATE_COUNT]; /* when first reached */
	uint64_t peak_footprint;	 /* highest Prepared + Ready */
	struct ms_mx_series series;	 /* over time, SERIES_N buckets */
	uint64_t by_op[MS_OP_COUNT];	 /* operations by kind */
	uint64_t by_src[MS_SRC_COUNT];	 /* events by source */
	uint64_t failed;		 /* operations the OS refused */
	uint64_t first_touch;		 /* faults that made inferred Prepared memory Ready */
	uint64_t thp, thp_bytes;	 /* THP collapses and bytes collapsed */
	uint64_t req, req_failed;	 /* sysHugePageCollapse requests, failed ones */
	void *maps;			 /* tsearch root of live struct rp_map */
	uint64_t nmaps;			 /* regions ever made */
	struct rp_map *top_tr, *top_f;	 /* top regions by transitions and by faults */
	unsigned ntop_tr, ntop_f;	 /* entries in each top list */
	struct rp_viol *viols;		 /* the first ones */
	unsigned nviols;		 /* entries of viols */
	uint64_t viol_total;		 /* all of them */
	uint64_t by_kind[MS_V_COUNT];	 /* all of them, by kind */
};

struct report {
	unsigned top;		  /* regions per list */
	unsigned max_viols;	  /* violations listed per process */
	struct rp_proc *cur;	  /* for twalk_r() callbacks */
	struct rp_map **found;	  /* overlap query results */
	size_t nfound, found_cap; /* used and allocated */
	int err;		  /* -ENOMEM seen */
};

const char *rp_fmt_ns(char *buf, size_t len, uint64_t ns);
void rp_print_proc(struct ms_tlp_proc *pr, struct rp_proc *q, unsigned top);
cJSON *rp_num(uint64_t v);
cJSON *rp_str(const char *s);
cJSON *rp_json_proc(struct ms_tlp_proc *pr, struct rp_proc *q, unsigned top);

#endif /* MEMSTATE_TRACER_CMD_REPORT_INT_H */
