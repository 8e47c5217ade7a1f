/* SPDX-License-Identifier: MIT */
/*
 * Inside the timeline reader (reader.h): reader.c reads the structure (names, header,
 * document sections, JSON Lines); reader_items.c the typed members and the items. What
 * they share: the member table, the reader's struct and these helpers.
 */
#ifndef MEMSTATE_LIB_READER_INT_H
#define MEMSTATE_LIB_READER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "jsonin.h"
#include "reader.h"

/* Every member name the reader knows, in strcmp order (bsearch). */
#define MS_TLR_FIELDS(X)                            \
	X(ADDR, "addr")                             \
	X(AFTER_LOSS, "after_loss")                 \
	X(APART, "apart")                           \
	X(BYTES, "bytes")                           \
	X(CAPTURE, "capture")                       \
	X(COMMAND, "command")                       \
	X(COMMITTED, "committed")                   \
	X(DROPPED_EVENTS, "dropped_events")         \
	X(DUR_NS, "dur_ns")                         \
	X(EVENTS, "events")                         \
	X(EXE, "exe")                               \
	X(EXIT_CODE, "exit_code")                   \
	X(EXIT_SIGNAL, "exit_signal")               \
	X(FAULTS, "faults")                         \
	X(FILE_BYTES, "file_bytes")                 \
	X(FIRST_TOUCH, "first_touch")               \
	X(FORMAT, "format")                         \
	X(FROM, "from")                             \
	X(HINT, "hint")                             \
	X(HUGE, "huge")                             \
	X(IP, "ip")                                 \
	X(KIND, "kind")                             \
	X(LAZY_FREE, "lazy_free")                   \
	X(LEN, "len")                               \
	X(LOST_BEFORE, "lost_before")               \
	X(LOST_OPS, "lost_ops")                     \
	X(MESSAGE, "message")                       \
	X(MOVED_FROM, "moved_from")                 \
	X(NAME, "name")                             \
	X(NOTE, "note")                             \
	X(OP, "op")                                 \
	X(OPS, "ops")                               \
	X(PAGE_FAULTS, "page_faults")               \
	X(PAGE_SIZE, "page_size")                   \
	X(PEAK, "peak")                             \
	X(PEAK_BYTES, "peak_bytes")                 \
	X(PEAK_FOOTPRINT, "peak_footprint")         \
	X(PEAK_RESIDENT, "peak_resident")           \
	X(PID, "pid")                               \
	X(PPID, "ppid")                             \
	X(PREPARED, "prepared")                     \
	X(PRESENT, "present")                       \
	X(PROCESSES, "processes")                   \
	X(READY_UNTOUCHED, "ready_untouched")       \
	X(REGIONS, "regions")                       \
	X(RESIDENT, "resident")                     \
	X(RESIDENT_BYTES, "resident_bytes")         \
	X(RESIDENT_DELTA, "resident_delta")         \
	X(RESULT, "result")                         \
	X(SEED, "seed")                             \
	X(SEQ, "seq")                               \
	X(SIZE_A, "size_a")                         \
	X(SOURCE, "source")                         \
	X(STAT, "stat")                             \
	X(STATE, "state")                           \
	X(STATS, "stats")                           \
	X(SUMMARY, "summary")                       \
	X(SYSCALL, "syscall")                       \
	X(T_NS, "t_ns")                             \
	X(THP, "thp")                               \
	X(THP_COLLAPSES, "thp_collapses")           \
	X(TID, "tid")                               \
	X(TO, "to")                                 \
	X(TOOL, "tool")                             \
	X(TYPE, "type")                             \
	X(UNTRACKED_FAULTS, "untracked_faults")     \
	X(VERSION, "version")                       \
	X(VIOLATION, "violation")                   \
	X(VIOLATIONS, "violations")                 \
	X(VIOLATIONS_BY_KIND, "violations_by_kind") \
	X(WRITE, "write")

#define X_ENUM(id, name) F_##id,
enum ms_tlr_field { MS_TLR_FIELDS(X_ENUM) F_COUNT };
#undef X_ENUM
#define X_NAME(id, name) name,
static const char *const field_names[F_COUNT] = {MS_TLR_FIELDS(X_NAME)};
#undef X_NAME

