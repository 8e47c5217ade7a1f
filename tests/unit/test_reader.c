// SPDX-License-Identifier: MIT
/*
 * The timeline reader (export/reader.h) against the writer: every field of randomized
 * events comes back exactly (64-bit integers, names, odd bytes) and writes back to the same
 * bytes; a JSON Lines file cut at every offset reads to its last whole line; a document cut
 * anywhere is an error; random mutations never crash it and always end with an item stream
 * or one error line; the limits hold; playback replays fork and exec as the tracer does.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export/playback.h"
#include "lib/reader.h"
#include "memstate/timeline.h"
#include "memstate/space.h"
#include "test.h"
#include "test_main.h"

#define PS  4096ull
#define BIG 0xfffffffffffff000ull /* far above 2^53: a double would round it */

/* ------------------------------------------------------------------ files */

static char tmpdir[] = "/tmp/ms-reader-XXXXXX";

static const char *tmp_path(const char *name)
{
	static char path[8][256];
	static unsigned k;
	char *p = path[k++ % 8];

	if (!strncmp(tmpdir + strlen(tmpdir) - 6, "XXXXXX", 6) && !mkdtemp(tmpdir))
		abort();
	snprintf(p, 256, "%s/%s", tmpdir, name);
	return p;
}

static char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	char *buf;

	if (fd < 0 || fstat(fd, &st))
		return NULL;
	buf = malloc((size_t)st.st_size + 1);
	if (read(fd, buf, (size_t)st.st_size) != st.st_size) {
		free(buf);
		close(fd);
		return NULL;
	}
	buf[st.st_size] = 0;
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

static void spit(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
		abort();
	close(fd);
}

/* With MEMSTATE_TIMELINE_DIR set, keep a copy of a timeline for export.bats to validate. */
static void keep(const char *path, const char *name)
{
	const char *dir = getenv("MEMSTATE_TIMELINE_DIR");
	char dst[512];
	size_t len;
	char *text;

	if (!dir || !*dir || !(text = slurp(path, &len)))
		return;
	snprintf(dst, sizeof(dst), "%s/%s", dir, name);
	spit(dst, text, len);
	free(text);
}

/* ------------------------------------------------------------------ a sample trace */

static char *const sample_argv[] = {"./prog", "arg with \"quotes\"\n\x01", "caf\xc3\xa9",
				    "bad\xff\xc3", "\xe2\x82\xac\xf0\x9f\x98\x80"};

static struct ms_space *sample_space(void)
{
	struct ms_space_opts o = {.page_size = PS};
	struct ms_space *sp = ms_space_new(&o);
	int heap = ms_space_stat_id(sp, "heap"), odd = ms_space_stat_id(sp, "st\xfe\"at");
	struct ms_event evs[] = {
		{.op = MS_OP_RESERVE, .addr = BIG - 64 * PS, .len = 32 * PS, .arg = BIG - 64 * PS},
		{.op = MS_OP_MAP, .addr = BIG - 64 * PS, .len = 8 * PS, .stat = (uint16_t)heap},
		{.op = MS_OP_USED, .addr = BIG - 64 * PS, .len = 4 * PS, .arg = 4 * PS},
		{.op = MS_OP_USED, .addr = BIG - 60 * PS, .len = 4 * PS, .arg = PS}, /* mismatch */
		{.op = MS_OP_FREE, .addr = 0x10000000, .len = PS, .stat = (uint16_t)odd},
		{.op = MS_OP_HUGE_PAGE, .addr = BIG - 64 * PS, .len = 8 * PS},
		{.op = MS_OP_PAGE_FAULT,
		 .source = MS_SRC_KERNEL,
		 .addr = BIG - 63 * PS + 5,
		 .arg = 0xffffffffff600000ull,
		 .flags = MS_EVF_WRITE | MS_EVF_PRESENT},
		{.op = MS_OP_ALLOC,
		 .source = MS_SRC_SYSCALL,
		 .aux = 9,
		 .addr = 0x7f0000000000,
		 .len = 16 * PS},
		{.op = MS_OP_THP_COLLAPSE,
		 .source = MS_SRC_KERNEL,
		 .addr = 0x7f0000000000,
		 .len = 16 * PS},
		{.op = MS_OP_FILE_MAP,
		 .source = MS_SRC_SYSCALL,
		 .aux = 9,
		 .addr = 0x7f1000000000,
		 .len = 4 * PS,
		 .kind = MS_KIND_FILE},
		{.op = MS_OP_ALLOC, .addr = 0, .len = 3 * PS, .result = ENOMEM},
	};

	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
		evs[i].pid = 4242;
		evs[i].tid = 4243 + (uint32_t)i % 2;
		evs[i].t_ns = 1000000 + 1000 * i;
		ms_space_apply(sp, &evs[i]);
	}
	return sp;
}

static int write_sample(struct ms_space *sp, const char *path, enum ms_tl_format fmt)
{
	struct ms_tl_header h = {.argc = 5,
				 .argv = sample_argv,
				 .page_size = PS,
				 .t0_ns = 1000000,
				 .tool = "test_reader",
				 .capture = NULL};
	struct ms_tl_process p = {.pid = 4242,
				  .ppid = 1,
				  .exe = "/bin/pr\xf0og",
				  .exit_code = -1,
				  .exit_signal = 9,
				  .space = sp,
				  .dropped = 3};
	struct ms_event evs[64];
	struct ms_tl_writer *w;
	int err = 0;
	size_t n;

	w = ms_tlw_open(path, fmt, &err);
	if (!w)
		return err;
	ms_tlw_header(w, &h);
	ms_space_lock(sp);
	n = ms_space_events_read_locked(sp, evs, 64);
	for (size_t i = 0; i < n; i++)
		ms_tlw_event(w, sp, &evs[i]);
	ms_space_unlock(sp);
	ms_tlw_finish(w, &p, 1);
	return ms_tlw_close(w);
}

