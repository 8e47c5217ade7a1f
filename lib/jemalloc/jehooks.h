/* SPDX-License-Identifier: MIT */
/*
 * jemalloc 5.x's extent hook table (the ABI of `arena.<i>.extent_hooks`), declared here so
 * that the adapter builds without jemalloc's headers and never declares its allocation
 * functions. Each hook returns false on success. Field order is the ABI.
 */
#ifndef MEMSTATE_JEHOOKS_H
#define MEMSTATE_JEHOOKS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct extent_hooks_s extent_hooks_t;

struct extent_hooks_s {
	void *(*alloc)(extent_hooks_t *, void *new_addr, size_t size, size_t alignment, bool *zero,
		       bool *commit, unsigned arena_ind);
	bool (*dalloc)(extent_hooks_t *, void *addr, size_t size, bool committed,
		       unsigned arena_ind);
	void (*destroy)(extent_hooks_t *, void *addr, size_t size, bool committed,
			unsigned arena_ind);
	bool (*commit)(extent_hooks_t *, void *addr, size_t size, size_t offset, size_t length,
		       unsigned arena_ind);
	bool (*decommit)(extent_hooks_t *, void *addr, size_t size, size_t offset, size_t length,
			 unsigned arena_ind);
	bool (*purge_lazy)(extent_hooks_t *, void *addr, size_t size, size_t offset, size_t length,
			   unsigned arena_ind);
	bool (*purge_forced)(extent_hooks_t *, void *addr, size_t size, size_t offset,
			     size_t length, unsigned arena_ind);
	bool (*split)(extent_hooks_t *, void *addr, size_t size, size_t size_a, size_t size_b,
		      bool committed, unsigned arena_ind);
	bool (*merge)(extent_hooks_t *, void *addr_a, size_t size_a, void *addr_b, size_t size_b,
		      bool committed, unsigned arena_ind);
};

/* jemalloc's control interface, which the adapter interposes. */
int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen);
int mallctlnametomib(const char *name, size_t *mibp, size_t *miblenp);
int mallctlbymib(const size_t *mib, size_t miblen, void *oldp, size_t *oldlenp, void *newp,
		 size_t newlen);

#endif /* MEMSTATE_JEHOOKS_H */
