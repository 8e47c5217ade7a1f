// SPDX-License-Identifier: MIT
/*
 * Timeline -> Perfetto's native trace: a protobuf Trace, that is a stream of TracePacket
 * records (track descriptors, track events, interned names), encoded by hand (pb.h) with
 * the field numbers of Perfetto's protos (protos/perfetto/trace/trace_packet.proto and
 * track_event/{track_descriptor,track_event,counter_descriptor,process_descriptor,
 * debug_annotation}.proto, interned_data/interned_data.proto). ui.perfetto.dev and
 * trace_processor open it directly, without the legacy JSON importer.
 *
 * What goes out, per process (every track a child of its process track):
 *   - counters "Reserved bytes", "Prepared bytes", "Ready bytes" (unit bytes): a value
 *     when the replay's bytes change (samples at one timestamp coalesced to the last; the
 *     states that changed together in one event, the others as its extra counter values);
 *   - counter "resident bytes": the replay's residency (SPEC 8), once an event changes it;
 *   - counter "page faults/s", averaged over --fault-window;
 *   - counter "stat NAME" per named stat (Go's sysMemStats, libmemstate's ms_stat): its
 *     bytes after each operation charged to it;
 *   - slices under "mappings": one per region lifetime, a region being a mapping as the
 *     program made it (the range of the sysReserve, sysAlloc, mmap... that first gave
 *     those bytes a state) from then until it is wholly None again, or until its process
 *     execs or exits; slices go on lanes (child tracks), a region on the first free one;
 *   - instants on "violations" (named by kind) and "THP" (THP collapse, collapse
 *     request), with seq, tid, range and message as debug annotations; with --ops an
 *     instant per operation on "operations".
 *
 * Memory is bounded by the live processes and their live mappings, never by the length of
 * the trace: each packet is encoded in a small buffer and handed on. Track ids are small
 * numbers given out in order (short varints). One packet sequence (id 1); names of events,
 * categories and annotations are interned there on first use.
 */
#include <errno.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "lib/jsonbuf.h"
#include "pb.h"

#define MAX_LANES 256 /* mapping lanes per process; regions beyond are counted, not drawn */

/* ------------------------------------------------------------------ field numbers */

enum {
	F_TRACE_PACKET = 1,	/* Trace.packet */
	F_PKT_TIMESTAMP = 8,	/* TracePacket.timestamp (ns) */
	F_PKT_SEQ_ID = 10,	/* TracePacket.trusted_packet_sequence_id */
	F_PKT_TRACK_EVENT = 11, /* TracePacket.track_event */
	F_PKT_INTERNED = 12,	/* TracePacket.interned_data */
	F_PKT_SEQ_FLAGS = 13,	/* TracePacket.sequence_flags */
	F_PKT_TRACK_DESC = 60,	/* TracePacket.track_descriptor */
	F_TD_UUID = 1,		/* TrackDescriptor.uuid */
	F_TD_NAME = 2,		/* TrackDescriptor.name */
	F_TD_PROCESS = 3,	/* TrackDescriptor.process */
	F_TD_PARENT = 5,	/* TrackDescriptor.parent_uuid */
	F_TD_COUNTER = 8,	/* TrackDescriptor.counter */
	F_PD_PID = 1,		/* ProcessDescriptor.pid */
	F_PD_NAME = 6,		/* ProcessDescriptor.process_name */
	F_CD_UNIT = 3,		/* CounterDescriptor.unit */
	F_TE_CATEGORY_IIDS = 3, /* TrackEvent.category_iids */
	F_TE_DEBUG = 4,		/* TrackEvent.debug_annotations */
	F_TE_TYPE = 9,		/* TrackEvent.type */
	F_TE_NAME_IID = 10,	/* TrackEvent.name_iid */
	F_TE_TRACK = 11,	/* TrackEvent.track_uuid */
	F_TE_COUNTER = 30,	/* TrackEvent.counter_value (int64) */
	F_TE_EXTRA_UUIDS = 31,	/* TrackEvent.extra_counter_track_uuids */
	F_TE_EXTRA_VALUES = 12, /* TrackEvent.extra_counter_values (int64) */
	F_DA_NAME_IID = 1,	/* DebugAnnotation.name_iid */
	F_DA_UINT = 3,		/* DebugAnnotation.uint_value */
	F_DA_INT = 4,		/* DebugAnnotation.int_value */
	F_DA_STRING = 6,	/* DebugAnnotation.string_value */
	F_DA_POINTER = 7,	/* DebugAnnotation.pointer_value */
	F_ID_CATEGORIES = 1,	/* InternedData.event_categories */
	F_ID_NAMES = 2,		/* InternedData.event_names */
	F_ID_DEBUG_NAMES = 3,	/* InternedData.debug_annotation_names */
	F_IID = 1,		/* EventName/EventCategory/DebugAnnotationName.iid */
	F_INAME = 2,		/* and .name */
	SEQ_CLEARED = 1,	/* SEQ_INCREMENTAL_STATE_CLEARED */
	SEQ_NEEDS = 2,		/* SEQ_NEEDS_INCREMENTAL_STATE */
	TYPE_SLICE_BEGIN = 1,	/* TrackEvent.Type */
	TYPE_SLICE_END = 2,	/* */
	TYPE_INSTANT = 3,	/* */
	TYPE_COUNTER = 4,	/* */
	UNIT_COUNT = 2,		/* CounterDescriptor.Unit */
	UNIT_SIZE_BYTES = 3,	/* */
	SEQ_ID = 1,		/* our one packet sequence */
};

