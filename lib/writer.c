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
#include "memstate/timeline.h"
#include "zio.h"

/* Literal strings without strlen(): the event path runs millions of times. */
#define PUTL(b, lit) ms_jb_put(b, lit, sizeof(lit) - 1)

/* The parts of a document, in the only order it can be streamed. */
enum ms_tl_section {
	MS_SEC_EVENTS = 0,
	MS_SEC_VIOLATIONS,
	MS_SEC_REGIONS,
	MS_SEC_PROCESSES,
	MS_SEC_SUMMARY,
	MS_SEC_DONE,
};

static const char *const section_names[] = {"events", "violations", "regions", "processes"};

struct ms_tl_writer {
	struct ms_jbuf out;	  /* buffered destination */
	enum ms_tl_format fmt;	  /* document or JSON Lines */
	bool own_fd;		  /* close fd at the end */
	bool header_done;	  /* header written */
	bool first;		  /* no item yet in the current closing section */
	int section;		  /* enum ms_tl_section being written */
	uint64_t t0;		  /* event times are relative to this */
	uint64_t events;	  /* events written */
	uint64_t lost;		  /* events the capture lost so far (ms_tlw_set_lost) */
	struct loss_mark *marks;  /* violations written after a loss, seq order */
	size_t nmarks, marks_cap; /* used, allocated */
};

/* A violation written after a loss: what its list entry must repeat. */
struct loss_mark {
	uint64_t seq;  /* the violating event */
	uint64_t lost; /* events lost before it */
};

#define MAX_MARKS 100000 /* as a space keeps violations: later ones say lost_before 0 */

static void mark_add(struct ms_tl_writer *w, uint64_t seq)
{
	if (w->nmarks == w->marks_cap) {
		size_t cap = w->marks_cap ? 2 * w->marks_cap : 64;
		struct loss_mark *m;

		if (w->marks_cap >= MAX_MARKS || !(m = realloc(w->marks, cap * sizeof(*m))))
			return;
		w->marks = m;
		w->marks_cap = cap;
	}
	w->marks[w->nmarks++] = (struct loss_mark){seq, w->lost};
}

