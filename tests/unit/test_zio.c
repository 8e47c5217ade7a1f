// SPDX-License-Identifier: MIT
/*
 * lib/zio.c: plain and zstd timeline streams. Round trips in random chunks with random
 * flushes (fixed seed); every flush leaves a decodable prefix; every cut of a stream
 * reads as a prefix of what was written; a flipped byte is an error or changes nothing,
 * and what came out before the error is a prefix (never garbage); the magic is found
 * when a pipe hands it over in pieces; frames end by size and by age; a foreign stream of
 * one frame larger than the hold still reads, and its checksum is still checked.
 */
#include <errno.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/zio.h"
#include "test.h"
#include "test_main.h"

#if MS_ZIO_ZSTD
#include <zstd.h>
#endif

/* Timeline-like bytes: JSON lines with counters, compressible like the real thing. */
static unsigned char *make_data(size_t n, uint64_t seed)
{
	unsigned char *d = malloc(n + 256);
	size_t len = 0;
	uint64_t s = seed;

	while (len < n) {
		len += (size_t)snprintf(
			(char *)d + len, 256,
			"{\"type\":\"event\",\"seq\":%zu,\"t_ns\":%llu,\"addr\":%llu,"
			"\"op\":\"sysAlloc\"}\n",
			len, (unsigned long long)(test_rand(&s) % 100000000),
			(unsigned long long)(0x7f0000000000ull + (test_rand(&s) % 65536) * 4096));
	}
	return d;
}

static int mem_file(void)
{
	return memfd_create("zio-test", MFD_CLOEXEC);
}

/* Read all of fd from its start through ms_zin, in chunks of up to cap bytes. */
static ssize_t read_back(int fd, unsigned char **out, size_t cap, bool *truncated, int *err,
			 char *msg, size_t msglen)
{
	struct ms_zin *z;
	size_t len = 0, room = 1 << 16;
	unsigned char *buf = malloc(room);
	ssize_t n;

	lseek(fd, 0, SEEK_SET);
	*err = 0;
	if (ms_zin_open(&z, fd)) {
		free(buf);
		return -1;
	}
	for (;;) {
		if (room - len < cap) {
			unsigned char *grown = realloc(buf, 2 * room + cap);

			if (!grown)
				abort();
			buf = grown;
			room = 2 * room + cap;
		}
		n = ms_zin_read(z, buf + len, cap);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (n < 0) {
		*err = (int)n;
		if (msg)
			snprintf(msg, msglen, "%s", ms_zin_error(z));
	}
	if (truncated)
		*truncated = ms_zin_truncated(z);
	ms_zin_close(z);
	*out = buf;
	return (ssize_t)len;
}

/* A copy of the first n bytes of fd in a new file (a cut stream). */
static int cut_copy(int fd, size_t n)
{
	int c = mem_file();
	unsigned char *buf = malloc(n ? n : 1);

	expect_int_eq(pread(fd, buf, n, 0), (long long)n, "pread");
	expect_int_eq(write(c, buf, n), (long long)n, "write");
	free(buf);
	return c;
}

#if MS_ZIO_ZSTD
/* Frames in a whole stream of len bytes at fd (-1 if it is not whole). */
static int count_frames(int fd, size_t len)
{
	unsigned char *buf = malloc(len);
	size_t off = 0;
	int n = 0;

	expect_int_eq(pread(fd, buf, len, 0), (long long)len, "pread");
	while (off < len) {
		size_t f = ZSTD_findFrameCompressedSize(buf + off, len - off);

		if (ZSTD_isError(f)) {
			n = -1;
			break;
		}
		off += f;
		n++;
	}
	free(buf);
	return n;
}
#endif

TEST_BEGIN(test_plain_passes_through)
{
	const char *docs[] = {"", "{", "{}", "(\xb5/", "{\"format\":\"memstate-timeline\"}\n"};

	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		int fd = mem_file(), err;
		size_t n = strlen(docs[i]);
		unsigned char *out;
		bool cut;
		ssize_t got;

		expect_int_eq(write(fd, docs[i], n), (long long)n, "write");
		got = read_back(fd, &out, 1 + i, &cut, &err, NULL, 0);
		expect_int_eq(got, (long long)n, docs[i]);
		expect_true(got == (ssize_t)n && !memcmp(out, docs[i], n), "bytes of \"%s\"",
			    docs[i]);
		expect_int_eq(err, 0, "error");
		expect_true(!cut, "plain input is never cut");
		free(out);
		close(fd);
	}
	expect_true(ms_zio_path_is_zst("t.jsonl.zst") && !ms_zio_path_is_zst(".zst") &&
			    !ms_zio_path_is_zst("t.zstd") && !ms_zio_path_is_zst(NULL),
		    "names");
}
TEST_END