/* Copy a timeline item by item through the writer (what convert does). */
static int copy_timeline(const char *in, const char *out, enum ms_tl_format fmt, int *last)
{
	struct ms_tl_reader *r;
	struct ms_tl_writer *w;
	struct ms_tl_item it;
	char msg[256];
	int err = 0, ret;

	r = ms_tlr_open(in, &err, msg, sizeof(msg));
	if (!r)
		return err;
	w = ms_tlw_open(out, fmt, &err);
	if (!w) {
		ms_tlr_close(r);
		return err;
	}
	while (!err && (ret = ms_tlr_next(r, &it)) == 1) {
		err = ms_tl_copy_item(w, &it);
	}
	*last = ret;
	ms_tlr_close(r);
	ret = ms_tlw_close(w);
	return err ? err : ret;
}

/* ------------------------------------------------------------------ tests */

TEST_BEGIN(test_sample_fields)
{
	struct ms_space *sp;
	struct ms_tl_reader *r;
	struct ms_tl_item it;
	struct ms_event evs[64];
	struct ms_totals tot;
	size_t nev, k = 0;
	int err = 0, ret, regions = 0, viols = 0;
	char msg[256];

	for (int form = 0; form < 2; form++) {
		const char *path = tmp_path(form ? "s.jsonl" : "s.json");
		struct ms_space *sp2 = sample_space();

		sp = sample_space();
		assert_true(write_sample(sp2, path, form ? MS_TL_JSONL : MS_TL_JSON) == 0, "write");
		keep(path, form ? "sample.jsonl" : "sample.json");
		/* The same events, as the space logged them, to compare with. */
		ms_space_lock(sp);
		nev = ms_space_events_read_locked(sp, evs, 64);
		ms_space_unlock(sp);
		r = ms_tlr_open(path, &err, msg, sizeof(msg));
		assert_true(r != NULL, "open: %s", msg);
		k = 0;
		regions = viols = 0;
		while ((ret = ms_tlr_next(r, &it)) == 1) {
			const struct ms_event *ev = &it.event.ev;

			switch (it.type) {
			case MS_TLI_HEADER:
				expect_int_eq(it.header.argc, 5, "argc");
				for (int i = 0; i < 5 && i < it.header.argc; i++)
					expect_str_eq(it.header.argv[i], sample_argv[i],
						      "command words come back byte for byte");
				expect_u64_eq(it.header.page_size, PS, "page size");
				expect_str_eq(it.header.tool, "test_reader", "tool");
				expect_true(it.header.capture == NULL, "capture absent");
				expect_true(ms_tlr_is_jsonl(r) == (form == 1), "form");
				break;
			case MS_TLI_EVENT:
				assert_true(k < nev, "too many events");
				expect_u64_eq(ev->seq, evs[k].seq, "seq");
				expect_u64_eq(ev->t_ns, evs[k].t_ns - 1000000, "t_ns relative");
				expect_u64_eq(ev->addr, evs[k].addr, "addr exact");
				expect_u64_eq(ev->len, evs[k].len, "len");
				expect_int_eq(ev->op, evs[k].op, "op");
				expect_int_eq(ev->source, evs[k].source, "source");
				expect_int_eq(ev->to, evs[k].to, "to");
				expect_true(!memcmp(ev->from, evs[k].from, sizeof(ev->from)),
					    "from");
				expect_int_eq(ev->violation, evs[k].violation, "violation");
				expect_int_eq(ev->result, evs[k].result, "result");
				expect_int_eq(ev->kind, evs[k].kind, "kind");
				expect_int_eq(ev->flags, evs[k].flags, "flags");
				if (ev->op == MS_OP_PAGE_FAULT || ev->op == MS_OP_USED ||
				    ev->op == MS_OP_RESERVE)
					expect_u64_eq(ev->arg, evs[k].arg,
						      "arg (ip, prepared, hint)");
				if (ev->source == MS_SRC_SYSCALL)
					expect_u64_eq(ev->aux, evs[k].aux, "syscall number");
				if (ev->op == MS_OP_MAP)
					expect_str_eq(it.event.stat, "heap", "stat name");
				if (ev->op == MS_OP_FREE)
					expect_str_eq(it.event.stat, "st\xfe\"at", "odd stat name");
				if (ev->violation)
					expect_true(it.event.message && strstr(it.event.message,
									       ms_op_name(ev->op)),
						    "violation message");
				k++;
				break;
			case MS_TLI_VIOLATION:
				viols++;
				break;
			case MS_TLI_REGION:
				regions++;
				expect_u64_eq(it.region.pid, 4242, "region pid");
				if (it.region.r.start == BIG - 64 * PS)
					expect_u64_eq(it.region.r.faults, 1,
						      "faults on the region");
				break;
			case MS_TLI_PROCESS:
				expect_str_eq(it.process.exe, "/bin/pr\xf0og", "exe bytes");
				expect_int_eq(it.process.exit_code, -1, "exit code null");
				expect_int_eq(it.process.exit_signal, 9, "signal");
				expect_true(it.process.has_summary, "process summary");
				expect_int_eq(it.process.nstats, 2, "stats");
				if (it.process.nstats == 2) {
					expect_str_eq(it.process.stats[0].name, "heap", "stat 1");
					expect_u64_eq(it.process.stats[0].bytes, 8 * PS,
						      "heap bytes");
				}
				expect_u64_eq(it.process.totals.dropped_events, 3, "dropped");
				break;
			case MS_TLI_SUMMARY:
				ms_space_totals(sp, &tot);
				expect_true(!memcmp(it.summary.totals.bytes, tot.bytes,
						    sizeof(tot.bytes)),
					    "summary bytes");
				expect_true(!memcmp(it.summary.totals.by_op, tot.by_op,
						    sizeof(tot.by_op)),
					    "summary ops");
				expect_u64_eq(it.summary.totals.violations, 2, "violations");
				expect_u64_eq(it.summary.totals.page_faults, 1, "faults");
				expect_u64_eq(it.summary.totals.thp_collapses, 1, "thp");
				break;
			}
		}
		expect_int_eq(ret, MS_TLR_END, "ends whole");
		expect_u64_eq(k, nev, "every event");
		expect_int_eq(viols, 2, "violation list");
		expect_true(regions >= 3, "regions");
		ms_tlr_close(r);
		ms_space_free(sp2);
		ms_space_free(sp);
	}
}
TEST_END

