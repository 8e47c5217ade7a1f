// SPDX-License-Identifier: MIT
/* The timeline writer: SPEC section 7 structure, exact integers, escaping, JSON Lines. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/jsonbuf.h"
#include "memstate/timeline.h"
#include "memstate/space.h"
#include "test.h"
#include "test_main.h"

#define PS  4096ull
#define BIG 0x7ffffffff0000000ull /* above 2^53: doubles would round it */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		n = 0;
	buf[n] = 0;
	fclose(f);
	if (len)
		*len = (size_t)n;
	return buf;
}

static struct ms_space *sample_space(void)
{
	struct ms_space_opts o = {.page_size = PS};
	struct ms_space *sp = ms_space_new(&o);
	int heap = ms_space_stat_id(sp, "heap");
	struct ms_event evs[] = {
		{.op = MS_OP_RESERVE, .addr = BIG, .len = 16 * PS, .t_ns = 1000},
		{.op = MS_OP_MAP, .addr = BIG, .len = 4 * PS, .stat = (uint16_t)heap, .t_ns = 2000},
		{.op = MS_OP_USED, .addr = BIG, .len = 4 * PS, .arg = 4 * PS, .t_ns = 3000},
		{.op = MS_OP_FREE, .addr = BIG + 32 * PS, .len = PS, .t_ns = 4000},
		{.op = MS_OP_PAGE_FAULT,
		 .source = MS_SRC_KERNEL,
		 .addr = BIG + 5,
		 .arg = 0x401000,
		 .flags = MS_EVF_WRITE,
		 .t_ns = 5000},
		{.op = MS_OP_ALLOC,
		 .source = MS_SRC_SYSCALL,
		 .aux = 9,
		 .addr = 0x1000000,
		 .len = PS,
		 .t_ns = 6000},
	};

	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
		evs[i].pid = 42;
		evs[i].tid = 43;
		ms_space_apply(sp, &evs[i]);
	}
	return sp;
}

static int write_timeline(struct ms_space *sp, const char *path, enum ms_tl_format fmt)
{
	char *argv[] = {"./prog", "arg with \"quotes\"\n\x01", "caf\xc3\xa9", "bad\xff"};
	struct ms_tl_header h = {.argc = 4, .argv = argv, .page_size = PS, .t0_ns = 500};
	struct ms_tl_process p = {
		.pid = 42, .ppid = 1, .exe = "/bin/prog", .exit_code = 0, .space = sp};
	struct ms_event evs[16];
	struct ms_tl_writer *w;
	int err = 0;
	size_t n;

	w = ms_tlw_open(path, fmt, &err);
	if (!w)
		return err;
	ms_tlw_header(w, &h);
	ms_space_lock(sp);
	n = ms_space_events_read_locked(sp, evs, 16);
	for (size_t i = 0; i < n; i++)
		ms_tlw_event(w, sp, &evs[i]);
	ms_space_unlock(sp);
	ms_tlw_finish(w, &p, 1);
	return ms_tlw_close(w);
}

TEST_BEGIN(test_json_document)
{
	char path[] = "/tmp/ms-writer-XXXXXX";
	int fd = mkstemp(path);
	struct ms_space *sp = sample_space();
	struct stat st;
	cJSON *doc, *events, *ev, *summary;
	char *text;

	assert_true(fd >= 0, "tmp");
	close(fd);
	assert_true(write_timeline(sp, path, MS_TL_JSON) == 0, "write");
	stat(path, &st);
	expect_int_eq(st.st_mode & 0777, 0600, "created 0600");
	text = slurp(path, NULL);
	doc = cJSON_Parse(text);
	assert_true(doc != NULL, "valid JSON near: %.60s", cJSON_GetErrorPtr());
	expect_str_eq(cJSON_GetObjectItem(doc, "format")->valuestring, "memstate-timeline",
		      "format");
	expect_int_eq(cJSON_GetObjectItem(doc, "version")->valueint, 1, "version");
	expect_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "command")), 4, "command");
	expect_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "command"), 1)->valuestring,
		      "arg with \"quotes\"\n\x01", "escaping round trip");
	expect_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "command"), 2)->valuestring,
		      "caf\xc3\xa9", "UTF-8 kept");
	events = cJSON_GetObjectItem(doc, "events");
	expect_int_eq(cJSON_GetArraySize(events), 6, "events");
	ev = cJSON_GetArrayItem(events, 1);
	expect_str_eq(cJSON_GetObjectItem(ev, "op")->valuestring, "sysMap", "op name");
	expect_str_eq(cJSON_GetObjectItem(ev, "stat")->valuestring, "heap", "stat name");
	expect_str_eq(cJSON_GetObjectItem(ev, "to")->valuestring, "Prepared", "to");
	expect_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "from"), "Reserved")->valueint,
		      4 * PS, "from");
	expect_int_eq(cJSON_GetObjectItem(ev, "t_ns")->valueint, 1500, "t_ns relative");
	ev = cJSON_GetArrayItem(events, 3);
	expect_true(cJSON_IsObject(cJSON_GetObjectItem(ev, "violation")), "inline violation");
	expect_str_eq(
		cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "violation"), "kind")->valuestring,
		"double-free", "kind");
	ev = cJSON_GetArrayItem(events, 4);
	expect_true(cJSON_IsTrue(cJSON_GetObjectItem(ev, "write")), "pageFault write");
	expect_int_eq(cJSON_GetObjectItem(ev, "ip")->valueint, 0x401000, "pageFault ip");
	ev = cJSON_GetArrayItem(events, 5);
	expect_str_eq(cJSON_GetObjectItem(ev, "syscall")->valuestring, "mmap", "syscall name");
	expect_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "violations")), 1, "violations");
	expect_true(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "regions")) >= 2, "regions");
	summary = cJSON_GetObjectItem(doc, "summary");
	expect_int_eq(cJSON_GetObjectItem(summary, "events")->valueint, 6, "summary events");
	expect_int_eq(cJSON_GetObjectItem(summary, "page_faults")->valueint, 1, "summary faults");
	/* Exact integers above 2^53: the decimal text itself must be there. */
	expect_true(strstr(text, "\"addr\":9223372036586340352,") != NULL, "exact address");
	cJSON_Delete(doc);
	free(text);
	unlink(path);
	ms_space_free(sp);
}
TEST_END