static uint64_t mark_find(const struct ms_tl_writer *w, uint64_t seq)
{
	size_t lo = 0, hi = w->nmarks;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (w->marks[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < w->nmarks && w->marks[lo].seq == seq ? w->marks[lo].lost : 0;
}

void ms_tlw_set_lost(struct ms_tl_writer *w, uint64_t lost)
{
	w->lost = lost;
}

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

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n > t && !strcmp(s + n - t, tail);
}

enum ms_tl_format ms_tl_format_of_path(const char *path, enum ms_tl_format dflt)
{
	if (path && (ends_with(path, ".jsonl") || ends_with(path, ".jsonl.zst")))
		return MS_TL_JSONL;
	return dflt;
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

int ms_tl_create(const char *path)
{
	struct stat st;
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		int err = -errno;

		close(fd);
		return err;
	}
	/*
	 * Only a regular file is ours to make private and empty: -o /dev/null or a pipe is a
	 * place to send bytes, and fchmod() on a device node (as root) would change it for
	 * every user of the system. An existing file keeps its mode through O_TRUNC, so it is
	 * made 0600 first; one we cannot (another user's) is refused while still unchanged,
	 * rather than filled with addresses others may read.
	 */
	if (S_ISREG(st.st_mode)) {
		if ((st.st_mode & 077) && fchmod(fd, 0600)) {
			int err = -errno;

			close(fd);
			return err;
		}
		if (ftruncate(fd, 0)) {
			int err = -errno;

			close(fd);
			return err;
		}
	}
	return fd;
}

struct ms_tl_writer *ms_tlw_open(const char *path, enum ms_tl_format fmt, int *err)
{
	struct ms_tl_writer *w;
	int fd = ms_tl_create(path);

	if (fd < 0) {
		if (err)
			*err = fd;
		return NULL;
	}
	w = ms_tlw_fdopen(fd, fmt, err);
	if (!w) {
		close(fd);
		return NULL;
	}
	w->own_fd = true;
	if (ms_zio_path_is_zst(path)) {
		int e = ms_tlw_set_zstd(w, 0);

		if (e) {
			ms_tlw_close(w);
			if (err)
				*err = e;
			return NULL;
		}
	}
	return w;
}

int ms_tlw_set_zstd(struct ms_tl_writer *w, int level)
{
	if (w->header_done || w->out.len || w->out.written)
		return -EINVAL;
	return ms_jb_set_zstd(&w->out, level);
}

uint64_t ms_tlw_events(const struct ms_tl_writer *w)
{
	return w->events;
}

/* ------------------------------------------------------------------ pieces */

/* A name from memstate's own tables (plain ASCII): quoted without the escaping scan. */
static void put_name(struct ms_jbuf *b, const char *name)
{
	ms_jb_put(b, "\"", 1);
	ms_jb_puts(b, name);
	ms_jb_put(b, "\"", 1);
}

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
static void put_violation_fields(struct ms_jbuf *b, uint64_t seq, uint32_t pid, unsigned kind,
				 const char *message, bool after_loss, uint64_t lost_before)
{
	PUTL(b, "\"seq\":");
	ms_jb_u64(b, seq);
	PUTL(b, ",\"pid\":");
	ms_jb_u64(b, pid);
	PUTL(b, ",\"kind\":");
	ms_jb_str(b, ms_violation_name(kind));
	PUTL(b, ",\"message\":");
	ms_jb_str(b, message ? message : ms_violation_name(kind));
	if (after_loss) {
		PUTL(b, ",\"after_loss\":true,\"lost_before\":");
		ms_jb_u64(b, lost_before);
	}
}

/*
 * Move on to section sec, closing the ones before it. -EINVAL when sec was closed already:
 * a streamed document cannot go back.
 */
static int enter(struct ms_tl_writer *w, int sec)
{
	if (sec < w->section)
		return -EINVAL;
	while (w->section < sec) {
		w->section++;
		w->first = true;
		if (w->fmt == MS_TL_JSON && w->section < MS_SEC_SUMMARY) {
			PUTL(&w->out, "\n],\n\"");
			ms_jb_puts(&w->out, section_names[w->section]);
			PUTL(&w->out, "\":[");
		}
	}
	return 0;
}

/* Opening of an item of a closing section: separator or line start, and the brace. */
static void item_start(struct ms_tl_writer *w, const char *type)
{
	if (w->fmt == MS_TL_JSONL) {
		PUTL(&w->out, "{\"type\":\"");
		ms_jb_puts(&w->out, type);
		PUTL(&w->out, "\",");
		return;
	}
	if (w->first)
		PUTL(&w->out, "\n{");
	else
		PUTL(&w->out, ",\n{");
	w->first = false;
}

static void item_end(struct ms_tl_writer *w)
{
	if (w->fmt == MS_TL_JSONL)
		PUTL(&w->out, "}\n");
	else
		PUTL(&w->out, "}");
}

/* ------------------------------------------------------------------ header */

int ms_tlw_header(struct ms_tl_writer *w, const struct ms_tl_header *hdr)
{
	struct ms_jbuf *b = &w->out;

	w->t0 = hdr->t0_ns;
	if (w->fmt == MS_TL_JSONL)
		PUTL(b, "{\"type\":\"header\",");
	else
		PUTL(b, "{");
	PUTL(b, "\"format\":\"memstate-timeline\",\"version\":1,\"command\":[");
	for (int i = 0; i < hdr->argc; i++) {
		if (i)
			ms_jb_put(b, ",", 1);
		ms_jb_str(b, hdr->argv[i]);
	}
	PUTL(b, "],\"page_size\":");
	ms_jb_u64(b, hdr->page_size);
	if (hdr->tool) {
		PUTL(b, ",\"tool\":");
		ms_jb_str(b, hdr->tool);
	}
	if (hdr->capture) {
		PUTL(b, ",\"capture\":");
		ms_jb_str(b, hdr->capture);
	}
	if (w->fmt == MS_TL_JSONL)
		PUTL(b, "}\n");
	else
		PUTL(b, ",\n\"events\":[\n");
	w->header_done = true;
	return b->err;
}

/* ------------------------------------------------------------------ events */

int ms_tlw_event_names(struct ms_tl_writer *w, const struct ms_event *ev, const char *stat,
		       const char *message)
{
	struct ms_jbuf *b = &w->out;
	const char *name;
	bool memop = !ms_op_is_proc(ev->op);

	if (w->section != MS_SEC_EVENTS)
		return -EINVAL;
	if (w->fmt == MS_TL_JSONL)
		PUTL(b, "{\"type\":\"event\",\"seq\":");
	else if (w->events)
		PUTL(b, ",\n{\"seq\":");
	else
		PUTL(b, "{\"seq\":");
	ms_jb_u64(b, ev->seq);
	PUTL(b, ",\"t_ns\":");
	ms_jb_u64(b, ev->t_ns > w->t0 ? ev->t_ns - w->t0 : 0);
	PUTL(b, ",\"pid\":");
	ms_jb_u64(b, ev->pid);
	PUTL(b, ",\"tid\":");
	ms_jb_u64(b, ev->tid);
	PUTL(b, ",\"source\":");
	put_name(b, ms_source_name(ev->source));
	PUTL(b, ",\"op\":");
	put_name(b, ms_op_name(ev->op));
	PUTL(b, ",\"addr\":");
	ms_jb_u64(b, ev->addr);
	PUTL(b, ",\"len\":");
	ms_jb_u64(b, ev->len);
	PUTL(b, ",\"to\":");
	if (ev->to < MS_STATE_COUNT)
		put_name(b, ms_state_name(ev->to));
	else
		PUTL(b, "null");
	PUTL(b, ",\"from\":");
	put_states(b, ev->from, true, true);
	PUTL(b, ",\"violation\":");
	if (ev->violation) {
		ms_jb_put(b, "{", 1);
		put_violation_fields(b, ev->seq, ev->pid, ev->violation, message,
				     ev->flags & MS_EVF_LOSSY, w->lost);
		ms_jb_put(b, "}", 1);
		if (ev->flags & MS_EVF_LOSSY)
			mark_add(w, ev->seq);
	} else {
		PUTL(b, "null");
	}
	if (ev->source != MS_SRC_KERNEL && memop) {
		PUTL(b, ",\"result\":");
		ms_jb_i64(b, ev->result);
	}
	switch (ev->op) {
	case MS_OP_USED:
		PUTL(b, ",\"prepared\":");
		ms_jb_u64(b, ev->arg);
		break;
	case MS_OP_ALLOC:
	case MS_OP_MAP:
	case MS_OP_FREE:
		PUTL(b, ",\"stat\":");
		ms_jb_str(b, stat);
		if (ev->op != MS_OP_FREE && ev->arg) { /* mremap: the pages came from there */
			PUTL(b, ",\"moved_from\":");
			ms_jb_u64(b, ev->arg);
		}
		break;
	case MS_OP_RESERVE:
		if (ev->arg) {
			PUTL(b, ",\"hint\":");
			ms_jb_u64(b, ev->arg);
		}
		break;
	case MS_OP_PROC_FORK:
		PUTL(b, ",\"ppid\":");
		ms_jb_u64(b, ev->arg);
		break;
	case MS_OP_PROC_EXIT:
		PUTL(b, ",\"exit_code\":");
		if (ev->result >= 0)
			ms_jb_i64(b, ev->result);
		else
			PUTL(b, "null");
		PUTL(b, ",\"exit_signal\":");
		if (ev->aux)
			ms_jb_u64(b, ev->aux);
		else
			PUTL(b, "null");
		break;
	case MS_OP_EXT_ALLOC:
		if (ev->flags & MS_EVF_COMMITTED)
			PUTL(b, ",\"committed\":true");
		else
			PUTL(b, ",\"committed\":false");
		break;
	case MS_OP_EXT_SPLIT:
	case MS_OP_EXT_MERGE:
		PUTL(b, ",\"size_a\":");
		ms_jb_u64(b, ev->arg);
		if (ev->flags & MS_EVF_COMMITTED)
			PUTL(b, ",\"committed\":true");
		else
			PUTL(b, ",\"committed\":false");
		if (ev->flags & MS_EVF_APART)
			PUTL(b, ",\"apart\":true");
		break;
	case MS_OP_PAGE_FAULT:
		PUTL(b, ",\"ip\":");
		ms_jb_u64(b, ev->arg);
		if (ev->flags & MS_EVF_WRITE)
			PUTL(b, ",\"write\":true");
		else
			PUTL(b, ",\"write\":false");
		if (ev->flags & MS_EVF_INFERRED)
			PUTL(b, ",\"first_touch\":true");
		if (ev->flags & MS_EVF_PRESENT)
			PUTL(b, ",\"present\":true");
		if (ev->flags & MS_EVF_HUGE)
			PUTL(b, ",\"thp\":true");
		break;
	case MS_OP_UNUSED:
		if (ev->flags & MS_EVF_LAZY)
			PUTL(b, ",\"lazy_free\":true");
		break;
	default:
		break;
	}
	if (ev->kind == MS_KIND_FILE)
		PUTL(b, ",\"kind\":\"file\"");
	if (memop && ev->source == MS_SRC_SYSCALL && (name = ms_syscall_name(ev->aux))) {
		PUTL(b, ",\"syscall\":");
		ms_jb_str(b, name);
	}
	if (memop && (ev->source == MS_SRC_API || ev->source == MS_SRC_JEMALLOC) && ev->aux) {
		PUTL(b, ",\"dur_ns\":");
		ms_jb_u64(b, ev->aux);
	}
	if (ev->flags & MS_EVF_NOTE)
		PUTL(b, ",\"note\":true");
	if (ev->flags & MS_EVF_SEED)
		PUTL(b, ",\"seed\":true");
	if (ev->resident_delta) {
		PUTL(b, ",\"resident_delta\":");
		ms_jb_i64(b, ev->resident_delta);
	}
	if (w->fmt == MS_TL_JSONL)
		PUTL(b, "}\n");
	else
		PUTL(b, "}");
	w->events++;
	return b->err;
}

int ms_tlw_event(struct ms_tl_writer *w, struct ms_space *sp, const struct ms_event *ev)
{
	struct ms_stat_info st;
	const char *stat = NULL, *message = NULL;

	if (sp && ev->stat && !ms_space_stat_info_locked(sp, ev->stat, &st))
		stat = st.name;
	if (sp && ev->violation)
		message = ms_space_violation_message_locked(sp, ev->seq);
	return ms_tlw_event_names(w, ev, stat, message);
}

/* ------------------------------------------------------------------ closing sections */

static void put_summary_body(struct ms_jbuf *b, const struct ms_totals *t, uint64_t dropped)
{
	bool first = true;

	PUTL(b, "\"bytes\":");
	put_states(b, t->bytes, false, false);
	PUTL(b, ",\"peak_bytes\":");
	put_states(b, t->peak_bytes, false, false);
	PUTL(b, ",\"peak_footprint\":");
	ms_jb_u64(b, t->peak_footprint);
	PUTL(b, ",\"file_bytes\":");
	ms_jb_u64(b, t->file_bytes);
	PUTL(b, ",\"events\":");
	ms_jb_u64(b, t->events);
	PUTL(b, ",\"violations\":");
	ms_jb_u64(b, t->violations);
	PUTL(b, ",\"violations_by_kind\":{");
	for (unsigned k = 1; k < MS_V_COUNT; k++) {
		if (!t->by_kind[k])
			continue;
		ms_jb_key(b, ms_violation_name(k), first);
		ms_jb_u64(b, t->by_kind[k]);
		first = false;
	}
	PUTL(b, "},\"ops\":{");
	first = true;
	for (unsigned o = 0; o < MS_OP_COUNT; o++) {
		if (!t->by_op[o])
			continue;
		ms_jb_key(b, ms_op_name(o), first);
		ms_jb_u64(b, t->by_op[o]);
		first = false;
	}
	PUTL(b, "},\"page_faults\":");
	ms_jb_u64(b, t->page_faults);
	PUTL(b, ",\"untracked_faults\":");
	ms_jb_u64(b, t->untracked_faults);
	PUTL(b, ",\"thp_collapses\":");
	ms_jb_u64(b, t->thp_collapses);
	PUTL(b, ",\"dropped_events\":");
	ms_jb_u64(b, t->dropped_events + dropped);
	PUTL(b, ",\"lost_ops\":");
	ms_jb_u64(b, t->lost_ops);
	if (!t->residency)
		return;
	PUTL(b, ",\"resident_bytes\":{\"Prepared\":");
	ms_jb_u64(b, t->resident[MS_PREPARED]);
	PUTL(b, ",\"Ready\":");
	ms_jb_u64(b, t->resident[MS_READY]);
	PUTL(b, "},\"peak_resident\":");
	ms_jb_u64(b, t->peak_resident);
	PUTL(b, ",\"ready_untouched\":");
	ms_jb_u64(b, t->bytes[MS_READY] - t->resident[MS_READY]);
	PUTL(b, ",\"lazy_free\":");
	ms_jb_u64(b, t->lazy_free);
}

int ms_tlw_violation_loss(struct ms_tl_writer *w, uint64_t seq, uint32_t pid, unsigned kind,
			  const char *message, bool after_loss, uint64_t lost_before)
{
	if (enter(w, MS_SEC_VIOLATIONS))
		return -EINVAL;
	item_start(w, "violation");
	put_violation_fields(&w->out, seq, pid, kind, message, after_loss, lost_before);
	item_end(w);
	return w->out.err;
}

int ms_tlw_violation(struct ms_tl_writer *w, uint64_t seq, uint32_t pid, unsigned kind,
		     const char *message)
{
	return ms_tlw_violation_loss(w, seq, pid, kind, message, false, 0);
}

int ms_tlw_region(struct ms_tl_writer *w, uint32_t pid, const struct ms_region *r, const char *stat)
{
	struct ms_jbuf *b = &w->out;

	if (enter(w, MS_SEC_REGIONS))
		return -EINVAL;
	item_start(w, "region");
	PUTL(b, "\"pid\":");
	ms_jb_u64(b, pid);
	PUTL(b, ",\"addr\":");
	ms_jb_u64(b, r->start);
	PUTL(b, ",\"len\":");
	ms_jb_u64(b, r->end - r->start);
	PUTL(b, ",\"state\":");
	ms_jb_str(b, ms_state_name(r->state));
	PUTL(b, ",\"huge\":");
	ms_jb_str(b, ms_huge_name(r->huge));
	PUTL(b, ",\"faults\":");
	ms_jb_u64(b, r->faults);
	PUTL(b, ",\"thp_collapses\":");
	ms_jb_u64(b, r->thp_collapses);
	PUTL(b, ",\"kind\":");
	ms_jb_str(b, ms_kind_name(r->kind));
	PUTL(b, ",\"stat\":");
	ms_jb_str(b, stat);
	if (r->flags & MS_RF_THP)
		PUTL(b, ",\"thp\":true");
	if ((r->flags & MS_RF_RESIDENCY) && r->kind == MS_KIND_ANON &&
	    (r->state == MS_PREPARED || r->state == MS_READY)) {
		PUTL(b, ",\"resident\":");
		ms_jb_u64(b, r->resident);
		if (r->lazy_free) {
			PUTL(b, ",\"lazy_free\":");
			ms_jb_u64(b, r->lazy_free);
		}
	}
	item_end(w);
	return b->err;
}

/* --verify-maps: residency against the kernel's pagemap, every disagreement counted. */
static void put_pagemap(struct ms_jbuf *b, const struct ms_res_check *c)
{
	PUTL(b, ",\"pagemap\":{\"checked\":");
	ms_jb_u64(b, c->checked);
	PUTL(b, ",\"memstate\":");
	ms_jb_u64(b, c->memstate);
	PUTL(b, ",\"kernel\":");
	ms_jb_u64(b, c->kernel);
	PUTL(b, ",\"differ\":");
	ms_jb_u64(b, c->ndiffs);
	PUTL(b, ",\"differ_bytes\":");
	ms_jb_u64(b, c->diff_bytes);
	PUTL(b, ",\"ranges\":[");
	for (size_t i = 0; i < c->nkept; i++) {
		PUTL(b, i ? ",{\"addr\":" : "{\"addr\":");
		ms_jb_u64(b, c->diffs[i].start);
		PUTL(b, ",\"len\":");
		ms_jb_u64(b, c->diffs[i].end - c->diffs[i].start);
		PUTL(b, ",\"memstate\":");
		ms_jb_u64(b, c->diffs[i].memstate);
		PUTL(b, ",\"kernel\":");
		ms_jb_u64(b, c->diffs[i].kernel);
		ms_jb_put(b, "}", 1);
	}
	PUTL(b, "]}");
}

int ms_tlw_process(struct ms_tl_writer *w, const struct ms_tl_process *p, const struct ms_totals *t,
		   const struct ms_tl_stat *stats, unsigned nstats)
{
	struct ms_jbuf *b = &w->out;

	if (enter(w, MS_SEC_PROCESSES))
		return -EINVAL;
	item_start(w, "process");
	PUTL(b, "\"pid\":");
	ms_jb_u64(b, p->pid);
	PUTL(b, ",\"ppid\":");
	ms_jb_u64(b, p->ppid);
	PUTL(b, ",\"exe\":");
	ms_jb_str(b, p->exe);
	PUTL(b, ",\"exit_code\":");
	if (p->exit_code >= 0)
		ms_jb_i64(b, p->exit_code);
	else
		PUTL(b, "null");
	PUTL(b, ",\"exit_signal\":");
	if (p->exit_signal > 0)
		ms_jb_i64(b, p->exit_signal);
	else
		PUTL(b, "null");
	if (t) {
		PUTL(b, ",\"stats\":[");
		for (unsigned i = 0; i < nstats; i++) {
			if (i)
				PUTL(b, ",{\"name\":");
			else
				PUTL(b, "{\"name\":");
			ms_jb_str(b, stats[i].name);
			PUTL(b, ",\"bytes\":");
			ms_jb_u64(b, stats[i].bytes);
			PUTL(b, ",\"peak\":");
			ms_jb_u64(b, stats[i].peak);
			ms_jb_put(b, "}", 1);
		}
		PUTL(b, "],\"summary\":{");
		put_summary_body(b, t, p->dropped);
		if (p->pagemap)
			put_pagemap(b, p->pagemap);
		ms_jb_put(b, "}", 1);
	}
	item_end(w);
	return b->err;
}

int ms_tlw_summary(struct ms_tl_writer *w, const struct ms_totals *t, uint64_t dropped)
{
	struct ms_jbuf *b = &w->out;

	if (enter(w, MS_SEC_SUMMARY))
		return -EINVAL;
	if (w->fmt == MS_TL_JSON)
		PUTL(b, "\n],\n\"summary\":{");
	else
		PUTL(b, "{\"type\":\"summary\",");
	put_summary_body(b, t, dropped);
	if (w->fmt == MS_TL_JSON)
		PUTL(b, "}}\n");
	else
		PUTL(b, "}\n");
	w->section = MS_SEC_DONE;
	return ms_jb_end(b);
}

/* ------------------------------------------------------------------ from live spaces */

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
	for (int s = 0; s < MS_STATE_COUNT; s++)
		sum->resident[s] += t->resident[s];
	sum->peak_resident += t->peak_resident;
	sum->lazy_free += t->lazy_free;
	sum->residency |= t->residency;
}