TEST_BEGIN(test_copy_is_identical)
{
	for (int form = 0; form < 2; form++) {
		const char *a = tmp_path("a"), *b = tmp_path("b"), *c = tmp_path("c");
		enum ms_tl_format f = form ? MS_TL_JSONL : MS_TL_JSON;
		struct ms_space *sp = sample_space();
		size_t la, lb, lc;
		char *ta, *tb, *tc;
		int last;

		assert_true(write_sample(sp, a, f) == 0, "write");
		expect_int_eq(copy_timeline(a, b, f, &last), 0, "copy");
		expect_int_eq(last, MS_TLR_END, "read whole");
		/* and through the other form and back */
		expect_int_eq(copy_timeline(a, c, form ? MS_TL_JSON : MS_TL_JSONL, &last), 0, "x");
		ta = slurp(a, &la);
		tb = slurp(b, &lb);
		assert_true(ta && tb, "read back");
		expect_true(la == lb && !memcmp(ta, tb, la), "write -> read -> write is identical");
		expect_int_eq(copy_timeline(c, b, f, &last), 0, "copy back");
		free(tb);
		tb = slurp(b, &lb);
		expect_true(la == lb && !memcmp(ta, tb, la), "across forms and back is identical");
		tc = slurp(c, &lc);
		free(ta);
		free(tb);
		free(tc);
		ms_space_free(sp);
	}
}
TEST_END

/* A random event with every field the format carries; the rest zero. */
static void random_event(uint64_t *seed, struct ms_event *ev, const char **stat, char *msg)
{
	static const char *const stats[] = {"heap", "stacks", "m\xc3\xa9ta", "\x01\xff", NULL};
	static const unsigned sys[] = {9, 10, 11, 25, 28, 12};
	uint64_t r = test_rand(seed);
	bool memop;

	memset(ev, 0, sizeof(*ev));
	ev->seq = test_rand(seed);
	ev->t_ns = test_rand(seed) >> (r & 63);
	ev->pid = (uint32_t)test_rand(seed);
	ev->tid = (uint32_t)test_rand(seed);
	ev->source = (uint8_t)(test_rand(seed) % MS_SRC_COUNT);
	ev->op = (uint8_t)(test_rand(seed) % MS_OP_COUNT);
	ev->addr = test_rand(seed);
	ev->len = test_rand(seed) >> (test_rand(seed) & 63);
	ev->to = test_rand(seed) % 5 == 4 ? MS_STATE_UNCHANGED
					  : (uint8_t)(test_rand(seed) % MS_STATE_COUNT);
	for (int s = 0; s < MS_STATE_COUNT; s++)
		ev->from[s] = test_rand(seed) % 2 ? test_rand(seed) : 0;
	ev->violation = test_rand(seed) % 3 ? 0 : (uint8_t)(1 + test_rand(seed) % (MS_V_COUNT - 1));
	ev->kind = test_rand(seed) % 2 ? MS_KIND_FILE : MS_KIND_ANON;
	memop = !ms_op_is_proc(ev->op);
	if (memop && ev->source != MS_SRC_KERNEL)
		ev->result = (int32_t)test_rand(seed);
	if (memop && ev->result)
		ev->flags |= MS_EVF_FAILED;
	if (test_rand(seed) % 2)
		ev->flags |= MS_EVF_NOTE;
	if (test_rand(seed) % 2)
		ev->flags |= MS_EVF_SEED;
	*stat = NULL;
	switch (ev->op) {
	case MS_OP_USED:
	case MS_OP_RESERVE:
	case MS_OP_PAGE_FAULT:
		ev->arg = test_rand(seed);
		break;
	case MS_OP_ALLOC:
	case MS_OP_MAP:
	case MS_OP_FREE:
		*stat = stats[test_rand(seed) % 5];
		break;
	case MS_OP_PROC_FORK:
		ev->arg = (uint32_t)test_rand(seed);
		break;
	case MS_OP_PROC_EXIT:
		ev->result = test_rand(seed) % 2 ? -1 : (int32_t)(test_rand(seed) & 0x7fffffff);
		ev->aux = (uint32_t)(test_rand(seed) & 0x7fffffff);
		break;
	default:
		break;
	}
	if (ev->op == MS_OP_PAGE_FAULT)
		ev->flags |= (uint8_t)(test_rand(seed) &
				       (MS_EVF_WRITE | MS_EVF_PRESENT | MS_EVF_INFERRED));
	if (memop && ev->source == MS_SRC_SYSCALL)
		ev->aux = sys[test_rand(seed) % 6];
	if (memop && ev->source == MS_SRC_API)
		ev->aux = (uint32_t)test_rand(seed);
	msg[0] = 0;
	if (ev->violation) {
		/* printable, escapes, UTF-8 and a raw bad byte */
		snprintf(msg, 64, "m%llu \"q\" \\ \t caf\xc3\xa9 \xfe \x7f",
			 (unsigned long long)(test_rand(seed) % 1000));
	}
}