/* ------------------------------------------------------------------ interned names */

/* Event names: operations, then violation kinds, then these. */
enum { EN_THP = 0, EN_REQ, EN_REQ_FAILED, EN_COUNT };
static const char *const extra_names[EN_COUNT] = {"THP collapse", "collapse request",
						  "collapse request (failed)"};
#define IID_OP(op)    ((uint64_t)(op) + 1)
#define IID_VIOL(k)   ((uint64_t)MS_OP_COUNT + 1 + (k))
#define IID_EXTRA(x)  ((uint64_t)MS_OP_COUNT + MS_V_COUNT + 1 + (x))
#define N_EVENT_NAMES (MS_OP_COUNT + MS_V_COUNT + EN_COUNT + 1)

enum { CAT_MEMSTATE = 1, CAT_VIOLATION, CAT_THP, CAT_MAPPING, CAT_OP, N_CATS };
static const char *const cat_names[N_CATS] = {NULL,  "memstate", "violation",
					      "thp", "mapping",	 "op"};

enum {
	DA_SEQ = 1,
	DA_TID,
	DA_ADDR,
	DA_LEN,
	DA_MESSAGE,
	DA_RESULT,
	DA_STAT,
	DA_SOURCE,
	DA_TO,
	DA_LIVE,
	N_DAS
};
static const char *const da_names[N_DAS] = {NULL,     "seq",	 "tid",	       "addr",
					    "len",    "message", "result",     "stat",
					    "source", "to",	 "live_at_end"};

/* ------------------------------------------------------------------ state */

/* A region (mapping as the program made it) whose slice is open. */
struct pb_map {
	uint64_t s, e; /* its range */
	unsigned lane; /* where its slice is, MAX_LANES when not drawn */
	uint8_t op;    /* the operation that made it */
};

struct pb_lane {
	uint64_t uuid;	   /* its track */
	bool busy;	   /* a slice is open on it */
	uint64_t last_end; /* when its last slice ended (a new one may not start before) */
};

/* Per process, hung on ms_tlp_proc.user. */
struct pb_proc {
	uint64_t uuid;			     /* the process track */
	uint64_t state_uuid[MS_STATE_COUNT]; /* bytes per state tracks (0: not declared) */
	uint64_t faults_uuid;		     /* page faults/s */
	uint64_t resident_uuid;		     /* resident bytes */
	uint64_t viol_uuid, thp_uuid;	     /* instant tracks */
	uint64_t ops_uuid;		     /* --ops instants */
	uint64_t maps_uuid;		     /* the mappings group */
	uint64_t *stat_uuid;		     /* by stat id (0: not declared) */
	uint64_t *stat_last;		     /* last value written, by stat id */
	unsigned nstat;			     /* entries of both */
	bool pending;			     /* a bytes sample waits for a later timestamp */
	uint64_t pend_t;		     /* its time */
	uint64_t pend[MS_STATE_COUNT];	     /* its values */
	bool emitted;			     /* a bytes sample went out */
	uint64_t last[MS_STATE_COUNT];	     /* the last values that went out */
	bool win_open;			     /* a fault window is being counted */
	uint64_t win;			     /* its index (t / window) */
	uint64_t win_faults;		     /* faults in it */
	int64_t resident;		     /* sum of resident_delta */
	void *maps;			     /* tsearch root of live struct pb_map */
	struct pb_lane lanes[MAX_LANES];     /* mapping lanes */
	unsigned nlanes;		     /* lanes declared */
	uint64_t undrawn;		     /* regions no lane was free for */
	uint64_t last_t;		     /* its last event's time */
};

