// SPDX-License-Identifier: MIT
/*
 * Residency against /proc/PID/pagemap (pagemap.h): 64 pages at a time, memstate's bits
 * against the kernel's present bits (bit 63 of each 8-byte entry), runs of differing
 * pages merged into one disagreement each.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "memstate/pagemap.h"

#define PM_PRESENT (1ull << 63)
#define BATCH	   512 /* pagemap entries per read */

struct ranges {
	struct ms_region *v;
	size_t n, cap;
	int err;
};

static int add_range(const struct ms_region *r, void *arg)
{
	struct ranges *rs = arg;

	if (r->kind != MS_KIND_ANON || (r->state != MS_PREPARED && r->state != MS_READY))
		return 0;
	if (rs->n && rs->v[rs->n - 1].end == r->start) { /* one run of usable memory */
		rs->v[rs->n - 1].end = r->end;
		return 0;
	}
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? 2 * rs->cap : 64;
		struct ms_region *v = realloc(rs->v, cap * sizeof(*v));

		if (!v)
			return rs->err = -ENOMEM;
		rs->v = v;
		rs->cap = cap;
	}
	rs->v[rs->n++] = *r;
	return 0;
}

/* The disagreement being built: extended while pages keep differing next to it. */
static void note_diff(struct ms_res_check *c, size_t max, uint64_t addr, uint64_t ps, bool mine,
		      bool kernel, struct ms_res_diff *open)
{
	if (open->end == addr && open->end) {
		open->end += ps;
	} else {
		if (open->end) {
			c->ndiffs++;
			if (c->nkept < max)
				c->diffs[c->nkept++] = *open;
		}
		*open = (struct ms_res_diff){.start = addr, .end = addr + ps};
	}
	open->memstate += mine ? ps : 0;
	open->kernel += kernel ? ps : 0;
	c->diff_bytes += ps;
}

int ms_pagemap_check(struct ms_space *sp, int pid, size_t max_diffs, struct ms_res_check *out)
{
	uint64_t ps = ms_space_page_size(sp), buf[BATCH];
	struct ms_res_diff run = {0};
	struct ranges rs = {0};
	char path[64];
	int fd, err = 0;

	memset(out, 0, sizeof(*out));
	if (max_diffs && !(out->diffs = calloc(max_diffs, sizeof(*out->diffs))))
		return -ENOMEM;
	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	ms_space_lock(sp);
	ms_space_foreach_region_locked(sp, add_range, &rs);
	ms_space_unlock(sp);
	if (rs.err) {
		err = rs.err;
		goto out;
	}
	for (size_t i = 0; i < rs.n && !err; i++) {
		for (uint64_t a = rs.v[i].start; a < rs.v[i].end;) {
			uint64_t n = (rs.v[i].end - a) / ps;
			ssize_t got;

			if (n > BATCH)
				n = BATCH;
			got = pread(fd, buf, n * 8, (off_t)(a / ps * 8));
			if (got < (ssize_t)(n * 8)) {
				err = got < 0 ? -errno : -ESRCH; /* short: the process is gone */
				break;
			}
			for (uint64_t k = 0; k < n; k += 64) {
				unsigned w = n - k < 64 ? (unsigned)(n - k) : 64;
				uint64_t mine, theirs = 0;

				ms_space_lock(sp);
				mine = ms_space_resident_mask_locked(sp, a + k * ps, w);
				ms_space_unlock(sp);
				for (unsigned j = 0; j < w; j++)
					theirs |= (buf[k + j] & PM_PRESENT) ? 1ull << j : 0;
				out->memstate += (uint64_t)ms_popcount64(mine) * ps;
				out->kernel += (uint64_t)ms_popcount64(theirs) * ps;
				for (uint64_t d = mine ^ theirs; d; d &= d - 1) {
					unsigned j = (unsigned)__builtin_ctzll(d);

					note_diff(out, max_diffs, a + (k + j) * ps, ps,
						  (mine >> j) & 1, (theirs >> j) & 1, &run);
				}
			}
			out->checked += n * ps;
			a += n * ps;
		}
	}
	if (run.end) {
		out->ndiffs++;
		if (out->nkept < max_diffs)
			out->diffs[out->nkept++] = run;
	}
out:
	free(rs.v);
	close(fd);
	return err;
}

void ms_res_check_free(struct ms_res_check *c)
{
	if (!c)
		return;
	free(c->diffs);
	memset(c, 0, sizeof(*c));
}
