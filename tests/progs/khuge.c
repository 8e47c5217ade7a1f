// SPDX-License-Identifier: MIT
/*
 * khuge: fill one 2 MiB-aligned range with small pages, mark it MADV_HUGEPAGE and wait
 * (at most 20 s) until khugepaged has collapsed it, watching AnonHugePages in
 * /proc/self/smaps_rollup. Prints "range ADDR LEN" at once and "huge KB" at the end.
 * The test lowers khugepaged's scan_sleep_millisecs so that this takes well under a second.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static long anon_huge_kb(void)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	char line[256];
	long kb = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "AnonHugePages:", 14))
			kb = atol(line + 14);
	}
	fclose(f);
	return kb;
}

int main(void)
{
	const uintptr_t huge = 2u << 20;
	long ps = sysconf(_SC_PAGESIZE), kb = 0;
	char *p, *a;

	p = (char *)syscall(SYS_mmap, 0, 2 * huge, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	a = (char *)(((uintptr_t)p + huge - 1) & ~(huge - 1));
	for (uintptr_t i = 0; i < huge; i += ps)
		((volatile char *)a)[i] = 1;
	printf("range %lu %lu\n", (unsigned long)a, (unsigned long)huge);
	fflush(stdout);
	syscall(SYS_madvise, a, huge, MADV_HUGEPAGE);
	for (int i = 0; i < 400 && (kb = anon_huge_kb()) < (long)(huge >> 10); i++)
		usleep(50000);
	printf("huge %ld\n", kb);
	fflush(stdout);
	return 0;
}