struct pf {
	struct ms_jbuf b;	       /* output */
	struct ms_pb pb;	       /* the packet being encoded */
	uint64_t window;	       /* ns per fault-rate sample */
	bool ops;		       /* --ops */
	uint64_t next_uuid;	       /* track ids, given out in order */
	bool name_sent[N_EVENT_NAMES]; /* interned event names emitted */
	bool cat_sent[N_CATS];	       /* interned categories emitted */
	bool da_sent[N_DAS];	       /* interned annotation names emitted */
	struct pb_map **found;	       /* overlap query results */
	size_t nfound, found_cap;      /* used and allocated */
	const char *first_name;	       /* the traced command, for the first process */
	int err;		       /* -ENOMEM seen */
};

static int map_cmp(const void *a, const void *b)
{
	const struct pb_map *x = a, *y = b;

	if (x->e <= y->s)
		return -1;
	if (x->s >= y->e)
		return 1;
	return 0; /* overlapping ranges: the one we look for */
}

/* ------------------------------------------------------------------ packets */

static void packet_begin(struct pf *f)
{
	ms_pb_reset(&f->pb);
	ms_pb_begin(&f->pb, F_TRACE_PACKET);
	ms_pb_uint(&f->pb, F_PKT_SEQ_ID, SEQ_ID);
}

static void packet_end(struct pf *f)
{
	ms_pb_end(&f->pb);
	if (f->pb.err) {
		f->err = f->pb.err;
		return;
	}
	ms_jb_put(&f->b, (const char *)f->pb.buf, f->pb.len);
}

static void interned_entry(struct pf *f, uint32_t field, uint64_t iid, const char *name)
{
	ms_pb_begin(&f->pb, field);
	ms_pb_uint(&f->pb, F_IID, iid);
	ms_pb_str(&f->pb, F_INAME, name);
	ms_pb_end(&f->pb);
}

static const char *event_name(uint64_t iid)
{
	if (iid >= IID_EXTRA(0))
		return extra_names[iid - IID_EXTRA(0)];
	if (iid >= IID_VIOL(0))
		return ms_violation_name((unsigned)(iid - IID_VIOL(0)));
	return ms_op_name((unsigned)(iid - 1));
}

/*
 * An event packet's head: time, the sequence's flags and the interned names it uses that
 * were not emitted yet (name iid, category, annotation names as a bit mask of DA_*).
 */
static void event_packet(struct pf *f, uint64_t t, uint64_t name_iid, unsigned cat, unsigned das)
{
	bool need = (name_iid && !f->name_sent[name_iid]) || (cat && !f->cat_sent[cat]);

	for (unsigned d = 1; d < N_DAS && !need; d++)
		need = (das & 1u << d) && !f->da_sent[d];
	packet_begin(f);
	ms_pb_uint(&f->pb, F_PKT_TIMESTAMP, t);
	ms_pb_uint(&f->pb, F_PKT_SEQ_FLAGS, SEQ_NEEDS);
	if (!need)
		return;
	ms_pb_begin(&f->pb, F_PKT_INTERNED);
	if (cat && !f->cat_sent[cat]) {
		interned_entry(f, F_ID_CATEGORIES, cat, cat_names[cat]);
		f->cat_sent[cat] = true;
	}
	if (name_iid && !f->name_sent[name_iid]) {
		interned_entry(f, F_ID_NAMES, name_iid, event_name(name_iid));
		f->name_sent[name_iid] = true;
	}
	for (unsigned d = 1; d < N_DAS; d++) {
		if ((das & 1u << d) && !f->da_sent[d]) {
			interned_entry(f, F_ID_DEBUG_NAMES, d, da_names[d]);
			f->da_sent[d] = true;
		}
	}
	ms_pb_end(&f->pb);
}

static void ann_uint(struct pf *f, unsigned da, uint64_t v)
{
	ms_pb_begin(&f->pb, F_TE_DEBUG);
	ms_pb_uint(&f->pb, F_DA_NAME_IID, da);
	ms_pb_uint(&f->pb, F_DA_UINT, v);
	ms_pb_end(&f->pb);
}

static void ann_int(struct pf *f, unsigned da, int64_t v)
{
	ms_pb_begin(&f->pb, F_TE_DEBUG);
	ms_pb_uint(&f->pb, F_DA_NAME_IID, da);
	ms_pb_int(&f->pb, F_DA_INT, v);
	ms_pb_end(&f->pb);
}

static void ann_ptr(struct pf *f, unsigned da, uint64_t v)
{
	ms_pb_begin(&f->pb, F_TE_DEBUG);
	ms_pb_uint(&f->pb, F_DA_NAME_IID, da);
	ms_pb_uint(&f->pb, F_DA_POINTER, v);
	ms_pb_end(&f->pb);
}

