// SPDX-License-Identifier: MIT
/*
 * What the converters share (messages, end of input), and the copy: a timeline as JSON or
 * JSON Lines, byte-identical to what the writer writes (write -> read -> write is a fixed
 * point). Library code: errors come back as -errno with one line in o->err.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "memstate/timeline.h"

/* ------------------------------------------------------------------ shared */

int ms_conv_error(const struct ms_conv_opts *o, int err, const char *fmt, ...)
{
	va_list ap;

	if (o->err && o->errlen) {
		va_start(ap, fmt);
		vsnprintf(o->err, o->errlen, fmt, ap);
		va_end(ap);
	}
	return err;
}

void ms_conv_warn(const struct ms_conv_opts *o, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!o->warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	o->warn(o->warn_ctx, msg);
}

int ms_conv_input_end(const struct ms_conv_opts *o, struct ms_tlp *p, int ret)
{
	if (ret < 0)
		return ms_conv_error(o, ret, "%s", ms_tlp_error(p));
	if (ret == MS_TLR_TRUNCATED)
		ms_conv_warn(o, "%s", ms_tlp_error(p));
	return 0;
}

int ms_conv_fail(const struct ms_conv_opts *o, int err, const char *path, const char *msg)
{
	size_t n = strlen(path);

	if (o->in_name && !strncmp(msg, path, n))
		return ms_conv_error(o, err, "%s%s", o->in_name, msg + n);
	return ms_conv_error(o, err, "%s", msg);
}

/* ------------------------------------------------------------------ json <-> jsonl */

/* Whether a section before item type's own was left out (a minimal timeline may omit any). */
static bool after_gap(const struct ms_tlp *p, enum ms_tl_item_type type)
{
	for (enum ms_tl_item_type s = MS_TLI_VIOLATION; s < type && s < MS_TLI_SUMMARY; s++) {
		if (!ms_tlp_has_section(p, s))
			return true;
	}
	return false;
}

static int write_failed(const struct ms_conv_opts *o, int err)
{
	return ms_conv_error(o, err, "writing %s: %s", o->out_name, strerror(-err));
}

/*
 * A truncated input still makes a whole document: the replay's closing sections, from
 * where the input's stopped (what it listed of each process is not written twice).
 * Sections from gap on (MS_TLI_SUMMARY: none) were not copied: the replay writes them whole.
 */
static int close_from_replay(struct ms_tlp *p, struct ms_tl_writer *w, enum ms_tl_item_type gap)
{
	size_t n = ms_tlp_nprocs(p);
	struct ms_tl_process *procs = calloc(n ? n : 1, sizeof(*procs));
	int err;

	if (!procs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct ms_tlp_proc *pr = ms_tlp_proc_at(p, i);

		procs[i] = (struct ms_tl_process){
			.pid = pr->base.pid,
			.ppid = pr->base.ppid,
			.exe = pr->exe,
			.exit_code = pr->base.exited ? pr->base.exit_code : -1,
			.exit_signal = pr->base.exit_signal,
			.space = pr->base.sp,
			.violations_done = gap > MS_TLI_VIOLATION ? pr->viol_cursor : 0,
			/* a listed interval differed: where to go on is unknown */
			.regions_done = gap <= MS_TLI_REGION ? 0
					: pr->map_differs    ? SIZE_MAX
							     : pr->map_cursor,
			.listed = gap > MS_TLI_PROCESS && pr->listed};
	}
	err = ms_tlw_finish(w, procs, n);
	free(procs);
	return err;
}

int ms_conv_timeline(struct ms_tlp *p, int fd, bool jsonl, const struct ms_conv_opts *o)
{
	struct ms_tl_writer *w;
	struct ms_tl_item it;
	bool summary = false;	      /* the input had one: the copy is closed by copying it */
	enum ms_tl_item_type gap = 0; /* the first section not copied (0: none) */
	int ret, err = 0;

	w = ms_tlw_fdopen(fd, jsonl ? MS_TL_JSONL : MS_TL_JSON, &err);
	if (!w)
		return write_failed(o, err);
	if (o->zstd && (err = ms_tlw_set_zstd(w, 0))) {
		ms_tlw_close(w);
		return write_failed(o, err);
	}
	while (!err && (ret = ms_tlp_next(p, &it, NULL)) == 1) {
		/*
		 * An item after a left-out section (a minimal timeline may omit violations,
		 * regions or processes): copied, it would make the writer close that section
		 * empty, and the copy would disagree with itself. From there on the replay's
		 * sections close the copy instead.
		 */
		if (it.type > MS_TLI_EVENT && (gap || after_gap(p, it.type))) {
			if (!gap)
				gap = it.type;
			continue;
		}
		err = ms_tl_copy_item(w, &it);
		summary |= it.type == MS_TLI_SUMMARY;
	}
	if (err == -EINVAL) {
		ms_tlw_close(w);
		return ms_conv_error(o, -EINVAL,
				     "%s:%u: an item out of the writer's order (events, "
				     "violations, regions, processes, summary) cannot be copied",
				     ms_tlp_name(p), ms_tlp_item_line(p));
	}
	if (err) {
		ms_tlw_close(w);
		return write_failed(o, err);
	}
	err = ms_conv_input_end(o, p, ret);
	if (err) {
		ms_tlw_close(w);
		return err;
	}
	/*
	 * A JSON Lines copy of a cut-short file stays cut short; a document must close (without
	 * a summary the copy would end inside its sections, unreadable). A whole input without
	 * a summary (a minimal timeline) gets the replay's closing sections in both forms.
	 */
	if ((ret == MS_TLR_TRUNCATED && !jsonl) || (ret == MS_TLR_END && !summary)) {
		struct ms_tlp *rp = p;
		char msg[600];

		/* Read without replaying: replay it now (the file is a regular one then). */
		if (o->path && !(rp = ms_tlp_open(o->path, msg, sizeof(msg)))) {
			ms_tlw_close(w);
			return ms_conv_error(o, -EINVAL, "%s", msg);
		}
		while (rp != p && ms_tlp_next(rp, &it, NULL) == 1)
			;
		err = close_from_replay(rp, w, gap ? gap : MS_TLI_SUMMARY);
		if (rp != p)
			ms_tlp_close(rp);
		if (err) {
			ms_tlw_close(w);
			return write_failed(o, err);
		}
	}
	err = ms_tlw_close(w);
	return err ? write_failed(o, err) : 0;
}
