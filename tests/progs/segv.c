// SPDX-License-Identifier: MIT
/*
 * segv: reserve one page (PROT_NONE) and write to it: the access fault is the last thing
 * the program does before SIGSEGV kills it. Prints "reserve ADDR LEN" first.
 */
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	char *p = (char *)syscall(SYS_mmap, 0, ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return 1;
	printf("reserve %lu %ld\n", (unsigned long)p, ps);
	fflush(stdout);
	*(volatile char *)p = 1;
	return 0;
}
