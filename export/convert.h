/* SPDX-License-Identifier: MIT */
/*
 * The converters behind `memstate convert`: each reads through playback and writes to fd.
 * Library code: they return 0 or a negative errno, with one line (no "memstate:" prefix) in
 * o->err; warnings (the output is still written) go to o->warn. The caller prints them.
 */
#ifndef MEMSTATE_EXPORT_CONVERT_H
#define MEMSTATE_EXPORT_CONVERT_H

#include <stdbool.h>
#include <stdint.h>

#include "playback.h"

struct ms_conv_opts {
	const char *out_name;	/* output file name for messages */
	const char *in_name;	/* input name for messages, when the path is a copy's */
	const char *path;	/* copy: the input to replay when it was read without replaying */
	uint64_t fault_window;	/* perfetto: ns per page-fault rate sample */
	bool ops;		/* perfetto: one slice per operation on its thread */
	uint32_t pid;		/* svg: only this process (0: the busiest ones) */
	unsigned width, height; /* svg: picture size in pixels */
	bool zstd;		/* compress the output with zstd (-o NAME.zst) */
	char *err;		/* the error line (may be NULL: not kept) */
	size_t errlen;
	void (*warn)(void *ctx, const char *msg); /* a warning line (may be NULL: dropped) */
	void *warn_ctx;
	bool embed; /* svg: to inline in HTML (no XML declaration or namespace) */
};

/*
 * Each returns 0, or a negative errno with one line in o->err (unreadable input: the
 * reader's error, -ENOMEM, a write error). A JSON Lines input cut short is converted up
 * to its last whole line, with a warning. ms_conv_timeline copies a timeline as JSON or
 * JSON Lines, byte-identical to what the writer writes.
 */
int ms_conv_timeline(struct ms_tlp *p, int fd, bool jsonl, const struct ms_conv_opts *o);
/* Perfetto: the Chrome trace-event JSON form, and the native protobuf trace. */
int ms_conv_perfetto(struct ms_tlp *p, int fd, const struct ms_conv_opts *o);
int ms_conv_perfetto_pb(struct ms_tlp *p, int fd, const struct ms_conv_opts *o);
/* Reads path twice (layout, then drawing). */
int ms_conv_svg(const char *path, int fd, const struct ms_conv_opts *o);

/* Shared by the converters. The error line; returns err (negative). */
int ms_conv_error(const struct ms_conv_opts *o, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ms_conv_warn(const struct ms_conv_opts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* End of input: ret is ms_tlp_next()'s last result; 0, or ret (negative) with the error. */
int ms_conv_input_end(const struct ms_conv_opts *o, struct ms_tlp *p, int ret);
/* The error msg, with the copy's path in msg shown as o->in_name; returns err. */
int ms_conv_fail(const struct ms_conv_opts *o, int err, const char *path, const char *msg);

#endif /* MEMSTATE_EXPORT_CONVERT_H */