TEST_BEGIN(test_random_events_exact)
{
	uint64_t seed = 0x5eed1234;
	enum { N = 20000 };
	static struct ms_event want[N];
	static const char *stats[N];
	static char msgs[N][64];

	for (int form = 0; form < 2; form++) {
		const char *path = tmp_path("r"), *copy = tmp_path("r2");
		struct ms_tl_header h = {.argc = 1, .argv = sample_argv, .page_size = PS};
		struct ms_tl_writer *w = ms_tlw_open(path, form ? MS_TL_JSONL : MS_TL_JSON, NULL);
		struct ms_tl_reader *r;
		struct ms_tl_item it;
		struct ms_totals t = {0};
		int k = 0, ret, last, err;
		char msg[256], *a, *b;
		size_t la, lb;

		assert_true(w != NULL, "open");
		ms_tlw_header(w, &h);
		for (int i = 0; i < N; i++) {
			random_event(&seed, &want[i], &stats[i], msgs[i]);
			ms_tlw_event_names(w, &want[i], stats[i], msgs[i][0] ? msgs[i] : NULL);
		}
		ms_tlw_summary(w, &t, 0);
		assert_true(ms_tlw_close(w) == 0, "write");
		keep(path, form ? "random.jsonl" : "random.json");
		r = ms_tlr_open(path, &err, msg, sizeof(msg));
		assert_true(r != NULL, "open: %s", msg);
		while ((ret = ms_tlr_next(r, &it)) == 1) {
			const struct ms_event *ev = &it.event.ev, *x;

			if (it.type != MS_TLI_EVENT)
				continue;
			assert_true(k < N, "too many");
			x = &want[k];
			if (memcmp(ev, x, sizeof(*ev))) {
				test_fail(__FILE__, __LINE__,
					  "event %d (op %s source %s) differs: seq %d t %d pid %d "
					  "addr %d len %d to %d from %d viol %d result %d arg %d "
					  "aux %d flags %x/%x kind %d",
					  k, ms_op_name(x->op), ms_source_name(x->source),
					  ev->seq == x->seq, ev->t_ns == x->t_ns, ev->pid == x->pid,
					  ev->addr == x->addr, ev->len == x->len, ev->to == x->to,
					  !memcmp(ev->from, x->from, sizeof(x->from)),
					  ev->violation == x->violation, ev->result == x->result,
					  ev->arg == x->arg, ev->aux == x->aux, ev->flags, x->flags,
					  ev->kind == x->kind);
			}
			if (stats[k])
				expect_str_eq(it.event.stat, stats[k], "stat");
			else
				expect_true(it.event.stat == NULL, "no stat");
			if (want[k].violation)
				expect_str_eq(it.event.message, msgs[k][0] ? msgs[k] : NULL,
					      "message");
			k++;
		}
		expect_true(ret == MS_TLR_END, "whole: %s", ms_tlr_error(r));
		expect_int_eq(k, N, "all events");
		ms_tlr_close(r);
		expect_int_eq(copy_timeline(path, copy, form ? MS_TL_JSONL : MS_TL_JSON, &last), 0,
			      "copy");
		a = slurp(path, &la);
		b = slurp(copy, &lb);
		expect_true(a && b && la == lb && !memcmp(a, b, la),
			    "random events copy identically");
		free(a);
		free(b);
	}
}
TEST_END

/* Read a whole file; returns the last result and counts items. */
static int read_all(const char *path, int *items, char *msg, size_t msglen)
{
	struct ms_tl_reader *r;
	struct ms_tl_item it;
	int ret, err = 0;

	*items = 0;
	r = ms_tlr_open(path, &err, msg, msglen);
	if (!r)
		return err;
	while ((ret = ms_tlr_next(r, &it)) == 1)
		(*items)++;
	snprintf(msg, msglen, "%s", ms_tlr_error(r));
	/* Calling again after the end repeats the end. */
	if (ms_tlr_next(r, &it) != ret)
		ret = 999;
	ms_tlr_close(r);
	return ret;
}

