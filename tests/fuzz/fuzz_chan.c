// SPDX-License-Identifier: MIT
/*
 * Fuzz target "chan": a hostile traced program writing into its API channel slot.
 *
 * The input is a script for the program's side of the shared memory: claim slots in any
 * pid's name (a real child of ours, the tracer itself, init, a pid that is gone, garbage),
 * push events (plausible ones and raw bytes), publish stat names without a NUL, scribble on
 * the ring header (magic, capacity, head, tail, drop counter) between polls and *while the
 * tracer reads* (from inside the sink callback, the worst moment a concurrent writer could
 * pick). The tracer side is the real one: tracer/chan.c feeding tracer/trace.c, streaming a
 * timeline to a memory file.
 *
 * Oracles: no crash, leak or undefined behaviour; every record the tracer takes is an API
 * operation of a slot owner it may trust (our child, or a pid that is gone), never the
 * tracer's or init's; stat names are short strings; the timeline it writes reads back
 * whole, `check` agrees with every event; records lost are counted, and when the program
 * did not tamper with the ring, delivered + lost is exactly what it pushed.
 */
#include <errno.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "export/playback.h"
#include "memstate/timeline.h"
#include "fuzz.h"
#include "memstate/channel.h"
#include "lib/source.h"
#include "tracer/trace.h"

#define NOWNERS 5

static pid_t child;		 /* a live descendant: the legitimate owner */
static pid_t gone;		 /* a pid no process has */
static uint32_t owners[NOWNERS]; /* the names a slot may be claimed in */
static struct fuzz_file out;

/* The sink between the channel and the trace: checks, counts, and scribbles on cue. */
struct wrap {
	const struct ms_sink *next;
	void *mem;			    /* our (the program's) view of the channel */
	uint64_t taken;			    /* records the tracer took */
	uint64_t lost;			    /* records it said were lost */
	int scribble;			    /* armed: scribble on the next record (field + 1) */
	uint64_t value;			    /* with this value */
	unsigned slot;			    /* on this slot */
	uint32_t slot_owner[MS_CHAN_SLOTS]; /* owners as we last set them */
};

static struct wrap W;

static void scribble(void *mem, unsigned slot, int field, uint64_t v)
{
	struct ms_ring *r = ms_chan_ring(ms_chan_slot(mem, slot));

	switch (field % 8) {
	case 0:
		r->magic = (uint32_t)v;
		break;
	case 1:
		r->capacity = (uint32_t)v;
		break;
	case 2:
		r->head = v;
		break;
	case 3:
		r->head += v % 100000;
		break;
	case 4:
		r->tail = v;
		break;
	case 5:
		r->dropped = v;
		break;
	case 6:
		r->rec_size = (uint32_t)v;
		break;
	default:
		r->version = (uint32_t)v;
		break;
	}
}

static void w_api(void *ctx, struct ms_event *ev, const char *stat)
{
	bool trusted = false;

	(void)ctx;
	for (unsigned i = 0; i < MS_CHAN_SLOTS; i++)
		trusted |= W.slot_owner[i] == ev->pid;
	fuzz_check(ev->pid == (uint32_t)child || ev->pid == (uint32_t)gone,
		   "a record in the name of pid %u was taken (child %d, gone %d)", ev->pid,
		   (int)child, (int)gone);
	fuzz_check(trusted, "pid %u owns no slot", ev->pid);
	fuzz_check(ev->source == MS_SRC_API && ev->op <= MS_OP_HUGE_PAGE_COLLAPSE,
		   "record source %u op %u", ev->source, ev->op);
	fuzz_check(stat && strlen(stat) < MS_CHAN_STAT_LEN, "stat name");
	W.taken++;
	if (W.scribble) { /* the program writes while the tracer reads */
		scribble(W.mem, W.slot, W.scribble - 1, W.value);
		W.scribble = 0;
	}
	W.next->on_api(W.next->ctx, ev, stat);
}

