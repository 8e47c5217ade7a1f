/* SPDX-License-Identifier: MIT */
/*
 * Timeline playback: read a saved timeline and replay its operations through one shadow
 * space per process, as the tracer did: both keep their processes in lib/proctab.h, whose
 * rules say what procFork, procExec and procExit do to a process and its space. `memstate
 * check`, `report` and `convert` all read timelines through it.
 *
 * The replay recomputes from, to and the violation of every event from the operations
 * alone and compares them with what the timeline recorded; it also compares the recorded
 * violation list, final map and summaries with its own. Each difference is a disagreement:
 * counted, and the first MS_TLP_MAX_DIS kept as one line each ("file:line: ...").
 * A recorded api-mismatch (the tracer's cross-check of API calls against syscalls) cannot
 * be recomputed from operations: the replay raises it again as recorded.
 *
 * Memory: the spaces (bounded by the traced address spaces, not by the trace), the reader's
 * one item, and small per-process records.
 */
#ifndef MEMSTATE_EXPORT_PLAYBACK_H
#define MEMSTATE_EXPORT_PLAYBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memstate/space.h"
#include "lib/proctab.h"
#include "lib/reader.h"

#define MS_TLP_MAX_DIS	 200	    /* disagreement lines kept (all are counted) */
#define MS_TLP_MAX_PROCS (1u << 18) /* processes replayed: each holds a shadow space */

struct ms_tlp_proc {
	struct ms_proc base;	   /* pid, ppid (procFork or processes section), its space
				      (NULL until an event names the pid), exit status */
	char *exe;		   /* from the processes section, NULL before it (owned) */
	uint64_t events;	   /* events replayed for it */
	uint64_t first_ns;	   /* t_ns of its first event */
	uint64_t last_ns;	   /* t_ns of its last event */
	bool listed;		   /* the processes section has its item */
	bool has_recorded;	   /* recorded totals below are set (processes section) */
	struct ms_totals recorded; /* its recorded summary */
	size_t viol_cursor;	   /* next replay violation to match against the list */
	struct ms_snapshot *snap;  /* replay's final map, taken at its first region item */
	size_t map_cursor;	   /* next region of snap to match */
	bool map_differs;	   /* one disagreement about the map was reported */
	void *user;		   /* the command's own per-process data */
};

/* What replaying one event gave. */
struct ms_tlp_step {
	struct ms_event ev;	  /* as replayed: seq, from, to, violation, flags recomputed */
	const char *message;	  /* the replay's violation message; NULL when clean */
	struct ms_tlp_proc *proc; /* the process it belongs to */
	bool disagrees;		  /* the recorded from/to/violation differ from the replay */
	bool changed;		  /* the operation moved bytes between states */
};

struct ms_tlp;

/* Open path for playback. NULL with one line in msg on failure. */
struct ms_tlp *ms_tlp_open(const char *path, char *msg, size_t msglen);
/*
 * The next item, as the reader gives it. For events, *step says what the replay did (step
 * may be NULL otherwise). Returns 1, MS_TLR_END, MS_TLR_TRUNCATED (a JSON Lines file cut
 * short: what was read has been replayed), or a negative errno (ms_tlp_error() says why).
 */
int ms_tlp_next(struct ms_tlp *p, struct ms_tl_item *item, struct ms_tlp_step *step);
/*
 * Have fn called with each recorded event just before the replay applies it (a sampler that
 * wants the state before an event, like the SVG's time columns).
 */
void ms_tlp_set_hook(struct ms_tlp *p, void (*fn)(void *ctx, const struct ms_event *rec),
		     void *ctx);
/*
 * Read only, without replaying (before the first item): for a copy that needs no states.
 * Steps then only carry the recorded event; processes are still tracked.
 */
void ms_tlp_set_replay(struct ms_tlp *p, bool on);
/* The error line after a negative ms_tlp_next(), or the truncation notice. */
const char *ms_tlp_error(const struct ms_tlp *p);
/* The header (valid until close); NULL before the first item. */
const struct ms_tl_item *ms_tlp_header(const struct ms_tlp *p);
const char *ms_tlp_name(const struct ms_tlp *p);
/* The line where the last item starts. */
uint32_t ms_tlp_item_line(const struct ms_tlp *p);
bool ms_tlp_is_jsonl(const struct ms_tlp *p);
/* Whether the file has the section of items of this type (known once it was read past). */
bool ms_tlp_has_section(const struct ms_tlp *p, enum ms_tl_item_type type);

/* Processes in the order they were first named. */
size_t ms_tlp_nprocs(const struct ms_tlp *p);
struct ms_tlp_proc *ms_tlp_proc_at(struct ms_tlp *p, size_t i);
struct ms_tlp_proc *ms_tlp_find(struct ms_tlp *p, uint32_t pid);

/* The replay's totals over every process (what the summary should say). */
void ms_tlp_totals(struct ms_tlp *p, struct ms_totals *sum);
/* The recorded summary, when the file had one. */
bool ms_tlp_recorded_summary(const struct ms_tlp *p, struct ms_totals *out);
/* Events the trace lost (recorded dropped_events + lost_ops): replay cannot be complete. */
uint64_t ms_tlp_lost(const struct ms_tlp *p);

/*
 * Events that left some of from/to/violation out (a minimal timeline, SPEC section 7):
 * ms_tlp_next() filled them in from the replay (and the violation's message), so every
 * reader of playback sees whole events. Left-out closing sections are not compared.
 */
uint64_t ms_tlp_computed(const struct ms_tlp *p);

/* Disagreements found so far, and the kept lines. */
uint64_t ms_tlp_disagreements(const struct ms_tlp *p);
size_t ms_tlp_disagreement_lines(const struct ms_tlp *p, const char *const **lines);

void ms_tlp_close(struct ms_tlp *p);

/* "0x7f..-0x7f..": a range for messages, in buf. */
const char *ms_tlp_range(char *buf, size_t len, uint64_t addr, uint64_t n);

#endif /* MEMSTATE_EXPORT_PLAYBACK_H */
