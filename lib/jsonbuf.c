// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsonbuf.h"
#include "zio.h"

int ms_jb_init(struct ms_jbuf *b, int fd, size_t cap)
{
	*b = (struct ms_jbuf){.fd = fd, .cap = cap ? cap : 1 << 16};
	b->buf = malloc(b->cap);
	return b->buf ? 0 : -ENOMEM;
}

void ms_jb_release(struct ms_jbuf *b)
{
	ms_zout_free(b->z);
	b->z = NULL;
	free(b->buf);
	b->buf = NULL;
	b->len = 0;
}

int ms_jb_set_zstd(struct ms_jbuf *b, int level)
{
	if (b->z)
		return 0;
	return ms_zout_new(&b->z, b->fd, level);
}

/* Hand the pending bytes on (to the compressor, which sends what it has made). */
static int drain(struct ms_jbuf *b)
{
	size_t off = 0;

	if (b->z && !b->err) {
		uint64_t before = ms_zout_out_bytes(b->z);

		b->err = ms_zout_write(b->z, b->buf, b->len);
		b->written += ms_zout_out_bytes(b->z) - before;
		b->len = 0;
		return b->err;
	}
	while (off < b->len && !b->err) {
		ssize_t n = write(b->fd, b->buf + off, b->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			b->err = n < 0 ? -errno : -EIO;
			break;
		}
		off += (size_t)n;
		b->written += (uint64_t)n;
	}
	b->len = 0; /* after an error the rest is dropped: the error is what the caller sees */
	return b->err;
}

/* Flush through the compressor: its current block (end false) or frame (end true). */
static int zsync(struct ms_jbuf *b, bool end)
{
	uint64_t before;

	if (drain(b) || !b->z)
		return b->err;
	before = ms_zout_out_bytes(b->z);
	b->err = end ? ms_zout_end(b->z) : ms_zout_flush(b->z);
	b->written += ms_zout_out_bytes(b->z) - before;
	return b->err;
}

int ms_jb_flush(struct ms_jbuf *b)
{
	return zsync(b, false);
}

int ms_jb_end(struct ms_jbuf *b)
{
	return zsync(b, true);
}

void ms_jb_put_slow(struct ms_jbuf *b, const char *s, size_t n)
{
	if (b->len + n > b->cap) {
		drain(b);
		if (n > b->cap) { /* larger than the buffer: pass it through in chunks */
			while (n && !b->err) {
				size_t chunk = n < b->cap ? n : b->cap;

				memcpy(b->buf, s, chunk);
				b->len = chunk;
				drain(b);
				s += chunk;
				n -= chunk;
			}
			return;
		}
	}
	memcpy(b->buf + b->len, s, n);
	b->len += n;
}

void ms_jb_puts(struct ms_jbuf *b, const char *s)
{
	ms_jb_put(b, s, strlen(s));
}

/* Two digits a division: addresses and times are 10-20 digits, one per event field. */
static const char digit_pairs[201] = "00010203040506070809101112131415161718192021222324"
				     "25262728293031323334353637383940414243444546474849"
				     "50515253545556575859606162636465666768697071727374"
				     "75767778798081828384858687888990919293949596979899";

void ms_jb_u64(struct ms_jbuf *b, uint64_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp);

	while (v >= 100) {
		unsigned d = (unsigned)(v % 100);

		v /= 100;
		i -= 2;
		memcpy(tmp + i, digit_pairs + 2 * d, 2);
	}
	if (v >= 10) {
		i -= 2;
		memcpy(tmp + i, digit_pairs + 2 * v, 2);
	} else {
		tmp[--i] = (char)('0' + v);
	}
	ms_jb_put(b, tmp + i, sizeof(tmp) - i);
}

void ms_jb_i64(struct ms_jbuf *b, int64_t v)
{
	if (v < 0) {
		ms_jb_put(b, "-", 1);
		ms_jb_u64(b, (uint64_t)0 - (uint64_t)v);
	} else {
		ms_jb_u64(b, (uint64_t)v);
	}
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if it is not one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		len = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void ms_jb_strn(struct ms_jbuf *b, const char *str, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0, l;

	ms_jb_put(b, "\"", 1);
	while (i < n) {
		unsigned char c = s[i];
		char esc[6];

		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			i++;
			run++;
			continue;
		}
		if (c >= 0x80 && (l = utf8_len(s + i, n - i))) {
			i += l;
			run += l;
			continue;
		}
		ms_jb_put(b, (const char *)s + i - run, run);
		run = 0;
		switch (c) {
		case '"':
			ms_jb_put(b, "\\\"", 2);
			break;
		case '\\':
			ms_jb_put(b, "\\\\", 2);
			break;
		case '\n':
			ms_jb_put(b, "\\n", 2);
			break;
		case '\t':
			ms_jb_put(b, "\\t", 2);
			break;
		case '\r':
			ms_jb_put(b, "\\r", 2);
			break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			ms_jb_put(b, esc, 6);
		}
		i++;
	}
	ms_jb_put(b, (const char *)s + i - run, run);
	ms_jb_put(b, "\"", 1);
}

void ms_jb_str(struct ms_jbuf *b, const char *s)
{
	if (!s)
		ms_jb_put(b, "null", 4);
	else
		ms_jb_strn(b, s, strlen(s));
}

void ms_jb_key(struct ms_jbuf *b, const char *key, int first)
{
	if (!first)
		ms_jb_put(b, ",", 1);
	ms_jb_put(b, "\"", 1);
	ms_jb_puts(b, key);
	ms_jb_put(b, "\":", 2);
}