struct region_ctx {
	struct ms_tl_writer *w; /* destination */
	struct ms_space *sp;	/* whose map it is (stat names) */
	uint32_t pid;		/* whose map it is */
	size_t skip;		/* intervals written already */
};

static int put_space_region(const struct ms_region *r, void *arg)
{
	struct region_ctx *c = arg;
	struct ms_stat_info st;
	const char *stat = NULL;

	if (c->skip) {
		c->skip--;
		return 0;
	}
	if (r->stat && !ms_space_stat_info_locked(c->sp, r->stat, &st))
		stat = st.name;
	return ms_tlw_region(c->w, c->pid, r, stat);
}

/* One process from its space: stats are gathered under the space's lock. */
static int put_space_process(struct ms_tl_writer *w, const struct ms_tl_process *p)
{
	struct ms_tl_stat *stats = NULL, *grown;
	struct ms_stat_info st;
	struct ms_totals t;
	unsigned n = 0, cap = 0;
	int err = 0;

	if (!p->space)
		return ms_tlw_process(w, p, NULL, NULL, 0);
	ms_space_lock(p->space);
	ms_space_totals_locked(p->space, &t);
	/* Ids run from 1 until the first that does not exist. */
	for (unsigned id = 1; !ms_space_stat_info_locked(p->space, id, &st); id++) {
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			grown = realloc(stats, cap * sizeof(*stats));
			if (!grown) {
				err = -ENOMEM;
				break;
			}
			stats = grown;
		}
		stats[n++] =
			(struct ms_tl_stat){.name = st.name, .bytes = st.bytes, .peak = st.peak};
	}
	if (!err)
		err = ms_tlw_process(w, p, &t, stats, n);
	ms_space_unlock(p->space);
	free(stats);
	return err;
}

