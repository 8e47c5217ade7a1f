/* SPDX-License-Identifier: MIT */
/* The converters behind `memstate convert`: each reads through playback and writes to fd. */
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
};

/*
 * Each returns 0, or MS_EXIT_ERROR after printing one line (unreadable input, write error).
 * A JSON Lines input cut short is converted up to its last whole line, with a warning.
 */
int ms_conv_timeline(struct ms_tlp *p, int fd, bool jsonl, const struct ms_conv_opts *o);
/* Perfetto: the Chrome trace-event JSON form, and the native protobuf trace. */
int ms_conv_perfetto(struct ms_tlp *p, int fd, const struct ms_conv_opts *o);
int ms_conv_perfetto_pb(struct ms_tlp *p, int fd, const struct ms_conv_opts *o);
/* Reads path twice (layout, then drawing). */
int ms_conv_svg(const char *path, int fd, const struct ms_conv_opts *o);

/* Shared by the converters: end of input. ret is ms_tlp_next()'s last result. */
int ms_conv_input_end(struct ms_tlp *p, int ret);
/* "memstate: convert: <msg>", with the copy's path in msg shown as o->in_name. */
int ms_conv_fail(const struct ms_conv_opts *o, const char *path, const char *msg);

#endif /* MEMSTATE_EXPORT_CONVERT_H */