static void ann_str(struct pf *f, unsigned da, const char *s)
{
	ms_pb_begin(&f->pb, F_TE_DEBUG);
	ms_pb_uint(&f->pb, F_DA_NAME_IID, da);
	ms_pb_str(&f->pb, F_DA_STRING, s ? s : "");
	ms_pb_end(&f->pb);
}

/* A track: parent 0 for none; unit 0 for a non-counter track. */
static uint64_t declare(struct pf *f, uint64_t parent, const char *name, unsigned unit)
{
	uint64_t uuid = f->next_uuid++;

	packet_begin(f);
	ms_pb_begin(&f->pb, F_PKT_TRACK_DESC);
	ms_pb_uint(&f->pb, F_TD_UUID, uuid);
	if (parent)
		ms_pb_uint(&f->pb, F_TD_PARENT, parent);
	ms_pb_str(&f->pb, F_TD_NAME, name);
	if (unit) {
		ms_pb_begin(&f->pb, F_TD_COUNTER);
		ms_pb_uint(&f->pb, F_CD_UNIT, unit);
		ms_pb_end(&f->pb);
	}
	ms_pb_end(&f->pb);
	packet_end(f);
	return uuid;
}

static void process_descriptor(struct pf *f, uint64_t uuid, uint32_t pid, const char *name)
{
	packet_begin(f);
	ms_pb_begin(&f->pb, F_PKT_TRACK_DESC);
	ms_pb_uint(&f->pb, F_TD_UUID, uuid);
	ms_pb_begin(&f->pb, F_TD_PROCESS);
	ms_pb_uint(&f->pb, F_PD_PID, pid);
	ms_pb_str(&f->pb, F_PD_NAME, name);
	ms_pb_end(&f->pb);
	ms_pb_end(&f->pb);
	packet_end(f);
}

static void counter(struct pf *f, uint64_t uuid, uint64_t t, int64_t v)
{
	packet_begin(f);
	ms_pb_uint(&f->pb, F_PKT_TIMESTAMP, t);
	ms_pb_begin(&f->pb, F_PKT_TRACK_EVENT);
	ms_pb_uint(&f->pb, F_TE_TYPE, TYPE_COUNTER);
	ms_pb_uint(&f->pb, F_TE_TRACK, uuid);
	ms_pb_int(&f->pb, F_TE_COUNTER, v);
	ms_pb_end(&f->pb);
	packet_end(f);
}

/* A track event's head, after event_packet(). The caller adds annotations and closes. */
static void event_head(struct pf *f, unsigned type, uint64_t track, uint64_t name_iid, unsigned cat)
{
	ms_pb_begin(&f->pb, F_PKT_TRACK_EVENT);
	ms_pb_uint(&f->pb, F_TE_TYPE, type);
	ms_pb_uint(&f->pb, F_TE_TRACK, track);
	if (name_iid)
		ms_pb_uint(&f->pb, F_TE_NAME_IID, name_iid);
	if (cat)
		ms_pb_uint(&f->pb, F_TE_CATEGORY_IIDS, cat);
}

static void event_close(struct pf *f)
{
	ms_pb_end(&f->pb); /* track_event */
	packet_end(f);
}

/* ------------------------------------------------------------------ processes */

static const char *base_name(const char *path)
{
	const char *s = path ? strrchr(path, '/') : NULL;

	return s ? s + 1 : path;
}

static struct pb_proc *pb_of(struct pf *f, struct ms_tlp_proc *pr)
{
	struct pb_proc *q = pr->user;

	if (q)
		return q;
	q = calloc(1, sizeof(*q));
	if (!q) {
		f->err = -ENOMEM;
		return NULL;
	}
	pr->user = q;
	q->uuid = f->next_uuid++;
	/* The name is known at the end (the processes section); the first one's now. */
	process_descriptor(f, q->uuid, pr->base.pid, f->first_name);
	f->first_name = NULL;
	return q;
}

static uint64_t lazy(struct pf *f, uint64_t *uuid, uint64_t parent, const char *name, unsigned unit)
{
	if (!*uuid)
		*uuid = declare(f, parent, name, unit);
	return *uuid;
}

