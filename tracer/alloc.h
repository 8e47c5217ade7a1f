/* SPDX-License-Identifier: MIT */
/* Allocator adapters `memstate run` preloads (--alloc; docs/jemalloc.md). */
#ifndef MEMSTATE_TRACER_ALLOC_H
#define MEMSTATE_TRACER_ALLOC_H

#include <stdbool.h>
#include <stddef.h>

/* Does the program use a dynamically linked jemalloc: a DT_NEEDED of the executable, or
 * LD_PRELOAD (the value given) naming libjemalloc? */
bool ms_alloc_uses_jemalloc(const char *prog_path, const char *ld_preload);
/* The adapter's path next to this memstate (build/lib or PREFIX/lib): 0, or -ENOENT. */
int ms_alloc_adapter_path(char *out, size_t len);

#endif /* MEMSTATE_TRACER_ALLOC_H */
