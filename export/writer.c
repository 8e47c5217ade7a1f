// SPDX-License-Identifier: MIT
/* Streaming timeline writer (timeline.h): SPEC section 7, JSON or JSON Lines. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jsonbuf.h"
#include "timeline.h"

struct ms_tl_writer {
	struct ms_jbuf out;
	enum ms_tl_format fmt;
	bool own_fd;	  /* close fd at the end */
	bool header_done; /* header written */
	uint64_t t0;	  /* event times are relative to this */
	uint64_t events;  /* events written */
};

int ms_tl_format_parse(const char *name, enum ms_tl_format *out)
{
	if (!strcmp(name, "json"))
		*out = MS_TL_JSON;
	else if (!strcmp(name, "jsonl"))
		*out = MS_TL_JSONL;
	else
		return -EINVAL;
	return 0;
}

struct ms_tl_writer *ms_tlw_fdopen(int fd, enum ms_tl_format fmt, int *err)
{
	struct ms_tl_writer *w = calloc(1, sizeof(*w));
	int e = -ENOMEM;

	if (!w || (e = ms_jb_init(&w->out, fd, 1 << 18))) {
		free(w);
		if (err)
			*err = e;
		return NULL;
	}
	w->fmt = fmt;
	return w;
}

struct ms_tl_writer *ms_tlw_open(const char *path, enum ms_tl_format fmt, int *err)
{
	struct ms_tl_writer *w;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0) {
		if (err)
			*err = -errno;
		return NULL;
	}
	/* An existing file keeps its mode through O_TRUNC: timelines hold addresses. */
	if (fchmod(fd, 0600) && errno != EPERM && errno != EROFS) {
		if (err)
			*err = -errno;
		close(fd);
		return NULL;
	}
	w = ms_tlw_fdopen(fd, fmt, err);
	if (!w) {
		close(fd);
		return NULL;
	}
	w->own_fd = true;
	return w;
}

uint64_t ms_tlw_events(const struct ms_tl_writer *w)
{
	return w->events;
}

/* ------------------------------------------------------------------ pieces */

static void put_states(struct ms_jbuf *b, const uint64_t v[MS_STATE_COUNT], bool with_none,
		       bool skip_zero)
{
	bool first = true;

	ms_jb_put(b, "{", 1);
	for (int s = with_none ? MS_NONE : MS_RESERVED; s < MS_STATE_COUNT; s++) {
		if (skip_zero && !v[s])
			continue;
		ms_jb_key(b, ms_state_name((unsigned)s), first);
		ms_jb_u64(b, v[s]);
		first = false;
	}
	ms_jb_put(b, "}", 1);
}

/* The fields of a violation object, without braces (shared by inline, list and line forms). */
static void put_violation_fields(struct ms_jbuf *b, const struct ms_event *ev, const char *message)
{
	ms_jb_puts(b, "\"seq\":");
	ms_jb_u64(b, ev->seq);
	ms_jb_puts(b, ",\"pid\":");
	ms_jb_u64(b, ev->pid);
	ms_jb_puts(b, ",\"kind\":");
	ms_jb_str(b, ms_violation_name(ev->violation));
	ms_jb_puts(b, ",\"message\":");
	ms_jb_str(b, message ? message : ms_violation_name(ev->violation));
}

static void put_line_start(struct ms_tl_writer *w, const char *type)
{
	if (w->fmt != MS_TL_JSONL)
		return;
	ms_jb_puts(&w->out, "{\"type\":\"");
	ms_jb_puts(&w->out, type);
	ms_jb_puts(&w->out, "\",");
}

/* ------------------------------------------------------------------ header */