/* The pending bytes sample: the states that changed, in one packet. */
static void put_bytes(struct pf *f, struct pb_proc *q)
{
	static const char *const names[MS_STATE_COUNT] = {NULL, "Reserved bytes", "Prepared bytes",
							  "Ready bytes"};
	int changed[MS_STATE_COUNT], n = 0;

	for (int s = MS_RESERVED; s < MS_STATE_COUNT; s++) {
		if (!q->emitted || q->pend[s] != q->last[s]) {
			lazy(f, &q->state_uuid[s], q->uuid, names[s], UNIT_SIZE_BYTES);
			changed[n++] = s;
		}
	}
	if (n) {
		/* the first state as the event's value, the others as extra counter values */
		packet_begin(f);
		ms_pb_uint(&f->pb, F_PKT_TIMESTAMP, q->pend_t);
		ms_pb_begin(&f->pb, F_PKT_TRACK_EVENT);
		ms_pb_uint(&f->pb, F_TE_TYPE, TYPE_COUNTER);
		ms_pb_uint(&f->pb, F_TE_TRACK, q->state_uuid[changed[0]]);
		ms_pb_int(&f->pb, F_TE_COUNTER, (int64_t)q->pend[changed[0]]);
		for (int i = 1; i < n; i++)
			ms_pb_uint(&f->pb, F_TE_EXTRA_UUIDS, q->state_uuid[changed[i]]);
		for (int i = 1; i < n; i++)
			ms_pb_int(&f->pb, F_TE_EXTRA_VALUES, (int64_t)q->pend[changed[i]]);
		ms_pb_end(&f->pb);
		packet_end(f);
	}
	memcpy(q->last, q->pend, sizeof(q->last));
	q->emitted = true;
	q->pending = false;
}

static void bytes_changed(struct pf *f, struct ms_tlp_proc *pr, struct pb_proc *q, uint64_t t)
{
	struct ms_totals tot;

	ms_space_totals(pr->base.sp, &tot);
	if (q->pending && q->pend_t != t)
		put_bytes(f, q);
	if (!q->pending && q->emitted && !memcmp(q->last, tot.bytes, sizeof(q->last)))
		return;
	if (!q->pending)
		q->pend_t = t;
	q->pending = true;
	memcpy(q->pend, tot.bytes, sizeof(q->pend));
}

static void put_fault_rate(struct pf *f, struct pb_proc *q, uint64_t t, uint64_t faults)
{
	counter(f, lazy(f, &q->faults_uuid, q->uuid, "page faults/s", UNIT_COUNT), t,
		(int64_t)(faults * 1000000000u / f->window));
}

static void fault(struct pf *f, struct pb_proc *q, uint64_t t)
{
	uint64_t w = t / f->window;

	if (q->win_open && w != q->win) {
		put_fault_rate(f, q, q->win * f->window, q->win_faults);
		if (w > q->win + 1)
			put_fault_rate(f, q, (q->win + 1) * f->window, 0);
		q->win_faults = 0;
	}
	q->win_open = true;
	q->win = w;
	q->win_faults++;
}

static void stat_changed(struct pf *f, struct ms_tlp_proc *pr, struct pb_proc *q, unsigned id,
			 uint64_t t)
{
	struct ms_stat_info info;
	char name[160];

	if (!id || ms_space_stat_info(pr->base.sp, id, &info))
		return;
	if (id >= q->nstat) {
		unsigned n = id + 16;
		uint64_t *u = realloc(q->stat_uuid, n * sizeof(*u)), *l;

		if (u)
			q->stat_uuid = u;
		l = u ? realloc(q->stat_last, n * sizeof(*l)) : NULL;
		if (!u || !l) {
			f->err = -ENOMEM;
			return;
		}
		q->stat_last = l;
		memset(u + q->nstat, 0, (n - q->nstat) * sizeof(*u));
		memset(l + q->nstat, 0, (n - q->nstat) * sizeof(*l));
		q->nstat = n;
	}
	if (q->stat_uuid[id] && q->stat_last[id] == info.bytes)
		return;
	snprintf(name, sizeof(name), "stat %s", info.name ? info.name : "?");
	counter(f, lazy(f, &q->stat_uuid[id], q->uuid, name, UNIT_SIZE_BYTES), t,
		(int64_t)info.bytes);
	q->stat_last[id] = info.bytes;
}

/* ------------------------------------------------------------------ mappings */

static void found_add(struct pf *f, struct pb_map *m)
{
	if (f->nfound == f->found_cap) {
		size_t cap = f->found_cap ? 2 * f->found_cap : 16;
		struct pb_map **v = realloc(f->found, cap * sizeof(*v));

		if (!v) {
			f->err = -ENOMEM;
			return;
		}
		f->found = v;
		f->found_cap = cap;
	}
	f->found[f->nfound++] = m;
}