/* One bit per member: 128 of them fit. */
typedef unsigned __int128 fmask;
_Static_assert(F_COUNT <= 128, "one bit per member in an fmask");

#define B(f) ((fmask)1 << (f))

/*
 * Every name the reader matches (member names and the spellings of operations, states,
 * sources and violation kinds) in one hash table, built once from the same tables the
 * writer prints from: a key costs one hash and one memcmp instead of a string search.
 */
enum name_kind { NK_FIELD, NK_OP, NK_STATE, NK_SOURCE, NK_VIOLATION };

/* The members of one object that the reader knows, by field. */
struct fields {
	fmask seen;	      /* bit per field present */
	uint32_t at[F_COUNT]; /* node of each field present (valid when its bit is set) */
	uint32_t obj;	      /* the object's node */
	const char *what;     /* item name for messages: "event", ... */
};

enum rstate {
	R_START,       /* nothing read */
	R_DOC_OPEN,    /* document: at the value of section r->section */
	R_DOC_MEMBER,  /* document: expecting ',' + member or '}' */
	R_DOC_SECTION, /* document: inside a section array */
	R_DOC_END,     /* document: after the closing brace */
	R_JSONL,       /* JSON Lines: at the start of a line */
	R_DONE,	       /* returned END or TRUNCATED; stays there */
	R_FAILED,      /* returned an error; stays there */
};

struct ms_tl_reader {
	struct ms_jin in;	  /* the input */
	enum rstate st;		  /* where the parse is */
	int done_ret;		  /* what R_DONE / R_FAILED return again */
	bool jsonl;		  /* JSON Lines form */
	bool header_out;	  /* the header item was returned */
	bool summary_seen;	  /* a summary item was returned */
	unsigned sections;	  /* 1 << MS_TLI_*: sections the file has (ms_tlr_has_section) */
	int section;		  /* document: field id of the array being streamed */
	bool section_first;	  /* document: no element of it read yet */
	fmask top_seen;		  /* document: top-level members seen (known ones) */
	uint32_t item_line;	  /* line where the last item starts */
	uint64_t lines_read;	  /* JSON Lines: whole items read */
	uint32_t last_good_line;  /* JSON Lines: line of the last whole item */
	struct ms_tl_stat *stats; /* a process item's stats */
	unsigned stats_cap;	  /* entries allocated */
	/* The header, kept until close. */
	fmask hdr_seen;	      /* header members seen */
	uint32_t page_size;   /* bytes */
	char *tool, *capture; /* NULL when absent or null */
	char *argv_mem;	      /* the command words, back to back */
	const char **argv;    /* pointers into argv_mem */
	int argc;	      /* words */
};

int rd_name_find(const char *s, size_t len, unsigned kind);
const struct ms_jnode *rd_N(const struct ms_tl_reader *r, uint32_t i);
__attribute__((format(printf, 3, 4))) int rd_bad(struct ms_tl_reader *r, uint32_t node,
						 const char *fmt, ...);
int rd_collect(struct ms_tl_reader *r, uint32_t obj, const char *what, struct fields *f);
int rd_require(struct ms_tl_reader *r, const struct fields *f, fmask mask);
int rd_get_u64(struct ms_tl_reader *r, const struct fields *f, int id, uint64_t max, uint64_t *out);
int rd_get_str(struct ms_tl_reader *r, const struct fields *f, int id, bool null_ok,
	       const char **out);
int rd_read_event(struct ms_tl_reader *r, uint32_t obj, struct ms_tl_item *it);
int rd_read_violation(struct ms_tl_reader *r, uint32_t obj, struct ms_tl_item *it);
int rd_read_region(struct ms_tl_reader *r, uint32_t obj, struct ms_tl_item *it);
int rd_read_process(struct ms_tl_reader *r, uint32_t obj, struct ms_tl_item *it);
int rd_read_summary(struct ms_tl_reader *r, uint32_t obj, struct ms_tl_item *it);

#endif /* MEMSTATE_LIB_READER_INT_H */
