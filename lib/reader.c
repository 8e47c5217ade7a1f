// SPDX-License-Identifier: MIT
/*
 * Timeline reader (reader.h): both forms of SPEC section 7 through the strict streaming
 * JSON input (jsonin.h).
 *
 * The first object is read member by member: header members are parsed whole and kept,
 * a section member ("events", ...) means a document (the header is complete then and goes
 * out first; the section's elements are then parsed one at a time), and a "type" member
 * means a JSON Lines header line. After that, a document streams its sections and a JSON
 * Lines file is read one line (one item) at a time.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonin.h"
#include "reader.h"

/* ------------------------------------------------------------------ member names */

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

/* The lowest member of a non-empty mask. */
static int first_field(fmask m)
{
	uint64_t lo = (uint64_t)m;

	return lo ? __builtin_ctzll(lo) : 64 + __builtin_ctzll((uint64_t)(m >> 64));
}

/*
 * Every name the reader matches (member names and the spellings of operations, states,
 * sources and violation kinds) in one hash table, built once from the same tables the
 * writer prints from: a key costs one hash and one memcmp instead of a string search.
 */
enum name_kind { NK_FIELD, NK_OP, NK_STATE, NK_SOURCE, NK_VIOLATION };

struct name_slot {
	const char *name; /* NULL when free */
	uint8_t len;	  /* bytes */
	uint8_t kind;	  /* enum name_kind */
	uint8_t id;	  /* field, op, state, source or violation number */
};

#define NAME_SLOTS 256 /* a power of two, well above the ~100 names */

static struct name_slot name_table[NAME_SLOTS];
static pthread_once_t name_once = PTHREAD_ONCE_INIT;

/* Cheap and good enough for ~100 known names: length, kind and three of the bytes. */
static uint32_t name_hash(const char *s, size_t len, unsigned kind)
{
	const unsigned char *u = (const unsigned char *)s;

	if (!len)
		return kind;
	return (uint32_t)len * 97u + kind * 31u + u[0] * 7u + u[len / 2] * 13u + u[len - 1] * 3u;
}

static void name_add(const char *s, unsigned kind, unsigned id)
{
	size_t len = strlen(s);
	uint32_t i = name_hash(s, len, kind) & (NAME_SLOTS - 1);

	while (name_table[i].name)
		i = (i + 1) & (NAME_SLOTS - 1);
	name_table[i] = (struct name_slot){s, (uint8_t)len, (uint8_t)kind, (uint8_t)id};
}

static void names_init(void)
{
	for (unsigned i = 0; i < F_COUNT; i++)
		name_add(field_names[i], NK_FIELD, i);
	for (unsigned i = 0; i < MS_OP_COUNT; i++)
		name_add(ms_op_name(i), NK_OP, i);
	for (unsigned i = 0; i < MS_STATE_COUNT; i++)
		name_add(ms_state_name(i), NK_STATE, i);
	for (unsigned i = 0; i < MS_SRC_COUNT; i++)
		name_add(ms_source_name(i), NK_SOURCE, i);
	for (unsigned i = 1; i < MS_V_COUNT; i++)
		name_add(ms_violation_name(i), NK_VIOLATION, i);
}

/* The number of name s (len bytes) of that kind, or -1. */
static int name_find(const char *s, size_t len, unsigned kind)
{
	uint32_t i = name_hash(s, len, kind) & (NAME_SLOTS - 1);

	for (; name_table[i].name; i = (i + 1) & (NAME_SLOTS - 1)) {
		const struct name_slot *n = &name_table[i];

		if (n->len == len && n->kind == kind) {
			size_t k = 0;

			while (k < len && n->name[k] == s[k]) /* names are short: no memcmp call */
				k++;
			if (k == len)
				return n->id;
		}
	}
	return -1;
}

static int field_id(const char *key)
{
	return name_find(key, strlen(key), NK_FIELD);
}

/* The members of one object that the reader knows, by field. */
struct fields {
	fmask seen;	      /* bit per field present */
	uint32_t at[F_COUNT]; /* node of each field present (valid when its bit is set) */
	uint32_t obj;	      /* the object's node */
	const char *what;     /* item name for messages: "event", ... */
};

/* ------------------------------------------------------------------ the reader */

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

static const struct ms_jnode *N(const struct ms_tl_reader *r, uint32_t i)
{
	return ms_jnode_at(&r->in, i);
}

