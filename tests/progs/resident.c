// SPDX-License-Identifier: MIT
/*
 * resident MODE: memory whose residency memstate must know exactly (SPEC section 8),
 * left mapped at exit so that --verify-maps compares it with pagemap.
 *   basic     map 64 pages, touch 40, MADV_DONTNEED 8 and MADV_FREE 4: 32 resident, 4 lazy
 *   thp       a 2 MiB-aligned MADV_HUGEPAGE range touched once (one huge-page fault)
 *   collapse  a 2 MiB-aligned range, half touched, then MADV_COLLAPSE
 *   fork      basic, then fork: the child touches 8 more pages and exits, the parent waits
 *   mremap    touch 16 of 32 pages, mremap them to a new place (the old range goes away)
 *   fixed     touch 16 pages, then mmap MAP_FIXED over 8 of them
 * Prints "MODE ADDR LEN" for the main range.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

#define HUGE (2ul << 20)

static long ps;

static char *map(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void touch(char *p, size_t pages)
{
	for (size_t i = 0; i < pages; i++)
		((volatile char *)p)[i * ps] = 1;
}

/* A 2 MiB-aligned range of len bytes (the rest of a bigger mapping stays untouched). */
static char *map_aligned(size_t len)
{
	char *p = map(len + HUGE);

	return p ? (char *)(((uintptr_t)p + HUGE - 1) & ~(HUGE - 1)) : NULL;
}

static char *basic(void)
{
	char *p = map(64 * ps);

	if (!p)
		return NULL;
	touch(p, 40);
	madvise(p, 8 * ps, MADV_DONTNEED);
	madvise(p + 8 * ps, 4 * ps, MADV_FREE);
	return p;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "basic";
	size_t len = 64;
	char *p = NULL;

	ps = sysconf(_SC_PAGESIZE);
	if (!strcmp(mode, "basic")) {
		p = basic();
		len = 64 * ps;
	} else if (!strcmp(mode, "thp")) {
		p = map_aligned(HUGE);
		len = HUGE;
		if (p) {
			madvise(p, HUGE, MADV_HUGEPAGE);
			touch(p, 1);
		}
	} else if (!strcmp(mode, "collapse")) {
		p = map_aligned(HUGE);
		len = HUGE;
		if (p) {
			madvise(p, HUGE, MADV_NOHUGEPAGE); /* small pages first */
			touch(p, HUGE / ps / 2);
			madvise(p, HUGE, MADV_HUGEPAGE);
			if (madvise(p, HUGE, MADV_COLLAPSE))
				fprintf(stderr, "resident: MADV_COLLAPSE: %s\n", strerror(errno));
		}
	} else if (!strcmp(mode, "fork")) {
		pid_t pid;

		p = basic();
		len = 64 * ps;
		if (p && (pid = fork()) == 0) {
			touch(p + 48 * ps, 8);
			_exit(0);
		}
		if (p && pid > 0)
			waitpid(pid, NULL, 0);
	} else if (!strcmp(mode, "mremap")) {
		char *q = map(32 * ps), *hole = map(64 * ps);

		if (q && hole) {
			touch(q, 16);
			munmap(hole, 64 * ps); /* a free place to move to */
			p = mremap(q, 32 * ps, 32 * ps, MREMAP_MAYMOVE | MREMAP_FIXED, hole);
			if (p == MAP_FAILED)
				p = NULL;
			len = 32 * ps;
		}
	} else if (!strcmp(mode, "fixed")) {
		p = map(16 * ps);
		len = 16 * ps;
		if (p) {
			touch(p, 16);
			mmap(p, 8 * ps, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		}
	} else {
		fprintf(stderr, "resident: unknown mode %s\n", mode);
		return 2;
	}
	if (!p)
		return 1;
	printf("%s %lu %lu\n", mode, (unsigned long)p, (unsigned long)len);
	return 0;
}