static void w_lost(void *ctx, uint64_t n, const char *where)
{
	(void)ctx;
	W.lost += n;
	W.next->on_lost(W.next->ctx, n, where);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	child = fork();
	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	/* A pid that is free now (and stays so for the run, most likely). */
	for (gone = 4000000; gone > 300 && !(kill(gone, 0) && errno == ESRCH); gone--)
		;
	owners[0] = (uint32_t)child;
	owners[1] = (uint32_t)getpid(); /* the tracer itself */
	owners[2] = 1;			/* init: alive, not ours */
	owners[3] = (uint32_t)gone;
	owners[4] = 0xfffffff0u; /* not a pid at all */
	fuzz_file_init(&out, "fuzz-chan-out");
	return 0;
}

/* A plausible API event (so that the trace applies it), or raw bytes. */
static void make_event(struct fuzz_in *in, struct ms_event *ev)
{
	uint8_t b = fuzz_u8(in);

	if (b & 1) {
		fuzz_bytes(in, ev, sizeof(*ev));
		return;
	}
	memset(ev, 0, sizeof(*ev));
	ev->op = (uint8_t)(b >> 1) % (MS_OP_HUGE_PAGE_COLLAPSE + 1);
	ev->addr = 0x10000000ull + (uint64_t)fuzz_u8(in) * 4096;
	ev->len = (uint64_t)(1 + fuzz_u8(in) % 16) * 4096;
	ev->arg = (uint64_t)fuzz_u8(in) * 4096;
	ev->stat = fuzz_u8(in) % 8;
	ev->tid = fuzz_u8(in) & 0x80 ? fuzz_u32(in) : 0;
	ev->t_ns = 0;
	ev->flags = b & 0x80 ? MS_EVF_NOTE : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {.p = data, .n = size};
	struct ms_source_cfg cfg = {0};
	struct ms_tl_header hdr = {.page_size = 4096, .tool = "fuzz_chan"};
	struct ms_trace_opts topts = {.files = true, .window_ns = 1};
	struct ms_tl_writer *w;
	struct ms_trace *t;
	struct ms_sink sink;
	uint64_t pushed = 0, push_fail = 0;
	bool tampered = false;
	void *st = NULL;
	unsigned steps = 0;
	int err = 0;

	fuzz_file_set(&out, NULL, 0);
	w = ms_tlw_fdopen(out.fd, MS_TL_JSONL, &err);
	fuzz_check(w != NULL, "writer");
	fuzz_check(!ms_tlw_header(w, &hdr), "header");
	topts.writer = w;
	t = ms_trace_new(&topts);
	/* As `memstate run` does: the program it started is known before any record. */
	ms_trace_add_process(t, (uint32_t)child, (uint32_t)getpid(), "hostile");
	memset(&W, 0, sizeof(W));
	W.next = ms_trace_sink(t);
	sink = (struct ms_sink){.ctx = &W, .on_api = w_api, .on_lost = w_lost};
	fuzz_check(!ms_src_channel.open(&cfg, &sink, &st), "channel");
	W.mem = mmap(NULL, ms_chan_bytes(), PROT_READ | PROT_WRITE, MAP_SHARED,
		     ms_src_channel_fd(st), 0);
	fuzz_check(W.mem != MAP_FAILED, "map the channel");

	/*
	 * A program that lies about head costs the tracer one ring per slot and poll, by
	 * design, and a ring (16384 records, traced, written and read back) a good part of a
	 * second here: the script stops after one ring's worth, and uses five slots (the first
	 * three, the last two), so that no input runs into libFuzzer's timeout.
	 */
	while (fuzz_left(&in) && steps++ < 256 && W.taken < MS_CHAN_RING_RECS) {
		uint8_t op = fuzz_u8(&in), a = fuzz_u8(&in);
		unsigned slot = a & 0x40 ? MS_CHAN_SLOTS - 1 - a % 2 : a % 3;
		struct ms_chan_slot *s = ms_chan_slot(W.mem, slot);
		struct ms_ring *r = ms_chan_ring(s);
		struct ms_event ev;

		switch (op % 9) {
		case 0: /* claim, in someone's name */
			/* The library claims free slots only, whose ring the tracer reset. */
			tampered |= s->owner || r->head || r->dropped;
			s->owner = owners[(a >> 2) % NOWNERS];
			s->generation++;
			W.slot_owner[slot] = s->owner;
			break;
		case 1: { /* push a few, or flood (rarely: a flood costs the run ~0.3 s) */
			unsigned n = fuzz_u8(&in) == 0xff ? MS_CHAN_RING_RECS + 100 : 1 + a % 32;

			make_event(&in, &ev);
			tampered |= !s->owner;
			for (unsigned k = 0; k < n; k++) {
				pushed++;
				if (ms_ring_push(r, &ev))
					push_fail++;
				ev.addr += 4096;
			}
			break;
		}
		case 2: /* a stat name, maybe without its NUL */
			fuzz_bytes(&in, s->stat_names[fuzz_u8(&in) % MS_CHAN_STATS],
				   MS_CHAN_STAT_LEN);
			break;
		case 3: /* scribble on the ring header between polls */
			scribble(W.mem, slot, fuzz_u8(&in), fuzz_u64(&in));
			tampered = true;
			break;
		case 4:
		case 5:
			ms_src_channel.poll(st, 0);
			ms_trace_flush(t, false);
			break;
		case 6: /* ... and while the tracer reads */
			W.scribble = 1 + fuzz_u8(&in);
			W.value = fuzz_u64(&in);
			W.slot = slot;
			tampered = true;
			break;
		case 7: /* raw bytes over a record */
			fuzz_bytes(&in, &r->recs[fuzz_u16(&in) % MS_CHAN_RING_RECS],
				   sizeof(struct ms_event));
			break;
		default: /* give the slot up */
			s->owner = 0;
			tampered = true;
			break;
		}
	}
	ms_src_channel.stop(st);
	fuzz_check(!ms_trace_finish(t, NULL, "fuzz"), "finish");
	fuzz_check(!ms_tlw_close(w), "close");
	munmap(W.mem, ms_chan_bytes());
	ms_src_channel.close(st);
	ms_trace_free(t);

	/* The timeline reads back whole and the replay agrees with every event. */
	{
		struct ms_tlp_step stp;
		struct ms_tl_item it;
		char msg[600];
		struct ms_tlp *p = ms_tlp_open(out.path, msg, sizeof(msg));
		struct ms_totals sum;
		int ret;

		fuzz_check(p != NULL, "timeline: %s", msg);
		while ((ret = ms_tlp_next(p, &it, &stp)) == 1)
			;
		fuzz_check(ret == MS_TLR_END, "timeline: %d %s", ret, ms_tlp_error(p));
		if (ms_tlp_disagreements(p)) {
			const char *const *l;

			ms_tlp_disagreement_lines(p, &l);
			fuzz_fail("check disagrees: %s", l[0]);
		}
		fuzz_check(ms_tlp_recorded_summary(p, &sum), "no summary");
		fuzz_check(sum.dropped_events == W.lost, "summary says %llu dropped, %llu lost",
			   (unsigned long long)sum.dropped_events, (unsigned long long)W.lost);
		ms_tlp_close(p);
	}
	/* Untouched rings: every push was delivered or counted, none twice. */
	if (!tampered) {
		bool all_ok = true;

		for (unsigned i = 0; i < MS_CHAN_SLOTS; i++)
			all_ok &= !W.slot_owner[i] || W.slot_owner[i] == (uint32_t)child ||
				  W.slot_owner[i] == (uint32_t)gone;
		if (all_ok)
			fuzz_check(
				W.taken + W.lost == pushed && W.lost >= push_fail,
				"pushed %llu (%llu refused by a full ring), taken %llu, lost %llu",
				(unsigned long long)pushed, (unsigned long long)push_fail,
				(unsigned long long)W.taken, (unsigned long long)W.lost);
	}
	return 0;
}