__attribute__((format(printf, 3, 4))) static int bad(struct ms_tl_reader *r, uint32_t node,
						     const char *fmt, ...)
{
	const struct ms_jnode *n = N(r, node);
	va_list ap;

	va_start(ap, fmt);
	ms_jin_vfail(&r->in, -EINVAL, n->line, n->col, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int collect(struct ms_tl_reader *r, uint32_t obj, const char *what, struct fields *f)
{
	f->seen = 0;
	f->obj = obj;
	f->what = what;
	if (N(r, obj)->type != MS_J_OBJ)
		return bad(r, obj, "%s: expected an object, found %s", what,
			   ms_jtype_name(N(r, obj)));
	for (uint32_t c = N(r, obj)->child; c; c = N(r, c)->next) {
		int id = name_find(ms_jnode_key(&r->in, N(r, c)), N(r, c)->keylen, NK_FIELD);

		if (id < 0)
			continue; /* more members are welcome */
		if (f->seen & B(id))
			return bad(r, c, "%s: member \"%s\" appears twice", what, field_names[id]);
		f->seen |= B(id);
		f->at[id] = c;
	}
	return 0;
}

static int require(struct ms_tl_reader *r, const struct fields *f, fmask mask)
{
	fmask missing = mask & ~f->seen;

	if (!missing)
		return 0;
	return bad(r, f->obj, "%s: missing member \"%s\"", f->what,
		   field_names[first_field(missing)]);
}

/* ------------------------------------------------------------------ typed members */

static int node_u64(struct ms_tl_reader *r, uint32_t i, const char *what, const char *name,
		    uint64_t max, uint64_t *out)
{
	const struct ms_jnode *n = N(r, i);
	char lit[32];

	if (n->type != MS_J_NUM || !(n->nflags & MS_JN_INT))
		return bad(r, i, "%s: \"%s\" must be an integer, found %s", what, name,
			   n->type == MS_J_NUM ? "a fraction or exponent" : ms_jtype_name(n));
	if ((n->nflags & MS_JN_BIG) || n->u > max || ((n->nflags & MS_JN_NEG) && n->u))
		return bad(r, i, "%s: \"%s\" is out of range (%s; 0 to %llu)", what, name,
			   ms_jnode_num(&r->in, n, lit), (unsigned long long)max);
	*out = n->u;
	return 0;
}

/* An unsigned member: 1 when present and read, 0 when absent, or an error. */
static int get_u64(struct ms_tl_reader *r, const struct fields *f, int id, uint64_t max,
		   uint64_t *out)
{
	if (!(f->seen & B(id)))
		return 0;
	return node_u64(r, f->at[id], f->what, field_names[id], max, out) ? -EINVAL : 1;
}

static int get_u32(struct ms_tl_reader *r, const struct fields *f, int id, uint32_t *out)
{
	uint64_t v = 0;
	int ret = get_u64(r, f, id, UINT32_MAX, &v);

	if (ret > 0)
		*out = (uint32_t)v;
	return ret;
}

/* A signed member in [min, max], or null when null_ok (then *is_null). */
static int get_int(struct ms_tl_reader *r, const struct fields *f, int id, int64_t min, int64_t max,
		   bool null_ok, int64_t *out, bool *is_null)
{
	const struct ms_jnode *n;
	char lit[32];
	uint32_t i;

	if (!(f->seen & B(id)))
		return 0;
	i = f->at[id];
	n = N(r, i);
	if (is_null)
		*is_null = false;
	if (n->type == MS_J_NULL && null_ok) {
		*is_null = true;
		return 1;
	}
	if (n->type != MS_J_NUM || !(n->nflags & MS_JN_INT))
		return bad(r, i, "%s: \"%s\" must be an integer%s, found %s", f->what,
			   field_names[id], null_ok ? " or null" : "",
			   n->type == MS_J_NUM ? "a fraction or exponent" : ms_jtype_name(n));
	if ((n->nflags & MS_JN_BIG) || (!(n->nflags & MS_JN_NEG) && n->u > (uint64_t)max) ||
	    ((n->nflags & MS_JN_NEG) && n->u > (uint64_t)0 - (uint64_t)min))
		return bad(r, i, "%s: \"%s\" is out of range (%s; %lld to %lld)", f->what,
			   field_names[id], ms_jnode_num(&r->in, n, lit), (long long)min,
			   (long long)max);
	*out = (n->nflags & MS_JN_NEG) ? (int64_t)((uint64_t)0 - n->u) : (int64_t)n->u;
	return 1;
}

/* A string member (NULL for null when null_ok). */
static int get_str(struct ms_tl_reader *r, const struct fields *f, int id, bool null_ok,
		   const char **out)
{
	const struct ms_jnode *n;

	if (!(f->seen & B(id)))
		return 0;
	n = N(r, f->at[id]);
	if (n->type == MS_J_NULL && null_ok) {
		*out = NULL;
		return 1;
	}
	if (n->type != MS_J_STR)
		return bad(r, f->at[id], "%s: \"%s\" must be a string%s, found %s", f->what,
			   field_names[id], null_ok ? " or null" : "", ms_jtype_name(n));
	*out = ms_jnode_str(&r->in, n);
	return 1;
}

static int get_bool(struct ms_tl_reader *r, const struct fields *f, int id, bool *out)
{
	const struct ms_jnode *n;

	if (!(f->seen & B(id)))
		return 0;
	n = N(r, f->at[id]);
	if (n->type != MS_J_TRUE && n->type != MS_J_FALSE)
		return bad(r, f->at[id], "%s: \"%s\" must be true or false, found %s", f->what,
			   field_names[id], ms_jtype_name(n));
	*out = n->type == MS_J_TRUE;
	return 1;
}

/* A name member: an operation, state, source or violation kind. */
static int get_name(struct ms_tl_reader *r, const struct fields *f, int id, enum name_kind kind,
		    const char *what, unsigned *out)
{
	const struct ms_jnode *n;
	const char *s;
	int ret = get_str(r, f, id, false, &s), v;

	if (ret <= 0)
		return ret;
	n = N(r, f->at[id]);
	v = name_find(s, n->len, kind);
	if (v < 0)
		return bad(r, f->at[id], "%s: unknown %s \"%.64s\"", f->what, what, s);
	*out = (unsigned)v;
	return 1;
}

/* {"Reserved": n, ...}: bytes per state into v (None allowed only when with_none). */
static int get_states(struct ms_tl_reader *r, const struct fields *f, int id, bool with_none,
		      uint64_t v[MS_STATE_COUNT])
{
	uint32_t obj;
	unsigned seen = 0, s;

	if (!(f->seen & B(id)))
		return 0;
	obj = f->at[id];
	if (N(r, obj)->type != MS_J_OBJ)
		return bad(r, obj, "%s: \"%s\" must be an object of bytes per state, found %s",
			   f->what, field_names[id], ms_jtype_name(N(r, obj)));
	for (uint32_t c = N(r, obj)->child; c; c = N(r, c)->next) {
		const char *key = ms_jnode_key(&r->in, N(r, c));

		int k = name_find(key, N(r, c)->keylen, NK_STATE);

		s = k < 0 ? 0 : (unsigned)k;
		if (k < 0 || (s == MS_NONE && !with_none))
			return bad(r, c, "%s: \"%s\" has an unknown state \"%.64s\"", f->what,
				   field_names[id], key);
		if (seen & (1u << s))
			return bad(r, c, "%s: state \"%s\" appears twice in \"%s\"", f->what, key,
				   field_names[id]);
		seen |= 1u << s;
		if (node_u64(r, c, f->what, key, UINT64_MAX, &v[s]))
			return -EINVAL;
	}
	return 1;
}

/* {"name": count, ...} keyed by violation kinds or operations. */
static int get_counts(struct ms_tl_reader *r, const struct fields *f, int id, enum name_kind kind,
		      unsigned count, uint64_t *v)
{
	uint32_t obj;
	int k;

	if (!(f->seen & B(id)))
		return 0;
	obj = f->at[id];
	if (N(r, obj)->type != MS_J_OBJ)
		return bad(r, obj, "%s: \"%s\" must be an object, found %s", f->what,
			   field_names[id], ms_jtype_name(N(r, obj)));
	for (uint32_t c = N(r, obj)->child; c; c = N(r, c)->next) {
		const char *key = ms_jnode_key(&r->in, N(r, c));

		k = name_find(key, N(r, c)->keylen, kind);
		if (k < 0 || (unsigned)k >= count)
			return bad(r, c, "%s: \"%s\" has an unknown name \"%.64s\"", f->what,
				   field_names[id], key);
		if (node_u64(r, c, f->what, key, UINT64_MAX, &v[k]))
			return -EINVAL;
	}
	return 1;
}

/* ------------------------------------------------------------------ items */

/* A minimal timeline's event (SPEC section 7); the rest is optional. */
#define EVENT_REQUIRED (B(F_SEQ) | B(F_T_NS) | B(F_PID) | B(F_OP) | B(F_ADDR) | B(F_LEN))

static int inline_violation(struct ms_tl_reader *r, uint32_t node, struct ms_tl_item *it)
{
	struct fields f;
	unsigned kind;

	bool after = false;

	if (collect(r, node, "event violation", &f) || require(r, &f, B(F_KIND)) ||
	    get_name(r, &f, F_KIND, NK_VIOLATION, "violation kind", &kind) < 0 ||
	    get_str(r, &f, F_MESSAGE, true, &it->event.message) < 0 ||
	    get_bool(r, &f, F_AFTER_LOSS, &after) < 0 ||
	    get_u64(r, &f, F_LOST_BEFORE, UINT64_MAX, &it->event.lost_before) < 0)
		return -EINVAL;
	if (after)
		it->event.ev.flags |= MS_EVF_LOSSY;
	if (kind == MS_V_NONE)
		return bad(r, f.at[F_KIND], "event: a violation object of kind \"none\"");
	it->event.ev.violation = (uint8_t)kind;
	return 0;
}

static int read_event(struct ms_tl_reader *r, uint32_t obj, struct ms_tl_item *it)
{
	struct ms_event *ev = &it->event.ev;
	struct fields f;
	unsigned v;
	int64_t i64;
	uint64_t u64;
	bool flag, is_null;
	const char *s;

	memset(&it->event, 0, sizeof(it->event));
	it->type = MS_TLI_EVENT;
	if (collect(r, obj, "event", &f) || require(r, &f, EVENT_REQUIRED))
		return -EINVAL;
	if (get_u64(r, &f, F_SEQ, UINT64_MAX, &ev->seq) < 0 ||
	    get_u64(r, &f, F_T_NS, UINT64_MAX, &ev->t_ns) < 0 ||
	    get_u32(r, &f, F_PID, &ev->pid) < 0 || get_u32(r, &f, F_TID, &ev->tid) < 0 ||
	    get_u64(r, &f, F_ADDR, UINT64_MAX, &ev->addr) < 0 ||
	    get_u64(r, &f, F_LEN, UINT64_MAX, &ev->len) < 0)
		return -EINVAL;
	/* Left out: what an allocator logging its own calls would mean (tid = pid, api). */
	if (!(f.seen & B(F_TID)))
		ev->tid = ev->pid;
	v = MS_SRC_API;
	if (get_name(r, &f, F_SOURCE, NK_SOURCE, "source", &v) < 0)
		return -EINVAL;
	ev->source = (uint8_t)v;
	if (get_name(r, &f, F_OP, NK_OP, "operation", &v) < 0)
		return -EINVAL;
	ev->op = (uint8_t)v;
	ev->to = MS_STATE_UNCHANGED;
	if ((f.seen & B(F_TO)) && N(r, f.at[F_TO])->type != MS_J_NULL) {
		if (get_name(r, &f, F_TO, NK_STATE, "state", &v) < 0)
			return -EINVAL;
		ev->to = (uint8_t)v;
	}
	if (get_states(r, &f, F_FROM, true, ev->from) < 0)
		return -EINVAL;
	if ((f.seen & B(F_VIOLATION)) && N(r, f.at[F_VIOLATION])->type != MS_J_NULL &&
	    inline_violation(r, f.at[F_VIOLATION], it))
		return -EINVAL;
	it->event.recorded = ((f.seen & B(F_FROM)) ? MS_TLE_FROM : 0) |
			     ((f.seen & B(F_TO)) ? MS_TLE_TO : 0) |
			     ((f.seen & B(F_VIOLATION)) ? MS_TLE_VIOLATION : 0) |
			     ((f.seen & B(F_TID)) ? MS_TLE_TID : 0) |
			     ((f.seen & B(F_SOURCE)) ? MS_TLE_SOURCE : 0);
	if (get_int(r, &f, F_RESULT, INT32_MIN, INT32_MAX, false, &i64, NULL) > 0)
		ev->result = (int32_t)i64;
	else if (r->in.err)
		return -EINVAL;

	/* Members that only some operations carry. */
	switch (ev->op) {
	case MS_OP_USED:
		if (require(r, &f, B(F_PREPARED)) ||
		    get_u64(r, &f, F_PREPARED, UINT64_MAX, &ev->arg) < 0)
			return -EINVAL;
		break;
	case MS_OP_ALLOC:
	case MS_OP_MAP:
	case MS_OP_FREE:
		if (get_str(r, &f, F_STAT, true, &it->event.stat) < 0)
			return -EINVAL;
		if (ev->op != MS_OP_FREE && get_u64(r, &f, F_MOVED_FROM, UINT64_MAX, &ev->arg) < 0)
			return -EINVAL;
		break;
	case MS_OP_UNUSED:
		if (get_bool(r, &f, F_LAZY_FREE, &flag) < 0)
			return -EINVAL;
		if ((f.seen & B(F_LAZY_FREE)) && flag)
			ev->flags |= MS_EVF_LAZY;
		break;
	case MS_OP_RESERVE:
		if (get_u64(r, &f, F_HINT, UINT64_MAX, &ev->arg) < 0)
			return -EINVAL;
		break;
	case MS_OP_PROC_FORK:
		if (require(r, &f, B(F_PPID)) || get_u64(r, &f, F_PPID, UINT32_MAX, &ev->arg) < 0)
			return -EINVAL;
		break;
	case MS_OP_PROC_EXIT:
		ev->result = -1;
		if (get_int(r, &f, F_EXIT_CODE, 0, INT32_MAX, true, &i64, &is_null) < 0)
			return -EINVAL;
		if ((f.seen & B(F_EXIT_CODE)) && !is_null)
			ev->result = (int32_t)i64;
		if (get_int(r, &f, F_EXIT_SIGNAL, 0, INT32_MAX, true, &i64, &is_null) < 0)
			return -EINVAL;
		if ((f.seen & B(F_EXIT_SIGNAL)) && !is_null)
			ev->aux = (uint32_t)i64;
		break;
	case MS_OP_EXT_ALLOC:
	case MS_OP_EXT_SPLIT:
	case MS_OP_EXT_MERGE:
		if (ev->op != MS_OP_EXT_ALLOC &&
		    (require(r, &f, B(F_SIZE_A)) ||
		     get_u64(r, &f, F_SIZE_A, UINT64_MAX, &ev->arg) < 0))
			return -EINVAL;
		if (get_bool(r, &f, F_COMMITTED, &flag) < 0)
			return -EINVAL;
		if ((f.seen & B(F_COMMITTED)) && flag)
			ev->flags |= MS_EVF_COMMITTED;
		if (get_bool(r, &f, F_APART, &flag) < 0)
			return -EINVAL;
		if ((f.seen & B(F_APART)) && flag)
			ev->flags |= MS_EVF_APART;
		break;
	case MS_OP_PAGE_FAULT:
		if (get_u64(r, &f, F_IP, UINT64_MAX, &ev->arg) < 0)
			return -EINVAL;
		if (get_bool(r, &f, F_WRITE, &flag) < 0)
			return -EINVAL;
		if ((f.seen & B(F_WRITE)) && flag)
			ev->flags |= MS_EVF_WRITE;
		if (get_bool(r, &f, F_FIRST_TOUCH, &flag) < 0)
			return -EINVAL;
		if ((f.seen & B(F_FIRST_TOUCH)) && flag)
			ev->flags |= MS_EVF_INFERRED;
		if (get_bool(r, &f, F_PRESENT, &flag) < 0)
			return -EINVAL;
		if ((f.seen & B(F_PRESENT)) && flag)
			ev->flags |= MS_EVF_PRESENT;
		if (get_bool(r, &f, F_THP, &flag) < 0)
			return -EINVAL;
		if ((f.seen & B(F_THP)) && flag)
			ev->flags |= MS_EVF_HUGE;
		break;
	default:
		break;
	}
	if (get_str(r, &f, F_KIND, false, &s) > 0) {
		if (!strcmp(s, "file"))
			ev->kind = MS_KIND_FILE;
		else if (strcmp(s, "anon"))
			return bad(r, f.at[F_KIND], "event: unknown kind \"%.64s\"", s);
	} else if (r->in.err) {
		return -EINVAL;
	}
	if (!ms_op_is_proc(ev->op) && ev->source == MS_SRC_SYSCALL &&
	    get_str(r, &f, F_SYSCALL, false, &s) > 0 && ms_syscall_parse(s, &v) == 0)
		ev->aux = v; /* a syscall this build does not know keeps aux 0 */
	if (!ms_op_is_proc(ev->op) && (ev->source == MS_SRC_API || ev->source == MS_SRC_JEMALLOC) &&
	    get_u64(r, &f, F_DUR_NS, UINT32_MAX, &u64) > 0)
		ev->aux = (uint32_t)u64;
	if (r->in.err)
		return -EINVAL;
	if (get_bool(r, &f, F_NOTE, &flag) < 0)
		return -EINVAL;
	if ((f.seen & B(F_NOTE)) && flag)
		ev->flags |= MS_EVF_NOTE;
	if (get_bool(r, &f, F_SEED, &flag) < 0)
		return -EINVAL;
	if ((f.seen & B(F_SEED)) && flag)
		ev->flags |= MS_EVF_SEED;
	if (!ms_op_is_proc(ev->op) && ev->result)
		ev->flags |= MS_EVF_FAILED;
	if (get_int(r, &f, F_RESIDENT_DELTA, INT64_MIN, INT64_MAX, false, &i64, NULL) > 0) {
		ev->resident_delta = i64;
		it->event.has_resident_delta = true;
	} else if (r->in.err) {
		return -EINVAL;
	}
	return 0;
}

static int read_violation(struct ms_tl_reader *r, uint32_t obj, struct ms_tl_item *it)
{
	struct fields f;
	unsigned kind;

	memset(&it->violation, 0, sizeof(it->violation));
	it->type = MS_TLI_VIOLATION;
	if (collect(r, obj, "violation", &f) ||
	    require(r, &f, B(F_SEQ) | B(F_KIND) | B(F_MESSAGE)) ||
	    get_u64(r, &f, F_SEQ, UINT64_MAX, &it->violation.seq) < 0 ||
	    get_u32(r, &f, F_PID, &it->violation.pid) < 0 ||
	    get_name(r, &f, F_KIND, NK_VIOLATION, "violation kind", &kind) < 0 ||
	    get_str(r, &f, F_MESSAGE, false, &it->violation.message) < 0 ||
	    get_bool(r, &f, F_AFTER_LOSS, &it->violation.after_loss) < 0 ||
	    get_u64(r, &f, F_LOST_BEFORE, UINT64_MAX, &it->violation.lost_before) < 0)
		return -EINVAL;
	if (kind == MS_V_NONE)
		return bad(r, f.at[F_KIND], "violation: kind \"none\"");
	it->violation.kind = (uint8_t)kind;
	return 0;
}

static int read_region(struct ms_tl_reader *r, uint32_t obj, struct ms_tl_item *it)
{
	struct ms_region *g = &it->region.r;
	uint64_t len = 0, v;
	const char *s;
	unsigned state;
	struct fields f;
	bool flag;

	memset(&it->region, 0, sizeof(it->region));
	it->type = MS_TLI_REGION;
	if (collect(r, obj, "region", &f) ||
	    require(r, &f,
		    B(F_PID) | B(F_ADDR) | B(F_LEN) | B(F_STATE) | B(F_HUGE) | B(F_FAULTS) |
			    B(F_THP_COLLAPSES)) ||
	    get_u32(r, &f, F_PID, &it->region.pid) < 0 ||
	    get_u64(r, &f, F_ADDR, UINT64_MAX, &g->start) < 0 ||
	    get_u64(r, &f, F_LEN, UINT64_MAX, &len) < 0 ||
	    get_name(r, &f, F_STATE, NK_STATE, "state", &state) < 0 ||
	    get_u64(r, &f, F_FAULTS, UINT64_MAX, &g->faults) < 0 ||
	    get_u64(r, &f, F_THP_COLLAPSES, UINT32_MAX, &v) < 0 ||
	    get_str(r, &f, F_STAT, true, &it->region.stat) < 0 ||
	    get_str(r, &f, F_HUGE, true, &s) < 0)
		return -EINVAL;
	if (!len || g->start + len < g->start)
		return bad(r, f.at[F_LEN], "region: empty or wrapping range");
	if (state == MS_NONE)
		return bad(r, f.at[F_STATE], "region: state None is never part of the map");
	g->end = g->start + len;
	g->state = (uint8_t)state;
	g->thp_collapses = (uint32_t)v;
	if (!s)
		g->huge = MS_HUGE_DEFAULT;
	else if (!strcmp(s, "hugepage"))
		g->huge = MS_HUGE_HUGEPAGE;
	else if (!strcmp(s, "nohugepage"))
		g->huge = MS_HUGE_NOHUGEPAGE;
	else
		return bad(r, f.at[F_HUGE], "region: unknown huge-page advice \"%.64s\"", s);
	if (get_str(r, &f, F_KIND, false, &s) > 0) {
		if (!strcmp(s, "file"))
			g->kind = MS_KIND_FILE;
		else if (strcmp(s, "anon"))
			return bad(r, f.at[F_KIND], "region: unknown kind \"%.64s\"", s);
	} else if (r->in.err) {
		return -EINVAL;
	}
	if (get_bool(r, &f, F_THP, &flag) < 0)
		return -EINVAL;
	if ((f.seen & B(F_THP)) && flag)
		g->flags |= MS_RF_THP;
	if (get_u64(r, &f, F_RESIDENT, len, &g->resident) > 0)
		g->flags |= MS_RF_RESIDENCY;
	if (r->in.err || get_u64(r, &f, F_LAZY_FREE, g->resident, &g->lazy_free) < 0)
		return -EINVAL;
	return 0;
}

#define SUMMARY_REQUIRED                                                                   \
	(B(F_BYTES) | B(F_PEAK_BYTES) | B(F_EVENTS) | B(F_VIOLATIONS) | B(F_PAGE_FAULTS) | \
	 B(F_THP_COLLAPSES) | B(F_DROPPED_EVENTS))

static int read_totals(struct ms_tl_reader *r, uint32_t obj, const char *what, struct ms_totals *t)
{
	struct fields f;

	memset(t, 0, sizeof(*t));
	if (collect(r, obj, what, &f) || require(r, &f, SUMMARY_REQUIRED) ||
	    get_states(r, &f, F_BYTES, false, t->bytes) < 0 ||
	    get_states(r, &f, F_PEAK_BYTES, false, t->peak_bytes) < 0 ||
	    get_u64(r, &f, F_PEAK_FOOTPRINT, UINT64_MAX, &t->peak_footprint) < 0 ||
	    get_u64(r, &f, F_FILE_BYTES, UINT64_MAX, &t->file_bytes) < 0 ||
	    get_u64(r, &f, F_EVENTS, UINT64_MAX, &t->events) < 0 ||
	    get_u64(r, &f, F_VIOLATIONS, UINT64_MAX, &t->violations) < 0 ||
	    get_counts(r, &f, F_VIOLATIONS_BY_KIND, NK_VIOLATION, MS_V_COUNT, t->by_kind) < 0 ||
	    get_counts(r, &f, F_OPS, NK_OP, MS_OP_COUNT, t->by_op) < 0 ||
	    get_u64(r, &f, F_PAGE_FAULTS, UINT64_MAX, &t->page_faults) < 0 ||
	    get_u64(r, &f, F_UNTRACKED_FAULTS, UINT64_MAX, &t->untracked_faults) < 0 ||
	    get_u64(r, &f, F_THP_COLLAPSES, UINT64_MAX, &t->thp_collapses) < 0 ||
	    get_u64(r, &f, F_DROPPED_EVENTS, UINT64_MAX, &t->dropped_events) < 0 ||
	    get_u64(r, &f, F_LOST_OPS, UINT64_MAX, &t->lost_ops) < 0)
		return -EINVAL;
	/* Residency (SPEC section 8), when the run tracked it. */
	if (f.seen & B(F_RESIDENT_BYTES)) {
		uint64_t res[MS_STATE_COUNT] = {0};

		if (get_states(r, &f, F_RESIDENT_BYTES, false, res) < 0)
			return -EINVAL;
		t->resident[MS_PREPARED] = res[MS_PREPARED];
		t->resident[MS_READY] = res[MS_READY];
		t->residency = 1;
	}
	if (get_u64(r, &f, F_PEAK_RESIDENT, UINT64_MAX, &t->peak_resident) < 0 ||
	    get_u64(r, &f, F_LAZY_FREE, UINT64_MAX, &t->lazy_free) < 0)
		return -EINVAL;
	return 0;
}

static int read_stats(struct ms_tl_reader *r, uint32_t arr, struct ms_tl_item *it)
{
	const struct ms_jnode *a = N(r, arr);
	unsigned n = 0;

	if (a->type != MS_J_ARR)
		return bad(r, arr, "process: \"stats\" must be an array, found %s",
			   ms_jtype_name(a));
	if (a->len > 65535)
		return bad(r, arr, "process: more than 65535 stats");
	if (a->len > r->stats_cap) {
		struct ms_tl_stat *grown = realloc(r->stats, a->len * sizeof(*grown));

		if (!grown)
			return ms_jin_fail(&r->in, -ENOMEM, 0, 0, "out of memory");
		r->stats = grown;
		r->stats_cap = a->len;
	}
	for (uint32_t c = a->child; c; c = N(r, c)->next) {
		struct ms_tl_stat *st = &r->stats[n++];
		struct fields f;

		*st = (struct ms_tl_stat){0};
		if (collect(r, c, "process stat", &f) ||
		    require(r, &f, B(F_NAME) | B(F_BYTES) | B(F_PEAK)) ||
		    get_str(r, &f, F_NAME, false, &st->name) < 0 ||
		    get_u64(r, &f, F_BYTES, UINT64_MAX, &st->bytes) < 0 ||
		    get_u64(r, &f, F_PEAK, UINT64_MAX, &st->peak) < 0)
			return -EINVAL;
	}
	it->process.stats = r->stats;
	it->process.nstats = n;
	return 0;
}

static int read_process(struct ms_tl_reader *r, uint32_t obj, struct ms_tl_item *it)
{
	struct fields f;
	int64_t v;
	bool is_null;

	memset(&it->process, 0, sizeof(it->process));
	it->type = MS_TLI_PROCESS;
	it->process.exit_code = -1;
	if (collect(r, obj, "process", &f) ||
	    require(r, &f, B(F_PID) | B(F_PPID) | B(F_EXE) | B(F_EXIT_CODE) | B(F_EXIT_SIGNAL)) ||
	    get_u32(r, &f, F_PID, &it->process.pid) < 0 ||
	    get_u32(r, &f, F_PPID, &it->process.ppid) < 0 ||
	    get_str(r, &f, F_EXE, true, &it->process.exe) < 0)
		return -EINVAL;
	if (get_int(r, &f, F_EXIT_CODE, 0, INT32_MAX, true, &v, &is_null) < 0)
		return -EINVAL;
	if (!is_null)
		it->process.exit_code = (int)v;
	if (get_int(r, &f, F_EXIT_SIGNAL, 0, INT32_MAX, true, &v, &is_null) < 0)
		return -EINVAL;
	if (!is_null)
		it->process.exit_signal = (int)v;
	if ((f.seen & B(F_STATS)) && read_stats(r, f.at[F_STATS], it))
		return -EINVAL;
	if (f.seen & B(F_SUMMARY)) {
		if (read_totals(r, f.at[F_SUMMARY], "process summary", &it->process.totals))
			return -EINVAL;
		it->process.has_summary = true;
	}
	return 0;
}

static int read_summary(struct ms_tl_reader *r, uint32_t obj, struct ms_tl_item *it)
{
	memset(&it->summary, 0, sizeof(it->summary));
	it->type = MS_TLI_SUMMARY;
	if (read_totals(r, obj, "summary", &it->summary.totals))
		return -EINVAL;
	r->summary_seen = true;
	return 0;
}

/* ------------------------------------------------------------------ the header */

#define HEADER_REQUIRED (B(F_FORMAT) | B(F_VERSION) | B(F_PAGE_SIZE))
#define HEADER_MEMBERS	(HEADER_REQUIRED | B(F_COMMAND))

static char *dup_str(struct ms_tl_reader *r, const char *s)
{
	char *d = strdup(s);

	if (!d)
		ms_jin_fail(&r->in, -ENOMEM, 0, 0, "out of memory");
	return d;
}

static int header_command(struct ms_tl_reader *r, uint32_t arr)
{
	const struct ms_jnode *a = N(r, arr);
	size_t bytes = 0, off = 0;
	int i = 0;

	if (a->type != MS_J_ARR)
		return bad(r, arr, "header: \"command\" must be an array of strings, found %s",
			   ms_jtype_name(a));
	for (uint32_t c = a->child; c; c = N(r, c)->next) {
		if (N(r, c)->type != MS_J_STR)
			return bad(r, c,
				   "header: \"command\" must be an array of strings, found %s",
				   ms_jtype_name(N(r, c)));
		bytes += N(r, c)->len + 1;
	}
	free(r->argv_mem);
	free(r->argv);
	r->argv_mem = malloc(bytes ? bytes : 1);
	r->argv = calloc(a->len + 1, sizeof(*r->argv));
	if (!r->argv_mem || !r->argv)
		return ms_jin_fail(&r->in, -ENOMEM, 0, 0, "out of memory");
	for (uint32_t c = a->child; c; c = N(r, c)->next) {
		memcpy(r->argv_mem + off, ms_jnode_str(&r->in, N(r, c)), N(r, c)->len + 1);
		r->argv[i++] = r->argv_mem + off;
		off += N(r, c)->len + 1;
	}
	r->argc = i;
	return 0;
}

/*
 * One header member, its value parsed as the tree's root. "type" (JSON Lines) must say
 * "header"; format and version are checked at once, so that a file of another kind or
 * version stops at its first line.
 */
static int header_member(struct ms_tl_reader *r, int id)
{
	const struct ms_jnode *n = N(r, 0);
	struct fields f = {.seen = B(id), .obj = 0, .what = "header"};
	const char *s;
	char lit[32];
	uint64_t v;

	f.at[id] = 0;
	switch (id) {
	case F_TYPE:
		if (n->type != MS_J_STR || strcmp(ms_jnode_str(&r->in, n), "header"))
			return bad(r, 0,
				   "the first line of a JSON Lines timeline must be its "
				   "header (\"type\": \"header\")");
		r->jsonl = true;
		return 0;
	case F_FORMAT:
		if (n->type != MS_J_STR || strcmp(ms_jnode_str(&r->in, n), "memstate-timeline"))
			return bad(r, 0, "not a memstate timeline (\"format\" is %s%.64s%s)",
				   n->type == MS_J_STR ? "\"" : "",
				   n->type == MS_J_STR ? ms_jnode_str(&r->in, n) : ms_jtype_name(n),
				   n->type == MS_J_STR ? "\"" : "");
		return 0;
	case F_VERSION:
		if (n->type != MS_J_NUM)
			return bad(r, 0, "header: \"version\" must be the integer 1, found %s",
				   ms_jtype_name(n));
		if (!(n->nflags & MS_JN_INT) || (n->nflags & MS_JN_NEG) ||
		    (n->nflags & MS_JN_BIG) || n->u != 1)
			return bad(r, 0,
				   "timeline version %.32s is not supported (this memstate reads "
				   "version 1)",
				   n->type == MS_J_NUM || n->type == MS_J_STR
					   ? ms_jnode_num(&r->in, n, lit)
					   : ms_jtype_name(n));
		return 0;
	case F_COMMAND:
		return header_command(r, 0);
	case F_PAGE_SIZE:
		if (get_u64(r, &f, F_PAGE_SIZE, 1u << 30, &v) < 0)
			return -EINVAL;
		if (v < 512 || (v & (v - 1)))
			return bad(r, 0,
				   "header: \"page_size\" %llu is not a power of two from "
				   "512 to 1 GiB",
				   (unsigned long long)v);
		r->page_size = (uint32_t)v;
		return 0;
	case F_TOOL:
	case F_CAPTURE:
		if (get_str(r, &f, id, true, &s) < 0)
			return -EINVAL;
		if (s && !(s = dup_str(r, s)))
			return -ENOMEM;
		if (id == F_TOOL) {
			free(r->tool);
			r->tool = (char *)s;
		} else {
			free(r->capture);
			r->capture = (char *)s;
		}
		return 0;
	default:
		return 0;
	}
}

/* The header is complete: check it and fill the item. */
static int header_item(struct ms_tl_reader *r, struct ms_tl_item *it)
{
	fmask missing = HEADER_REQUIRED & ~r->hdr_seen;
	uint32_t line, col;

	if (missing) {
		ms_jin_where(&r->in, &line, &col);
		return ms_jin_fail(&r->in, -EINVAL, line, col,
				   (r->hdr_seen & B(F_FORMAT))
					   ? "header: missing member \"%s\" (it must come before "
					     "the events)"
					   : "not a memstate timeline: no \"%s\" member before the "
					     "events",
				   field_names[first_field(missing)]);
	}
	memset(it, 0, sizeof(*it));
	it->type = MS_TLI_HEADER;
	it->header.argc = r->argc;
	it->header.argv = r->argv;
	it->header.page_size = r->page_size;
	it->header.tool = r->tool;
	it->header.capture = r->capture;
	it->header.version = 1;
	r->header_out = true;
	return 0;
}

/* ------------------------------------------------------------------ public */

struct ms_tl_reader *ms_tlr_open(const char *path, int *err, char *msg, size_t msglen)
{
	struct ms_tl_reader *r = calloc(1, sizeof(*r));
	int e;

	pthread_once(&name_once, names_init);
	if (!r) {
		if (err)
			*err = -ENOMEM;
		if (msg && msglen)
			snprintf(msg, msglen, "%s: out of memory", path);
		return NULL;
	}
	e = ms_jin_open(&r->in, path);
	if (e) {
		if (err)
			*err = e;
		if (msg && msglen)
			snprintf(msg, msglen, "%s", r->in.msg);
		ms_jin_close(&r->in);
		free(r);
		return NULL;
	}
	return r;
}

void ms_tlr_close(struct ms_tl_reader *r)
{
	if (!r)
		return;
	ms_jin_close(&r->in);
	free(r->stats);
	free(r->tool);
	free(r->capture);
	free(r->argv_mem);
	free(r->argv);
	free(r);
}

const char *ms_tlr_error(const struct ms_tl_reader *r)
{
	return r->in.msg[0] ? r->in.msg : "no error";
}

bool ms_tlr_is_jsonl(const struct ms_tl_reader *r)
{
	return r->jsonl;
}

uint32_t ms_tlr_item_line(const struct ms_tl_reader *r)
{
	return r->item_line;
}

bool ms_tlr_has_section(const struct ms_tl_reader *r, enum ms_tl_item_type type)
{
	return (unsigned)type < 32 && (r->sections & (1u << type));
}

const char *ms_tlr_name(const struct ms_tl_reader *r)
{
	return r->in.name;
}

static bool is_section(int id)
{
	return id == F_EVENTS || id == F_VIOLATIONS || id == F_REGIONS || id == F_PROCESSES ||
	       id == F_SUMMARY;
}

static void mark_line(struct ms_tl_reader *r)
{
	uint32_t col;

	ms_jin_where(&r->in, &r->item_line, &col);
}

/*
 * First object: members until a section (document) or the closing brace (a JSON Lines
 * header line, or a document without sections). Leaves the input at the section's value.
 */
static int read_first(struct ms_tl_reader *r, struct ms_tl_item *it, int *section)
{
	struct ms_jin *j = &r->in;
	int c = ms_jin_skip_ws(j), id;

	*section = -1;
	if (c < 0)
		return j->err ? j->err
			      : ms_jin_fail(j, -EINVAL, 0, 0,
					    "empty file: not a memstate timeline");
	if (c == 0xef)
		return ms_jin_fail(j, -EINVAL, 0, 0,
				   "starts with a byte order mark, which JSON does not allow");
	if (c != '{')
		return ms_jin_fail(j, -EINVAL, 0, 0,
				   "not a memstate timeline (it does not start with '{')");
	mark_line(r);
	ms_jin_take(j);
	c = ms_jin_skip_ws(j);
	if (c == '}')
		return ms_jin_fail(j, -EINVAL, 0, 0, "not a memstate timeline (an empty object)");
	for (;;) {
		uint32_t kline, kcol;

		ms_jin_where(j, &kline, &kcol);
		if (ms_jin_key(j))
			return j->err;
		id = field_id(j->arena);
		if (id >= 0 && (r->hdr_seen & B(id)))
			return ms_jin_fail(j, -EINVAL, kline, kcol, "member \"%s\" appears twice",
					   field_names[id]);
		c = ms_jin_skip_ws(j);
		if (c != ':')
			return ms_jin_fail(j, -EINVAL, 0, 0, "expected ':' after the member name");
		ms_jin_take(j);
		if (id >= 0 && is_section(id)) {
			if (r->jsonl)
				return ms_jin_fail(j, -EINVAL, kline, kcol,
						   "a JSON Lines header line cannot hold \"%s\"",
						   field_names[id]);
			*section = id;
			return header_item(r, it);
		}
		if (ms_jin_value(j))
			return j->err;
		if (id >= 0) {
			r->hdr_seen |= B(id);
			if (header_member(r, id))
				return j->err;
		}
		c = ms_jin_skip_ws(j);
		if (c == ',') {
			ms_jin_take(j);
			continue;
		}
		if (c == '}') {
			ms_jin_take(j);
			return header_item(r, it);
		}
		return ms_jin_fail(j, c < 0 ? MS_JIN_EEOF : -EINVAL, 0, 0,
				   c < 0 ? "unexpected end of file: expected ',' or '}'"
					 : "expected ',' or '}' after a header member");
	}
}

/* Parse the element the input is at and interpret it as an item of section id. */
static int read_element(struct ms_tl_reader *r, int id, struct ms_tl_item *it)
{
	mark_line(r);
	if (ms_jin_value(&r->in))
		return r->in.err;
	switch (id) {
	case F_EVENTS:
		return read_event(r, 0, it);
	case F_VIOLATIONS:
		return read_violation(r, 0, it);
	case F_REGIONS:
		return read_region(r, 0, it);
	case F_PROCESSES:
		return read_process(r, 0, it);
	default:
		return read_summary(r, 0, it);
	}
}

/* Document: open section id (the input is at its value). 1 with an item, 0 when empty. */
static int doc_open_section(struct ms_tl_reader *r, int id, struct ms_tl_item *it)
{
	struct ms_jin *j = &r->in;
	int c;

	if (r->top_seen & B(id))
		return ms_jin_fail(j, -EINVAL, 0, 0, "member \"%s\" appears twice",
				   field_names[id]);
	r->top_seen |= B(id);
	r->sections |= id == F_VIOLATIONS  ? 1u << MS_TLI_VIOLATION
		       : id == F_REGIONS   ? 1u << MS_TLI_REGION
		       : id == F_PROCESSES ? 1u << MS_TLI_PROCESS
		       : id == F_SUMMARY   ? 1u << MS_TLI_SUMMARY
					   : 0;
	c = ms_jin_skip_ws(j);
	if (id == F_SUMMARY) {
		if (c != '{')
			return ms_jin_fail(j, c < 0 ? MS_JIN_EEOF : -EINVAL, 0, 0,
					   "\"summary\" must be an object");
		if (read_element(r, id, it))
			return j->err;
		r->st = R_DOC_MEMBER;
		return 1;
	}
	if (c != '[')
		return ms_jin_fail(j, c < 0 ? MS_JIN_EEOF : -EINVAL, 0, 0,
				   "\"%s\" must be an array", field_names[id]);
	ms_jin_take(j);
	r->section = id;
	r->section_first = true;
	r->st = R_DOC_SECTION;
	return 0;
}

/* Document: the next item. */
static int doc_next(struct ms_tl_reader *r, struct ms_tl_item *it)
{
	struct ms_jin *j = &r->in;
	int c, id, ret;

	for (;;) {
		switch (r->st) {
		case R_DOC_OPEN:
			ret = doc_open_section(r, r->section, it);
			if (ret)
				return ret;
			continue;
		case R_DOC_SECTION:
			c = ms_jin_skip_ws(j);
			if (c == ']') {
				ms_jin_take(j);
				r->st = R_DOC_MEMBER;
				continue;
			}
			if (!r->section_first) {
				if (c != ',')
					return ms_jin_fail(
						j, c < 0 ? MS_JIN_EEOF : -EINVAL, 0, 0,
						c < 0 ? "unexpected end of file: expected "
							"',' or ']'"
						      : "expected ',' or ']' between items");
				ms_jin_take(j);
				c = ms_jin_skip_ws(j);
			}
			r->section_first = false;
			if (c != '{')
				return ms_jin_fail(
					j, c < 0 ? MS_JIN_EEOF : -EINVAL, 0, 0,
					c < 0 ? "unexpected end of file: expected an item"
					      : "expected an object as an item of \"%s\"",
					field_names[r->section]);
			return read_element(r, r->section, it) ? j->err : 1;
		case R_DOC_MEMBER:
			c = ms_jin_skip_ws(j);
			if (c == '}') {
				ms_jin_take(j);
				r->st = R_DOC_END;
				continue;
			}
			if (c != ',')
				return ms_jin_fail(
					j, c < 0 ? MS_JIN_EEOF : -EINVAL, 0, 0,
					c < 0 ? "unexpected end of file: expected ',' or "
						"'}'"
					      : "expected ',' or '}' after a member");
			ms_jin_take(j);
			if (ms_jin_key(j))
				return j->err;
			id = field_id(j->arena);
			c = ms_jin_skip_ws(j);
			if (c != ':')
				return ms_jin_fail(j, c < 0 ? MS_JIN_EEOF : -EINVAL, 0, 0,
						   "expected ':' after the member name");
			ms_jin_take(j);
			if (id >= 0 && is_section(id)) {
				ret = doc_open_section(r, id, it);
				if (ret)
					return ret;
				continue;
			}
			if (id >= 0 &&
			    (HEADER_MEMBERS | B(F_TOOL) | B(F_CAPTURE) | B(F_TYPE)) & B(id))
				return ms_jin_fail(j, -EINVAL, 0, 0,
						   "header member \"%s\" after the events: it must "
						   "come before them",
						   field_names[id]);
			if (ms_jin_value(j)) /* a member this reader does not know */
				return j->err;
			continue;
		case R_DOC_END:
			c = ms_jin_skip_ws(j);
			if (c >= 0)
				return ms_jin_fail(j, -EINVAL, 0, 0,
						   "data after the end of the timeline document");
			if (j->err)
				return j->err;
			return MS_TLR_END;
		default:
			return -EINVAL;
		}
	}
}

/*
 * memstate's writers always put "command" in the header (a minimal one need not): their
 * JSON Lines file without its summary line was cut short.
 */
static bool written_by_memstate(const struct ms_tl_reader *r)
{
	return r->hdr_seen & B(F_COMMAND);
}

/* JSON Lines: the next line's item. */
static int jsonl_next(struct ms_tl_reader *r, struct ms_tl_item *it)
{
	struct ms_jin *j = &r->in;
	const char *type;
	int c;

	for (;;) {
		c = ms_jin_skip_ws(j);
		if (c < 0) {
			if (j->err)
				return j->err;
			if (r->summary_seen || !written_by_memstate(r))
				return MS_TLR_END;
			snprintf(j->msg, sizeof(j->msg),
				 "%s: no summary line: the run was cut short (killed?); read %llu "
				 "whole lines%s",
				 j->name, (unsigned long long)r->lines_read, ms_jin_cut_note(j));
			return MS_TLR_TRUNCATED;
		}
		if (r->summary_seen)
			return ms_jin_fail(j, -EINVAL, 0, 0, "data after the summary line");
		if (c != '{')
			return ms_jin_fail(j, -EINVAL, 0, 0,
					   "expected '{' at the start of a JSON Lines item");
		mark_line(r);
		if (ms_jin_value(j)) {
			if (j->err != MS_JIN_EEOF)
				return j->err;
			/* A killed writer leaves a partial last line: keep what came before. */
			snprintf(j->msg, sizeof(j->msg),
				 "%s:%u: the last line is cut short (the run was killed?); read up "
				 "to line %u%s",
				 j->name, r->item_line, r->last_good_line, ms_jin_cut_note(j));
			j->err = 0;
			return MS_TLR_TRUNCATED;
		}
		c = ms_jin_skip_blank(j);
		if (c >= 0 && c != '\n')
			return ms_jin_fail(j, -EINVAL, 0, 0,
					   "expected the end of the line after a JSON Lines item");
		if (N(r, 0)->type != MS_J_OBJ)
			return bad(r, 0, "a JSON Lines item must be an object");
		type = NULL;
		for (uint32_t k = N(r, 0)->child; k; k = N(r, k)->next) {
			if (!strcmp(ms_jnode_key(j, N(r, k)), "type")) {
				if (N(r, k)->type != MS_J_STR)
					return bad(r, k, "\"type\" must be a string");
				type = ms_jnode_str(j, N(r, k));
				break;
			}
		}
		if (!type)
			return bad(r, 0, "a JSON Lines item without \"type\"");
		r->lines_read++;
		r->last_good_line = r->item_line;
		if (!strcmp(type, "event"))
			return read_event(r, 0, it) ? j->err : 1;
		if (!strcmp(type, "violation")) {
			r->sections |= 1u << MS_TLI_VIOLATION;
			return read_violation(r, 0, it) ? j->err : 1;
		}
		if (!strcmp(type, "region")) {
			r->sections |= 1u << MS_TLI_REGION;
			return read_region(r, 0, it) ? j->err : 1;
		}
		if (!strcmp(type, "process")) {
			r->sections |= 1u << MS_TLI_PROCESS;
			return read_process(r, 0, it) ? j->err : 1;
		}
		if (!strcmp(type, "summary")) {
			r->sections |= 1u << MS_TLI_VIOLATION | 1u << MS_TLI_REGION |
				       1u << MS_TLI_PROCESS | 1u << MS_TLI_SUMMARY;
			return read_summary(r, 0, it) ? j->err : 1;
		}
		if (!strcmp(type, "header"))
			return bad(r, 0, "a second header line");
		/* A type this reader does not know: skip the line (more are welcome). */
	}
}

int ms_tlr_next(struct ms_tl_reader *r, struct ms_tl_item *item)
{
	int ret, section;

	switch (r->st) {
	case R_DONE:
	case R_FAILED:
		return r->done_ret;
	case R_START:
		ret = read_first(r, item, &section);
		if (ret)
			break;
		if (r->jsonl) {
			int c = ms_jin_skip_blank(&r->in);

			if (c >= 0 && c != '\n') {
				ret = ms_jin_fail(&r->in, -EINVAL, 0, 0,
						  "expected the end of the line after the header");
				break;
			}
			r->lines_read = 1;
			r->last_good_line = r->item_line;
			r->st = R_JSONL;
		} else if (section >= 0) {
			/* The section's value is next; open it on the following call. */
			r->section = section;
			r->st = R_DOC_OPEN;
		} else {
			r->st = R_DOC_END;
		}
		return 1;
	case R_JSONL:
		ret = jsonl_next(r, item);
		break;
	default:
		ret = doc_next(r, item);
		break;
	}
	if (ret == 1)
		return 1;
	if (ret == MS_JIN_EEOF) {
		/* A document cut short is unreadable: it has no whole line to stop at. */
		size_t len = strlen(r->in.msg);

		snprintf(r->in.msg + len, sizeof(r->in.msg) - len, " (the file is cut short)%s",
			 ms_jin_cut_note(&r->in));
		ret = -EINVAL;
	}
	if (ret < 0) {
		r->st = R_FAILED;
		r->done_ret = ret;
		r->in.err = ret;
		return ret;
	}
	r->st = R_DONE;
	r->done_ret = ret;
	return ret;
}

int ms_tl_copy_item(struct ms_tl_writer *w, const struct ms_tl_item *it)
{
	struct ms_tl_header h;
	struct ms_tl_process p;

	switch (it->type) {
	case MS_TLI_HEADER:
		h = (struct ms_tl_header){.argc = it->header.argc,
					  .argv = (char *const *)it->header.argv,
					  .page_size = it->header.page_size,
					  .tool = it->header.tool,
					  .capture = it->header.capture};
		return ms_tlw_header(w, &h);
	case MS_TLI_EVENT:
		if (it->event.ev.flags & MS_EVF_LOSSY)
			ms_tlw_set_lost(w, it->event.lost_before);
		return ms_tlw_event_names(w, &it->event.ev, it->event.stat, it->event.message);
	case MS_TLI_VIOLATION:
		return ms_tlw_violation_loss(w, it->violation.seq, it->violation.pid,
					     it->violation.kind, it->violation.message,
					     it->violation.after_loss, it->violation.lost_before);
	case MS_TLI_REGION:
		return ms_tlw_region(w, it->region.pid, &it->region.r, it->region.stat);
	case MS_TLI_PROCESS:
		p = (struct ms_tl_process){.pid = it->process.pid,
					   .ppid = it->process.ppid,
					   .exe = it->process.exe,
					   .exit_code = it->process.exit_code,
					   .exit_signal = it->process.exit_signal};
		return ms_tlw_process(w, &p, it->process.has_summary ? &it->process.totals : NULL,
				      it->process.stats, it->process.nstats);
	case MS_TLI_SUMMARY:
		return ms_tlw_summary(w, &it->summary.totals, 0);
	}
	return 0;
}
