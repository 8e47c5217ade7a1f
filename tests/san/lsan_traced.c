/*
 * Linked into the samples of a SANITIZE=1 build only (memstate and the unit tests keep
 * LeakSanitizer as it is). LeakSanitizer checks at exit by stopping the world: a thread
 * cloned with CLONE_UNTRACED ptrace-attaches to the others. In a program that is being
 * traced that cannot work: under `memstate run --capture ptrace` the thread escapes the
 * tracer but keeps the seccomp filter, so its first mmap fails with ENOSYS and the program
 * spins at exit; under `memstate attach --capture ptrace` its attaches fail. So the check
 * is skipped while a tracer is attached, and only then: untraced and eBPF-traced runs of
 * the samples still check libmemstate for leaks.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int __lsan_is_turned_off(void);

int __lsan_is_turned_off(void)
{
	char buf[4096], *p;
	ssize_t n;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strstr(buf, "\nTracerPid:");
	if (!p)
		return 0;
	p += strlen("\nTracerPid:");
	while (*p == ' ' || *p == '\t')
		p++;
	return *p != '0';
}
