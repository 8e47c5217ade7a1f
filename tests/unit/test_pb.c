// SPDX-License-Identifier: MIT
/*
 * export/pb.c, the protobuf encoder behind `convert --to perfetto`: varints against the
 * encoding's definition (known vectors, every bit length, a decoder round trip with a fixed
 * seed), int64 two's complement, fixed64 doubles, and nested messages whose lengths are
 * inserted as minimal varints at any depth (a message of 127 and of 128 bytes).
 */
#include <errno.h>

#include "export/pb.h"
#include "test.h"
#include "test_main.h"

/* The reference decoder: the varint at p (n bytes left); its length in *len, 0 if bad. */
static uint64_t get_varint(const unsigned char *p, size_t n, unsigned *len)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < 10 && i < n; i++) {
		v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			*len = i + 1;
			return v;
		}
	}
	*len = 0;
	return 0;
}

TEST_BEGIN(test_varint_vectors)
{
	static const struct {
		uint64_t v;
		unsigned char bytes[10];
		unsigned n;
	} vec[] = {
		{0, {0x00}, 1},
		{1, {0x01}, 1},
		{127, {0x7f}, 1},
		{128, {0x80, 0x01}, 2},
		{150, {0x96, 0x01}, 2}, /* the protobuf documentation's example */
		{300, {0xac, 0x02}, 2},
		{16383, {0xff, 0x7f}, 2},
		{16384, {0x80, 0x80, 0x01}, 3},
		{UINT32_MAX, {0xff, 0xff, 0xff, 0xff, 0x0f}, 5},
		{UINT64_MAX, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 10},
	};

	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		unsigned char out[10];
		unsigned n = ms_pb_varint_put(out, vec[i].v);

		expect_u64_eq(n, vec[i].n, "length");
		expect_u64_eq(ms_pb_varint_len(vec[i].v), vec[i].n, "ms_pb_varint_len");
		expect_true(n == vec[i].n && !memcmp(out, vec[i].bytes, n), "bytes of %llu",
			    (unsigned long long)vec[i].v);
	}
}
TEST_END

TEST_BEGIN(test_varint_round_trip)
{
	uint64_t s = 42;

	for (int bits = 0; bits <= 64; bits++) {
		for (int k = 0; k < 200; k++) {
			uint64_t v = bits == 64 ? test_rand(&s)
				     : bits	? test_rand(&s) & ((1ull << bits) - 1)
						: 0;
			unsigned char out[10];
			unsigned n = ms_pb_varint_put(out, v), len;
			uint64_t back = get_varint(out, n, &len);

			expect_true(back == v && len == n, "%llu: %u bytes, read back %llu (%u)",
				    (unsigned long long)v, n, (unsigned long long)back, len);
			/* minimal: 7 bits a byte, the last byte never zero unless v is */
			expect_u64_eq(n, v ? (64 - (unsigned)__builtin_clzll(v) + 6) / 7 : 1,
				      "minimal length");
		}
	}
}
TEST_END

TEST_BEGIN(test_fields)
{
	struct ms_pb pb;
	static const unsigned char want[] = {
		0x08, 0x96, 0x01,				      /* field 1 varint 150 */
		0xf0, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff,	      /* field 30 varint -1 ... */
		0xff, 0xff, 0xff, 0xff, 0x01,			      /* ... as 10 bytes */
		0x12, 0x07, 't',  'e',	's',  't',  'i',  'n',	'g',  /* field 2 "testing" */
		0x29, 0,    0,	  0,	0,    0,    0,	  0xf0, 0x3f, /* field 5 double 1.0 */
	};

	ms_pb_init(&pb);
	ms_pb_uint(&pb, 1, 150);
	ms_pb_int(&pb, 30, -1);
	ms_pb_str(&pb, 2, "testing");
	ms_pb_str(&pb, 3, NULL); /* absent */
	ms_pb_double(&pb, 5, 1.0);
	expect_int_eq(pb.err, 0, "error");
	expect_u64_eq(pb.len, sizeof(want), "length");
	expect_true(pb.len == sizeof(want) && !memcmp(pb.buf, want, sizeof(want)), "bytes");
	ms_pb_release(&pb);
}
TEST_END

/* Nested messages: lengths of 127 and 128 bytes (one and two length bytes), three deep. */
TEST_BEGIN(test_nested_lengths)
{
	struct ms_pb pb;
	char body[200];
	unsigned len;

	memset(body, 'x', sizeof(body));
	for (size_t n = 120; n < 135; n++) {
		ms_pb_init(&pb);
		ms_pb_begin(&pb, 1);
		ms_pb_begin(&pb, 11);
		ms_pb_bytes(&pb, 2, body, n - 2); /* tag, length, n-2 bytes */
		ms_pb_end(&pb);
		ms_pb_end(&pb);
		expect_int_eq(pb.err, 0, "error");
		assert_true(pb.len > 4, "encoded");
		/* outer: tag 0x0a, length, inner: tag 0x5a, length, then the string field */
		expect_u64_eq(pb.buf[0], 0x0a, "outer tag");
		{
			uint64_t outer = get_varint(pb.buf + 1, pb.len - 1, &len);
			size_t at = 1 + len;
			uint64_t inner;

			expect_u64_eq(outer, pb.len - at, "outer length");
			expect_u64_eq(pb.buf[at], 0x5a, "inner tag");
			inner = get_varint(pb.buf + at + 1, pb.len - at - 1, &len);
			expect_u64_eq(inner, 1 + ms_pb_varint_len(n - 2) + n - 2, "inner length");
			expect_u64_eq(len, inner < 128 ? 1 : 2, "inner length bytes");
		}
		ms_pb_release(&pb);
	}
	/* unbalanced use is an error, not a crash */
	ms_pb_init(&pb);
	ms_pb_end(&pb);
	expect_int_eq(pb.err, -EINVAL, "end without begin");
	ms_pb_release(&pb);
	ms_pb_init(&pb);
	for (int i = 0; i <= MS_PB_DEPTH; i++)
		ms_pb_begin(&pb, 1);
	expect_int_eq(pb.err, -EINVAL, "too deep");
	ms_pb_release(&pb);
}
TEST_END

int main(void)
{
	return test_run(test_varint_vectors, test_varint_round_trip, test_fields,
			test_nested_lengths, NULL);
}
