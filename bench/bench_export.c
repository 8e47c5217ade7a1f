// SPDX-License-Identifier: MIT
/*
 * bench_export: how fast timelines are written, read and replayed.
 *
 *   bench_export [-n EVENTS] [-o PATH] [--jsonl]
 *
 * A goheap-like workload (a 1 GiB arena reserved, mapped 4 MiB at a time, spans made
 * Ready and given back at random, page faults, huge-page hints) is applied to a shadow
 * space; its events are then written with the timeline writer (timed alone), read back
 * with the reader, and replayed with the playback engine, each timed. The file stays at
 * PATH for bench/bench_export.sh, which times the CLI on it with /usr/bin/time -v.
 * Targets: write >= 1M events/s; read + convert 1M events <= 3 s in <= 256 MiB.
 */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "export/playback.h"
#include "lib/reader.h"
#include "memstate/timeline.h"
#include "memstate/space.h"

#define PAGE  8192ull
#define ARENA (1ull << 30)
#define CHUNK (4ull << 20)
#define BASE  0xc000000000ull

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

/* The workload: n events into sp, copied out to evs. */
static size_t workload(struct ms_space *sp, struct ms_event *evs, size_t n, int heap)
{
	uint64_t seed = 42, mapped = 0, t = 1000;
	size_t k = 0;
	struct ms_event ev;

#define APPLY(...)                                                                                 \
	do {                                                                                       \
		ev = (struct ms_event){.pid = 1000, .tid = 1000, .t_ns = (t += 700), __VA_ARGS__}; \
		ms_space_apply(sp, &ev);                                                           \
		ms_space_events_read(sp, &evs[k], 1);                                              \
		k++;                                                                               \
	} while (0)

	APPLY(.op = MS_OP_RESERVE, .addr = BASE, .len = ARENA, .arg = BASE);
	while (k < n) {
		uint64_t r = rnd(&seed), pages, at;
		uint64_t bytes[MS_STATE_COUNT];

		if (mapped < CHUNK || (mapped < ARENA && r % 64 == 0)) {
			APPLY(.op = MS_OP_MAP, .addr = BASE + mapped, .len = CHUNK,
			      .stat = (uint16_t)heap);
			if (k < n)
				APPLY(.op = MS_OP_HUGE_PAGE, .addr = BASE + mapped, .len = CHUNK);
			mapped += CHUNK;
			continue;
		}
		pages = 1 + r % 16;
		at = BASE + (rnd(&seed) % (mapped / PAGE - pages)) * PAGE;
		switch (r >> 32 & 7) {
		case 0:
		case 1:
		case 2:
			ms_space_bytes_in(sp, at, pages * PAGE, bytes);
			APPLY(.op = MS_OP_USED, .addr = at, .len = pages * PAGE,
			      .arg = bytes[MS_PREPARED]);
			break;
		case 3:
			ms_space_bytes_in(sp, at, pages * PAGE, bytes);
			if (bytes[MS_READY] == pages * PAGE)
				APPLY(.op = MS_OP_UNUSED, .addr = at, .len = pages * PAGE);
			else
				APPLY(.op = MS_OP_USED, .addr = at, .len = pages * PAGE,
				      .arg = bytes[MS_PREPARED]);
			break;
		default:
			/* Faults land in Ready memory, as in a correct program. */
			ms_space_bytes_in(sp, at, PAGE, bytes);
			if (bytes[MS_READY] == PAGE)
				APPLY(.op = MS_OP_PAGE_FAULT, .source = MS_SRC_KERNEL,
				      .addr = at + (r % PAGE), .arg = 0x401000 + r % 4096,
				      .flags = (r & 1) ? MS_EVF_WRITE : 0);
			else
				APPLY(.op = MS_OP_USED, .addr = at, .len = PAGE,
				      .arg = bytes[MS_PREPARED]);
		}
	}
	return k;
#undef APPLY
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"jsonl", no_argument, NULL, 'l'}, {0}};
	const char *path = "/tmp/bench_export.json";
	size_t n = 1000000, got;
	enum ms_tl_format fmt = MS_TL_JSON;
	struct ms_space_opts o = {.page_size = 4096, .log_capacity = 4};
	struct ms_tl_header h = {.page_size = 4096, .tool = "bench_export", .capture = "api"};
	char *av[] = {"bench_export"}, msg[600];
	struct ms_tl_process p = {.pid = 1000, .ppid = 1, .exe = "/bench", .exit_code = 0};
	struct ms_event *evs;
	struct ms_tl_writer *w;
	struct ms_tl_reader *r;
	struct ms_tl_item it;
	struct ms_tlp_step st;
	struct ms_tlp *pl;
	struct ms_space *sp;
	uint64_t t0, t1, items = 0;
	struct stat sb;
	int c, err = 0, ret;

	while ((c = getopt_long(argc, argv, "n:o:", opts, NULL)) != -1) {
		if (c == 'n')
			n = strtoull(optarg, NULL, 10);
		else if (c == 'o')
			path = optarg;
		else if (c == 'l')
			fmt = MS_TL_JSONL;
		else
			return 2;
	}
	evs = calloc(n, sizeof(*evs));
	sp = ms_space_new(&o);
	if (!evs || !sp)
		return 2;
	t0 = now_ns();
	got = workload(sp, evs, n, ms_space_stat_id(sp, "heap"));
	t1 = now_ns();
	printf("workload: %zu events applied in %.3f s\n", got, (double)(t1 - t0) / 1e9);

	w = ms_tlw_open(path, fmt, &err);
	if (!w) {
		fprintf(stderr, "bench_export: %s: %s\n", path, strerror(-err));
		return 2;
	}
	h.argc = 1;
	h.argv = av;
	t0 = now_ns();
	ms_tlw_header(w, &h);
	ms_space_lock(sp);
	for (size_t i = 0; i < got; i++)
		ms_tlw_event(w, sp, &evs[i]);
	ms_space_unlock(sp);
	p.space = sp;
	ms_tlw_finish(w, &p, 1);
	err = ms_tlw_close(w);
	t1 = now_ns();
	stat(path, &sb);
	printf("write:    %zu events in %.3f s = %.2f M events/s (%.1f MB, %.0f MB/s)%s\n", got,
	       (double)(t1 - t0) / 1e9, (double)got / ((double)(t1 - t0) / 1e3),
	       (double)sb.st_size / 1e6, (double)sb.st_size / ((double)(t1 - t0) / 1e3),
	       err ? " WRITE ERROR" : "");
	free(evs);
	ms_space_free(sp);

	t0 = now_ns();
	r = ms_tlr_open(path, &err, msg, sizeof(msg));
	if (!r) {
		fprintf(stderr, "bench_export: %s\n", msg);
		return 2;
	}
	while ((ret = ms_tlr_next(r, &it)) == 1)
		items++;
	t1 = now_ns();
	printf("read:     %" PRIu64 " items in %.3f s = %.2f M items/s (%.0f MB/s)%s\n", items,
	       (double)(t1 - t0) / 1e9, (double)items / ((double)(t1 - t0) / 1e3),
	       (double)sb.st_size / ((double)(t1 - t0) / 1e3),
	       ret == MS_TLR_END ? "" : " READ ERROR");
	if (ret != MS_TLR_END)
		fprintf(stderr, "%s\n", ms_tlr_error(r));
	ms_tlr_close(r);

	t0 = now_ns();
	pl = ms_tlp_open(path, msg, sizeof(msg));
	items = 0;
	while (pl && (ret = ms_tlp_next(pl, &it, &st)) == 1)
		items++;
	t1 = now_ns();
	printf("replay:   %" PRIu64 " items in %.3f s = %.2f M items/s, %" PRIu64
	       " disagreements\n",
	       items, (double)(t1 - t0) / 1e9, (double)items / ((double)(t1 - t0) / 1e3),
	       pl ? ms_tlp_disagreements(pl) : 0);
	ms_tlp_close(pl);
	return 0;
}
