// SPDX-License-Identifier: MIT
/*
 * touchn N: map N fresh private anonymous pages, write one byte to each (exactly N first
 * touches, so exactly N user page faults), unmap. Prints "map ADDR LEN" first.
 * Raw syscalls, so no allocator adds mappings of its own in between.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long ps = sysconf(_SC_PAGESIZE), n = argc > 1 ? atol(argv[1]) : 16;
	char *p;

	if (n <= 0)
		return 2;
	p = (char *)syscall(SYS_mmap, 0, n * ps, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	printf("map %lu %ld\n", (unsigned long)p, n * ps);
	fflush(stdout);
	for (long i = 0; i < n; i++)
		((volatile char *)p)[i * ps] = 1;
	syscall(SYS_munmap, p, n * ps);
	return 0;
}
