// SPDX-License-Identifier: MIT
/*
 * Timeline -> Chrome trace-event JSON, which ui.perfetto.dev and chrome://tracing open.
 *
 * What goes out, streamed (memory does not grow with the trace):
 *   - "C" counter "bytes" per process with one series per state (Perfetto makes a track
 *     of each: "bytes Reserved", ...), sampled when the replay's bytes change; samples at
 *     the same timestamp are coalesced to the last one;
 *   - "C" counter "page faults/s" per process, averaged over a fixed window;
 *   - "i" instants (thread scope) for violations and THP collapses (and collapse requests);
 *   - with --ops, an "X" slice per operation on its thread (API calls last as long as the
 *     syscall they made);
 *   - "M" process_name and thread_name metadata at the end, once the names are known.
 * Timestamps are microseconds with three decimals, printed from integer nanoseconds.
 * Addresses go into args as hex strings: JSON viewers hold numbers as doubles.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "lib/jsonbuf.h"
#include "lib/version.h"

#define PUTL(b, lit) ms_jb_put(b, lit, sizeof(lit) - 1)
#define MAX_THREADS  65536 /* threads named; more are still drawn, as "pid/tid" */

/* Per-process state, hung on ms_tlp_proc.user. */
struct pf_proc {
	bool pending;		       /* a bytes sample waits for a later timestamp */
	uint64_t pend_t;	       /* its time */
	uint64_t pend[MS_STATE_COUNT]; /* its values */
	bool emitted;		       /* a bytes sample went out */
	uint64_t last[MS_STATE_COUNT]; /* the last values that went out */
	bool win_open;		       /* a fault window is being counted */
	uint64_t win;		       /* its index (t / window) */
	uint64_t win_faults;	       /* faults in it */
};

struct pf {
	struct ms_jbuf b;  /* output */
	bool first;	   /* no trace event written yet */
	uint64_t window;   /* ns per fault-rate sample */
	uint64_t *threads; /* pid << 32 | tid, open addressing, 0 empty */
	size_t nthreads;   /* entries used */
};

/* ------------------------------------------------------------------ output pieces */

static void put_ts(struct ms_jbuf *b, uint64_t ns)
{
	char frac[4] = {(char)('0' + ns % 1000 / 100), (char)('0' + ns % 100 / 10),
			(char)('0' + ns % 10), 0};

	ms_jb_u64(b, ns / 1000);
	ms_jb_put(b, ".", 1);
	ms_jb_put(b, frac, 3);
}

static void put_hex(struct ms_jbuf *b, uint64_t v)
{
	char tmp[24];

	snprintf(tmp, sizeof(tmp), "\"%#" PRIx64 "\"", v);
	ms_jb_puts(b, tmp);
}

/* {"name":..,"cat":..,"ph":..,"ts":..,"pid":..,"tid":.. — the caller adds the rest and '}'. */
static void ev_head(struct pf *f, const char *name, const char *cat, const char *ph, uint64_t ts,
		    uint32_t pid, uint32_t tid)
{
	struct ms_jbuf *b = &f->b;

	if (f->first)
		PUTL(b, "\n{\"name\":");
	else
		PUTL(b, ",\n{\"name\":");
	f->first = false;
	ms_jb_str(b, name);
	PUTL(b, ",\"cat\":");
	ms_jb_str(b, cat);
	PUTL(b, ",\"ph\":\"");
	ms_jb_puts(b, ph);
	PUTL(b, "\",\"ts\":");
	put_ts(b, ts);
	PUTL(b, ",\"pid\":");
	ms_jb_u64(b, pid);
	PUTL(b, ",\"tid\":");
	ms_jb_u64(b, tid);
}

static void put_bytes_sample(struct pf *f, uint32_t pid, uint64_t t,
			     const uint64_t v[MS_STATE_COUNT])
{
	ev_head(f, "bytes", "memstate", "C", t, pid, pid);
	PUTL(&f->b, ",\"args\":{\"Reserved\":");
	ms_jb_u64(&f->b, v[MS_RESERVED]);
	PUTL(&f->b, ",\"Prepared\":");
	ms_jb_u64(&f->b, v[MS_PREPARED]);
	PUTL(&f->b, ",\"Ready\":");
	ms_jb_u64(&f->b, v[MS_READY]);
	PUTL(&f->b, "}}");
}

static void put_fault_rate(struct pf *f, uint32_t pid, uint64_t t, uint64_t faults)
{
	ev_head(f, "page faults/s", "memstate", "C", t, pid, pid);
	PUTL(&f->b, ",\"args\":{\"faults/s\":");
	ms_jb_u64(&f->b, faults * 1000000000u / f->window);
	PUTL(&f->b, "}}");
}