/* Open region m's slice at t on the first free lane. */
static void map_begin(struct pf *f, struct pb_proc *q, struct pb_map *m, uint64_t t, uint64_t seq,
		      const char *stat)
{
	struct pb_lane *l;
	unsigned i;
	char name[24];

	for (i = 0; i < q->nlanes && q->lanes[i].busy; i++)
		;
	if (i == MAX_LANES) {
		m->lane = MAX_LANES;
		q->undrawn++;
		return;
	}
	l = &q->lanes[i];
	if (i == q->nlanes) {
		snprintf(name, sizeof(name), "mappings %u", i + 1);
		l->uuid = declare(f, lazy(f, &q->maps_uuid, q->uuid, "mappings", 0), name, 0);
		q->nlanes++;
	}
	l->busy = true;
	m->lane = i;
	if (t < l->last_end) /* times of different sources may step back a little */
		t = l->last_end;
	l->last_end = t;
	event_packet(f, t, IID_OP(m->op), CAT_MAPPING,
		     1u << DA_SEQ | 1u << DA_ADDR | 1u << DA_LEN | (stat ? 1u << DA_STAT : 0));
	event_head(f, TYPE_SLICE_BEGIN, l->uuid, IID_OP(m->op), CAT_MAPPING);
	ann_ptr(f, DA_ADDR, m->s);
	ann_uint(f, DA_LEN, m->e - m->s);
	ann_uint(f, DA_SEQ, seq);
	if (stat)
		ann_str(f, DA_STAT, stat);
	event_close(f);
}

static void map_end(struct pf *f, struct pb_proc *q, struct pb_map *m, uint64_t t, bool live)
{
	struct pb_lane *l;

	if (m->lane >= MAX_LANES)
		return;
	l = &q->lanes[m->lane];
	if (t < l->last_end)
		t = l->last_end;
	l->last_end = t;
	l->busy = false;
	event_packet(f, t, 0, 0, live ? 1u << DA_LIVE : 0);
	event_head(f, TYPE_SLICE_END, l->uuid, 0, 0);
	if (live)
		ann_uint(f, DA_LIVE, 1);
	event_close(f);
}

/*
 * Every region overlapping [s, e) into f->found; with create, the parts no region covers
 * become new regions, their slices opened.
 */
static void overlap(struct pf *f, struct pb_proc *q, uint64_t s, uint64_t e,
		    const struct ms_tl_item *it, const struct ms_event *ev, bool create)
{
	while (s < e && !f->err) {
		struct pb_map key = {.s = s, .e = e}, **hit = tfind(&key, &q->maps, map_cmp), *m;

		if (!hit) {
			if (!create)
				return;
			m = malloc(sizeof(*m));
			if (m) /* the tree orders by range: set it before inserting */
				*m = (struct pb_map){.s = s, .e = e, .op = ev->op};
			if (!m || !tsearch(m, &q->maps, map_cmp)) {
				free(m);
				f->err = -ENOMEM;
				return;
			}
			map_begin(f, q, m, ev->t_ns, ev->seq, it->event.stat);
			return;
		}
		m = *hit;
		found_add(f, m);
		if (m->s > s) /* the part before it, then go on after it */
			overlap(f, q, s, m->s, it, ev, create);
		s = m->e;
	}
}

/* twalk_r() visitors: close every slice (exec, exit, end), or copy a parent's at fork. */
struct walk_ctx {
	struct pf *f;	    /* the converter */
	struct pb_proc *q;  /* whose regions are walked */
	struct pb_proc *to; /* copy: the child */
	uint64_t t;	    /* when */
	bool live;	    /* close: still mapped (end of trace) */
	uint64_t seq;	    /* copy: the fork's event */
};

static void close_map(const void *node, VISIT which, void *arg)
{
	struct pb_map *m = *(struct pb_map *const *)node;
	struct walk_ctx *c = arg;

	if (which == postorder || which == leaf)
		map_end(c->f, c->q, m, c->t, c->live);
}

static void copy_map(const void *node, VISIT which, void *arg)
{
	const struct pb_map *m = *(struct pb_map *const *)node;
	struct walk_ctx *c = arg;
	struct pb_map *n;

	if (which != postorder && which != leaf)
		return;
	n = malloc(sizeof(*n));
	if (n)
		*n = (struct pb_map){.s = m->s, .e = m->e, .op = m->op};
	if (!n || !tsearch(n, &c->to->maps, map_cmp)) {
		free(n);
		c->f->err = -ENOMEM;
		return;
	}
	map_begin(c->f, c->to, n, c->t, c->seq, NULL);
}

static void close_all(struct pf *f, struct pb_proc *q, uint64_t t, bool live)
{
	struct walk_ctx c = {.f = f, .q = q, .t = t, .live = live};

	twalk_r(q->maps, close_map, &c);
	tdestroy(q->maps, free);
	q->maps = NULL;
}