int ms_tlw_header(struct ms_tl_writer *w, const struct ms_tl_header *hdr)
{
	struct ms_jbuf *b = &w->out;

	w->t0 = hdr->t0_ns;
	if (w->fmt == MS_TL_JSONL)
		ms_jb_puts(b, "{\"type\":\"header\",");
	else
		ms_jb_puts(b, "{");
	ms_jb_puts(b, "\"format\":\"memstate-timeline\",\"version\":1,\"command\":[");
	for (int i = 0; i < hdr->argc; i++) {
		if (i)
			ms_jb_put(b, ",", 1);
		ms_jb_str(b, hdr->argv[i]);
	}
	ms_jb_puts(b, "],\"page_size\":");
	ms_jb_u64(b, hdr->page_size);
	if (hdr->tool) {
		ms_jb_puts(b, ",\"tool\":");
		ms_jb_str(b, hdr->tool);
	}
	if (hdr->capture) {
		ms_jb_puts(b, ",\"capture\":");
		ms_jb_str(b, hdr->capture);
	}
	ms_jb_puts(b, w->fmt == MS_TL_JSONL ? "}\n" : ",\n\"events\":[\n");
	w->header_done = true;
	return b->err;
}

/* ------------------------------------------------------------------ events */

int ms_tlw_event(struct ms_tl_writer *w, struct ms_space *sp, const struct ms_event *ev)
{
	struct ms_jbuf *b = &w->out;
	struct ms_stat_info st;
	const char *name;

	if (w->fmt == MS_TL_JSONL)
		ms_jb_puts(b, "{\"type\":\"event\",\"seq\":");
	else
		ms_jb_puts(b, w->events ? ",\n{\"seq\":" : "{\"seq\":");
	ms_jb_u64(b, ev->seq);
	ms_jb_puts(b, ",\"t_ns\":");
	ms_jb_u64(b, ev->t_ns > w->t0 ? ev->t_ns - w->t0 : 0);
	ms_jb_puts(b, ",\"pid\":");
	ms_jb_u64(b, ev->pid);
	ms_jb_puts(b, ",\"tid\":");
	ms_jb_u64(b, ev->tid);
	ms_jb_puts(b, ",\"source\":");
	ms_jb_str(b, ms_source_name(ev->source));
	ms_jb_puts(b, ",\"op\":");
	ms_jb_str(b, ms_op_name(ev->op));
	ms_jb_puts(b, ",\"addr\":");
	ms_jb_u64(b, ev->addr);
	ms_jb_puts(b, ",\"len\":");
	ms_jb_u64(b, ev->len);
	ms_jb_puts(b, ",\"to\":");
	ms_jb_str(b, ev->to < MS_STATE_COUNT ? ms_state_name(ev->to) : NULL);
	ms_jb_puts(b, ",\"from\":");
	put_states(b, ev->from, true, true);
	ms_jb_puts(b, ",\"violation\":");
	if (ev->violation) {
		ms_jb_put(b, "{", 1);
		put_violation_fields(b, ev,
				     sp ? ms_space_violation_message_locked(sp, ev->seq) : NULL);
		ms_jb_put(b, "}", 1);
	} else
		ms_jb_puts(b, "null");
	if (ev->source != MS_SRC_KERNEL && ev->op < MS_OP_PROC_FORK) {
		ms_jb_puts(b, ",\"result\":");
		ms_jb_i64(b, ev->result);
	}
	switch (ev->op) {
	case MS_OP_USED:
		ms_jb_puts(b, ",\"prepared\":");
		ms_jb_u64(b, ev->arg);
		break;
	case MS_OP_ALLOC:
	case MS_OP_MAP:
	case MS_OP_FREE:
		ms_jb_puts(b, ",\"stat\":");
		if (ev->stat && sp && !ms_space_stat_info_locked(sp, ev->stat, &st))
			ms_jb_str(b, st.name);
		else
			ms_jb_puts(b, "null");
		break;
	case MS_OP_RESERVE:
		if (ev->arg) {
			ms_jb_puts(b, ",\"hint\":");
			ms_jb_u64(b, ev->arg);
		}
		break;
	case MS_OP_PROC_FORK:
		ms_jb_puts(b, ",\"ppid\":");
		ms_jb_u64(b, ev->arg);
		break;
	case MS_OP_PROC_EXIT:
		ms_jb_puts(b, ",\"exit_code\":");
		if (ev->result >= 0)
			ms_jb_i64(b, ev->result);
		else
			ms_jb_puts(b, "null");
		ms_jb_puts(b, ",\"exit_signal\":");
		if (ev->aux)
			ms_jb_u64(b, ev->aux);
		else
			ms_jb_puts(b, "null");
		break;
	case MS_OP_PAGE_FAULT:
		ms_jb_puts(b, ",\"ip\":");
		ms_jb_u64(b, ev->arg);
		ms_jb_puts(b, (ev->flags & MS_EVF_WRITE) ? ",\"write\":true" : ",\"write\":false");
		if (ev->flags & MS_EVF_INFERRED)
			ms_jb_puts(b, ",\"first_touch\":true");
		break;
	default:
		break;
	}
	if (ev->kind == MS_KIND_FILE)
		ms_jb_puts(b, ",\"kind\":\"file\"");
	if (ev->source == MS_SRC_SYSCALL && (name = ms_syscall_name(ev->aux))) {
		ms_jb_puts(b, ",\"syscall\":");
		ms_jb_str(b, name);
	}
	ms_jb_puts(b, w->fmt == MS_TL_JSONL ? "}\n" : "}");
	w->events++;
	return b->err;
}