TEST_BEGIN(test_truncated_every_offset)
{
	struct ms_space *sp = sample_space();
	const char *whole = tmp_path("w"), *cut = tmp_path("cut");
	int items, prev = 0, all, ret;
	size_t len, hdr;
	char msg[600], *text;

	/* JSON Lines: any cut after the header line reads to the last whole line. */
	assert_true(write_sample(sp, whole, MS_TL_JSONL) == 0, "write");
	text = slurp(whole, &len);
	hdr = (size_t)(strchr(text, '\n') - text);
	read_all(whole, &all, msg, sizeof(msg));
	for (size_t l = 0; l <= len; l++) {
		spit(cut, text, l);
		ret = read_all(cut, &items, msg, sizeof(msg));
		if (l < hdr) {
			expect_true(ret < 0, "cut at %zu inside the header: an error (%d)", l, ret);
			expect_true(strstr(msg, cut) != NULL, "the error names the file: %s", msg);
		} else if (l >= len - 1) {
			expect_int_eq(ret, MS_TLR_END, "whole");
			expect_int_eq(items, all, "every item");
		} else {
			expect_int_eq(ret, MS_TLR_TRUNCATED, "cut after the header");
			expect_true(items >= prev, "items only grow with the cut");
			expect_true(strstr(msg, "cut short") != NULL, "says so: %s", msg);
			prev = items;
		}
	}
	free(text);
	/* A document: any cut is an error (there is no whole line to stop at). */
	assert_true(write_sample(sp, whole, MS_TL_JSON) == 0, "write");
	text = slurp(whole, &len);
	for (size_t l = 0; l < len - 1; l++) {
		spit(cut, text, l);
		ret = read_all(cut, &items, msg, sizeof(msg));
		expect_true(ret < 0, "document cut at %zu: an error (%d)", l, ret);
		expect_true(ret == 999 || strchr(msg, '\n') == NULL, "one line");
	}
	free(text);
	ms_space_free(sp);
}
TEST_END

TEST_BEGIN(test_mutations_never_crash)
{
	struct ms_space *sp = sample_space();
	const char *whole = tmp_path("m"), *bad = tmp_path("mbad");
	uint64_t seed = 0xfacade;
	int items, ret, errors = 0;
	size_t len;
	char msg[600], *text, *buf;

	assert_true(write_sample(sp, whole, MS_TL_JSON) == 0, "write");
	text = slurp(whole, &len);
	buf = malloc(len + 16);
	for (int i = 0; i < 4000; i++) {
		size_t n = len;

		memcpy(buf, text, len);
		for (int k = 1 + (int)(test_rand(&seed) % 4); k > 0; k--) {
			size_t at = test_rand(&seed) % n;
			static const char pick[] = "{}[]\",:0123456789-+.eE\\u \n\xff\x00tfn";

			switch (test_rand(&seed) % 3) {
			case 0: /* replace */
				buf[at] = pick[test_rand(&seed) % (sizeof(pick) - 1)];
				break;
			case 1: /* delete */
				memmove(buf + at, buf + at + 1, n - at - 1);
				n--;
				break;
			default: /* insert */
				memmove(buf + at + 1, buf + at, n - at);
				buf[at] = pick[test_rand(&seed) % (sizeof(pick) - 1)];
				n++;
			}
		}
		spit(bad, buf, n);
		ret = read_all(bad, &items, msg, sizeof(msg));
		expect_true(ret != 999, "the end repeats");
		if (ret < 0) {
			errors++;
			expect_true(!strncmp(msg, bad, strlen(bad)) && msg[strlen(bad)] == ':',
				    "an error names the place: %s", msg);
			expect_true(strchr(msg, '\n') == NULL, "one line: %s", msg);
		}
	}
	expect_true(errors > 1000, "most mutations are caught (%d)", errors);
	free(buf);
	free(text);
	ms_space_free(sp);
}
TEST_END

static int read_text(const char *text, char *msg, size_t msglen)
{
	const char *path = tmp_path("t.json");
	int items;

	spit(path, text, strlen(text));
	return read_all(path, &items, msg, msglen);
}

#define HDR "{\"format\":\"memstate-timeline\",\"version\":1,\"command\":[],\"page_size\":4096,"
#define EV(addr)                                                                            \
	"{\"seq\":1,\"t_ns\":2,\"pid\":3,\"tid\":4,\"source\":\"api\",\"op\":\"sysAlloc\"," \
	"\"addr\":" addr ",\"len\":4096,\"to\":\"Ready\",\"from\":{\"None\":4096},"         \
	"\"violation\":null}"

TEST_BEGIN(test_exact_limits)
{
	const char *path = tmp_path("x.json");
	struct ms_tl_reader *r;
	struct ms_tl_item it;
	char msg[600], *text;
	size_t n;
	int err;

	/* 2^64 - 1 is read exactly; 2^64 is out of range. */
	text = HDR "\"events\":[" EV("18446744073709551615") "]}";
	spit(path, text, strlen(text));
	r = ms_tlr_open(path, &err, msg, sizeof(msg));
	assert_true(r && ms_tlr_next(r, &it) == 1 && ms_tlr_next(r, &it) == 1, "read");
	expect_u64_eq(it.event.ev.addr, UINT64_MAX, "2^64-1 exactly");
	expect_int_eq(ms_tlr_next(r, &it), MS_TLR_END, "end");
	ms_tlr_close(r);
	expect_int_eq(
		read_text(HDR "\"events\":[" EV("18446744073709551616") "]}", msg, sizeof(msg)),
		-EINVAL, "2^64");
	expect_true(strstr(msg, "out of range") != NULL, "%s", msg);
	expect_int_eq(read_text(HDR "\"events\":[" EV("9007199254740993") "]}", msg, sizeof(msg)),
		      MS_TLR_END, "2^53+1 is fine");

	/* Nesting: 31 levels inside an unknown member are fine, 33 are not. */
	text = malloc(1 << 22);
	n = (size_t)sprintf(text, HDR "\"x\":");
	for (int i = 0; i < 31; i++)
		text[n++] = '[';
	for (int i = 0; i < 31; i++)
		text[n++] = ']';
	sprintf(text + n, ",\"events\":[]}");
	expect_int_eq(read_text(text, msg, sizeof(msg)), MS_TLR_END, "31 levels");
	n = (size_t)sprintf(text, HDR "\"x\":");
	for (int i = 0; i < 33; i++)
		text[n++] = '[';
	for (int i = 0; i < 33; i++)
		text[n++] = ']';
	sprintf(text + n, ",\"events\":[]}");
	expect_int_eq(read_text(text, msg, sizeof(msg)), -EINVAL, "33 levels");
	expect_true(strstr(msg, "nesting deeper than 32") != NULL, "%s", msg);

	/* Strings: 1 MiB is the most. */
	n = (size_t)sprintf(text, HDR "\"tool\":\"");
	memset(text + n, 'a', 1 << 20);
	n += 1 << 20;
	sprintf(text + n, "\",\"events\":[]}");
	expect_int_eq(read_text(text, msg, sizeof(msg)), MS_TLR_END, "1 MiB string");
	n = (size_t)sprintf(text, HDR "\"tool\":\"");
	memset(text + n, 'a', (1 << 20) + 1);
	n += (1 << 20) + 1;
	sprintf(text + n, "\",\"events\":[]}");
	expect_int_eq(read_text(text, msg, sizeof(msg)), -EINVAL, "1 MiB + 1");
	expect_true(strstr(msg, "string longer than 1048576 bytes") != NULL, "%s", msg);
	free(text);

	/* Escapes: surrogate pairs decode; \u00XX above 0x7f is the writer's raw byte. */
	expect_int_eq(read_text(HDR "\"tool\":\"\\ud83d\\ude00 \\u00ff \\u20ac\",\"events\":[]}",
				msg, sizeof(msg)),
		      MS_TLR_END, "escapes");
	text = HDR "\"tool\":\"\\ud83d\\ude00\\u00ff\\u20ac\\/\\b\",\"events\":[]}";
	spit(path, text, strlen(text));
	r = ms_tlr_open(path, &err, msg, sizeof(msg));
	assert_true(r && ms_tlr_next(r, &it) == 1, "header");
	expect_str_eq(it.header.tool, "\xf0\x9f\x98\x80\xff\xe2\x82\xac/\b", "decoded");
	ms_tlr_close(r);
}
TEST_END

