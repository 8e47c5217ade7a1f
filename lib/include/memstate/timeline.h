/* SPDX-License-Identifier: MIT */
/*
 * Timeline writer: SPEC section 7, as one JSON document or as JSON Lines.
 *
 * Streaming: the header goes out first, each event as it comes, and what is only known at
 * the end (violations, final regions, summary, processes) last, so memory does not grow
 * with the length of the trace. Integers are printed from uint64_t, never through double.
 * Files are created 0600: timelines hold addresses.
 *
 * JSON Lines: every line is an object with a "type": "header" (the document's top-level
 * fields but events), "event", "violation", "region", "process", then "summary" last.
 * A reader that meets no summary line knows the run was cut short.
 *
 * Two ways to write: from live spaces (ms_tlw_event with the space, then ms_tlw_finish),
 * or item by item with the names given (ms_tlw_event_names, ms_tlw_violation, ...), which
 * is how `memstate convert` copies a timeline it reads: the same bytes come out.
 * docs/timeline.md describes the format, docs/timeline.schema.json is its JSON Schema.
 */
#ifndef MEMSTATE_EXPORT_TIMELINE_H
#define MEMSTATE_EXPORT_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memstate/pagemap.h"
#include "memstate/space.h"

#ifdef __cplusplus
extern "C" {
#endif

enum ms_tl_format {
	MS_TL_JSON = 0, /* one document */
	MS_TL_JSONL,	/* JSON Lines */
};

/* Parse "json" / "jsonl": 0 or -EINVAL. */
int ms_tl_format_parse(const char *name, enum ms_tl_format *out);
/* The form a file name asks for: JSON Lines for "*.jsonl" and "*.jsonl.zst", else dflt. */
enum ms_tl_format ms_tl_format_of_path(const char *path, enum ms_tl_format dflt);

/* What the header says about the run. */
struct ms_tl_header {
	int argc;
	char *const *argv;   /* the traced command */
	uint32_t page_size;  /* bytes */
	uint64_t t0_ns;	     /* CLOCK_MONOTONIC start: event t_ns are written relative to it */
	const char *tool;    /* e.g. "memstate 0.1", may be NULL */
	const char *capture; /* capture sources, e.g. "api,ebpf", may be NULL */
};

/* One traced process, for the closing sections. */
struct ms_tl_process {
	uint32_t pid;
	uint32_t ppid;
	const char *exe;	/* may be NULL */
	int exit_code;		/* -1 when unknown or killed */
	int exit_signal;	/* 0 when none */
	struct ms_space *space; /* its final map, totals and violations; may be NULL */
	uint64_t dropped;	/* events lost outside the space's own log (e.g. probe drops) */
	const struct ms_res_check *pagemap; /* residency against pagemap at exit, NULL if none */
	/* What was written of it item by item before ms_tlw_finish (a copy closing a
	 * timeline cut short), which finish then leaves out: */
	size_t violations_done; /* its first violations */
	size_t regions_done;	/* its first final intervals (SIZE_MAX: all) */
	bool listed;		/* its processes item */
};

/* One named counter of a process at the end (a Go sysMemStat). */
struct ms_tl_stat {
	const char *name; /* the counter's name */
	uint64_t bytes;	  /* charged at the end */
	uint64_t peak;	  /* highest value it reached */
};

struct ms_tl_writer;

/*
 * Open path for a timeline or a conversion (both hold addresses): a regular file is
 * created 0600, or made 0600 and then truncated (-EPERM, untouched, when it is another
 * user's and readable by others); a device, pipe or socket is written as it is, its mode
 * never changed. Returns the descriptor or -errno.
 */
int ms_tl_create(const char *path);
/*
 * Create path (ms_tl_create) or use fd (not closed by the writer unless owned). A path
 * ending in ".zst" is written as a zstd stream (SPEC section 9); -ENOTSUP when this build
 * has no libzstd.
 */
struct ms_tl_writer *ms_tlw_open(const char *path, enum ms_tl_format fmt, int *err);
struct ms_tl_writer *ms_tlw_fdopen(int fd, enum ms_tl_format fmt, int *err);
/*
 * Compress what the writer writes with zstd (level 0: the default, fast), in frames ended
 * every second or 4 MiB; ms_tlw_flush() makes all so far decodable. Before anything is
 * written: -EINVAL after, -ENOTSUP without libzstd.
 */
int ms_tlw_set_zstd(struct ms_tl_writer *w, int level);

int ms_tlw_header(struct ms_tl_writer *w, const struct ms_tl_header *hdr);
/*
 * One event. sp is the space that recorded it (stat names, violation messages); the
 * caller holds sp's lock. Events are written in the order given.
 */
int ms_tlw_event(struct ms_tl_writer *w, struct ms_space *sp, const struct ms_event *ev);
/*
 * Violations, regions, processes and summary; flushes. Takes each space's lock. After items
 * written one by one, the section being written is completed (what procs[i] says was done
 * is left out) and the ones after it written; -EINVAL once the summary is out.
 */
int ms_tlw_finish(struct ms_tl_writer *w, const struct ms_tl_process *procs, size_t nprocs);

/*
 * Item by item. An event with its stat name and violation message given (either may be
 * NULL); then the closing sections, in this order: violations, regions, processes, and the
 * summary last (which flushes). Each call closes the sections before its own; an item of a
 * section that was already closed is refused with -EINVAL (a document cannot reopen it).
 */
int ms_tlw_event_names(struct ms_tl_writer *w, const struct ms_event *ev, const char *stat,
		       const char *message);
int ms_tlw_violation(struct ms_tl_writer *w, uint64_t seq, uint32_t pid, unsigned kind,
		     const char *message);
/*
 * Honest loss: a violation after the capture lost events (its event flagged
 * MS_EVF_LOSSY) is written with "after_loss": true and "lost_before": the count the
 * writer was last given here (the tracer keeps it current), inline and in the list.
 */
void ms_tlw_set_lost(struct ms_tl_writer *w, uint64_t lost);
int ms_tlw_violation_loss(struct ms_tl_writer *w, uint64_t seq, uint32_t pid, unsigned kind,
			  const char *message, bool after_loss, uint64_t lost_before);
/* A final interval of pid's map; r->stat is ignored, the name is given. */
int ms_tlw_region(struct ms_tl_writer *w, uint32_t pid, const struct ms_region *r,
		  const char *stat);
/* p->space is ignored: t (NULL for none) and stats are what is written, p->dropped is added. */
int ms_tlw_process(struct ms_tl_writer *w, const struct ms_tl_process *p, const struct ms_totals *t,
		   const struct ms_tl_stat *stats, unsigned nstats);
int ms_tlw_summary(struct ms_tl_writer *w, const struct ms_totals *t, uint64_t dropped);
/* Flush what is buffered (a crash after this loses nothing written so far). */
int ms_tlw_flush(struct ms_tl_writer *w);
/* Close; returns the first write error seen (0 when all went out). */
int ms_tlw_close(struct ms_tl_writer *w);
/* Events written so far. */
uint64_t ms_tlw_events(const struct ms_tl_writer *w);

#ifdef __cplusplus
}
#endif

#endif /* MEMSTATE_EXPORT_TIMELINE_H */