/* ------------------------------------------------------------------ closing sections */

static void put_summary_body(struct ms_jbuf *b, const struct ms_totals *t, uint64_t dropped)
{
	bool first = true;

	ms_jb_puts(b, "\"bytes\":");
	put_states(b, t->bytes, false, false);
	ms_jb_puts(b, ",\"peak_bytes\":");
	put_states(b, t->peak_bytes, false, false);
	ms_jb_puts(b, ",\"peak_footprint\":");
	ms_jb_u64(b, t->peak_footprint);
	ms_jb_puts(b, ",\"file_bytes\":");
	ms_jb_u64(b, t->file_bytes);
	ms_jb_puts(b, ",\"events\":");
	ms_jb_u64(b, t->events);
	ms_jb_puts(b, ",\"violations\":");
	ms_jb_u64(b, t->violations);
	ms_jb_puts(b, ",\"violations_by_kind\":{");
	for (unsigned k = 1; k < MS_V_COUNT; k++) {
		if (!t->by_kind[k])
			continue;
		ms_jb_key(b, ms_violation_name(k), first);
		ms_jb_u64(b, t->by_kind[k]);
		first = false;
	}
	ms_jb_puts(b, "},\"ops\":{");
	first = true;
	for (unsigned o = 0; o < MS_OP_COUNT; o++) {
		if (!t->by_op[o])
			continue;
		ms_jb_key(b, ms_op_name(o), first);
		ms_jb_u64(b, t->by_op[o]);
		first = false;
	}
	ms_jb_puts(b, "},\"page_faults\":");
	ms_jb_u64(b, t->page_faults);
	ms_jb_puts(b, ",\"untracked_faults\":");
	ms_jb_u64(b, t->untracked_faults);
	ms_jb_puts(b, ",\"thp_collapses\":");
	ms_jb_u64(b, t->thp_collapses);
	ms_jb_puts(b, ",\"dropped_events\":");
	ms_jb_u64(b, t->dropped_events + dropped);
	ms_jb_puts(b, ",\"lost_ops\":");
	ms_jb_u64(b, t->lost_ops);
}