TEST_BEGIN(test_round_trip_random_chunks)
{
	uint64_t s = 0x5eed;
	size_t n = 10u << 20;
	unsigned char *data = make_data(n, 1), *out;
	struct ms_zout *z;
	int fd = mem_file(), err;
	bool cut;
	ssize_t got;

	if (!ms_zio_available())
		test_skip("built without libzstd");
	assert_true(!ms_zout_new(&z, fd, 0), "ms_zout_new");
	for (size_t off = 0; off < n;) {
		size_t chunk = 1 + test_rand(&s) % (1 << 18);

		if (chunk > n - off)
			chunk = n - off;
		expect_int_eq(ms_zout_write(z, data + off, chunk), 0, "write");
		if (test_rand(&s) % 4 == 0)
			expect_int_eq(ms_zout_flush(z), 0, "flush");
		off += chunk;
	}
	expect_int_eq(ms_zout_end(z), 0, "end");
	expect_u64_eq(ms_zout_in_bytes(z), n, "bytes in");
	expect_true(ms_zout_out_bytes(z) * 4 < n, "compressed %llu of %zu",
		    (unsigned long long)ms_zout_out_bytes(z), n);
#if MS_ZIO_ZSTD
	/* 10 MiB makes three frames of 4 MiB at most */
	expect_int_eq(count_frames(fd, ms_zout_out_bytes(z)), 3, "frames");
#endif
	ms_zout_free(z);
	for (size_t cap = 1; cap <= (1u << 20); cap *= 64) {
		got = read_back(fd, &out, cap, &cut, &err, NULL, 0);
		expect_int_eq(got, (long long)n, "bytes out");
		expect_true(got == (ssize_t)n && !memcmp(out, data, n), "same bytes (cap %zu)",
			    cap);
		expect_int_eq(err, 0, "error");
		expect_true(!cut, "whole stream");
		free(out);
	}
	free(data);
	close(fd);
}
TEST_END

/*
 * Every flush is a readable point: each cut of the stream (every offset of a small one)
 * reads without error as a prefix of the data, at least as long as the last flush before
 * the cut.
 */
TEST_BEGIN(test_every_cut_reads_a_prefix)
{
	enum { NFLUSH = 40 };
	uint64_t flushed_in[NFLUSH + 1] = {0}, flushed_out[NFLUSH + 1] = {0};
	size_t n = 60000;
	unsigned char *data = make_data(n, 2), *out;
	struct ms_zout *z;
	int fd = mem_file(), err;
	bool cut;

	if (!ms_zio_available())
		test_skip("built without libzstd");
	assert_true(!ms_zout_new(&z, fd, 0), "ms_zout_new");
	for (int i = 1; i <= NFLUSH; i++) {
		size_t from = (size_t)flushed_in[i - 1], to = n * (size_t)i / NFLUSH;

		expect_int_eq(ms_zout_write(z, data + from, to - from), 0, "write");
		expect_int_eq(i == NFLUSH ? ms_zout_end(z) : ms_zout_flush(z), 0, "flush");
		flushed_in[i] = to;
		flushed_out[i] = ms_zout_out_bytes(z);
	}
	for (size_t c = 0; c <= flushed_out[NFLUSH]; c++) {
		int cf = cut_copy(fd, c);
		ssize_t got = read_back(cf, &out, 4096, &cut, &err, NULL, 0);
		uint64_t want = 0;

		for (int i = 0; i <= NFLUSH; i++) {
			if (flushed_out[i] <= c)
				want = flushed_in[i];
		}
		expect_int_eq(err, 0, "a cut is not an error");
		if (c < 4) { /* too short for the magic: plain bytes */
			expect_int_eq(got, (long long)c, "a stub is passed on");
			free(out);
			close(cf);
			continue;
		}
		expect_true(got >= (ssize_t)want && got <= (ssize_t)n && !memcmp(out, data, got),
			    "cut at %zu: %zd bytes, want a prefix of at least %llu", c, got,
			    (unsigned long long)want);
		expect_true(cut == (c >= 4 && c < flushed_out[NFLUSH]), "cut at %zu said %d", c,
			    cut);
		free(out);
		close(cf);
		if (test_state.failures > 10)
			break;
	}
	ms_zout_free(z);
	free(data);
	close(fd);
}
TEST_END

