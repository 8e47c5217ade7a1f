// SPDX-License-Identifier: MIT
/*
 * Fuzz target "zread": the zstd path of timeline input (lib/zio.c) on hostile streams, and
 * the reader on top of it.
 *
 * The input is a zstd stream (the magic is put in front when it lacks one, so the fuzzer's
 * time goes to the decoder, not to the plain path). Oracles besides "no crash, no leak, no
 * undefined behaviour":
 *  - reading ends in 0 or an error; -EBADMSG comes with its one-line message;
 *  - reading it again, in other chunk sizes, gives the same bytes and the same ending;
 *  - the timeline reader on the same file ends and, on an error, says why;
 *  - what came out, compressed again by the writer in chunks with flushes, reads back
 *    equal (the writer's frames by size and age never change the bytes).
 */
#include <errno.h>

#include "lib/reader.h"
#include "fuzz.h"
#include "lib/zio.h"

#define OUT_MAX (8u << 20) /* decoded bytes looked at per input (zstd expands a lot) */

static struct fuzz_file in, re;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_file_init(&in, "fuzz-in");
	fuzz_file_init(&re, "fuzz-recompressed");
	return 0;
}

struct readout {
	unsigned char *buf; /* what came out (up to OUT_MAX) */
	size_t len;	    /* its length */
	int ret;	    /* 0 at the end, or the error */
};

static struct readout read_all(int fd, size_t chunk)
{
	struct readout r = {0};
	struct ms_zin *z;
	size_t cap = 0;
	ssize_t n = 0;

	if (lseek(fd, 0, SEEK_SET))
		abort();
	fuzz_check(!ms_zin_open(&z, fd), "ms_zin_open failed");
	while (r.len < OUT_MAX) {
		size_t want = chunk < OUT_MAX - r.len ? chunk : OUT_MAX - r.len;

		if (cap - r.len < want) {
			cap = cap ? 2 * cap : 1 << 16;
			while (cap - r.len < want)
				cap *= 2;
			r.buf = realloc(r.buf, cap);
			if (!r.buf)
				abort();
		}
		n = ms_zin_read(z, r.buf + r.len, want);
		if (n <= 0)
			break;
		fuzz_check((size_t)n <= want, "read %zd of %zu", n, want);
		r.len += (size_t)n;
	}
	r.ret = n < 0 ? (int)n : 0;
	if (n == -EBADMSG)
		fuzz_check(!strncmp(ms_zin_error(z), "corrupt zstd frame at byte ", 27),
			   "an -EBADMSG without its message: \"%s\"", ms_zin_error(z));
	ms_zin_close(z);
	return r;
}

static void reader_ends(const char *path)
{
	struct ms_tl_reader *r;
	struct ms_tl_item it;
	char msg[600];
	int err, ret, items = 0;

	r = ms_tlr_open(path, &err, msg, sizeof(msg));
	if (!r)
		return;
	while ((ret = ms_tlr_next(r, &it)) == 1 && ++items < 100000)
		;
	if (ret < 0)
		fuzz_check(*ms_tlr_error(r), "an error without a message");
	ms_tlr_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t magic[4] = {0x28, 0xb5, 0x2f, 0xfd};
	struct readout a, b, c;
	struct ms_zout *z;
	size_t off = 0;

	if (size >= 4 && !memcmp(data, magic, 4)) {
		fuzz_file_set(&in, data, size);
	} else {
		uint8_t *buf = malloc(size + 4);

		memcpy(buf, magic, 4);
		memcpy(buf + 4, data, size);
		fuzz_file_set(&in, buf, size + 4);
		free(buf);
	}
	a = read_all(in.fd, 1 + size % 4093);
	b = read_all(in.fd, 1 << 16);
	fuzz_check(a.ret == b.ret && a.len == b.len && !memcmp(a.buf, b.buf, a.len),
		   "two reads differ: %d/%zu, %d/%zu", a.ret, a.len, b.ret, b.len);

	/* Compress what came out again, in pieces with flushes, and read it back. */
	fuzz_file_set(&re, NULL, 0);
	fuzz_check(!ms_zout_new(&z, re.fd, 0), "ms_zout_new");
	while (off < a.len) {
		size_t k = 1 + (off * 7919 + size) % 70000;

		if (k > a.len - off)
			k = a.len - off;
		fuzz_check(!ms_zout_write(z, a.buf + off, k), "ms_zout_write");
		if (k & 1)
			fuzz_check(!ms_zout_flush(z), "ms_zout_flush");
		off += k;
	}
	fuzz_check(!ms_zout_end(z), "ms_zout_end");
	ms_zout_free(z);
	c = read_all(re.fd, 1 << 16);
	fuzz_check(!c.ret && c.len == a.len && !memcmp(c.buf, a.buf, a.len),
		   "recompressed %zu bytes read back as %zu (%d)", a.len, c.len, c.ret);
	/* The reader on top: the input itself, unless it decodes past what was looked at. */
	reader_ends(a.len < OUT_MAX ? in.path : re.path);
	free(a.buf);
	free(b.buf);
	free(c.buf);
	return 0;
}