int ms_tlw_finish(struct ms_tl_writer *w, const struct ms_tl_process *procs, size_t nprocs)
{
	struct ms_totals sum = {0}, t;
	uint64_t dropped = 0;

	if (w->section > MS_SEC_PROCESSES)
		return -EINVAL;
	/* A section already closed cannot be reopened: what it lacks stays out. */
	for (size_t i = 0; i < nprocs && w->section <= MS_SEC_VIOLATIONS; i++) {
		struct ms_violation v;

		if (!procs[i].space)
			continue;
		for (size_t k = procs[i].violations_done;
		     !ms_space_violation_get(procs[i].space, k, &v); k++)
			ms_tlw_violation_loss(w, v.ev.seq, v.ev.pid, v.ev.violation, v.message,
					      v.ev.flags & MS_EVF_LOSSY, mark_find(w, v.ev.seq));
	}
	for (size_t i = 0; i < nprocs && w->section <= MS_SEC_REGIONS; i++) {
		struct region_ctx c = {w, procs[i].space, procs[i].pid, procs[i].regions_done};

		if (!procs[i].space)
			continue;
		ms_space_lock(procs[i].space);
		ms_space_foreach_region_locked(procs[i].space, put_space_region, &c);
		ms_space_unlock(procs[i].space);
	}
	enter(w, MS_SEC_PROCESSES);
	for (size_t i = 0; i < nprocs; i++) {
		if (!procs[i].listed)
			put_space_process(w, &procs[i]);
		if (procs[i].space) {
			ms_space_totals(procs[i].space, &t);
			add_totals(&sum, &t);
		}
		dropped += procs[i].dropped;
	}
	return ms_tlw_summary(w, &sum, dropped);
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
	err = ms_jb_end(&w->out);
	if (w->own_fd && close(w->out.fd) && !err)
		err = -errno;
	ms_jb_release(&w->out);
	free(w->marks);
	free(w);
	return err;
}