TEST_BEGIN(test_member_order_and_unknowns)
{
	char msg[600];
	int items;
	const char *path = tmp_path("o.jsonl");
	const char *text =
		"{\"page_size\":8192,\"command\":[\"a\"],\"version\":1,\"extra\":{\"deep\":[1.5e3,"
		"null,true]},\"format\":\"memstate-timeline\",\"type\":\"header\"}\r\n"
		"\n"
		"{\"violation\":null,\"from\":{},\"to\":null,\"len\":0,\"addr\":0,\"op\":"
		"\"procExec\","
		"\"source\":\"kernel\",\"tid\":7,\"pid\":7,\"t_ns\":0,\"seq\":0,\"type\":\"event\","
		"\"whatever\":\"x\"}\n"
		"{\"type\":\"comment\",\"text\":\"skipped\"}\n"
		"{\"type\":\"summary\",\"bytes\":{},\"peak_bytes\":{},\"events\":1,\"violations\":"
		"0,"
		"\"page_faults\":0,\"thp_collapses\":0,\"dropped_events\":0}\n";

	spit(path, text, strlen(text));
	expect_int_eq(read_all(path, &items, msg, sizeof(msg)), MS_TLR_END, "reads");
	expect_int_eq(items, 3, "header, event, summary");
	/* A header member after the events is refused in a document. */
	expect_int_eq(read_text("{\"format\":\"memstate-timeline\",\"version\":1,\"command\":[],"
				"\"events\":[],\"page_size\":4096}",
				msg, sizeof(msg)),
		      -EINVAL, "header after events");
	expect_true(strstr(msg, "missing member \"page_size\"") != NULL, "%s", msg);
}
TEST_END

TEST_BEGIN(test_writer_section_order)
{
	struct ms_tl_writer *w = ms_tlw_open(tmp_path("order.json"), MS_TL_JSON, NULL);
	struct ms_tl_header h = {.argc = 0, .argv = NULL, .page_size = PS};
	struct ms_tl_process p = {.pid = 1};
	struct ms_region rg = {.start = PS, .end = 2 * PS, .state = MS_READY};
	struct ms_event ev = {.op = MS_OP_ALLOC};
	struct ms_totals t = {0};

	assert_true(w != NULL, "open");
	ms_tlw_header(w, &h);
	expect_int_eq(ms_tlw_event_names(w, &ev, NULL, NULL), 0, "event");
	expect_int_eq(ms_tlw_process(w, &p, NULL, NULL, 0), 0, "process");
	expect_int_eq(ms_tlw_region(w, 1, &rg, NULL), -EINVAL, "a region after processes");
	expect_int_eq(ms_tlw_event_names(w, &ev, NULL, NULL), -EINVAL, "an event after them");
	expect_int_eq(ms_tlw_summary(w, &t, 0), 0, "summary");
	expect_int_eq(ms_tlw_close(w), 0, "close");
}
TEST_END

