// SPDX-License-Identifier: MIT
/*
 * forkexec N [MODE]: fork N children at once; each maps and unmaps a little memory, then
 * execs this program again as "forkexec child", which maps some more and exits 0 (or
 * runs /bin/true with MODE=true). The parent waits for all (MODE wait, the default) or
 * exits at once and leaves them running (MODE orphan: each child sleeps 300 ms first).
 * Prints "children N" when all were started, "all exited 0" when all were reaped.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void some_memory(int rounds)
{
	long ps = sysconf(_SC_PAGESIZE);

	for (int i = 0; i < rounds; i++) {
		char *p = (char *)syscall(SYS_mmap, 0, 4 * ps, PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			_exit(1);
		p[0] = 1;
		syscall(SYS_munmap, p, 4 * ps);
	}
}

int main(int argc, char **argv)
{
	const char *mode = argc > 2 ? argv[2] : "wait";
	int n = argc > 1 ? atoi(argv[1]) : 0, bad = 0;

	if (argc > 1 && !strcmp(argv[1], "child")) {
		some_memory(8);
		return 0;
	}
	if (n <= 0 || n > 10000) {
		fprintf(stderr, "usage: forkexec N [wait|orphan|true]\n");
		return 2;
	}
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0) {
			some_memory(4);
			if (!strcmp(mode, "orphan"))
				nanosleep(&(struct timespec){0, 300000000}, NULL);
			if (!strcmp(mode, "true"))
				execl("/bin/true", "true", (char *)NULL);
			else
				execl("/proc/self/exe", "forkexec", "child", (char *)NULL);
			_exit(127);
		}
	}
	printf("children %d\n", n);
	fflush(stdout);
	if (!strcmp(mode, "orphan"))
		return 0;
	for (int i = 0; i < n; i++) {
		int status;

		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			bad++;
	}
	printf("all exited %d\n", bad);
	return bad ? 1 : 0;
}
