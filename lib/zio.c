// SPDX-License-Identifier: MIT
/* Plain or zstd timeline streams (zio.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "zio.h"

#if MS_ZIO_ZSTD
#include <zstd.h>
#include <zstd_errors.h>
#endif

#define MS_ZIO_LEVEL 1 /* ~18x on timelines at several hundred MB/s: faster than tracing */

bool ms_zio_available(void)
{
	return MS_ZIO_ZSTD;
}

bool ms_zio_path_is_zst(const char *path)
{
	size_t n = path ? strlen(path) : 0;

	return n > 4 && !strcmp(path + n - 4, ".zst");
}

/* ------------------------------------------------------------------ writing */

#if MS_ZIO_ZSTD

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Write all of p to fd: 0 or -errno. */
static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

struct ms_zout {
	int fd;		     /* destination, not ours */
	ZSTD_CCtx *cctx;     /* the compressor */
	unsigned char *obuf; /* compressed bytes on their way out */
	size_t ocap;	     /* its size */
	uint64_t in;	     /* bytes given */
	uint64_t out;	     /* compressed bytes written */
	uint64_t frame_in;   /* bytes in the frame being written (0: none open) */
	uint64_t frame_t0;   /* when that frame got its first byte */
	int err;	     /* first error: every later call returns it */
};

int ms_zout_new(struct ms_zout **out, int fd, int level)
{
	struct ms_zout *z = calloc(1, sizeof(*z));

	*out = NULL;
	if (!z)
		return -ENOMEM;
	z->fd = fd;
	z->ocap = ZSTD_CStreamOutSize();
	z->obuf = malloc(z->ocap);
	z->cctx = ZSTD_createCCtx();
	if (!z->obuf || !z->cctx ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_compressionLevel,
						level ? level : MS_ZIO_LEVEL)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_checksumFlag, 1))) {
		ms_zout_free(z);
		return -ENOMEM;
	}
	*out = z;
	return 0;
}

/* Run the compressor: until in is consumed (continue) or nothing is left (flush, end). */
static int pump(struct ms_zout *z, ZSTD_inBuffer *in, ZSTD_EndDirective mode)
{
	for (;;) {
		ZSTD_outBuffer o = {z->obuf, z->ocap, 0};
		size_t left = ZSTD_compressStream2(z->cctx, &o, in, mode);
		int err;

		if (ZSTD_isError(left))
			return z->err = ZSTD_getErrorCode(left) == ZSTD_error_memory_allocation
						? -ENOMEM
						: -EIO;
		if (o.pos && (err = write_all(z->fd, z->obuf, o.pos)))
			return z->err = err;
		z->out += o.pos;
		if (mode == ZSTD_e_continue ? in->pos == in->size : left == 0)
			return 0;
	}
}

int ms_zout_end(struct ms_zout *z)
{
	ZSTD_inBuffer in = {NULL, 0, 0};
	int err;

	if (z->err || !z->frame_in)
		return z->err;
	err = pump(z, &in, ZSTD_e_end);
	z->frame_in = 0;
	return err;
}

int ms_zout_write(struct ms_zout *z, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len && !z->err) {
		size_t chunk = MS_ZIO_FRAME_BYTES - z->frame_in;
		ZSTD_inBuffer in;

		if (chunk > len)
			chunk = len;
		if (!z->frame_in)
			z->frame_t0 = mono_ns();
		in = (ZSTD_inBuffer){p, chunk, 0};
		if (pump(z, &in, ZSTD_e_continue))
			break;
		z->frame_in += chunk;
		z->in += chunk;
		p += chunk;
		len -= chunk;
		if (z->frame_in >= MS_ZIO_FRAME_BYTES || mono_ns() - z->frame_t0 >= MS_ZIO_FRAME_NS)
			ms_zout_end(z);
	}
	return z->err;
}

int ms_zout_flush(struct ms_zout *z)
{
	ZSTD_inBuffer in = {NULL, 0, 0};

	if (z->err || !z->frame_in)
		return z->err;
	if (mono_ns() - z->frame_t0 >= MS_ZIO_FRAME_NS)
		return ms_zout_end(z);
	return pump(z, &in, ZSTD_e_flush);
}

void ms_zout_free(struct ms_zout *z)
{
	if (!z)
		return;
	ZSTD_freeCCtx(z->cctx);
	free(z->obuf);
	free(z);
}

uint64_t ms_zout_in_bytes(const struct ms_zout *z)
{
	return z->in;
}