TEST_BEGIN(test_playback_fork_exec)
{
	struct ms_tlp *p;
	struct ms_tlp_step st;
	struct ms_tl_item it;
	struct ms_tlp_proc *child;
	struct ms_totals t;
	char msg[600];
	int ret, viol = 0;

	p = ms_tlp_open("tests/data/fork_exec.jsonl", msg, sizeof(msg));
	if (!p)
		test_skip("run from the repository root: %.100s", msg);
	while ((ret = ms_tlp_next(p, &it, &st)) == 1) {
		if (it.type != MS_TLI_EVENT)
			continue;
		expect_true(!st.disagrees, "seq %llu agrees", (unsigned long long)st.ev.seq);
		/* The child's first sysUsed works on the copy of its parent's map. */
		if (st.ev.seq == 3)
			expect_int_eq(st.ev.from[MS_PREPARED], 16384, "cloned at fork");
		viol += st.ev.violation != 0;
	}
	expect_int_eq(ret, MS_TLR_END, "end");
	expect_int_eq(viol, 1, "the double free after exec");
	expect_u64_eq(ms_tlp_disagreements(p), 0, "no disagreements");
	expect_int_eq(ms_tlp_nprocs(p), 2, "two processes");
	child = ms_tlp_find(p, 201);
	assert_true(child && child->base.sp, "child");
	ms_space_totals(child->base.sp, &t);
	expect_u64_eq(t.bytes[MS_READY], 0, "exec cleared the map");
	expect_u64_eq(t.peak_bytes[MS_READY], 16384, "its counters stayed");
	expect_true(child->base.exited && child->base.exit_code == 0, "exit status");
	expect_str_eq(child->exe, "/usr/bin/child", "exe from the processes lines");
	ms_tlp_close(p);
}
TEST_END

/*
 * A JSON Lines file cut short is checked for the sections it finished: a violation list
 * once an item of a later section came, the final map once the processes began. Lines of
 * fork_exec.jsonl kept: a bit per line, 1 << 0 the header (a 0 bit drops the line).
 */
static uint64_t replay_lines(const char *text, uint32_t keep, int *ret)
{
	const char *cut = tmp_path("lines.jsonl");
	struct ms_tl_item it;
	struct ms_tlp *p;
	char msg[600], *buf = malloc(strlen(text) + 1);
	size_t n = 0;
	uint64_t dis;

	assert_true(buf != NULL, "memory");
	for (unsigned l = 0; *text; l++) {
		const char *end = strchr(text, '\n');
		size_t len = end ? (size_t)(end - text) + 1 : strlen(text);

		if (keep & 1u << l) {
			memcpy(buf + n, text, len);
			n += len;
		}
		text += len;
	}
	spit(cut, buf, n);
	free(buf);
	p = ms_tlp_open(cut, msg, sizeof(msg));
	assert_true(p != NULL, "open: %s", msg);
	while ((*ret = ms_tlp_next(p, &it, NULL)) == 1)
		;
	dis = ms_tlp_disagreements(p);
	ms_tlp_close(p);
	return dis;
}

TEST_BEGIN(test_playback_cut_short_sections)
{
	/* lines: 0 header, 1-3 events, 4 note, 5-10 events (6: pid 200's sysFree),
	 * 11 violation, 12-13 processes, 14 summary */
	const uint32_t events = 0x7ff, no_free = events & ~(1u << 6);
	char *text;
	size_t len;
	int ret;

	text = slurp("tests/data/fork_exec.jsonl", &len);
	if (!text)
		test_skip("run from the repository root");
	expect_u64_eq(replay_lines(text, 0x3fff, &ret), 0, "whole but the summary");
	expect_int_eq(ret, MS_TLR_TRUNCATED, "cut short");
	expect_u64_eq(replay_lines(text, events | 1u << 11 | 1u << 12, &ret), 0,
		      "cut in the processes");
	/* Cut before a section ends: what it lacks may come after the cut. */
	expect_u64_eq(replay_lines(text, events, &ret), 0, "cut before the violations");
	expect_u64_eq(replay_lines(text, no_free, &ret), 0, "cut before the map");
	/* Past it: the section is whole, and what it lacks is a disagreement. */
	expect_u64_eq(replay_lines(text, events | 1u << 12, &ret), 1,
		      "the violation list ended without the double free");
	expect_u64_eq(replay_lines(text, no_free | 1u << 11 | 1u << 12, &ret), 1,
		      "the map ended without pid 200's region");
	expect_int_eq(ret, MS_TLR_TRUNCATED, "cut short");
	free(text);
}
TEST_END

