// SPDX-License-Identifier: MIT
/*
 * kfault N: map N fresh pages and let the kernel make the first touch of each, by reading
 * /dev/zero into them: N page faults taken in kernel mode on the program's behalf.
 * Prints "map ADDR LEN" and "read BYTES".
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long ps = sysconf(_SC_PAGESIZE), n = argc > 1 ? atol(argv[1]) : 16;
	int fd = open("/dev/zero", O_RDONLY);
	ssize_t got;
	char *p;

	if (n <= 0 || fd < 0)
		return 2;
	p = (char *)syscall(SYS_mmap, 0, n * ps, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	got = read(fd, p, n * ps);
	printf("map %lu %ld\nread %zd\n", (unsigned long)p, n * ps, got);
	fflush(stdout);
	syscall(SYS_munmap, p, n * ps);
	return got == n * ps ? 0 : 1;
}