uint64_t ms_zout_out_bytes(const struct ms_zout *z)
{
	return z->out;
}

#else /* !MS_ZIO_ZSTD */

struct ms_zout {
	int unused; /* never allocated */
};

int ms_zout_new(struct ms_zout **out, int fd, int level)
{
	*out = NULL;
	return -ENOTSUP;
}

int ms_zout_write(struct ms_zout *z, const void *buf, size_t len)
{
	return -ENOTSUP;
}

int ms_zout_flush(struct ms_zout *z)
{
	return -ENOTSUP;
}

int ms_zout_end(struct ms_zout *z)
{
	return -ENOTSUP;
}

uint64_t ms_zout_in_bytes(const struct ms_zout *z)
{
	return 0;
}

uint64_t ms_zout_out_bytes(const struct ms_zout *z)
{
	return 0;
}

void ms_zout_free(struct ms_zout *z)
{
}

#endif /* MS_ZIO_ZSTD */

/* ------------------------------------------------------------------ reading */

struct ms_zin {
	int fd;		       /* source, not ours */
	bool zstd;	       /* a zstd stream (else passed through) */
	bool fd_eof;	       /* read() said end of file */
	bool done;	       /* the end was handed on */
	bool truncated;	       /* the input ended inside a frame */
	bool frame_open;       /* a frame is being decoded */
	bool out_full;	       /* the decoder filled its output: it may hold more */
	unsigned char head[4]; /* plain: the first bytes, looked at and not yet handed on */
	size_t nhead;	       /* how many there are */
	size_t head_pos;       /* how many were handed on */
	uint64_t in_bytes;     /* bytes read from fd */
	int err;	       /* first error: every later call returns it */
	char msg[192];	       /* the -EBADMSG line */
#if MS_ZIO_ZSTD
	ZSTD_DCtx *dctx;     /* the decompressor */
	unsigned char *ibuf; /* compressed bytes read */
	size_t icap;	     /* its size */
	ZSTD_inBuffer in;    /* what of ibuf is left to decode */
	uint64_t in_base;    /* input offset of ibuf[0] */
	uint64_t frame_off;  /* input offset where the open frame starts */
	unsigned char *hold; /* decoded bytes of the open frame */
	size_t hcap;	     /* its size (grows to MS_ZIO_HOLD_MAX) */
	size_t hlen;	     /* decoded bytes in it */
	size_t hpos;	     /* of which handed on */
	size_t ready;	     /* of which verified, or given up on (may be handed on) */
#endif
};

/* zstd frame magic 0xfd2fb528 and skippable frames 0x184d2a5?, little endian. */
static bool is_zstd_head(const unsigned char *h)
{
	return (h[0] == 0x28 && h[1] == 0xb5 && h[2] == 0x2f && h[3] == 0xfd) ||
	       ((h[0] & 0xf0) == 0x50 && h[1] == 0x2a && h[2] == 0x4d && h[3] == 0x18);
}