static void mappings(struct pf *f, struct ms_tlp *p, const struct ms_tl_item *it,
		     const struct ms_tlp_step *st, struct pb_proc *q)
{
	const struct ms_event *ev = &st->ev;
	struct ms_tlp_proc *ppr;
	struct pb_proc *parent;
	uint64_t s, e;
	bool creates;

	if (ev->op == MS_OP_PROC_FORK && !q->maps && (ppr = ms_tlp_find(p, (uint32_t)ev->arg)) &&
	    (parent = ppr->user) && parent != q) {
		struct walk_ctx c = {.f = f, .to = q, .t = ev->t_ns, .seq = ev->seq};

		twalk_r(parent->maps, copy_map, &c);
	}
	if (ev->op == MS_OP_PROC_EXEC || ev->op == MS_OP_PROC_EXIT)
		close_all(f, q, ev->t_ns, false);
	if (ev->op >= MS_OP_PROC_FORK || !ev->len || (ev->flags & MS_EVF_FAILED))
		return;
	s = ev->addr;
	e = ev->addr + ev->len < ev->addr ? UINT64_MAX : ev->addr + ev->len;
	creates = ev->to != MS_NONE && ev->to < MS_STATE_COUNT && ev->from[MS_NONE] &&
		  ev->op != MS_OP_USED && ev->op != MS_OP_PAGE_FAULT;
	f->nfound = 0;
	overlap(f, q, s, e, it, ev, creates);
	/* A free that left a region without any owned byte ends its slice. */
	for (size_t i = 0; ev->to == MS_NONE && i < f->nfound; i++) {
		struct pb_map *m = f->found[i];
		uint64_t bytes[MS_STATE_COUNT];

		if (ms_space_bytes_in(st->proc->base.sp, m->s, m->e - m->s, bytes) ||
		    bytes[MS_NONE] != m->e - m->s)
			continue;
		map_end(f, q, m, ev->t_ns, false);
		tdelete(m, &q->maps, map_cmp);
		free(m);
	}
}

/* ------------------------------------------------------------------ events */

static void instants(struct pf *f, const struct ms_tl_item *it, const struct ms_tlp_step *st,
		     struct pb_proc *q)
{
	const struct ms_event *ev = &st->ev;
	uint64_t t = ev->t_ns, iid;
	const unsigned where = 1u << DA_SEQ | 1u << DA_TID | 1u << DA_ADDR | 1u << DA_LEN;
	uint64_t track;

	/* (a track is declared in a packet of its own, before the event's packet opens) */
	if (ev->violation) {
		iid = IID_VIOL(ev->violation);
		track = lazy(f, &q->viol_uuid, q->uuid, "violations", 0);
		event_packet(f, t, iid, CAT_VIOLATION, where | 1u << DA_MESSAGE);
		event_head(f, TYPE_INSTANT, track, iid, CAT_VIOLATION);
		ann_uint(f, DA_SEQ, ev->seq);
		ann_uint(f, DA_TID, ev->tid);
		ann_ptr(f, DA_ADDR, ev->addr);
		ann_uint(f, DA_LEN, ev->len);
		ann_str(f, DA_MESSAGE, st->message);
		event_close(f);
	}
	if ((ev->op == MS_OP_THP_COLLAPSE && !ev->result) || ev->op == MS_OP_HUGE_PAGE_COLLAPSE) {
		iid = ev->op == MS_OP_THP_COLLAPSE ? IID_EXTRA(EN_THP)
		      : ev->result		   ? IID_EXTRA(EN_REQ_FAILED)
						   : IID_EXTRA(EN_REQ);
		track = lazy(f, &q->thp_uuid, q->uuid, "THP", 0);
		event_packet(f, t, iid, CAT_THP, where | 1u << DA_RESULT);
		event_head(f, TYPE_INSTANT, track, iid, CAT_THP);
		ann_uint(f, DA_SEQ, ev->seq);
		ann_uint(f, DA_TID, ev->tid);
		ann_ptr(f, DA_ADDR, ev->addr);
		ann_uint(f, DA_LEN, ev->len);
		ann_int(f, DA_RESULT, ev->result);
		event_close(f);
	}
	if (f->ops && ev->op != MS_OP_PAGE_FAULT) {
		iid = IID_OP(ev->op);
		track = lazy(f, &q->ops_uuid, q->uuid, "operations", 0);
		event_packet(f, t, iid, CAT_OP,
			     where | 1u << DA_SOURCE | 1u << DA_TO |
				     (it->event.stat ? 1u << DA_STAT : 0));
		event_head(f, TYPE_INSTANT, track, iid, CAT_OP);
		ann_uint(f, DA_SEQ, ev->seq);
		ann_uint(f, DA_TID, ev->tid);
		ann_ptr(f, DA_ADDR, ev->addr);
		ann_uint(f, DA_LEN, ev->len);
		ann_str(f, DA_SOURCE, ms_source_name(ev->source));
		ann_str(f, DA_TO, ev->to < MS_STATE_COUNT ? ms_state_name(ev->to) : "unchanged");
		if (it->event.stat)
			ann_str(f, DA_STAT, it->event.stat);
		event_close(f);
	}
}

