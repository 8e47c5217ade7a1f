// SPDX-License-Identifier: MIT
/*
 * TUI benchmarks (targets, not timed tests):
 *
 *   frame  one frame built from a shadow map of N regions (default 100000): the scan step
 *          (snapshot, auto scale, layout), the visible cells with heat, and the drawing into
 *          curses on an 80x24 and a 200x60 screen written to /dev/null. Target: <= 10 ms.
 *   live   the live view's frames per second while a producer thread applies and publishes
 *          events at a chosen rate (default 1M/s): the producer's rate with and without the
 *          view, and the view at its own 10 Hz cadence and flat out. Target: >= 10 frames/s
 *          with the producer at 1M events/s.
 *
 * Usage: bench_tui [frame [NREGIONS]] [live [RATE [SECONDS]]]   (no argument: both)
 * Without curses (MS_HAVE_CURSES unset) the drawing step is left out and said so.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tui/tui.h"

#ifdef MS_HAVE_CURSES
#include <curses.h>
#endif

#define PS 4096ull

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void drain(struct ms_space *sp, void *ctx)
{
	struct ms_event sink[64];

	(void)ctx;
	while (ms_space_events_read_locked(sp, sink, 64))
		;
}

static struct ms_space *new_space(void)
{
	struct ms_space_opts o = {.page_size = PS, .log_capacity = 1024, .on_full = drain};

	return ms_space_new(&o);
}

static void apply(struct ms_space *sp, unsigned op, unsigned src, uint64_t a, uint64_t len,
		  uint64_t arg)
{
	struct ms_event ev = {.op = (uint8_t)op,
			      .source = (uint8_t)src,
			      .addr = a,
			      .len = len,
			      .arg = arg,
			      .pid = 1,
			      .tid = 1};

	ms_space_apply(sp, &ev);
}

/*
 * n regions of one to three pages in all three states, one page apart, in groups of 1000
 * spread a TiB from each other: the layout has areas, inline holes and breaks to do.
 */
static struct ms_space *build_map(size_t n)
{
	struct ms_space *sp = new_space();
	struct ms_totals tot = {0};

	/* an alloc with its first page given back is two regions: stop at n */
	for (size_t i = 0; sp && tot.regions < n; i++, ms_space_totals(sp, &tot)) {
		uint64_t a = 0x100000000ull + (i / 1000) * (1ull << 40) + (i % 1000) * 5 * PS;
		uint64_t len = (1 + i % 3) * PS;

		switch (i % 3) {
		case 0:
			apply(sp, MS_OP_RESERVE, MS_SRC_API, a, len, 0);
			break;
		case 1:
			apply(sp, MS_OP_ALLOC, MS_SRC_API, a, len, 0);
			break;
		default:
			apply(sp, MS_OP_ALLOC, MS_SRC_API, a, len, 0);
			apply(sp, MS_OP_UNUSED, MS_SRC_API, a, PS, 0);
		}
	}
	return sp;
}

/* A struct tui over a live feed, as ms_tui_run sets it up. */
static struct tui *tui_over(struct ms_live *live)
{
	struct tui *t = calloc(1, sizeof(*t));

	if (!t || tui_model_init(&t->m)) {
		free(t);
		return NULL;
	}
	t->live = live;
	t->rbuf = calloc(MS_LIVE_RECENT, sizeof(*t->rbuf));
	t->rmsgs = calloc(TUI_VMSG_CAP, sizeof(*t->rmsgs));
	t->lst = calloc(1, sizeof(*t->lst));
	if (!t->rbuf || !t->rmsgs || !t->lst)
		return NULL;
	return t;
}

static void tui_gone(struct tui *t)
{
	tui_model_free(&t->m);
	free(t->rbuf);
	free(t->rmsgs);
	free(t->lst);
	free(t->cells);
	free(t);
}

#ifdef MS_HAVE_CURSES
/* A curses screen of cols x rows that writes to /dev/null. */
static SCREEN *null_screen(int cols, int rows, FILE **out, FILE **in)
{
	char c[16], r[16];
	SCREEN *s;

	snprintf(c, sizeof(c), "%d", cols);
	snprintf(r, sizeof(r), "%d", rows);
	setenv("COLUMNS", c, 1);
	setenv("LINES", r, 1);
	use_env(TRUE);
	*out = fopen("/dev/null", "w");
	*in = fopen("/dev/null", "r");
	s = newterm("xterm-256color", *out, *in);
	if (!s)
		return NULL;
	set_term(s);
	start_color();
	return s;
}

