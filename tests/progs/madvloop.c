// SPDX-License-Identifier: MIT
/*
 * madvloop N: N calls of madvise(MADV_DONTNEED) over one untouched 64 KiB mapping: one
 * memory syscall a call and nothing else, the densest stream of events a program makes
 * (the whole-command benchmark, bench/bench_run.sh). Nothing is touched: on a VM where a
 * fresh page costs tens of microseconds, faults would hide the tracer's own cost.
 */
#include <stdlib.h>
#include <sys/mman.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	char *p = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return 1;
	for (long i = 0; i < n; i++) {
		if (madvise(p, 65536, MADV_DONTNEED))
			return 1;
	}
	return munmap(p, 65536) ? 1 : 0;
}
