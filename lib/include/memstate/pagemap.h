/* SPDX-License-Identifier: MIT */
/*
 * memstate: residency checked against the kernel (SPEC section 8, --verify-maps).
 *
 * Compares, page by page, the resident pages a shadow space holds for its anonymous
 * Prepared and Ready memory with the present bits of /proc/PID/pagemap (readable by root
 * or the process's owner; the present bit needs no privilege). Reclaim, swap-out and KSM
 * change residency without an event: this comparison is the ground truth. The process
 * should be stopped (memstate holds it at its exit) so that both sides stand still.
 */
#ifndef MEMSTATE_PAGEMAP_H
#define MEMSTATE_PAGEMAP_H

#include <stddef.h>
#include <stdint.h>

#include "space.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A run of pages where memstate and the kernel disagree. */
struct ms_res_diff {
	uint64_t start, end; /* byte range */
	uint64_t memstate;   /* bytes memstate counts resident in it */
	uint64_t kernel;     /* bytes pagemap says are present in it */
};

/* What a comparison found. */
struct ms_res_check {
	uint64_t checked;	   /* bytes of anonymous Prepared/Ready memory compared */
	uint64_t memstate;	   /* of which resident for memstate */
	uint64_t kernel;	   /* of which present for the kernel */
	uint64_t ndiffs;	   /* runs that disagree (all are counted) */
	uint64_t diff_bytes;	   /* bytes in them */
	size_t nkept;		   /* runs kept in diffs (at most the max asked) */
	struct ms_res_diff *diffs; /* address order; freed by ms_res_check_free() */
};

/*
 * Compare sp with process pid's pagemap; keep up to max_diffs runs. 0, or a negative
 * errno (-ESRCH: the process is gone, -EACCES: pagemap not readable); *out is filled
 * either way and must be freed.
 */
int ms_pagemap_check(struct ms_space *sp, int pid, size_t max_diffs, struct ms_res_check *out);
void ms_res_check_free(struct ms_res_check *c);

#ifdef __cplusplus
}
#endif

#endif /* MEMSTATE_PAGEMAP_H */