static void null_screen_end(SCREEN *s, FILE *out, FILE *in)
{
	endwin();
	delscreen(s);
	fclose(out);
	fclose(in);
}
#endif

/* One frame as the live loop builds it: geometry, scan, draw. */
static void frame(struct tui *t, bool draw)
{
#ifdef MS_HAVE_CURSES
	if (draw) {
		tui_layout_geometry(t);
		tui_scan(t);
		tui_draw(t);
		return;
	}
#endif
	(void)draw;
	tui_scan(t);
	{
		size_t count = (size_t)t->map_rows * (size_t)t->map_cols;

		if (count > t->cells_cap) {
			free(t->cells);
			t->cells = calloc(count, sizeof(*t->cells));
			t->cells_cap = count;
		}
		ms_map_cells(&t->m.map, t->top * (uint64_t)t->map_cols, count, t->cells);
		ms_heat_apply(&t->m.heat, &t->m.map, t->top * (uint64_t)t->map_cols, count,
			      t->cells, t->m.heat_now, t->m.heat_window);
	}
}

/* ------------------------------------------------------------------ frame */

/* The model's share of a frame, from a snapshot already taken: auto scale and layout,
 * then the cells of a 200x60 screen with their heat. */
static void bench_from_snapshot(struct ms_space *sp)
{
	struct ms_snapshot *s = ms_space_snapshot(sp);
	struct ms_cell *cells = calloc(187 * 48, sizeof(*cells));
	struct ms_heat heat;
	struct ms_map m = {0};
	uint64_t lay[100], cel[100];

	ms_heat_init(&heat, 4096);
	for (int i = 0; i < 4096; i++)
		ms_heat_add(&heat, s->regions[(size_t)i * 7 % s->nregions].start, 1000);
	for (int i = 0; i < 100; i++) {
		uint64_t t0 = now_ns(), sc, first;

		sc = ms_map_auto_scale(s->regions, s->nregions, PS, 187 * 48);
		ms_map_layout(&m, s->regions, s->nregions, sc >> (i % 4));
		lay[i] = now_ns() - t0;
		t0 = now_ns();
		first = ms_map_cell_of(&m, s->regions[(size_t)i * 997 % s->nregions].start);
		ms_map_cells(&m, first, 187 * 48, cells);
		ms_heat_apply(&heat, &m, first, 187 * 48, cells, 1000, 2000);
		cel[i] = now_ns() - t0;
	}
	qsort(lay, 100, sizeof(lay[0]), cmp_u64);
	qsort(cel, 100, sizeof(cel[0]), cmp_u64);
	printf("  from the snapshot: auto scale + layout median %.2f ms (max %.2f), "
	       "200x60 cells + heat median %.2f ms (max %.2f)\n",
	       lay[50] / 1e6, lay[99] / 1e6, cel[50] / 1e6, cel[99] / 1e6);
	ms_map_free(&m);
	ms_heat_free(&heat);
	free(cells);
	ms_snapshot_free(s);
}

static void bench_frame(size_t n)
{
	static const int sizes[][2] = {{80, 24}, {200, 60}};
	struct ms_space *sp = build_map(n);
	struct ms_live *live = calloc(1, sizeof(*live));
	uint64_t t0, snap_ns[50], fr[200];
	struct ms_totals tot;

	if (!sp || !live) {
		fprintf(stderr, "bench_tui: out of memory\n");
		exit(1);
	}
	ms_space_totals(sp, &tot);
	ms_live_init(live);
	ms_live_add_proc(live, 1, 0, "bench", sp);
	printf("frame: a map of %" PRIu64 " regions\n", tot.regions);
	for (int i = 0; i < 50; i++) {
		struct ms_snapshot *s;

		t0 = now_ns();
		s = ms_space_snapshot(sp);
		snap_ns[i] = now_ns() - t0;
		ms_snapshot_free(s);
	}
	qsort(snap_ns, 50, sizeof(snap_ns[0]), cmp_u64);
	printf("  ms_space_snapshot (copy under the space's lock): median %.2f ms, max %.2f ms\n",
	       snap_ns[25] / 1e6, snap_ns[49] / 1e6);
	bench_from_snapshot(sp);
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct tui *t = tui_over(live);
		bool draw = false;
#ifdef MS_HAVE_CURSES
		FILE *out, *in;
		SCREEN *s = null_screen(sizes[k][0], sizes[k][1], &out, &in);

		draw = s != NULL;
#endif
		if (!t)
			exit(1);
		t->cols = sizes[k][0];
		t->rows = sizes[k][1];
		t->map_cols = t->cols - 13;
		t->map_rows = t->rows - 12;
		t->label_digits = 12;
		for (int i = 0; i < 200; i++) {
			/* walk the cursor so each frame draws another part of the map */
			struct ms_event ev = {.op = MS_OP_HUGE_PAGE, .pid = 1, .seq = (uint64_t)i};

			t->cursor_set = true;
			t->cursor_addr = 0x100000000ull + (uint64_t)(i % 100) * (1ull << 40);
			/* something was published: the frame must take a fresh snapshot */
			ms_live_publish(live, &ev, NULL);
			t0 = now_ns();
			frame(t, draw);
			fr[i] = now_ns() - t0;
		}
		qsort(fr, 200, sizeof(fr[0]), cmp_u64);
		printf("  whole live frame (snapshot, scan, layout, draw) %dx%d%s: median %.2f ms, "
		       "p99 %.2f ms, max %.2f ms (scale %" PRIu64 " B/cell, %" PRIu64 " cells)\n",
		       sizes[k][0], sizes[k][1], draw ? "" : " (no drawing: built without curses)",
		       fr[100] / 1e6, fr[198] / 1e6, fr[199] / 1e6, t->m.map.scale,
		       t->m.map.ncells);
#ifdef MS_HAVE_CURSES
		if (s)
			null_screen_end(s, out, in);
#endif
		tui_gone(t);
	}
	ms_space_free(sp);
	free(live);
}