/* The common args of an event: seq, op, range. */
static void put_ev_args(struct pf *f, const struct ms_event *ev)
{
	char range[64];

	PUTL(&f->b, ",\"args\":{\"seq\":");
	ms_jb_u64(&f->b, ev->seq);
	PUTL(&f->b, ",\"op\":");
	ms_jb_str(&f->b, ms_op_name(ev->op));
	PUTL(&f->b, ",\"addr\":");
	put_hex(&f->b, ev->addr);
	PUTL(&f->b, ",\"len\":");
	ms_jb_u64(&f->b, ev->len);
	PUTL(&f->b, ",\"range\":");
	ms_jb_str(&f->b, ms_tlp_range(range, sizeof(range), ev->addr, ev->len));
}

/* ------------------------------------------------------------------ threads */

static void note_thread(struct pf *f, uint32_t pid, uint32_t tid)
{
	uint64_t key = (uint64_t)pid << 32 | tid;
	size_t cap = 2 * MAX_THREADS, s;

	if (!key || !f->threads)
		return;
	for (s = (size_t)(key * 0x9e3779b97f4a7c15ull >> 40) & (cap - 1); f->threads[s];
	     s = (s + 1) & (cap - 1)) {
		if (f->threads[s] == key)
			return;
	}
	if (f->nthreads >= MAX_THREADS)
		return;
	f->threads[s] = key;
	f->nthreads++;
}

static const char *base_name(const char *path)
{
	const char *s = path ? strrchr(path, '/') : NULL;

	return s ? s + 1 : path;
}

static void put_names(struct pf *f, struct ms_tlp *p)
{
	char name[300];

	for (size_t i = 0; i < ms_tlp_nprocs(p); i++) {
		struct ms_tlp_proc *pr = ms_tlp_proc_at(p, i);

		ev_head(f, "process_name", "__metadata", "M", 0, pr->base.pid, pr->base.pid);
		PUTL(&f->b, ",\"args\":{\"name\":");
		ms_jb_str(&f->b, pr->exe && *pr->exe ? base_name(pr->exe) : "process");
		PUTL(&f->b, "}}");
	}
	for (size_t s = 0; f->threads && s < 2 * MAX_THREADS; s++) {
		uint64_t key = f->threads[s];
		uint32_t pid = (uint32_t)(key >> 32), tid = (uint32_t)key;
		struct ms_tlp_proc *pr;

		if (!key)
			continue;
		pr = ms_tlp_find(p, pid);
		if (tid == pid && pr && pr->exe && *pr->exe)
			snprintf(name, sizeof(name), "%s", base_name(pr->exe));
		else
			snprintf(name, sizeof(name), "%s %u", tid == pid ? "main" : "thread", tid);
		ev_head(f, "thread_name", "__metadata", "M", 0, pid, tid);
		PUTL(&f->b, ",\"args\":{\"name\":");
		ms_jb_str(&f->b, name);
		PUTL(&f->b, "}}");
	}
}

/* ------------------------------------------------------------------ events */

static struct pf_proc *pf_of(struct ms_tlp_proc *pr)
{
	if (!pr->user)
		pr->user = calloc(1, sizeof(struct pf_proc));
	return pr->user;
}

static void bytes_changed(struct pf *f, struct ms_tlp_proc *pr, struct pf_proc *q, uint64_t t)
{
	struct ms_totals tot;

	ms_space_totals(pr->base.sp, &tot);
	if (q->pending && q->pend_t != t) {
		put_bytes_sample(f, pr->base.pid, q->pend_t, q->pend);
		memcpy(q->last, q->pend, sizeof(q->last));
		q->emitted = true;
		q->pending = false;
	}
	if (q->pending) {
		memcpy(q->pend, tot.bytes, sizeof(q->pend));
		return;
	}
	if (q->emitted && !memcmp(q->last, tot.bytes, sizeof(q->last)))
		return;
	q->pending = true;
	q->pend_t = t;
	memcpy(q->pend, tot.bytes, sizeof(q->pend));
}

static void fault(struct pf *f, struct ms_tlp_proc *pr, struct pf_proc *q, uint64_t t)
{
	uint64_t w = t / f->window;

	if (q->win_open && w != q->win) {
		put_fault_rate(f, pr->base.pid, q->win * f->window, q->win_faults);
		if (w > q->win + 1)
			put_fault_rate(f, pr->base.pid, (q->win + 1) * f->window, 0);
		q->win_faults = 0;
	}
	q->win_open = true;
	q->win = w;
	q->win_faults++;
}