TEST_BEGIN(test_json_lines)
{
	char path[] = "/tmp/ms-writer-XXXXXX";
	int fd = mkstemp(path), lines = 0, events = 0;
	struct ms_space *sp = sample_space();
	char *text, *line, *save = NULL;
	const char *last = NULL;

	assert_true(fd >= 0, "tmp");
	close(fd);
	assert_true(write_timeline(sp, path, MS_TL_JSONL) == 0, "write");
	text = slurp(path, NULL);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		cJSON *o = cJSON_Parse(line);
		cJSON *type;

		assert_true(o != NULL, "line %d is JSON: %.80s", lines + 1, line);
		type = cJSON_GetObjectItem(o, "type");
		assert_true(cJSON_IsString(type), "line %d has a type", lines + 1);
		if (lines == 0)
			expect_str_eq(type->valuestring, "header", "header first");
		if (!strcmp(type->valuestring, "event"))
			events++;
		last = strcmp(type->valuestring, "summary") ? "other" : "summary";
		cJSON_Delete(o);
		lines++;
	}
	expect_int_eq(events, 6, "one line per event");
	expect_str_eq(last, "summary", "summary last");
	free(text);
	unlink(path);
	ms_space_free(sp);
}
TEST_END

TEST_BEGIN(test_write_errors_surface)
{
	struct ms_space *sp = sample_space();
	int err = write_timeline(sp, "/dev/full", MS_TL_JSON);

	expect_int_eq(err, -ENOSPC, "a full disk is reported");
	err = write_timeline(sp, "/nonexistent-dir/x.json", MS_TL_JSON);
	expect_int_eq(err, -ENOENT, "an unwritable path is reported");
	ms_space_free(sp);
}
TEST_END

/* Integers digit for digit, at every length and around each power of ten. */
TEST_BEGIN(test_integers)
{
	char path[] = "/tmp/jbuf.XXXXXX", got[64], want[64];
	int fd = mkstemp(path);
	struct ms_jbuf b;
	FILE *f;

	assert_true(fd >= 0 && ms_jb_init(&b, fd, 64) == 0, "buffer");
	unlink(path);
	for (uint64_t p = 1, i = 0; i < 20; i++, p *= 10) {
		uint64_t vs[] = {p - 1, p, p + 1, p * 9 + 9};

		for (int k = 0; k < 4; k++) {
			ms_jb_u64(&b, vs[k]);
			ms_jb_put(&b, " ", 1);
			ms_jb_i64(&b, -(int64_t)(vs[k] >> 1));
			ms_jb_put(&b, "\n", 1);
		}
	}
	ms_jb_u64(&b, UINT64_MAX);
	ms_jb_put(&b, " ", 1);
	ms_jb_i64(&b, INT64_MIN);
	ms_jb_put(&b, "\n", 1);
	assert_true(ms_jb_flush(&b) == 0, "flush");
	f = fdopen(fd, "r");
	assert_true(f && fseek(f, 0, SEEK_SET) == 0, "read back");
	for (uint64_t p = 1, i = 0; i < 20; i++, p *= 10) {
		uint64_t vs[] = {p - 1, p, p + 1, p * 9 + 9};

		for (int k = 0; k < 4; k++) {
			snprintf(want, sizeof(want), "%" PRIu64 " %" PRId64 "\n", vs[k],
				 -(int64_t)(vs[k] >> 1));
			expect_str_eq(fgets(got, sizeof(got), f), want, "integer");
		}
	}
	snprintf(want, sizeof(want), "%" PRIu64 " %" PRId64 "\n", UINT64_MAX, INT64_MIN);
	expect_str_eq(fgets(got, sizeof(got), f), want, "extremes");
	ms_jb_release(&b);
	fclose(f);
}
TEST_END

int main(void)
{
	return test_run(test_json_document, test_json_lines, test_write_errors_surface,
			test_integers, NULL);
}
