/* SPDX-License-Identifier: MIT */
/*
 * Timeline reader: the one place that reads saved timelines (SPEC section 7), both forms.
 *
 * Streaming: items come out one at a time in file order (header, events..., then the
 * closing sections), with memory bounded by the largest single item, never by the trace.
 * Integers are exact (addresses above 2^53 survive). A JSON Lines file cut short by a killed
 * run is read up to its last whole line and then reports MS_TLR_TRUNCATED; anything
 * malformed, hostile or of another version stops with -EINVAL and one line naming the place
 * (ms_tlr_error: "trace.json:12:40: expected ',' or '}'").
 *
 * Strings inside items (stat names, messages, exe) point into the reader's buffers and stay
 * valid until the next ms_tlr_next() call; the header's strings stay until ms_tlr_close().
 *
 * Minimal timelines (SPEC section 7): only the header's format, version and page_size and
 * each event's seq, t_ns, pid, op, addr, len (with prepared on sysUsed) are required; what
 * an event left out is said in item.event.recorded. A JSON Lines file without a summary
 * line is cut short (MS_TLR_TRUNCATED) when its header has "command" (every memstate writer
 * puts it), and complete otherwise.
 *
 * Order: the header comes first. A document's header members must come before its first
 * section ("events", "violations", ...), which is how every writer of version 1 lays them
 * out; sections and JSON Lines items then come in file order. Members a reader does not
 * know are skipped (more are welcome), within the same size limits.
 *
 * Limits (hostile input): nesting 32 levels, 1 MiB per string, 16 MiB per item; see
 * export/jsonin.h. Bytes the writer escaped as \u0080..\u00ff come back as those raw bytes.
 */
#ifndef MEMSTATE_EXPORT_READER_H
#define MEMSTATE_EXPORT_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memstate/space.h"
#include "memstate/timeline.h"

#ifdef __cplusplus
extern "C" {
#endif

enum ms_tl_item_type {
	MS_TLI_HEADER = 1, /* format, version, command, page_size... */
	MS_TLI_EVENT,	   /* one event */
	MS_TLI_VIOLATION,  /* one entry of "violations" */
	MS_TLI_REGION,	   /* one entry of "regions" (the final map) */
	MS_TLI_PROCESS,	   /* one entry of "processes" */
	MS_TLI_SUMMARY,	   /* the summary; the last item of a complete file */
};

struct ms_tl_item {
	enum ms_tl_item_type type; /* which member of the union is filled */
	union {
		struct {
			int argc;	     /* words of the traced command */
			const char **argv;   /* argc words */
			uint32_t page_size;  /* bytes */
			const char *tool;    /* NULL when absent */
			const char *capture; /* NULL when absent */
			uint32_t version;    /* always 1 for now */
		} header;
		struct {
			struct ms_event ev;   /* seq, t_ns (relative), pid, tid, source, op, addr,
						 len, to, from, violation kind, result, arg
						 (prepared/hint/ip), flags (write, first touch,
						 failed), kind, aux (syscall number) */
			const char *stat;     /* the stat's name, NULL when none */
			const char *message;  /* the violation's message, NULL when none */
			uint64_t lost_before; /* after_loss (ev.flags MS_EVF_LOSSY): events
						 the capture lost before it */
			unsigned recorded;    /* MS_TLE_*: what the file recorded; the rest
						was left out (a minimal timeline) and is
						zero here (tid: the pid, source: api) */
			bool has_resident_delta; /* the event recorded resident_delta */
		} event;
		struct {
			uint64_t seq;	      /* the event that broke the contract */
			uint32_t pid;	      /* its process (0 when the file does not say) */
			uint8_t kind;	      /* enum ms_violation_kind */
			const char *message;  /* one line */
			bool after_loss;      /* after the capture lost events: maybe an artefact */
			uint64_t lost_before; /* events lost before it (with after_loss) */
		} violation;
		struct {
			uint32_t pid;	    /* whose map */
			struct ms_region r; /* r.stat is 0; the name is below */
			const char *stat;   /* NULL when none */
		} region;
		struct {
			uint32_t pid, ppid;	 /* the process and its parent */
			const char *exe;	 /* NULL when unknown */
			int exit_code;		 /* -1 when null */
			int exit_signal;	 /* 0 when null */
			struct ms_totals totals; /* its summary, zero when absent */
			bool has_summary;	 /* the process carried stats and a summary */
			unsigned nstats;	 /* entries of stats */
			const struct ms_tl_stat *stats; /* its named counters at the end */
		} process;
		struct {
			struct ms_totals totals; /* dropped_events includes the lost records */
		} summary;
	};
};

/*
 * What an event recorded besides the operation (SPEC section 7: a minimal timeline carries
 * only seq, t_ns, pid, op, addr, len and the per-operation members). Playback computes the
 * ones left out and fills them in; they are never a disagreement.
 */
#define MS_TLE_FROM	 (1u << 0) /* "from" */
#define MS_TLE_TO	 (1u << 1) /* "to" */
#define MS_TLE_VIOLATION (1u << 2) /* "violation" (null counts as recorded) */
#define MS_TLE_TID	 (1u << 3) /* "tid" */
#define MS_TLE_SOURCE	 (1u << 4) /* "source" */
#define MS_TLE_STATES	 (MS_TLE_FROM | MS_TLE_TO | MS_TLE_VIOLATION)

/* ms_tlr_next() results besides an item (1). */
#define MS_TLR_END	 0 /* a complete file ended */
#define MS_TLR_TRUNCATED 2 /* a JSON Lines file ended before its summary (killed run) */

struct ms_tl_reader;

/* Open path ("-" for stdin). NULL on failure, with -errno in *err and a line in msg. */
struct ms_tl_reader *ms_tlr_open(const char *path, int *err, char *msg, size_t msglen);
/* Next item: 1 with *item filled, MS_TLR_END, MS_TLR_TRUNCATED, or -EINVAL / -errno. */
int ms_tlr_next(struct ms_tl_reader *r, struct ms_tl_item *item);
/* Write an item as read to a timeline writer (a copy: convert, round trips). */
int ms_tl_copy_item(struct ms_tl_writer *w, const struct ms_tl_item *it);
/* One line saying where and what went wrong, after a negative ms_tlr_next(). */
const char *ms_tlr_error(const struct ms_tl_reader *r);
/* Which form the file is in (known once the header has been read). */
bool ms_tlr_is_jsonl(const struct ms_tl_reader *r);
/* The line where the last item returned starts (for messages about it). */
uint32_t ms_tlr_item_line(const struct ms_tl_reader *r);
/*
 * Whether the file has section type (MS_TLI_VIOLATION, _REGION, _PROCESS, _SUMMARY) so
 * far: a document's member, even empty; in JSON Lines a line of it, or every section once
 * the summary line came (memstate's writer lists each one before it). A section left out
 * (a minimal timeline) is computed by whoever needs it, never held against the file.
 */
bool ms_tlr_has_section(const struct ms_tl_reader *r, enum ms_tl_item_type type);
/* The file name as messages spell it ("<stdin>" for "-"). */
const char *ms_tlr_name(const struct ms_tl_reader *r);
void ms_tlr_close(struct ms_tl_reader *r);

#ifdef __cplusplus
}
#endif

#endif /* MEMSTATE_EXPORT_READER_H */