static ssize_t read_some(int fd, void *buf, size_t cap)
{
	ssize_t n;

	do {
		n = read(fd, buf, cap);
	} while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

int ms_zin_open(struct ms_zin **out, int fd)
{
	struct ms_zin *z = calloc(1, sizeof(*z));
	ssize_t n;

	*out = NULL;
	if (!z)
		return -ENOMEM;
	z->fd = fd;
	/* A pipe may hand the magic over in pieces. */
	while (z->nhead < sizeof(z->head)) {
		n = read_some(fd, z->head + z->nhead, sizeof(z->head) - z->nhead);
		if (n < 0) {
			z->err = (int)n; /* reported by the first read, like any read error */
			break;
		}
		if (!n) {
			z->fd_eof = true;
			break;
		}
		z->nhead += (size_t)n;
		z->in_bytes += (uint64_t)n;
	}
	z->zstd = z->nhead == sizeof(z->head) && is_zstd_head(z->head);
#if MS_ZIO_ZSTD
	if (z->zstd) {
		z->icap = ZSTD_DStreamInSize();
		z->ibuf = malloc(z->icap);
		z->hcap = 1u << 16; /* grows with the frames */
		z->hold = malloc(z->hcap);
		z->dctx = ZSTD_createDCtx();
		if (!z->ibuf || !z->hold || !z->dctx) {
			ms_zin_close(z);
			return -ENOMEM;
		}
		memcpy(z->ibuf, z->head, z->nhead);
		z->in = (ZSTD_inBuffer){z->ibuf, z->nhead, 0};
		z->nhead = 0;
	}
#else
	if (z->zstd && !z->err) {
		z->err = -ENOTSUP;
		snprintf(z->msg, sizeof(z->msg),
			 "a zstd stream, and this memstate was built without libzstd");
	}
#endif
	*out = z;
	return 0;
}

static ssize_t plain_read(struct ms_zin *z, void *buf, size_t cap)
{
	ssize_t n;

	if (z->head_pos < z->nhead) {
		n = (ssize_t)(z->nhead - z->head_pos < cap ? z->nhead - z->head_pos : cap);
		memcpy(buf, z->head + z->head_pos, (size_t)n);
		z->head_pos += (size_t)n;
		return n;
	}
	if (z->fd_eof)
		return 0;
	n = read_some(z->fd, buf, cap);
	if (n > 0)
		z->in_bytes += (uint64_t)n;
	return n;
}

#if MS_ZIO_ZSTD
/* Decode some more into the hold; 0 or -errno. */
static int decode_more(struct ms_zin *z)
{
	ZSTD_outBuffer o;
	size_t r;

	if (z->in.pos == z->in.size && !z->out_full) {
		ssize_t n;

		if (z->fd_eof) {
			/* A killed writer: what its complete blocks held is all there is. */
			z->truncated = z->frame_open;
			z->ready = z->hlen;
			z->done = true;
			return 0;
		}
		n = read_some(z->fd, z->ibuf, z->icap);
		if (n < 0)
			return z->err = (int)n;
		if (!n) {
			z->fd_eof = true;
			return 0;
		}
		z->in_base = z->in_bytes;
		z->in_bytes += (uint64_t)n;
		z->in = (ZSTD_inBuffer){z->ibuf, (size_t)n, 0};
	}
	if (z->hlen == z->hcap) {
		unsigned char *grown;

		if (z->hcap >= MS_ZIO_HOLD_MAX) {
			/* A frame larger than we hold: hand it on unverified (checked at its end). */
			z->ready = z->hlen;
			return 0;
		}
		grown = realloc(z->hold, z->hcap * 2);
		if (!grown)
			return z->err = -ENOMEM;
		z->hold = grown;
		z->hcap *= 2;
	}
	if (!z->frame_open)
		z->frame_off = z->in_base + z->in.pos;
	o = (ZSTD_outBuffer){z->hold, z->hcap, z->hlen};
	r = ZSTD_decompressStream(z->dctx, &o, &z->in);
	if (ZSTD_isError(r)) {
		snprintf(z->msg, sizeof(z->msg), "corrupt zstd frame at byte %llu: %s",
			 (unsigned long long)z->frame_off, ZSTD_getErrorName(r));
		return z->err = ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation ? -ENOMEM
										     : -EBADMSG;
	}
	z->hlen = o.pos;
	z->out_full = o.pos == o.size;
	z->frame_open = r != 0;
	if (!r)
		z->ready = z->hlen; /* the frame's checksum matched */
	return 0;
}

static ssize_t zstd_read(struct ms_zin *z, void *buf, size_t cap)
{
	for (;;) {
		if (z->hpos < z->ready) {
			size_t n = z->ready - z->hpos < cap ? z->ready - z->hpos : cap;

			memcpy(buf, z->hold + z->hpos, n);
			z->hpos += n;
			return (ssize_t)n;
		}
		if (z->err)
			return z->err;
		if (z->done)
			return 0;
		if (z->hpos == z->hlen) /* all handed on: start the hold again */
			z->hpos = z->hlen = z->ready = 0;
		if (decode_more(z))
			return z->err;
	}
}
#endif

ssize_t ms_zin_read(struct ms_zin *z, void *buf, size_t cap)
{
	if (!cap)
		return 0;
#if MS_ZIO_ZSTD
	if (z->zstd)
		return zstd_read(z, buf, cap);
#endif
	if (z->err)
		return z->err;
	return plain_read(z, buf, cap);
}

bool ms_zin_is_zstd(const struct ms_zin *z)
{
	return z->zstd;
}

bool ms_zin_truncated(const struct ms_zin *z)
{
	return z->truncated;
}

uint64_t ms_zin_in_bytes(const struct ms_zin *z)
{
	return z->in_bytes;
}

const char *ms_zin_error(const struct ms_zin *z)
{
	return z->msg;
}

void ms_zin_close(struct ms_zin *z)
{
	if (!z)
		return;
#if MS_ZIO_ZSTD
	ZSTD_freeDCtx(z->dctx);
	free(z->ibuf);
	free(z->hold);
#endif
	free(z);
}
