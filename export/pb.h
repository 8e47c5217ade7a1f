/* SPDX-License-Identifier: MIT */
/*
 * A tiny protocol-buffers encoder for streamed output (the Perfetto trace): varints, tagged
 * fields and nested messages written into one growing buffer, with no schema compiler.
 *
 * A nested message is opened with ms_pb_begin() and closed with ms_pb_end(), which inserts
 * its length in front of it as a minimal varint (the bytes are moved once: messages here
 * are small), so the output is canonical and as short as protoc's. Nesting depth is at most
 * MS_PB_DEPTH. Errors (out of memory, too deep) are kept in err and checked once.
 */
#ifndef MEMSTATE_EXPORT_PB_H
#define MEMSTATE_EXPORT_PB_H

#include <stddef.h>
#include <stdint.h>

#define MS_PB_DEPTH 8

/* Wire types. */
#define MS_PB_VARINT 0
#define MS_PB_I64    1
#define MS_PB_LEN    2

struct ms_pb {
	unsigned char *buf;	  /* encoded bytes */
	size_t len;		  /* in use */
	size_t cap;		  /* allocated */
	size_t open[MS_PB_DEPTH]; /* where each open message's bytes start */
	unsigned depth;		  /* messages open */
	int err;		  /* first error: -ENOMEM, -EINVAL (nesting) */
};

/* Bytes a varint of v takes (1..10). */
unsigned ms_pb_varint_len(uint64_t v);
/* Encode v at out (room for 10 bytes); returns the bytes written. */
unsigned ms_pb_varint_put(unsigned char *out, uint64_t v);

void ms_pb_init(struct ms_pb *pb);
void ms_pb_release(struct ms_pb *pb);
/* Forget the bytes (keep the buffer); every message must be closed. */
void ms_pb_reset(struct ms_pb *pb);

void ms_pb_varint(struct ms_pb *pb, uint64_t v);
/* Field headers and whole fields. int64 fields take negative values as 10-byte varints. */
void ms_pb_tag(struct ms_pb *pb, uint32_t field, unsigned wire);
void ms_pb_uint(struct ms_pb *pb, uint32_t field, uint64_t v);
void ms_pb_int(struct ms_pb *pb, uint32_t field, int64_t v);
void ms_pb_double(struct ms_pb *pb, uint32_t field, double v);
void ms_pb_bytes(struct ms_pb *pb, uint32_t field, const void *p, size_t n);
void ms_pb_str(struct ms_pb *pb, uint32_t field, const char *s); /* NULL: nothing */
/* A nested message as field. */
void ms_pb_begin(struct ms_pb *pb, uint32_t field);
void ms_pb_end(struct ms_pb *pb);

#endif /* MEMSTATE_EXPORT_PB_H */
