// SPDX-License-Identifier: MIT
/*

 * (static build of rawseq.c)
 * A known sequence of raw memory syscalls, made with syscall(2) so no libc wrapper adds
 * or hides anything. Tests compare what a capture source saw with this list:
 *
 *   mmap   64 KiB PROT_NONE          -> sysReserve
 *   mprotect first 16 KiB RW         -> sysMap
 *   touch 4 pages                    -> 4 page faults (first touch: inferred sysUsed)
 *   madvise 16 KiB DONTNEED          -> sysUnused
 *   mmap   16 KiB RW FIXED at +32K   -> sysMap (RW over Reserved)
 *   mprotect 16 KiB at +32K NONE     -> sysFault (decommit)
 *   munmap 64 KiB                    -> sysFree
 *   mmap   8 KiB RW                  -> sysAlloc
 *   munmap 8 KiB                     -> sysFree
 *
 * It prints each range it used as "name addr len" lines so the test can match them.
 */
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static long sc(long nr, long a, long b, long c, long d, long e, long f)
{
	return syscall(nr, a, b, c, d, e, f);
}

int main(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	char *p = (char *)sc(SYS_mmap, 0, 16 * ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *q;

	if (p == MAP_FAILED)
		return 1;
	printf("reserve %lu %ld\n", (unsigned long)p, 16 * ps);
	sc(SYS_mprotect, (long)p, 4 * ps, PROT_READ | PROT_WRITE, 0, 0, 0);
	for (int i = 0; i < 4; i++)
		((volatile char *)p)[i * ps] = 1;
	sc(SYS_madvise, (long)p, 4 * ps, MADV_DONTNEED, 0, 0, 0);
	sc(SYS_mmap, (long)(p + 8 * ps), 4 * ps, PROT_READ | PROT_WRITE,
	   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	sc(SYS_mprotect, (long)(p + 8 * ps), 4 * ps, PROT_NONE, 0, 0, 0);
	sc(SYS_munmap, (long)p, 16 * ps, 0, 0, 0, 0);
	q = (char *)sc(SYS_mmap, 0, 2 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		       0);
	printf("alloc %lu %ld\n", (unsigned long)q, 2 * ps);
	sc(SYS_munmap, (long)q, 2 * ps, 0, 0, 0, 0);
	fflush(stdout);
	return 0;
}