static void add_totals(struct ms_totals *sum, const struct ms_totals *t)
{
	for (int s = 0; s < MS_STATE_COUNT; s++) {
		sum->bytes[s] += t->bytes[s];
		sum->peak_bytes[s] += t->peak_bytes[s];
	}
	for (int k = 0; k < MS_V_COUNT; k++)
		sum->by_kind[k] += t->by_kind[k];
	for (int o = 0; o < MS_OP_COUNT; o++)
		sum->by_op[o] += t->by_op[o];
	sum->peak_footprint += t->peak_footprint;
	sum->file_bytes += t->file_bytes;
	sum->events += t->events;
	sum->violations += t->violations;
	sum->page_faults += t->page_faults;
	sum->untracked_faults += t->untracked_faults;
	sum->thp_collapses += t->thp_collapses;
	sum->dropped_events += t->dropped_events;
	sum->lost_ops += t->lost_ops;
	sum->regions += t->regions;
}

/* Separator between array items of a closing section. */
static void put_item_sep(struct ms_tl_writer *w, bool *first, const char *type)
{
	if (w->fmt == MS_TL_JSONL) {
		put_line_start(w, type);
		return;
	}
	ms_jb_puts(&w->out, *first ? "\n" : ",\n");
	*first = false;
}

static void put_item_end(struct ms_tl_writer *w)
{
	if (w->fmt == MS_TL_JSONL)
		ms_jb_puts(&w->out, "}\n");
}

static void put_section(struct ms_tl_writer *w, const char *name)
{
	if (w->fmt == MS_TL_JSON) {
		ms_jb_puts(&w->out, "\n],\n\"");
		ms_jb_puts(&w->out, name);
		ms_jb_puts(&w->out, "\":[");
	}
}

struct region_ctx {
	struct ms_tl_writer *w;
	struct ms_space *sp;
	uint32_t pid;
	bool *first;
};

static int put_region(const struct ms_region *r, void *arg)
{
	struct region_ctx *c = arg;
	struct ms_jbuf *b = &c->w->out;
	struct ms_stat_info st;

	put_item_sep(c->w, c->first, "region");
	if (c->w->fmt == MS_TL_JSON)
		ms_jb_put(b, "{", 1);
	ms_jb_puts(b, "\"pid\":");
	ms_jb_u64(b, c->pid);
	ms_jb_puts(b, ",\"addr\":");
	ms_jb_u64(b, r->start);
	ms_jb_puts(b, ",\"len\":");
	ms_jb_u64(b, r->end - r->start);
	ms_jb_puts(b, ",\"state\":");
	ms_jb_str(b, ms_state_name(r->state));
	ms_jb_puts(b, ",\"huge\":");
	ms_jb_str(b, ms_huge_name(r->huge));
	ms_jb_puts(b, ",\"faults\":");
	ms_jb_u64(b, r->faults);
	ms_jb_puts(b, ",\"thp_collapses\":");
	ms_jb_u64(b, r->thp_collapses);
	ms_jb_puts(b, ",\"kind\":");
	ms_jb_str(b, ms_kind_name(r->kind));
	ms_jb_puts(b, ",\"stat\":");
	if (r->stat && !ms_space_stat_info_locked(c->sp, r->stat, &st))
		ms_jb_str(b, st.name);
	else
		ms_jb_puts(b, "null");
	if (r->flags & MS_RF_THP)
		ms_jb_puts(b, ",\"thp\":true");
	if (c->w->fmt == MS_TL_JSON)
		ms_jb_put(b, "}", 1);
	put_item_end(c->w);
	return c->w->out.err;
}

