// SPDX-License-Identifier: MIT
/* Protocol-buffers encoding (pb.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pb.h"

unsigned ms_pb_varint_len(uint64_t v)
{
	unsigned n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

unsigned ms_pb_varint_put(unsigned char *out, uint64_t v)
{
	unsigned n = 0;

	while (v >= 0x80) {
		out[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (unsigned char)v;
	return n;
}

void ms_pb_init(struct ms_pb *pb)
{
	memset(pb, 0, sizeof(*pb));
}

void ms_pb_release(struct ms_pb *pb)
{
	free(pb->buf);
	memset(pb, 0, sizeof(*pb));
}

void ms_pb_reset(struct ms_pb *pb)
{
	if (pb->depth)
		pb->err = -EINVAL;
	pb->len = 0;
}

/* Room for n more bytes; 0 or the error. */
static int room(struct ms_pb *pb, size_t n)
{
	unsigned char *grown;
	size_t cap;

	if (pb->err)
		return pb->err;
	if (pb->len + n <= pb->cap)
		return 0;
	cap = pb->cap ? pb->cap : 256;
	while (cap < pb->len + n)
		cap *= 2;
	grown = realloc(pb->buf, cap);
	if (!grown)
		return pb->err = -ENOMEM;
	pb->buf = grown;
	pb->cap = cap;
	return 0;
}

void ms_pb_varint(struct ms_pb *pb, uint64_t v)
{
	if (room(pb, 10))
		return;
	pb->len += ms_pb_varint_put(pb->buf + pb->len, v);
}

void ms_pb_tag(struct ms_pb *pb, uint32_t field, unsigned wire)
{
	ms_pb_varint(pb, (uint64_t)field << 3 | wire);
}

void ms_pb_uint(struct ms_pb *pb, uint32_t field, uint64_t v)
{
	ms_pb_tag(pb, field, MS_PB_VARINT);
	ms_pb_varint(pb, v);
}

void ms_pb_int(struct ms_pb *pb, uint32_t field, int64_t v)
{
	ms_pb_tag(pb, field, MS_PB_VARINT);
	ms_pb_varint(pb, (uint64_t)v); /* two's complement, as protobuf's int64 */
}

void ms_pb_double(struct ms_pb *pb, uint32_t field, double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof(bits));
	ms_pb_tag(pb, field, MS_PB_I64);
	if (room(pb, 8))
		return;
	for (int i = 0; i < 8; i++) /* little endian on the wire */
		pb->buf[pb->len++] = (unsigned char)(bits >> (8 * i));
}

void ms_pb_bytes(struct ms_pb *pb, uint32_t field, const void *p, size_t n)
{
	ms_pb_tag(pb, field, MS_PB_LEN);
	ms_pb_varint(pb, n);
	if (room(pb, n))
		return;
	memcpy(pb->buf + pb->len, p, n);
	pb->len += n;
}

void ms_pb_str(struct ms_pb *pb, uint32_t field, const char *s)
{
	if (s)
		ms_pb_bytes(pb, field, s, strlen(s));
}

void ms_pb_begin(struct ms_pb *pb, uint32_t field)
{
	if (pb->depth == MS_PB_DEPTH) {
		pb->err = -EINVAL;
		return;
	}
	ms_pb_tag(pb, field, MS_PB_LEN);
	pb->open[pb->depth++] = pb->len;
}

void ms_pb_end(struct ms_pb *pb)
{
	size_t start, body;
	unsigned n;

	if (!pb->depth) {
		pb->err = -EINVAL;
		return;
	}
	start = pb->open[--pb->depth];
	if (pb->err)
		return;
	body = pb->len - start;
	n = ms_pb_varint_len(body);
	if (room(pb, n))
		return;
	memmove(pb->buf + start + n, pb->buf + start, body);
	ms_pb_varint_put(pb->buf + start, body);
	pb->len += n;
}
