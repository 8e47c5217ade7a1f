// SPDX-License-Identifier: MIT
/*
 * A threaded glibc-malloc workload: 4 threads allocate and free blocks of many sizes
 * (small ones from per-thread arenas, which glibc grows with mprotect inside a 64 MiB
 * PROT_NONE reservation; large ones straight from mmap), then print a checksum so a test
 * can tell that tracing changed nothing.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 4
#define ROUNDS	20000

static void *work(void *arg)
{
	uint64_t seed = (uintptr_t)arg * 7919 + 1, sum = 0;
	void *live[64] = {0};

	for (int i = 0; i < ROUNDS; i++) {
		int k;
		size_t n;

		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		k = (int)(seed % 64);
		n = (seed >> 8) % 4 ? 16 + (seed >> 16) % 4000 : 200000 + (seed >> 16) % 300000;
		free(live[k]);
		live[k] = malloc(n);
		if (!live[k])
			return NULL;
		memset(live[k], (int)(seed & 0xff), n < 4096 ? n : 4096);
		sum += ((unsigned char *)live[k])[0];
	}
	for (int k = 0; k < 64; k++)
		free(live[k]);
	return (void *)(uintptr_t)sum;
}

int main(void)
{
	pthread_t th[THREADS];
	uint64_t total = 0;

	for (uintptr_t i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, work, (void *)i);
	for (int i = 0; i < THREADS; i++) {
		void *r;

		pthread_join(th[i], &r);
		total += (uintptr_t)r;
	}
	printf("checksum %llu\n", (unsigned long long)total);
	return 0;
}
