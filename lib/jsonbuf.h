/* SPDX-License-Identifier: MIT */
/*
 * A small buffered JSON emitter for streaming output: exact integers, escaped strings
 * (always valid UTF-8 out: bytes that are not UTF-8 are written as \u00XX), and the
 * first write error kept so that callers check once at the end.
 *
 * Output may be zstd-compressed (ms_jb_set_zstd, lib/zio.h): ms_jb_flush() then makes what
 * was put so far decodable, and ms_jb_end() completes the stream; a plain buffer treats
 * both as a flush.
 */
#ifndef MEMSTATE_EXPORT_JSONBUF_H
#define MEMSTATE_EXPORT_JSONBUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct ms_zout;

struct ms_jbuf {
	int fd;		   /* destination */
	char *buf;	   /* pending bytes */
	size_t len;	   /* bytes pending */
	size_t cap;	   /* buffer size */
	int err;	   /* first error (negative errno), 0 if none */
	uint64_t written;  /* bytes handed to the kernel (compressed ones for zstd) */
	struct ms_zout *z; /* compressor the bytes go through, NULL for plain output */
};

int ms_jb_init(struct ms_jbuf *b, int fd, size_t cap);
void ms_jb_release(struct ms_jbuf *b); /* frees the buffer; does not flush or close */
/* Compress from now on (before anything was put): 0, -ENOMEM, -ENOTSUP without libzstd. */
int ms_jb_set_zstd(struct ms_jbuf *b, int level);
int ms_jb_flush(struct ms_jbuf *b);
int ms_jb_end(struct ms_jbuf *b); /* flush, and end a zstd stream's frame */
void ms_jb_put_slow(struct ms_jbuf *b, const char *s, size_t n); /* when it does not fit */
/* Every byte of a timeline passes here: the common case (it fits) is inline. */
static inline void ms_jb_put(struct ms_jbuf *b, const char *s, size_t n)
{
	if (n <= b->cap - b->len) {
		memcpy(b->buf + b->len, s, n);
		b->len += n;
	} else {
		ms_jb_put_slow(b, s, n);
	}
}
void ms_jb_puts(struct ms_jbuf *b, const char *s);
void ms_jb_u64(struct ms_jbuf *b, uint64_t v);
void ms_jb_i64(struct ms_jbuf *b, int64_t v);
void ms_jb_str(struct ms_jbuf *b, const char *s);	     /* quoted, or null for NULL */
void ms_jb_strn(struct ms_jbuf *b, const char *s, size_t n); /* quoted */
/* ,"key": with a leading comma unless first; the key is trusted (no escaping). */
void ms_jb_key(struct ms_jbuf *b, const char *key, int first);

#endif /* MEMSTATE_EXPORT_JSONBUF_H */
