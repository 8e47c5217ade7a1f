// SPDX-License-Identifier: MIT
/* Timeline reader (reader_int.h): the typed members and the items (events, violations, regions, processes, summary). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonin.h"
#include "reader.h"
#include "reader_int.h"

/* ------------------------------------------------------------------ typed members */

static int node_u64(struct ms_tl_reader *r, uint32_t i, const char *what, const char *name,
		    uint64_t max, uint64_t *out)
{
	const struct ms_jnode *n = rd_N(r, i);
	char lit[32];

	if (n->type != MS_J_NUM || !(n->nflags & MS_JN_INT))
		return rd_bad(r, i, "%s: \"%s\" must be an integer, found %s", what, name,
			      n->type == MS_J_NUM ? "a fraction or exponent" : ms_jtype_name(n));
	if ((n->nflags & MS_JN_BIG) || n->u > max || ((n->nflags & MS_JN_NEG) && n->u))
		return rd_bad(r, i, "%s: \"%s\" is out of range (%s; 0 to %llu)", what, name,
			      ms_jnode_num(&r->in, n, lit), (unsigned long long)max);
	*out = n->u;
	return 0;
}

/* An unsigned member: 1 when present and read, 0 when absent, or an error. */
int rd_get_u64(struct ms_tl_reader *r, const struct fields *f, int id, uint64_t max, uint64_t *out)
{
	if (!(f->seen & B(id)))
		return 0;
	return node_u64(r, f->at[id], f->what, field_names[id], max, out) ? -EINVAL : 1;
}

static int get_u32(struct ms_tl_reader *r, const struct fields *f, int id, uint32_t *out)
{
	uint64_t v = 0;
	int ret = rd_get_u64(r, f, id, UINT32_MAX, &v);

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
	n = rd_N(r, i);
	if (is_null)
		*is_null = false;
	if (n->type == MS_J_NULL && null_ok) {
		*is_null = true;
		return 1;
	}
	if (n->type != MS_J_NUM || !(n->nflags & MS_JN_INT))
		return rd_bad(r, i, "%s: \"%s\" must be an integer%s, found %s", f->what,
			      field_names[id], null_ok ? " or null" : "",
			      n->type == MS_J_NUM ? "a fraction or exponent" : ms_jtype_name(n));
	if ((n->nflags & MS_JN_BIG) || (!(n->nflags & MS_JN_NEG) && n->u > (uint64_t)max) ||
	    ((n->nflags & MS_JN_NEG) && n->u > (uint64_t)0 - (uint64_t)min))
		return rd_bad(r, i, "%s: \"%s\" is out of range (%s; %lld to %lld)", f->what,
			      field_names[id], ms_jnode_num(&r->in, n, lit), (long long)min,
			      (long long)max);
	*out = (n->nflags & MS_JN_NEG) ? (int64_t)((uint64_t)0 - n->u) : (int64_t)n->u;
	return 1;
}

/* A string member (NULL for null when null_ok). */
int rd_get_str(struct ms_tl_reader *r, const struct fields *f, int id, bool null_ok,
	       const char **out)
{
	const struct ms_jnode *n;

	if (!(f->seen & B(id)))
		return 0;
	n = rd_N(r, f->at[id]);
	if (n->type == MS_J_NULL && null_ok) {
		*out = NULL;
		return 1;
	}
	if (n->type != MS_J_STR)
		return rd_bad(r, f->at[id], "%s: \"%s\" must be a string%s, found %s", f->what,
			      field_names[id], null_ok ? " or null" : "", ms_jtype_name(n));
	*out = ms_jnode_str(&r->in, n);
	return 1;
}