static void on_event(struct pf *f, const struct ms_tl_item *it, const struct ms_tlp_step *st,
		     bool ops)
{
	const struct ms_event *ev = &st->ev;
	struct pf_proc *q = pf_of(st->proc);
	uint64_t t = ev->t_ns;

	if (!q)
		return;
	note_thread(f, ev->pid, ev->tid);
	if (st->changed || ev->op == MS_OP_PROC_FORK || ev->op == MS_OP_PROC_EXEC || !q->emitted)
		bytes_changed(f, st->proc, q, t);
	if (ms_event_is_fault(ev))
		fault(f, st->proc, q, t);
	if (ev->violation) {
		ev_head(f, ms_violation_name(ev->violation), "violation", "i", t, ev->pid, ev->tid);
		PUTL(&f->b, ",\"s\":\"t\"");
		put_ev_args(f, ev);
		PUTL(&f->b, ",\"message\":");
		ms_jb_str(&f->b, st->message);
		PUTL(&f->b, "}}");
	}
	if ((ev->op == MS_OP_THP_COLLAPSE && !ev->result) || ev->op == MS_OP_HUGE_PAGE_COLLAPSE) {
		ev_head(f,
			ev->op == MS_OP_THP_COLLAPSE ? "THP collapse"
			: ev->result		     ? "collapse request (failed)"
						     : "collapse request",
			"thp", "i", t, ev->pid, ev->tid);
		PUTL(&f->b, ",\"s\":\"t\"");
		put_ev_args(f, ev);
		PUTL(&f->b, ",\"result\":");
		ms_jb_i64(&f->b, ev->result);
		PUTL(&f->b, "}}");
	}
	if (ops && ev->op != MS_OP_PAGE_FAULT) {
		uint64_t dur = ev->source == MS_SRC_API && !ms_op_is_proc(ev->op) ? ev->aux : 0;

		ev_head(f, ms_op_name(ev->op), "op", "X", t, ev->pid, ev->tid);
		PUTL(&f->b, ",\"dur\":");
		put_ts(&f->b, dur);
		put_ev_args(f, ev);
		PUTL(&f->b, ",\"source\":");
		ms_jb_str(&f->b, ms_source_name(ev->source));
		PUTL(&f->b, ",\"to\":");
		ms_jb_str(&f->b, ev->to < MS_STATE_COUNT ? ms_state_name(ev->to) : NULL);
		if (it->event.stat) {
			PUTL(&f->b, ",\"stat\":");
			ms_jb_str(&f->b, it->event.stat);
		}
		PUTL(&f->b, "}}");
	}
}

/* The end: what is still pending for each process. */
static void flush_procs(struct pf *f, struct ms_tlp *p)
{
	for (size_t i = 0; i < ms_tlp_nprocs(p); i++) {
		struct ms_tlp_proc *pr = ms_tlp_proc_at(p, i);
		struct pf_proc *q = pr->user;

		if (!q)
			continue;
		if (q->pending)
			put_bytes_sample(f, pr->base.pid, q->pend_t, q->pend);
		if (q->win_open) {
			put_fault_rate(f, pr->base.pid, q->win * f->window, q->win_faults);
			put_fault_rate(f, pr->base.pid, (q->win + 1) * f->window, 0);
		}
	}
}

int ms_conv_perfetto(struct ms_tlp *p, int fd, const struct ms_conv_opts *o)
{
	struct pf f = {.first = true, .window = o->fault_window};
	const struct ms_tl_item *hdr;
	struct ms_tlp_step st;
	struct ms_tl_item it;
	int ret, err;

	if (ms_jb_init(&f.b, fd, 1 << 18))
		return ms_conv_error(o, -ENOMEM, "out of memory");
	if (o->zstd && (err = ms_jb_set_zstd(&f.b, 0))) {
		ms_jb_release(&f.b);
		return ms_conv_error(o, err, "writing %s: %s", o->out_name, strerror(-err));
	}
	f.threads = calloc(2 * MAX_THREADS, sizeof(*f.threads));
	PUTL(&f.b, "{\"traceEvents\":[");
	while ((ret = ms_tlp_next(p, &it, &st)) == 1 && !f.b.err) {
		if (it.type == MS_TLI_EVENT)
			on_event(&f, &it, &st, o->ops);
	}
	if (ret != 1 && (ret = ms_conv_input_end(o, p, ret)))
		goto out;
	flush_procs(&f, p);
	put_names(&f, p);
	PUTL(&f.b, "\n],\n\"displayTimeUnit\":\"ns\",\"otherData\":{\"generator\":\"memstate ");
	PUTL(&f.b, MS_TOOL_VERSION "\",\"timeline\":");
	ms_jb_str(&f.b, ms_tlp_name(p));
	hdr = ms_tlp_header(p);
	if (hdr && hdr->header.argc) {
		PUTL(&f.b, ",\"command\":");
		ms_jb_str(&f.b, hdr->header.argv[0]);
	}
	PUTL(&f.b, "}}\n");
	err = ms_jb_end(&f.b);
	ret = err ? ms_conv_error(o, err, "writing %s: %s", o->out_name, strerror(-err)) : 0;
out:
	for (size_t i = 0; i < ms_tlp_nprocs(p); i++) {
		free(ms_tlp_proc_at(p, i)->user);
		ms_tlp_proc_at(p, i)->user = NULL;
	}
	free(f.threads);
	ms_jb_release(&f.b);
	return ret;
}
