// SPDX-License-Identifier: MIT
/*
 * pressure MODE MIB: memory pressure inside a memory cgroup limit.
 *   free  map MIB MiB in 16 MiB chunks, write every page, give each chunk back with
 *         MADV_FREE and keep it mapped: the kernel must reclaim the lazily freed pages
 *         to make room for the next chunks (exit 0 when it does)
 *   oom   map and write MIB MiB, keeping it all: the OOM killer ends it (SIGKILL)
 * Prints "chunk N" on stderr after each chunk is written, for the log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_FREE
#define MADV_FREE 8
#endif

#define CHUNK (16ul << 20)

int main(int argc, char **argv)
{
	int lazy = argc > 1 && !strcmp(argv[1], "free");
	size_t total = (size_t)(argc > 2 ? atol(argv[2]) : 256) << 20;

	if (argc < 2 || (!lazy && strcmp(argv[1], "oom"))) {
		fprintf(stderr, "usage: pressure free|oom MIB\n");
		return 2;
	}
	for (size_t done = 0, n = 0; done < total; done += CHUNK, n++) {
		char *p = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			       0);

		if (p == MAP_FAILED)
			return 1;
		for (size_t i = 0; i < CHUNK; i += 4096)
			p[i] = 1;
		if (lazy && madvise(p, CHUNK, MADV_FREE))
			return 1;
		fprintf(stderr, "chunk %zu\n", n);
	}
	return 0;
}
