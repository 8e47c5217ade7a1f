// SPDX-License-Identifier: MIT
/*
 * jemalloc with huge allocations (at or above opt.oversize_threshold: the huge arena) and
 * both purges: dirty pages decay within a millisecond (purge_lazy, MADV_FREE), muzzy ones
 * after a few milliseconds (purge_forced). `epoch` is refreshed after each phase (the marks of
 * --alloc-marks). argv[1]: rounds (default 8).
 */
#include <jemalloc/jemalloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *malloc_conf = "dirty_decay_ms:1,muzzy_decay_ms:5";

static void refresh(void)
{
	uint64_t e = 1;
	size_t sz = sizeof(e);

	mallctl("epoch", &e, &sz, &e, sz);
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 8;
	struct timespec ms = {0, 10 * 1000 * 1000};
	unsigned long sum = 0;

	for (int r = 0; r < rounds; r++) {
		void *big[4], *mid[32];

		for (int i = 0; i < 4; i++) {
			big[i] = malloc((size_t)(16 + 8 * i) << 20);
			if (!big[i])
				return 1;
			memset(big[i], r, 1 << 20);
			sum += ((unsigned char *)big[i])[4096];
		}
		for (int i = 0; i < 32; i++) {
			mid[i] = malloc((size_t)(64 + i) << 10);
			if (!mid[i])
				return 1;
			memset(mid[i], r, 4096);
		}
		for (int i = 0; i < 4; i++)
			free(big[i]);
		for (int i = 0; i < 32; i++)
			free(mid[i]);
		refresh();
		nanosleep(&ms, NULL);
		mallctl("arena.4096.decay", NULL, NULL, NULL, 0);
		refresh();
	}
	printf("sum %lu\n", sum);
	return 0;
}
