// SPDX-License-Identifier: MIT
/*
 * lossy EARLY N: a touch of Reserved memory (access-reserved, a real violation) before
 * and after a burst of N mmap/munmap pairs that overflows a tiny ring buffer, with pauses
 * between so that the tracer has read its loss counters in between. EARLY 0 leaves out
 * the first touch. Tests that only violations after a loss are marked after_loss.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static volatile char *page;
static long ps;

/* The touch faulted in PROT_NONE memory: make it writable and let it go on. */
static void on_segv(int sig)
{
	(void)sig;
	mprotect((void *)page, (size_t)ps, PROT_READ | PROT_WRITE);
}

static void touch_reserved(void)
{
	page = mmap(NULL, (size_t)ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		exit(2);
	page[0] = 1;
	munmap((void *)page, (size_t)ps);
}

int main(int argc, char **argv)
{
	long n = argc > 2 ? atol(argv[2]) : 100000;
	struct sigaction sa;

	ps = sysconf(_SC_PAGESIZE);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_segv;
	sigaction(SIGSEGV, &sa, NULL);
	if (argc < 2 || atoi(argv[1]))
		touch_reserved();
	usleep(300000);
	for (long i = 0; i < n; i++) {
		void *p = mmap(NULL, (size_t)ps, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			exit(2);
		munmap(p, (size_t)ps);
	}
	usleep(300000);
	touch_reserved();
	return 0;
}