/* A minimal timeline: what each event left out is said, defaulted, then computed by playback. */
TEST_BEGIN(test_minimal_events)
{
	static const char text[] =
		"{\"format\":\"memstate-timeline\",\"version\":1,\"page_size\":4096,\"events\":[\n"
		"{\"seq\":0,\"t_ns\":0,\"pid\":9,\"op\":\"sysAlloc\",\"addr\":8192,\"len\":8192},\n"
		"{\"seq\":1,\"t_ns\":5,\"pid\":9,\"tid\":10,\"source\":\"syscall\",\"op\":"
		"\"sysFree\","
		"\"addr\":8192,\"len\":4096,\"to\":\"None\"},\n"
		"{\"seq\":2,\"t_ns\":6,\"pid\":9,\"op\":\"sysFree\",\"addr\":8192,\"len\":4096}]}"
		"\n";
	const char *path = tmp_path("minimal.json");
	struct ms_tl_reader *r;
	struct ms_tlp_step st;
	struct ms_tl_item it;
	struct ms_tlp *p;
	char msg[600];
	int err = 0;

	spit(path, text, sizeof(text) - 1);
	r = ms_tlr_open(path, &err, msg, sizeof(msg));
	assert_true(r != NULL, "open: %s", msg);
	expect_int_eq(ms_tlr_next(r, &it), 1, "header");
	expect_int_eq(it.header.argc, 0, "no command");
	expect_int_eq(ms_tlr_next(r, &it), 1, "event");
	expect_int_eq((int)it.event.recorded, 0, "nothing recorded");
	expect_int_eq(it.event.ev.tid, 9, "tid: the pid");
	expect_int_eq(it.event.ev.source, MS_SRC_API, "source: api");
	expect_int_eq(it.event.ev.to, MS_STATE_UNCHANGED, "to: not known");
	expect_int_eq(ms_tlr_next(r, &it), 1, "event");
	expect_int_eq((int)it.event.recorded, MS_TLE_TO | MS_TLE_TID | MS_TLE_SOURCE, "what was");
	expect_int_eq(it.event.ev.tid, 10, "tid");
	expect_int_eq(ms_tlr_next(r, &it), 1, "event");
	expect_int_eq(ms_tlr_next(r, &it), MS_TLR_END, "end");
	expect_true(!ms_tlr_has_section(r, MS_TLI_VIOLATION), "no violations section");
	ms_tlr_close(r);

	p = ms_tlp_open(path, msg, sizeof(msg));
	assert_true(p != NULL, "open: %s", msg);
	expect_int_eq(ms_tlp_next(p, &it, &st), 1, "header");
	expect_int_eq(ms_tlp_next(p, &it, &st), 1, "event");
	expect_int_eq(it.event.ev.to, MS_READY, "computed to");
	expect_u64_eq(it.event.ev.from[MS_NONE], 8192, "computed from");
	expect_int_eq(ms_tlp_next(p, &it, &st), 1, "event");
	expect_u64_eq(it.event.ev.from[MS_READY], 4096, "computed from");
	expect_int_eq(ms_tlp_next(p, &it, &st), 1, "event");
	expect_int_eq(it.event.ev.violation, MS_V_DOUBLE_FREE, "computed violation");
	expect_true(it.event.message != NULL, "and its message");
	expect_int_eq(ms_tlp_next(p, &it, &st), MS_TLR_END, "end");
	expect_u64_eq(ms_tlp_disagreements(p), 0, "absent is never a disagreement");
	expect_u64_eq(ms_tlp_computed(p), 3, "three events computed");
	ms_tlp_close(p);
}
TEST_END

/* A pid that exited and forks again is a new process: its new parent's copy, not the dead map. */
TEST_BEGIN(test_playback_pid_reuse)
{
	/* pid 2 forks, reserves, exits; pid 1 frees half; pid 2 forks again, reserves again. */
	static const char text[] = "{\"type\":\"header\",\"format\":\"memstate-timeline\","
				   "\"version\":1,\"page_size\":4096}\n"
				   "{\"type\":\"event\",\"seq\":0,\"t_ns\":0,\"pid\":1,"
				   "\"op\":\"sysAlloc\",\"addr\":8192,\"len\":8192}\n"
				   "{\"type\":\"event\",\"seq\":1,\"t_ns\":1,\"pid\":2,"
				   "\"op\":\"procFork\",\"addr\":0,\"len\":0,\"ppid\":1}\n"
				   "{\"type\":\"event\",\"seq\":2,\"t_ns\":2,\"pid\":2,"
				   "\"op\":\"sysReserve\",\"addr\":1048576,\"len\":4096}\n"
				   "{\"type\":\"event\",\"seq\":3,\"t_ns\":3,\"pid\":2,"
				   "\"op\":\"procExit\",\"addr\":0,\"len\":0,\"exit_code\":3}\n"
				   "{\"type\":\"event\",\"seq\":4,\"t_ns\":4,\"pid\":1,"
				   "\"op\":\"sysFree\",\"addr\":8192,\"len\":4096}\n"
				   "{\"type\":\"event\",\"seq\":5,\"t_ns\":5,\"pid\":2,"
				   "\"op\":\"procFork\",\"addr\":0,\"len\":0,\"ppid\":1}\n"
				   "{\"type\":\"event\",\"seq\":6,\"t_ns\":6,\"pid\":2,"
				   "\"op\":\"sysReserve\",\"addr\":1048576,\"len\":4096}\n";
	const char *path = tmp_path("reuse.jsonl");
	struct ms_tlp_proc *pr;
	struct ms_tlp_step st;
	struct ms_tl_item it;
	struct ms_totals t;
	struct ms_tlp *p;
	char msg[600];
	int ret, viol = 0;

	spit(path, text, sizeof(text) - 1);
	p = ms_tlp_open(path, msg, sizeof(msg));
	assert_true(p != NULL, "open: %s", msg);
	while ((ret = ms_tlp_next(p, &it, &st)) == 1)
		viol += it.type == MS_TLI_EVENT && st.ev.violation;
	expect_int_eq(ret, MS_TLR_END, "read to the end");
	expect_int_eq(viol, 0, "the second reservation is the new process's first");
	expect_int_eq(ms_tlp_nprocs(p), 2, "one entry per pid");
	pr = ms_tlp_find(p, 2);
	assert_true(pr && pr->base.sp, "pid 2");
	expect_true(!pr->base.exited && pr->base.exit_code == -1, "the new life runs");
	ms_space_totals(pr->base.sp, &t);
	expect_u64_eq(t.bytes[MS_READY], 4096, "its parent's map at the second fork");
	expect_u64_eq(t.bytes[MS_RESERVED], 4096, "its own reservation");
	ms_tlp_close(p);
}
TEST_END

int main(void)
{
	int ret =
		test_run(test_sample_fields, test_copy_is_identical, test_random_events_exact,
			 test_truncated_every_offset, test_mutations_never_crash, test_exact_limits,
			 test_member_order_and_unknowns, test_writer_section_order,
			 test_playback_fork_exec, test_playback_pid_reuse,
			 test_playback_cut_short_sections, test_minimal_events, NULL);
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (strncmp(tmpdir + strlen(tmpdir) - 6, "XXXXXX", 6) && system(cmd))
		ret = 1;
	return ret;
}
