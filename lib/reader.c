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
#include "reader_int.h"

/* ------------------------------------------------------------------ member names */

/* The lowest member of a non-empty mask. */
static int first_field(fmask m)
{
	uint64_t lo = (uint64_t)m;

	return lo ? __builtin_ctzll(lo) : 64 + __builtin_ctzll((uint64_t)(m >> 64));
}

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
int rd_name_find(const char *s, size_t len, unsigned kind)
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
	return rd_name_find(key, strlen(key), NK_FIELD);
}

/* ------------------------------------------------------------------ the reader */

const struct ms_jnode *rd_N(const struct ms_tl_reader *r, uint32_t i)
{
	return ms_jnode_at(&r->in, i);
}

int rd_bad(struct ms_tl_reader *r, uint32_t node, const char *fmt, ...)
{
	const struct ms_jnode *n = rd_N(r, node);
	va_list ap;

	va_start(ap, fmt);
	ms_jin_vfail(&r->in, -EINVAL, n->line, n->col, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int rd_collect(struct ms_tl_reader *r, uint32_t obj, const char *what, struct fields *f)
{
	f->seen = 0;
	f->obj = obj;
	f->what = what;
	if (rd_N(r, obj)->type != MS_J_OBJ)
		return rd_bad(r, obj, "%s: expected an object, found %s", what,
			      ms_jtype_name(rd_N(r, obj)));
	for (uint32_t c = rd_N(r, obj)->child; c; c = rd_N(r, c)->next) {
		int id = rd_name_find(ms_jnode_key(&r->in, rd_N(r, c)), rd_N(r, c)->keylen,
				      NK_FIELD);

		if (id < 0)
			continue; /* more members are welcome */
		if (f->seen & B(id))
			return rd_bad(r, c, "%s: member \"%s\" appears twice", what,
				      field_names[id]);
		f->seen |= B(id);
		f->at[id] = c;
	}
	return 0;
}

int rd_require(struct ms_tl_reader *r, const struct fields *f, fmask mask)
{
	fmask missing = mask & ~f->seen;

	if (!missing)
		return 0;
	return rd_bad(r, f->obj, "%s: missing member \"%s\"", f->what,
		      field_names[first_field(missing)]);
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
	const struct ms_jnode *a = rd_N(r, arr);
	size_t bytes = 0, off = 0;
	int i = 0;

	if (a->type != MS_J_ARR)
		return rd_bad(r, arr, "header: \"command\" must be an array of strings, found %s",
			      ms_jtype_name(a));
	for (uint32_t c = a->child; c; c = rd_N(r, c)->next) {
		if (rd_N(r, c)->type != MS_J_STR)
			return rd_bad(r, c,
				      "header: \"command\" must be an array of strings, found %s",
				      ms_jtype_name(rd_N(r, c)));
		bytes += rd_N(r, c)->len + 1;
	}
	free(r->argv_mem);
	free(r->argv);
	r->argv_mem = malloc(bytes ? bytes : 1);
	r->argv = calloc(a->len + 1, sizeof(*r->argv));
	if (!r->argv_mem || !r->argv)
		return ms_jin_fail(&r->in, -ENOMEM, 0, 0, "out of memory");
	for (uint32_t c = a->child; c; c = rd_N(r, c)->next) {
		memcpy(r->argv_mem + off, ms_jnode_str(&r->in, rd_N(r, c)), rd_N(r, c)->len + 1);
		r->argv[i++] = r->argv_mem + off;
		off += rd_N(r, c)->len + 1;
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
	const struct ms_jnode *n = rd_N(r, 0);
	struct fields f = {.seen = B(id), .obj = 0, .what = "header"};
	const char *s;
	char lit[32];
	uint64_t v;

	f.at[id] = 0;
	switch (id) {
	case F_TYPE:
		if (n->type != MS_J_STR || strcmp(ms_jnode_str(&r->in, n), "header"))
			return rd_bad(r, 0,
				      "the first line of a JSON Lines timeline must be its "
				      "header (\"type\": \"header\")");
		r->jsonl = true;
		return 0;
	case F_FORMAT:
		if (n->type != MS_J_STR || strcmp(ms_jnode_str(&r->in, n), "memstate-timeline"))
			return rd_bad(r, 0, "not a memstate timeline (\"format\" is %s%.64s%s)",
				      n->type == MS_J_STR ? "\"" : "",
				      n->type == MS_J_STR ? ms_jnode_str(&r->in, n)
							  : ms_jtype_name(n),
				      n->type == MS_J_STR ? "\"" : "");
		return 0;
	case F_VERSION:
		if (n->type != MS_J_NUM)
			return rd_bad(r, 0, "header: \"version\" must be the integer 1, found %s",
				      ms_jtype_name(n));
		if (!(n->nflags & MS_JN_INT) || (n->nflags & MS_JN_NEG) ||
		    (n->nflags & MS_JN_BIG) || n->u != 1)
			return rd_bad(
				r, 0,
				"timeline version %.32s is not supported (this memstate reads "
				"version 1)",
				n->type == MS_J_NUM || n->type == MS_J_STR
					? ms_jnode_num(&r->in, n, lit)
					: ms_jtype_name(n));
		return 0;
	case F_COMMAND:
		return header_command(r, 0);
	case F_PAGE_SIZE:
		if (rd_get_u64(r, &f, F_PAGE_SIZE, 1u << 30, &v) < 0)
			return -EINVAL;
		if (v < 512 || (v & (v - 1)))
			return rd_bad(r, 0,
				      "header: \"page_size\" %llu is not a power of two from "
				      "512 to 1 GiB",
				      (unsigned long long)v);
		r->page_size = (uint32_t)v;
		return 0;
	case F_TOOL:
	case F_CAPTURE:
		if (rd_get_str(r, &f, id, true, &s) < 0)
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
		return rd_read_event(r, 0, it);
	case F_VIOLATIONS:
		return rd_read_violation(r, 0, it);
	case F_REGIONS:
		return rd_read_region(r, 0, it);
	case F_PROCESSES:
		return rd_read_process(r, 0, it);
	default:
		return rd_read_summary(r, 0, it);
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
		if (rd_N(r, 0)->type != MS_J_OBJ)
			return rd_bad(r, 0, "a JSON Lines item must be an object");
		type = NULL;
		for (uint32_t k = rd_N(r, 0)->child; k; k = rd_N(r, k)->next) {
			if (!strcmp(ms_jnode_key(j, rd_N(r, k)), "type")) {
				if (rd_N(r, k)->type != MS_J_STR)
					return rd_bad(r, k, "\"type\" must be a string");
				type = ms_jnode_str(j, rd_N(r, k));
				break;
			}
		}
		if (!type)
			return rd_bad(r, 0, "a JSON Lines item without \"type\"");
		r->lines_read++;
		r->last_good_line = r->item_line;
		if (!strcmp(type, "event"))
			return rd_read_event(r, 0, it) ? j->err : 1;
		if (!strcmp(type, "violation")) {
			r->sections |= 1u << MS_TLI_VIOLATION;
			return rd_read_violation(r, 0, it) ? j->err : 1;
		}
		/* Sections are implied by their order: a later one closes those before it. */
		if (!strcmp(type, "region")) {
			r->sections |= 1u << MS_TLI_VIOLATION | 1u << MS_TLI_REGION;
			return rd_read_region(r, 0, it) ? j->err : 1;
		}
		if (!strcmp(type, "process")) {
			r->sections |=
				1u << MS_TLI_VIOLATION | 1u << MS_TLI_REGION | 1u << MS_TLI_PROCESS;
			return rd_read_process(r, 0, it) ? j->err : 1;
		}
		if (!strcmp(type, "summary")) {
			r->sections |= 1u << MS_TLI_VIOLATION | 1u << MS_TLI_REGION |
				       1u << MS_TLI_PROCESS | 1u << MS_TLI_SUMMARY;
			return rd_read_summary(r, 0, it) ? j->err : 1;
		}
		if (!strcmp(type, "header"))
			return rd_bad(r, 0, "a second header line");
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
		if (!it->event.has_resident_delta && it->event.ev.resident_delta) {
			/* a copy writes what was recorded: a replay's residency is not added to a
			 * timeline that had none, so a copy read from a pipe equals one from a file */
			struct ms_event ev = it->event.ev;

			ev.resident_delta = 0;
			return ms_tlw_event_names(w, &ev, it->event.stat, it->event.message);
		}
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