/* A flipped byte: an error (with a message) or the very same bytes; never other data. */
TEST_BEGIN(test_flipped_byte_is_never_data)
{
	uint64_t s = 99;
	size_t n = 3u << 20, len;
	unsigned char *data = make_data(n, 3), *out, *stream;
	struct ms_zout *z;
	int fd = mem_file(), errors = 0;
	char msg[200];

	if (!ms_zio_available())
		test_skip("built without libzstd");
	assert_true(!ms_zout_new(&z, fd, 0), "ms_zout_new");
	for (int i = 0; i < 4; i++) {
		ms_zout_write(z, data + n / 4 * (size_t)i, n / 4);
		ms_zout_flush(z);
	}
	ms_zout_end(z);
	len = (size_t)ms_zout_out_bytes(z);
	ms_zout_free(z);
	stream = malloc(len);
	expect_int_eq(pread(fd, stream, len, 0), (long long)len, "pread");
	for (int trial = 0; trial < 300; trial++) {
		size_t at = trial < 40 ? (size_t)trial : test_rand(&s) % len;
		int cf = mem_file(), err;
		ssize_t got;
		bool cut;

		stream[at] ^= (unsigned char)(1 + test_rand(&s) % 255);
		expect_int_eq(write(cf, stream, len), (long long)len, "write");
		got = read_back(cf, &out, 1 << 16, &cut, &err, msg, sizeof(msg));
		if (err) {
			errors++;
			expect_true(err == -EBADMSG, "flip at %zu: error %d", at, err);
			expect_true(!strncmp(msg, "corrupt zstd frame at byte ", 27),
				    "flip at %zu: \"%s\"", at, msg);
			expect_true(got <= (ssize_t)n && !memcmp(out, data, (size_t)got),
				    "flip at %zu: garbage before the error", at);
		} else if (at < 4) {
			/* the magic broken: not zstd, passed on as it is */
			expect_true(got == (ssize_t)len && !memcmp(out, stream, len),
				    "flip at %zu: not passed on", at);
		} else {
			/* accepted (a header bit that changes nothing, or a cut): a prefix */
			expect_true(got <= (ssize_t)n && !memcmp(out, data, (size_t)got),
				    "flip at %zu: accepted other data", at);
		}
		free(out);
		close(cf);
		stream[at] = 0;
		expect_int_eq(pread(fd, stream + at, 1, (off_t)at), 1, "restore");
	}
	expect_true(errors > 240, "only %d of 300 flips detected", errors);
	free(stream);
	free(data);
	close(fd);
}
TEST_END

struct slow_writer {
	int fd;			   /* pipe's write end */
	const unsigned char *data; /* what to send */
	size_t len;		   /* its size */
};

static void *slow_write(void *arg)
{
	struct slow_writer *w = arg;

	/* the magic one byte at a time, then the rest */
	for (size_t i = 0; i < 3 && i < w->len; i++) {
		if (write(w->fd, w->data + i, 1) != 1)
			break;
		usleep(20000);
	}
	if (w->len > 3 && write(w->fd, w->data + 3, w->len - 3) != (ssize_t)(w->len - 3))
		w->len = 0;
	close(w->fd);
	return NULL;
}

