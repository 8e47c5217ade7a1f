// SPDX-License-Identifier: MIT
/*
 * The jemalloc hook zoo: drives the extent hooks installed on arena 0 directly, in ways
 * jemalloc never does, one violation kind per argument:
 *   commit-committed      commit an extent the alloc hook returned committed
 *   decommit-uncommitted  purge an extent after destroying it
 *   merge-commit-differs  merge a committed range with a PROT_NONE one after it
 *   extent-bounds         split an extent with sizes that are not its own
 *   unknown-extent        dalloc a range inside an extent
 * Under memstate run the hooks are the adapter's wrappers: the program reaches them through
 * jemalloc's own mallctl (the adapter's interposed one hands back the hooks it wrapped).
 */
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <jemalloc/jemalloc.h>

#define SZ (2u << 20)

int main(int argc, char **argv)
{
	void *lib = dlopen("libjemalloc.so.2", RTLD_NOW | RTLD_NOLOAD);
	int (*ctl)(const char *, void *, size_t *, void *, size_t) =
		lib ? (int (*)(const char *, void *, size_t *, void *, size_t))dlsym(lib, "mallctl")
		    : mallctl;
	extent_hooks_t *h = NULL;
	size_t hl = sizeof(h);
	bool zero = false, commit = true;
	const char *kind = argc > 1 ? argv[1] : "";
	char *p, *q;

	if (!ctl || ctl("arena.0.extent_hooks", &h, &hl, NULL, 0) || !h) {
		fprintf(stderr, "no hooks\n");
		return 1;
	}
	p = h->alloc(h, NULL, SZ, 4096, &zero, &commit, 0);
	if (!p)
		return 1;
	memset(p, 1, 4096);
	if (!strcmp(kind, "commit-committed")) {
		h->commit(h, p, SZ, 0, SZ, 0);
	} else if (!strcmp(kind, "decommit-uncommitted")) {
		h->destroy(h, p, SZ, true, 0);
		h->purge_forced(h, p, SZ, 0, SZ, 0);
		p = NULL;
	} else if (!strcmp(kind, "merge-commit-differs")) {
		q = mmap(NULL, 2 * 4096 * 16, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (q == MAP_FAILED || mprotect(q, 4096 * 16, PROT_READ | PROT_WRITE))
			return 1;
		h->merge(h, q, 4096 * 16, q + 4096 * 16, 4096 * 16, true, 0);
	} else if (!strcmp(kind, "extent-bounds")) {
		h->split(h, p, SZ, SZ / 4, SZ / 4, true, 0);
	} else if (!strcmp(kind, "unknown-extent")) {
		h->dalloc(h, p + 4096, 2 * 4096, true, 0);
	} else {
		fprintf(stderr, "usage: je_zoo KIND\n");
		return 2;
	}
	if (p)
		h->destroy(h, p, SZ, true, 0);
	printf("%s done\n", kind);
	return 0;
}