static void put_process(struct ms_tl_writer *w, const struct ms_tl_process *p, bool *first)
{
	struct ms_jbuf *b = &w->out;
	struct ms_totals t = {0};
	struct ms_stat_info st;
	bool sfirst = true;

	put_item_sep(w, first, "process");
	if (w->fmt == MS_TL_JSON)
		ms_jb_put(b, "{", 1);
	ms_jb_puts(b, "\"pid\":");
	ms_jb_u64(b, p->pid);
	ms_jb_puts(b, ",\"ppid\":");
	ms_jb_u64(b, p->ppid);
	ms_jb_puts(b, ",\"exe\":");
	ms_jb_str(b, p->exe);
	ms_jb_puts(b, ",\"exit_code\":");
	if (p->exit_code >= 0)
		ms_jb_i64(b, p->exit_code);
	else
		ms_jb_puts(b, "null");
	ms_jb_puts(b, ",\"exit_signal\":");
	if (p->exit_signal > 0)
		ms_jb_i64(b, p->exit_signal);
	else
		ms_jb_puts(b, "null");
	if (p->space) {
		ms_space_lock(p->space);
		ms_space_totals_locked(p->space, &t);
		ms_jb_puts(b, ",\"stats\":[");
		for (unsigned id = 1; !ms_space_stat_info_locked(p->space, id, &st); id++) {
			ms_jb_puts(b, sfirst ? "{\"name\":" : ",{\"name\":");
			ms_jb_str(b, st.name);
			ms_jb_puts(b, ",\"bytes\":");
			ms_jb_u64(b, st.bytes);
			ms_jb_puts(b, ",\"peak\":");
			ms_jb_u64(b, st.peak);
			ms_jb_put(b, "}", 1);
			sfirst = false;
		}
		ms_space_unlock(p->space);
		ms_jb_puts(b, "],\"summary\":{");
		put_summary_body(b, &t, p->dropped);
		ms_jb_put(b, "}", 1);
	}
	if (w->fmt == MS_TL_JSON)
		ms_jb_put(b, "}", 1);
	put_item_end(w);
}

int ms_tlw_finish(struct ms_tl_writer *w, const struct ms_tl_process *procs, size_t nprocs)
{
	struct ms_jbuf *b = &w->out;
	struct ms_totals sum = {0}, t;
	uint64_t dropped = 0;
	bool first;

	/* violations */
	put_section(w, "violations");
	first = true;
	for (size_t i = 0; i < nprocs; i++) {
		struct ms_space *sp = procs[i].space;
		struct ms_violation v;

		if (!sp)
			continue;
		for (size_t k = 0; !ms_space_violation_get(sp, k, &v); k++) {
			put_item_sep(w, &first, "violation");
			if (w->fmt == MS_TL_JSON)
				ms_jb_put(b, "{", 1);
			put_violation_fields(b, &v.ev, v.message);
			if (w->fmt == MS_TL_JSON)
				ms_jb_put(b, "}", 1);
			put_item_end(w);
		}
	}
	/* regions */
	put_section(w, "regions");
	first = true;
	for (size_t i = 0; i < nprocs; i++) {
		struct region_ctx c = {w, procs[i].space, procs[i].pid, &first};

		if (!procs[i].space)
			continue;
		ms_space_lock(procs[i].space);
		ms_space_foreach_region_locked(procs[i].space, put_region, &c);
		ms_space_unlock(procs[i].space);
	}
	/* processes */
	put_section(w, "processes");
	first = true;
	for (size_t i = 0; i < nprocs; i++) {
		put_process(w, &procs[i], &first);
		if (procs[i].space) {
			ms_space_totals(procs[i].space, &t);
			add_totals(&sum, &t);
		}
		dropped += procs[i].dropped;
	}
	/* summary */
	if (w->fmt == MS_TL_JSON)
		ms_jb_puts(b, "\n],\n\"summary\":{");
	else
		ms_jb_puts(b, "{\"type\":\"summary\",");
	put_summary_body(b, &sum, dropped);
	ms_jb_puts(b, w->fmt == MS_TL_JSON ? "}}\n" : "}\n");
	return ms_jb_flush(b);
}

int ms_tlw_flush(struct ms_tl_writer *w)
{
	return ms_jb_flush(&w->out);
}

int ms_tlw_close(struct ms_tl_writer *w)
{
	int err;

	if (!w)
		return 0;
	err = ms_jb_flush(&w->out);
	if (w->own_fd && close(w->out.fd) && !err)
		err = -errno;
	ms_jb_release(&w->out);
	free(w);
	return err;
}
