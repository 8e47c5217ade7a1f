// SPDX-License-Identifier: MIT
/*
 * thpcollapse: fill one 2 MiB-aligned range with small pages, then MADV_COLLAPSE exactly
 * that range (one huge page). Prints "collapse ADDR LEN RESULT" (RESULT 0 or errno).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

int main(void)
{
	const uintptr_t huge = 2u << 20;
	long ps = sysconf(_SC_PAGESIZE);
	char *p, *a;
	long r;

	p = (char *)syscall(SYS_mmap, 0, 2 * huge, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	a = (char *)(((uintptr_t)p + huge - 1) & ~(huge - 1));
	for (uintptr_t i = 0; i < huge; i += ps)
		((volatile char *)a)[i] = 1;
	r = syscall(SYS_madvise, a, huge, MADV_COLLAPSE);
	printf("collapse %lu %lu %d\n", (unsigned long)a, (unsigned long)huge, r ? errno : 0);
	fflush(stdout);
	syscall(SYS_munmap, p, 2 * huge);
	return 0;
}