static int get_bool(struct ms_tl_reader *r, const struct fields *f, int id, bool *out)
{
	const struct ms_jnode *n;

	if (!(f->seen & B(id)))
		return 0;
	n = rd_N(r, f->at[id]);
	if (n->type != MS_J_TRUE && n->type != MS_J_FALSE)
		return rd_bad(r, f->at[id], "%s: \"%s\" must be true or false, found %s", f->what,
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
	int ret = rd_get_str(r, f, id, false, &s), v;

	if (ret <= 0)
		return ret;
	n = rd_N(r, f->at[id]);
	v = rd_name_find(s, n->len, kind);
	if (v < 0)
		return rd_bad(r, f->at[id], "%s: unknown %s \"%.64s\"", f->what, what, s);
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
	if (rd_N(r, obj)->type != MS_J_OBJ)
		return rd_bad(r, obj, "%s: \"%s\" must be an object of bytes per state, found %s",
			      f->what, field_names[id], ms_jtype_name(rd_N(r, obj)));
	for (uint32_t c = rd_N(r, obj)->child; c; c = rd_N(r, c)->next) {
		const char *key = ms_jnode_key(&r->in, rd_N(r, c));

		int k = rd_name_find(key, rd_N(r, c)->keylen, NK_STATE);

		s = k < 0 ? 0 : (unsigned)k;
		if (k < 0 || (s == MS_NONE && !with_none))
			return rd_bad(r, c, "%s: \"%s\" has an unknown state \"%.64s\"", f->what,
				      field_names[id], key);
		if (seen & (1u << s))
			return rd_bad(r, c, "%s: state \"%s\" appears twice in \"%s\"", f->what,
				      key, field_names[id]);
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
	if (rd_N(r, obj)->type != MS_J_OBJ)
		return rd_bad(r, obj, "%s: \"%s\" must be an object, found %s", f->what,
			      field_names[id], ms_jtype_name(rd_N(r, obj)));
	for (uint32_t c = rd_N(r, obj)->child; c; c = rd_N(r, c)->next) {
		const char *key = ms_jnode_key(&r->in, rd_N(r, c));

		k = rd_name_find(key, rd_N(r, c)->keylen, kind);
		if (k < 0 || (unsigned)k >= count)
			return rd_bad(r, c, "%s: \"%s\" has an unknown name \"%.64s\"", f->what,
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

	if (rd_collect(r, node, "event violation", &f) || rd_require(r, &f, B(F_KIND)) ||
	    get_name(r, &f, F_KIND, NK_VIOLATION, "violation kind", &kind) < 0 ||
	    rd_get_str(r, &f, F_MESSAGE, true, &it->event.message) < 0 ||
	    get_bool(r, &f, F_AFTER_LOSS, &after) < 0 ||
	    rd_get_u64(r, &f, F_LOST_BEFORE, UINT64_MAX, &it->event.lost_before) < 0)
		return -EINVAL;
	if (after)
		it->event.ev.flags |= MS_EVF_LOSSY;
	if (kind == MS_V_NONE)
		return rd_bad(r, f.at[F_KIND], "event: a violation object of kind \"none\"");
	it->event.ev.violation = (uint8_t)kind;
	return 0;
}

int rd_read_event(struct ms_tl_reader *r, uint32_t obj, struct ms_tl_item *it)
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
	if (rd_collect(r, obj, "event", &f) || rd_require(r, &f, EVENT_REQUIRED))
		return -EINVAL;
	if (rd_get_u64(r, &f, F_SEQ, UINT64_MAX, &ev->seq) < 0 ||
	    rd_get_u64(r, &f, F_T_NS, UINT64_MAX, &ev->t_ns) < 0 ||
	    get_u32(r, &f, F_PID, &ev->pid) < 0 || get_u32(r, &f, F_TID, &ev->tid) < 0 ||
	    rd_get_u64(r, &f, F_ADDR, UINT64_MAX, &ev->addr) < 0 ||
	    rd_get_u64(r, &f, F_LEN, UINT64_MAX, &ev->len) < 0)
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
	if ((f.seen & B(F_TO)) && rd_N(r, f.at[F_TO])->type != MS_J_NULL) {
		if (get_name(r, &f, F_TO, NK_STATE, "state", &v) < 0)
			return -EINVAL;
		ev->to = (uint8_t)v;
	}
	if (get_states(r, &f, F_FROM, true, ev->from) < 0)
		return -EINVAL;
	if ((f.seen & B(F_VIOLATION)) && rd_N(r, f.at[F_VIOLATION])->type != MS_J_NULL &&
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
		if (rd_require(r, &f, B(F_PREPARED)) ||
		    rd_get_u64(r, &f, F_PREPARED, UINT64_MAX, &ev->arg) < 0)
			return -EINVAL;
		break;
	case MS_OP_ALLOC:
	case MS_OP_MAP:
	case MS_OP_FREE:
		if (rd_get_str(r, &f, F_STAT, true, &it->event.stat) < 0)
			return -EINVAL;
		if (ev->op != MS_OP_FREE &&
		    rd_get_u64(r, &f, F_MOVED_FROM, UINT64_MAX, &ev->arg) < 0)
			return -EINVAL;
		break;
	case MS_OP_UNUSED:
		if (get_bool(r, &f, F_LAZY_FREE, &flag) < 0)
			return -EINVAL;
		if ((f.seen & B(F_LAZY_FREE)) && flag)
			ev->flags |= MS_EVF_LAZY;
		break;
	case MS_OP_RESERVE:
		if (rd_get_u64(r, &f, F_HINT, UINT64_MAX, &ev->arg) < 0)
			return -EINVAL;
		break;
	case MS_OP_PROC_FORK:
		if (rd_require(r, &f, B(F_PPID)) ||
		    rd_get_u64(r, &f, F_PPID, UINT32_MAX, &ev->arg) < 0)
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
		    (rd_require(r, &f, B(F_SIZE_A)) ||
		     rd_get_u64(r, &f, F_SIZE_A, UINT64_MAX, &ev->arg) < 0))
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
		if (rd_get_u64(r, &f, F_IP, UINT64_MAX, &ev->arg) < 0)
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
	if (rd_get_str(r, &f, F_KIND, false, &s) > 0) {
		if (!strcmp(s, "file"))
			ev->kind = MS_KIND_FILE;
		else if (strcmp(s, "anon"))
			return rd_bad(r, f.at[F_KIND], "event: unknown kind \"%.64s\"", s);
	} else if (r->in.err) {
		return -EINVAL;
	}
	if (!ms_op_is_proc(ev->op) && ev->source == MS_SRC_SYSCALL &&
	    rd_get_str(r, &f, F_SYSCALL, false, &s) > 0 && ms_syscall_parse(s, &v) == 0)
		ev->aux = v; /* a syscall this build does not know keeps aux 0 */
	if (!ms_op_is_proc(ev->op) && (ev->source == MS_SRC_API || ev->source == MS_SRC_JEMALLOC) &&
	    rd_get_u64(r, &f, F_DUR_NS, UINT32_MAX, &u64) > 0)
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

int rd_read_violation(struct ms_tl_reader *r, uint32_t obj, struct ms_tl_item *it)
{
	struct fields f;
	unsigned kind;

	memset(&it->violation, 0, sizeof(it->violation));
	it->type = MS_TLI_VIOLATION;
	if (rd_collect(r, obj, "violation", &f) ||
	    rd_require(r, &f, B(F_SEQ) | B(F_KIND) | B(F_MESSAGE)) ||
	    rd_get_u64(r, &f, F_SEQ, UINT64_MAX, &it->violation.seq) < 0 ||
	    get_u32(r, &f, F_PID, &it->violation.pid) < 0 ||
	    get_name(r, &f, F_KIND, NK_VIOLATION, "violation kind", &kind) < 0 ||
	    rd_get_str(r, &f, F_MESSAGE, false, &it->violation.message) < 0 ||
	    get_bool(r, &f, F_AFTER_LOSS, &it->violation.after_loss) < 0 ||
	    rd_get_u64(r, &f, F_LOST_BEFORE, UINT64_MAX, &it->violation.lost_before) < 0)
		return -EINVAL;
	if (kind == MS_V_NONE)
		return rd_bad(r, f.at[F_KIND], "violation: kind \"none\"");
	it->violation.kind = (uint8_t)kind;
	return 0;
}

int rd_read_region(struct ms_tl_reader *r, uint32_t obj, struct ms_tl_item *it)
{
	struct ms_region *g = &it->region.r;
	uint64_t len = 0, v;
	const char *s;
	unsigned state;
	struct fields f;
	bool flag;

	memset(&it->region, 0, sizeof(it->region));
	it->type = MS_TLI_REGION;
	if (rd_collect(r, obj, "region", &f) ||
	    rd_require(r, &f,
		       B(F_PID) | B(F_ADDR) | B(F_LEN) | B(F_STATE) | B(F_HUGE) | B(F_FAULTS) |
			       B(F_THP_COLLAPSES)) ||
	    get_u32(r, &f, F_PID, &it->region.pid) < 0 ||
	    rd_get_u64(r, &f, F_ADDR, UINT64_MAX, &g->start) < 0 ||
	    rd_get_u64(r, &f, F_LEN, UINT64_MAX, &len) < 0 ||
	    get_name(r, &f, F_STATE, NK_STATE, "state", &state) < 0 ||
	    rd_get_u64(r, &f, F_FAULTS, UINT64_MAX, &g->faults) < 0 ||
	    rd_get_u64(r, &f, F_THP_COLLAPSES, UINT32_MAX, &v) < 0 ||
	    rd_get_str(r, &f, F_STAT, true, &it->region.stat) < 0 ||
	    rd_get_str(r, &f, F_HUGE, true, &s) < 0)
		return -EINVAL;
	if (!len || g->start + len < g->start)
		return rd_bad(r, f.at[F_LEN], "region: empty or wrapping range");
	if (state == MS_NONE)
		return rd_bad(r, f.at[F_STATE], "region: state None is never part of the map");
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
		return rd_bad(r, f.at[F_HUGE], "region: unknown huge-page advice \"%.64s\"", s);
	if (rd_get_str(r, &f, F_KIND, false, &s) > 0) {
		if (!strcmp(s, "file"))
			g->kind = MS_KIND_FILE;
		else if (strcmp(s, "anon"))
			return rd_bad(r, f.at[F_KIND], "region: unknown kind \"%.64s\"", s);
	} else if (r->in.err) {
		return -EINVAL;
	}
	if (get_bool(r, &f, F_THP, &flag) < 0)
		return -EINVAL;
	if ((f.seen & B(F_THP)) && flag)
		g->flags |= MS_RF_THP;
	if (rd_get_u64(r, &f, F_RESIDENT, len, &g->resident) > 0)
		g->flags |= MS_RF_RESIDENCY;
	if (r->in.err || rd_get_u64(r, &f, F_LAZY_FREE, g->resident, &g->lazy_free) < 0)
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
	if (rd_collect(r, obj, what, &f) || rd_require(r, &f, SUMMARY_REQUIRED) ||
	    get_states(r, &f, F_BYTES, false, t->bytes) < 0 ||
	    get_states(r, &f, F_PEAK_BYTES, false, t->peak_bytes) < 0 ||
	    rd_get_u64(r, &f, F_PEAK_FOOTPRINT, UINT64_MAX, &t->peak_footprint) < 0 ||
	    rd_get_u64(r, &f, F_FILE_BYTES, UINT64_MAX, &t->file_bytes) < 0 ||
	    rd_get_u64(r, &f, F_EVENTS, UINT64_MAX, &t->events) < 0 ||
	    rd_get_u64(r, &f, F_VIOLATIONS, UINT64_MAX, &t->violations) < 0 ||
	    get_counts(r, &f, F_VIOLATIONS_BY_KIND, NK_VIOLATION, MS_V_COUNT, t->by_kind) < 0 ||
	    get_counts(r, &f, F_OPS, NK_OP, MS_OP_COUNT, t->by_op) < 0 ||
	    rd_get_u64(r, &f, F_PAGE_FAULTS, UINT64_MAX, &t->page_faults) < 0 ||
	    rd_get_u64(r, &f, F_UNTRACKED_FAULTS, UINT64_MAX, &t->untracked_faults) < 0 ||
	    rd_get_u64(r, &f, F_THP_COLLAPSES, UINT64_MAX, &t->thp_collapses) < 0 ||
	    rd_get_u64(r, &f, F_DROPPED_EVENTS, UINT64_MAX, &t->dropped_events) < 0 ||
	    rd_get_u64(r, &f, F_LOST_OPS, UINT64_MAX, &t->lost_ops) < 0)
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
	if (rd_get_u64(r, &f, F_PEAK_RESIDENT, UINT64_MAX, &t->peak_resident) < 0 ||
	    rd_get_u64(r, &f, F_LAZY_FREE, UINT64_MAX, &t->lazy_free) < 0)
		return -EINVAL;
	return 0;
}

static int read_stats(struct ms_tl_reader *r, uint32_t arr, struct ms_tl_item *it)
{
	const struct ms_jnode *a = rd_N(r, arr);
	unsigned n = 0;

	if (a->type != MS_J_ARR)
		return rd_bad(r, arr, "process: \"stats\" must be an array, found %s",
			      ms_jtype_name(a));
	if (a->len > 65535)
		return rd_bad(r, arr, "process: more than 65535 stats");
	if (a->len > r->stats_cap) {
		struct ms_tl_stat *grown = realloc(r->stats, a->len * sizeof(*grown));

		if (!grown)
			return ms_jin_fail(&r->in, -ENOMEM, 0, 0, "out of memory");
		r->stats = grown;
		r->stats_cap = a->len;
	}
	for (uint32_t c = a->child; c; c = rd_N(r, c)->next) {
		struct ms_tl_stat *st = &r->stats[n++];
		struct fields f;

		*st = (struct ms_tl_stat){0};
		if (rd_collect(r, c, "process stat", &f) ||
		    rd_require(r, &f, B(F_NAME) | B(F_BYTES) | B(F_PEAK)) ||
		    rd_get_str(r, &f, F_NAME, false, &st->name) < 0 ||
		    rd_get_u64(r, &f, F_BYTES, UINT64_MAX, &st->bytes) < 0 ||
		    rd_get_u64(r, &f, F_PEAK, UINT64_MAX, &st->peak) < 0)
			return -EINVAL;
	}
	it->process.stats = r->stats;
	it->process.nstats = n;
	return 0;
}

int rd_read_process(struct ms_tl_reader *r, uint32_t obj, struct ms_tl_item *it)
{
	struct fields f;
	int64_t v;
	bool is_null;

	memset(&it->process, 0, sizeof(it->process));
	it->type = MS_TLI_PROCESS;
	it->process.exit_code = -1;
	if (rd_collect(r, obj, "process", &f) ||
	    rd_require(r, &f,
		       B(F_PID) | B(F_PPID) | B(F_EXE) | B(F_EXIT_CODE) | B(F_EXIT_SIGNAL)) ||
	    get_u32(r, &f, F_PID, &it->process.pid) < 0 ||
	    get_u32(r, &f, F_PPID, &it->process.ppid) < 0 ||
	    rd_get_str(r, &f, F_EXE, true, &it->process.exe) < 0)
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

int rd_read_summary(struct ms_tl_reader *r, uint32_t obj, struct ms_tl_item *it)
{
	memset(&it->summary, 0, sizeof(it->summary));
	it->type = MS_TLI_SUMMARY;
	if (read_totals(r, obj, "summary", &it->summary.totals))
		return -EINVAL;
	r->summary_seen = true;
	return 0;
}
