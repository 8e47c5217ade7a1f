// SPDX-License-Identifier: MIT
/*
 * forker: fork a child that maps and touches 7 pages and exits with status 3; the parent
 * waits for it, maps 5 pages and exits 0. Prints "child PID ADDR LEN" (from the child) and
 * "parent PID ADDR LEN", so a test can tell whose records are whose.
 */
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static char *map_touch(long pages)
{
	long ps = sysconf(_SC_PAGESIZE);
	char *p = (char *)syscall(SYS_mmap, 0, pages * ps, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		_exit(1);
	for (long i = 0; i < pages; i++)
		p[i * ps] = 1;
	return p;
}

int main(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	int status;
	pid_t pid;
	char *p;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		p = map_touch(7);
		printf("child %d %lu %ld\n", (int)getpid(), (unsigned long)p, 7 * ps);
		fflush(stdout);
		_exit(3);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 3)
		return 1;
	p = map_touch(5);
	printf("parent %d %lu %ld\n", (int)getpid(), (unsigned long)p, 5 * ps);
	fflush(stdout);
	return 0;
}
