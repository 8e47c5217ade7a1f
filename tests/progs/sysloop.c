// SPDX-License-Identifier: MIT
/*
 * sysloop N: a syscall-heavy workload for the capture benchmarks: N rounds of mmap 64 KiB,
 * touch a page, madvise(DONTNEED), munmap — four memory syscalls and one fault a round.
 */
#include <stdlib.h>
#include <sys/mman.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;

	for (long i = 0; i < n; i++) {
		char *p = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			       0);

		if (p == MAP_FAILED)
			return 1;
		p[0] = 1;
		madvise(p, 65536, MADV_DONTNEED);
		munmap(p, 65536);
	}
	return 0;
}