/* ------------------------------------------------------------------ live */

struct producer {
	struct ms_live *live;	   /* where events go */
	struct ms_space *space;	   /* what they are applied to */
	uint64_t rate;		   /* events/s, 0: flat out */
	atomic_bool stop;	   /* end the thread */
	atomic_uint_fast64_t done; /* events produced */
};

/*
 * The tracer's work per event: apply to the space under its lock, publish. A heap of 4096
 * spans goes Ready and back, the program faults in it: cheap operations, as a busy
 * allocator's are.
 */
static void *produce(void *arg)
{
	struct producer *p = arg;
	const uint64_t base = 0xc000000000ull, spans = 4096;
	uint64_t rng = 0x9e3779b97f4a7c15ull, start = now_ns(), n = 0;

	apply(p->space, MS_OP_RESERVE, MS_SRC_API, base, spans * 8 * PS, 0);
	apply(p->space, MS_OP_MAP, MS_SRC_API, base, spans * 8 * PS, 0);
	while (!atomic_load_explicit(&p->stop, memory_order_relaxed)) {
		for (int i = 0; i < 1000; i++, n++) {
			struct ms_event ev = {.pid = 1, .tid = 1, .t_ns = now_ns()};
			uint64_t span;

			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			span = rng % spans;
			ev.addr = base + span * 8 * PS;
			switch (n % 4) {
			case 0:
				ev.op = MS_OP_USED;
				ev.len = 8 * PS;
				ev.source = MS_SRC_UPROBE;
				break;
			case 1:
			case 2:
				ev.op = MS_OP_PAGE_FAULT;
				ev.len = PS;
				ev.source = MS_SRC_KERNEL;
				ev.addr += (rng >> 20) % (8 * PS);
				break;
			default:
				ev.op = MS_OP_UNUSED;
				ev.len = 8 * PS;
				ev.source = MS_SRC_UPROBE;
			}
			if (ev.op == MS_OP_USED) {
				uint64_t b[MS_STATE_COUNT];

				ms_space_bytes_in(p->space, ev.addr, ev.len, b);
				ev.arg = b[MS_PREPARED];
			}
			ms_space_apply(p->space, &ev);
			ms_live_publish(p->live, &ev, NULL);
		}
		atomic_store_explicit(&p->done, n, memory_order_relaxed);
		if (p->rate) {
			uint64_t due = start + n * 1000000000ull / p->rate, t = now_ns();

			if (due > t) {
				struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)(due - t)};

				if (due - t >= 1000000000ull)
					ts = (struct timespec){.tv_sec = 1};
				nanosleep(&ts, NULL);
			}
		}
	}
	return NULL;
}

struct live_result {
	double rate;	 /* events/s the producer reached */
	double fps;	 /* frames/s the view drew (0: no view) */
	double frame_ms; /* median frame */
	double worst_ms; /* slowest frame */
};

