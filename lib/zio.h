/* SPDX-License-Identifier: MIT */
/*
 * Timeline byte streams: plain or zstd (SPEC section 9), internal to libmemstate.
 *
 * Writing (struct ms_zout): bytes are compressed with libzstd into frames that are ended
 * at least every second and every 4 MiB of input, each with its content checksum, and
 * ms_zout_flush() completes the current block: whatever was flushed is decodable from the
 * file alone, so a run killed after a flush leaves a readable prefix (as a plain file does).
 *
 * Reading (struct ms_zin): the first bytes decide, never the name: the zstd magic
 * (28 b5 2f fd) or a skippable frame's starts a zstd stream, anything else is passed
 * through unchanged. Decoded bytes of a frame are held back until its checksum has been
 * verified (up to 8 MiB of a frame; bytes past that of a larger frame, which other zstd
 * writers make, are handed on as they come and the checksum still checked at its end),
 * so a corrupt frame is an error and never data. A stream that ends inside a frame (a
 * killed writer) hands on what its complete blocks held, then ends: ms_zin_truncated()
 * says so, ms_zin_in_bytes() where.
 *
 * Neither owns the descriptor it is given. Both return 0 or a negative errno, never print:
 * -EBADMSG for corrupt zstd data (ms_zin_error() says which frame and why), -ENOTSUP when
 * this build has no libzstd (MS_ZIO_ZSTD is 0).
 */
#ifndef MEMSTATE_ZIO_H
#define MEMSTATE_ZIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifndef MS_ZIO_ZSTD
#define MS_ZIO_ZSTD 1 /* the build says 0 when it has no libzstd */
#endif

#define MS_ZIO_FRAME_BYTES (4u << 20)	 /* input bytes that end a frame */
#define MS_ZIO_FRAME_NS	   1000000000ull /* age that ends a frame */
#define MS_ZIO_HOLD_MAX	   (8u << 20)	 /* decoded bytes held back for a checksum */

/* Does this build write and read zstd? */
bool ms_zio_available(void);
/* Does the path name a zstd file ("....zst")? Writers compress those. */
bool ms_zio_path_is_zst(const char *path);

/* ------------------------------------------------------------------ writing */

struct ms_zout;

/* A compressor writing to fd; level 0 means memstate's default (1, fast). */
int ms_zout_new(struct ms_zout **out, int fd, int level);
/* Compress len bytes; frames are ended by size and age as they go. */
int ms_zout_write(struct ms_zout *z, const void *buf, size_t len);
/* Make everything given so far decodable (ends the frame when it is a second old). */
int ms_zout_flush(struct ms_zout *z);
/* End the frame (the stream is then complete). */
int ms_zout_end(struct ms_zout *z);
/* Bytes given to it, and compressed bytes written to fd. */
uint64_t ms_zout_in_bytes(const struct ms_zout *z);
uint64_t ms_zout_out_bytes(const struct ms_zout *z);
/* Free, without writing anything more (call ms_zout_end first for a complete stream). */
void ms_zout_free(struct ms_zout *z);

/* ------------------------------------------------------------------ reading */

struct ms_zin;

/* A reader of fd: looks at its first bytes (reading up to 4 of them). */
int ms_zin_open(struct ms_zin **out, int fd);
/* Up to cap decoded bytes into buf: their count, 0 at the end, or -errno. */
ssize_t ms_zin_read(struct ms_zin *z, void *buf, size_t cap);
/* The input is a zstd stream. */
bool ms_zin_is_zstd(const struct ms_zin *z);
/* It ended inside a frame (what came before was read). */
bool ms_zin_truncated(const struct ms_zin *z);
/* Bytes read from fd so far (compressed bytes for zstd). */
uint64_t ms_zin_in_bytes(const struct ms_zin *z);
/* One line on the last -EBADMSG ("corrupt zstd frame at byte 123: ..."), or "". */
const char *ms_zin_error(const struct ms_zin *z);
void ms_zin_close(struct ms_zin *z);

#endif /* MEMSTATE_ZIO_H */
