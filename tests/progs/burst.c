// SPDX-License-Identifier: MIT
/*
 * burst LOG N MODE [THREADS [PAUSE_US]]: THREADS threads (default 2) make memory syscalls
 * as fast as they can, or with PAUSE_US microseconds between rounds (raw mmap / madvise /
 * mprotect / munmap) and append one line per call *after*
 * it returned to LOG: "mmap ADDR LEN", "unused ADDR LEN", "fault ADDR LEN", "free ADDR LEN".
 * So every line of LOG is a call the kernel completed, which a trace must hold however
 * the program ends. When N calls are done in all (N/2 for the modes that end it early):
 *   none   exit 0 after N calls
 *   kill   SIGKILL itself mid-burst       segv   touch PROT_NONE memory mid-burst
 *   abort  abort() mid-burst              exit   another thread calls _exit(3) mid-burst
 *   loop   never stop (until a signal); N is ignored
 *   stubborn  as loop, ignoring SIGINT, SIGTERM and SIGHUP
 * Prints "burst MODE" on stdout and "threads T" on stderr first, for output checks.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static int log_fd;
static long total, done;
static const char *mode;
static long ps;
static int forever;	    /* loop or stubborn */
static useconds_t pause_us; /* between rounds */

static void note(const char *what, unsigned long a, unsigned long len)
{
	char line[96];
	int n = snprintf(line, sizeof(line), "%s %lu %lu\n", what, a, len);

	if (write(log_fd, line, (size_t)n) != n)
		_exit(70);
}

static void die_mid_burst(void)
{
	if (!strcmp(mode, "kill")) {
		raise(SIGKILL);
	} else if (!strcmp(mode, "segv")) {
		char *p = (char *)syscall(SYS_mmap, 0, ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
					  -1, 0);

		note("reserve", (unsigned long)p, (unsigned long)ps);
		*(volatile char *)p = 1;
	} else if (!strcmp(mode, "abort")) {
		abort();
	} else if (!strcmp(mode, "exit")) {
		_exit(3);
	}
}

static void *burst(void *arg)
{
	unsigned long seed = (unsigned long)arg * 2654435761u + 1;

	for (;;) {
		long i = __atomic_fetch_add(&done, 1, __ATOMIC_RELAXED);
		unsigned long len = (unsigned long)(1 + (seed >> 7) % 8) * (unsigned long)ps;
		char *p;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		if (!forever && strcmp(mode, "none") && i == total / 2)
			die_mid_burst();
		if (!forever && i >= total)
			return NULL;
		p = (char *)syscall(SYS_mmap, 0, len, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			continue;
		note("mmap", (unsigned long)p, len);
		p[0] = 1;
		if (!syscall(SYS_madvise, p, len, MADV_DONTNEED))
			note("unused", (unsigned long)p, len);
		if (!syscall(SYS_mprotect, p, ps, PROT_NONE))
			note("fault", (unsigned long)p, (unsigned long)ps);
		if (!syscall(SYS_munmap, p, len))
			note("free", (unsigned long)p, len);
		if (pause_us)
			usleep(pause_us);
	}
}

int main(int argc, char **argv)
{
	int nth = argc > 4 ? atoi(argv[4]) : 2;
	pthread_t th[64];

	if (argc < 4 || nth < 1 || nth > 64) {
		fprintf(stderr, "usage: burst LOG N none|kill|segv|abort|exit|loop|stubborn "
				"[THREADS [PAUSE_US]]\n");
		return 2;
	}
	ps = sysconf(_SC_PAGESIZE);
	log_fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if (log_fd < 0)
		return 2;
	total = atol(argv[2]);
	pause_us = argc > 5 ? (useconds_t)atol(argv[5]) : 0;
	mode = argv[3];
	forever = !strcmp(mode, "loop") || !strcmp(mode, "stubborn");
	if (!strcmp(mode, "stubborn")) {
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
	}
	printf("burst %s\n", mode);
	fflush(stdout);
	fprintf(stderr, "threads %d\n", nth);
	for (long t = 1; t < nth; t++)
		pthread_create(&th[t], NULL, burst, (void *)t);
	burst(NULL);
	for (int t = 1; t < nth; t++)
		pthread_join(th[t], NULL);
	return 0;
}