/* cadence_ns 0: no view; 1: flat out; else the view's period. */
static struct live_result run_live(uint64_t rate, double seconds, uint64_t cadence_ns)
{
	struct ms_live *live = calloc(1, sizeof(*live));
	struct producer p = {.live = live, .space = new_space(), .rate = rate};
	struct live_result res = {0};
	static uint64_t fr[100000];
	uint64_t t0, end, frames = 0, n0;
	struct tui *t = NULL;
	pthread_t th;
	bool draw = false;
#ifdef MS_HAVE_CURSES
	FILE *out = NULL, *in = NULL;
	SCREEN *s = NULL;
#endif

	ms_live_init(live);
	ms_live_add_proc(live, 1, 0, "bench", p.space);
	if (cadence_ns) {
		t = tui_over(live);
#ifdef MS_HAVE_CURSES
		s = null_screen(120, 40, &out, &in);
		draw = s != NULL;
#endif
		t->cols = 120;
		t->rows = 40;
		t->map_cols = 107;
		t->map_rows = 24;
		t->label_digits = 12;
	}
	pthread_create(&th, NULL, produce, &p);
	/* let it get going, then measure */
	while (atomic_load(&p.done) < 10000)
		;
	t0 = now_ns();
	n0 = atomic_load(&p.done);
	end = t0 + (uint64_t)(seconds * 1e9);
	while (now_ns() < end) {
		uint64_t f0 = now_ns();

		if (!t) {
			struct timespec ts = {.tv_nsec = 10000000};

			nanosleep(&ts, NULL);
			continue;
		}
		frame(t, draw);
		if (frames < sizeof(fr) / sizeof(fr[0]))
			fr[frames] = now_ns() - f0;
		frames++;
		if (cadence_ns > 1) {
			uint64_t spent = now_ns() - f0;

			if (spent < cadence_ns) {
				struct timespec ts = {.tv_nsec = (long)(cadence_ns - spent)};

				nanosleep(&ts, NULL);
			}
		}
	}
	res.rate = (double)(atomic_load(&p.done) - n0) * 1e9 / (double)(now_ns() - t0);
	atomic_store(&p.stop, true);
	pthread_join(th, NULL);
	if (frames) {
		uint64_t k =
			frames < sizeof(fr) / sizeof(fr[0]) ? frames : sizeof(fr) / sizeof(fr[0]);

		res.fps = (double)frames / seconds;
		qsort(fr, k, sizeof(fr[0]), cmp_u64);
		res.frame_ms = fr[k / 2] / 1e6;
		res.worst_ms = fr[k - 1] / 1e6;
	}
#ifdef MS_HAVE_CURSES
	if (s)
		null_screen_end(s, out, in);
#endif
	if (t)
		tui_gone(t);
	ms_space_free(p.space);
	free(live);
	return res;
}

static void bench_live(uint64_t rate, double seconds)
{
	struct live_result r;

	printf("live: producer asked for %" PRIu64 " events/s, %.0f s per run\n", rate, seconds);
	r = run_live(0, seconds, 0);
	printf("  producer alone, flat out:          %8.2f M events/s\n", r.rate / 1e6);
	r = run_live(rate, seconds, 0);
	printf("  producer alone, paced:             %8.2f M events/s\n", r.rate / 1e6);
	r = run_live(rate, seconds, 100000000ull);
	printf("  with the view at 10 Hz:            %8.2f M events/s, %5.1f frames/s, frame "
	       "median %.2f ms, worst %.2f ms\n",
	       r.rate / 1e6, r.fps, r.frame_ms, r.worst_ms);
	r = run_live(rate, seconds, 1);
	printf("  with the view flat out:            %8.2f M events/s, %5.1f frames/s, frame "
	       "median %.2f ms, worst %.2f ms\n",
	       r.rate / 1e6, r.fps, r.frame_ms, r.worst_ms);
}

int main(int argc, char **argv)
{
	bool any = false;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "frame")) {
			size_t n = i + 1 < argc && argv[i + 1][0] != 'l'
					   ? strtoul(argv[++i], NULL, 0)
					   : 100000;

			bench_frame(n);
			any = true;
		} else if (!strcmp(argv[i], "live")) {
			uint64_t rate = 1000000;
			double secs = 3;

			if (i + 1 < argc)
				rate = strtoull(argv[++i], NULL, 0);
			if (i + 1 < argc)
				secs = strtod(argv[++i], NULL);
			bench_live(rate, secs);
			any = true;
		} else {
			fprintf(stderr,
				"usage: bench_tui [frame [NREGIONS]] [live [RATE [SECONDS]]]\n");
			return 2;
		}
	}
	if (!any) {
		bench_frame(100000);
		bench_live(1000000, 3);
	}
	return 0;
}