static void on_event(struct pf *f, struct ms_tlp *p, const struct ms_tl_item *it,
		     const struct ms_tlp_step *st)
{
	const struct ms_event *ev = &st->ev;
	struct pb_proc *q = pb_of(f, st->proc);
	uint64_t t = ev->t_ns;

	if (!q)
		return;
	q->last_t = t;
	if (st->changed || ev->op == MS_OP_PROC_FORK || ev->op == MS_OP_PROC_EXEC || !q->emitted)
		bytes_changed(f, st->proc, q, t);
	if (ev->op == MS_OP_PAGE_FAULT)
		fault(f, q, t);
	if (ev->resident_delta) { /* as the replay's space computed it (SPEC 8) */
		q->resident += ev->resident_delta;
		counter(f, lazy(f, &q->resident_uuid, q->uuid, "resident bytes", UNIT_SIZE_BYTES),
			t, q->resident);
	}
	if (ev->stat && (ev->op == MS_OP_ALLOC || ev->op == MS_OP_MAP || ev->op == MS_OP_FREE))
		stat_changed(f, st->proc, q, ev->stat, t);
	instants(f, it, st, q);
	mappings(f, p, it, st, q);
}

/* The end: what is still pending or open for each process, and its name. */
static void finish_procs(struct pf *f, struct ms_tlp *p)
{
	for (size_t i = 0; i < ms_tlp_nprocs(p); i++) {
		struct ms_tlp_proc *pr = ms_tlp_proc_at(p, i);
		struct pb_proc *q = pr->user;

		if (!q)
			continue;
		if (q->pending)
			put_bytes(f, q);
		if (q->win_open) {
			put_fault_rate(f, q, q->win * f->window, q->win_faults);
			put_fault_rate(f, q, (q->win + 1) * f->window, 0);
		}
		close_all(f, q, pr->last_ns > q->last_t ? pr->last_ns : q->last_t, true);
		if (pr->exe && *pr->exe)
			process_descriptor(f, q->uuid, pr->base.pid, base_name(pr->exe));
	}
}

static void free_procs(struct ms_tlp *p)
{
	for (size_t i = 0; i < ms_tlp_nprocs(p); i++) {
		struct ms_tlp_proc *pr = ms_tlp_proc_at(p, i);
		struct pb_proc *q = pr->user;

		if (!q)
			continue;
		tdestroy(q->maps, free);
		free(q->stat_uuid);
		free(q->stat_last);
		free(q);
		pr->user = NULL;
	}
}

int ms_conv_perfetto_pb(struct ms_tlp *p, int fd, const struct ms_conv_opts *o)
{
	struct pf f = {.window = o->fault_window, .ops = o->ops, .next_uuid = 1};
	struct ms_tlp_step st;
	struct ms_tl_item it;
	char first[256] = "";
	int ret, err;

	if (ms_jb_init(&f.b, fd, 1 << 18))
		return ms_conv_error(o, -ENOMEM, "out of memory");
	if (o->zstd && (err = ms_jb_set_zstd(&f.b, 0))) {
		ms_jb_release(&f.b);
		return ms_conv_error(o, err, "writing %s: %s", o->out_name, strerror(-err));
	}
	ms_pb_init(&f.pb);
	/* The sequence starts with its incremental state (interned names) cleared. */
	packet_begin(&f);
	ms_pb_uint(&f.pb, F_PKT_SEQ_FLAGS, SEQ_CLEARED);
	packet_end(&f);
	while ((ret = ms_tlp_next(p, &it, &st)) == 1 && !f.b.err && !f.err) {
		if (it.type == MS_TLI_HEADER && it.header.argc) {
			snprintf(first, sizeof(first), "%s", base_name(it.header.argv[0]));
			f.first_name = first;
		}
		if (it.type == MS_TLI_EVENT)
			on_event(&f, p, &it, &st);
	}
	if (ret != 1 && (ret = ms_conv_input_end(o, p, ret)))
		goto out;
	if (!f.err)
		finish_procs(&f, p);
	err = f.err ? f.err : ms_jb_end(&f.b);
	ret = err ? ms_conv_error(o, err, "writing %s: %s", o->out_name, strerror(-err)) : 0;
out:
	free_procs(p);
	free(f.found);
	ms_pb_release(&f.pb);
	ms_jb_release(&f.b);
	return ret;
}