TEST_BEGIN(test_pipe_hands_the_magic_in_pieces)
{
	size_t n = 20000, len;
	unsigned char *data = make_data(n, 4), *stream, buf[4096];
	struct slow_writer sw;
	struct ms_zout *z;
	struct ms_zin *zin;
	pthread_t th;
	int fd = mem_file(), p[2];
	size_t got = 0;
	ssize_t r;

	if (!ms_zio_available())
		test_skip("built without libzstd");
	assert_true(!ms_zout_new(&z, fd, 0), "ms_zout_new");
	ms_zout_write(z, data, n);
	ms_zout_end(z);
	len = (size_t)ms_zout_out_bytes(z);
	ms_zout_free(z);
	assert_true(len < 65536, "fits a pipe");
	stream = malloc(len);
	expect_int_eq(pread(fd, stream, len, 0), (long long)len, "pread");
	assert_true(!pipe(p), "pipe");
	sw = (struct slow_writer){p[1], stream, len};
	pthread_create(&th, NULL, slow_write, &sw);
	assert_true(!ms_zin_open(&zin, p[0]), "ms_zin_open");
	expect_true(ms_zin_is_zstd(zin), "the magic was found");
	while ((r = ms_zin_read(zin, buf, sizeof(buf))) > 0) {
		expect_true(got + (size_t)r <= n && !memcmp(buf, data + got, (size_t)r),
			    "bytes at %zu", got);
		got += (size_t)r;
	}
	expect_int_eq(r, 0, "end");
	expect_u64_eq(got, n, "bytes");
	pthread_join(th, NULL);
	ms_zin_close(zin);
	close(p[0]);
	free(stream);
	free(data);
	close(fd);
}
TEST_END

TEST_BEGIN(test_frames_end_by_age)
{
	struct ms_zout *z;
	int fd = mem_file(), err;
	unsigned char *out;
	bool cut;
	ssize_t got;

	if (!ms_zio_available())
		test_skip("built without libzstd");
	assert_true(!ms_zout_new(&z, fd, 0), "ms_zout_new");
	ms_zout_write(z, "{\"a\":1}\n", 8);
	ms_zout_flush(z);
	/* a flush of a young frame: decodable, but the frame is still open */
	got = read_back(fd, &out, 100, &cut, &err, NULL, 0);
	expect_int_eq(got, 8, "flushed bytes");
	expect_true(cut, "the frame is open");
	free(out);
	usleep(1050000);
	ms_zout_flush(z); /* a second old: ended */
	got = read_back(fd, &out, 100, &cut, &err, NULL, 0);
	expect_int_eq(got, 8, "flushed bytes");
	expect_true(!cut, "the frame was ended");
	free(out);
#if MS_ZIO_ZSTD
	expect_int_eq(count_frames(fd, ms_zout_out_bytes(z)), 1, "frames");
#endif
	ms_zout_free(z);
	close(fd);
}
TEST_END

TEST_BEGIN(test_foreign_big_frame)
{
#if MS_ZIO_ZSTD
	size_t n = 20u << 20, cap, len;
	unsigned char *data = make_data(n, 5), *stream, *out;
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	int fd = mem_file(), err;
	char msg[200];
	bool cut;
	ssize_t got;

	ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
	cap = ZSTD_compressBound(n);
	stream = malloc(cap);
	len = ZSTD_compress2(cc, stream, cap, data, n);
	assert_true(!ZSTD_isError(len), "compress");
	ZSTD_freeCCtx(cc);
	expect_int_eq(write(fd, stream, len), (long long)len, "write");
	got = read_back(fd, &out, 1 << 20, &cut, &err, NULL, 0);
	expect_true(got == (ssize_t)n && !memcmp(out, data, n) && !err, "one 20 MiB frame");
	free(out);
	close(fd);
	/* its checksum broken: bytes past the hold came out, and then the error */
	stream[len - 1] ^= 1;
	fd = mem_file();
	expect_int_eq(write(fd, stream, len), (long long)len, "write");
	got = read_back(fd, &out, 1 << 20, &cut, &err, msg, sizeof(msg));
	expect_int_eq(err, -EBADMSG, "checksum checked at the end");
	expect_true(strstr(msg, "at byte 0: ") != NULL, "message \"%s\"", msg);
	expect_true(got >= (ssize_t)MS_ZIO_HOLD_MAX && got < (ssize_t)n &&
			    !memcmp(out, data, (size_t)got),
		    "%zd bytes before the error", got);
	free(out);
	close(fd);
	free(stream);
	free(data);
#else
	test_skip("built without libzstd");
#endif
}
TEST_END

int main(void)
{
	return test_run(test_plain_passes_through, test_round_trip_random_chunks,
			test_every_cut_reads_a_prefix, test_flipped_byte_is_never_data,
			test_pipe_hands_the_magic_in_pieces, test_frames_end_by_age,
			test_foreign_big_frame, NULL);
}
