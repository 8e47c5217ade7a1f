// SPDX-License-Identifier: MIT
/*
 * unmap_race SECONDS [UNMAPPERS [MAPPERS]]: threads race munmap against mmap of the same
 * address, to test that a tracer orders them as the kernel did.
 *
 * Mappers mmap(NULL, LEN) (5 pages, a length nothing else here uses) and hand the address
 * to the unmappers through a ring of slots; unmappers munmap what they take. The kernel
 * gives a mapper the highest free gap, which is often the one an unmapper has just freed:
 * a *race* is a mapper's mmap returning an address whose munmap has not returned yet
 * (counted here through each unmapper's in-flight address). A tracer that applies that
 * munmap after the new mmap frees the new mapping in its shadow map, and the mapping's
 * own later munmap then finds nothing there (a *misordered free*).
 *
 * Stalls: with RACE_UFFD=1, every mapping is registered with a userfaultfd asking for
 * unmap events, so each munmap waits, after the address is free again, until a monitor
 * thread has read its event; with RACE_CG_TASKS=FILE, the monitor and the unmappers write
 * their thread ids into FILE (a cgroup v1 "tasks" file of a CPU cgroup with a small
 * cfs_quota_us, or a v2 "cgroup.threads"), so the quota throttles them mid-call and a
 * munmap can stay unfinished for most of a CFS period while the mappers run on. Without
 * uffd, a throttle lands inside a munmap only where the kernel preempts inside syscalls.
 *
 * Prints "races R long L calls C" on stdout at the end: R races, L munmaps that took more
 * than 30 ms, C munmaps in all.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 16
#define SLOTS	    64

static size_t len;
static int uffd = -1;
static const char *cg_tasks;
static atomic_int stop, mon_stop;		 /* workers stop; then the monitor */
static _Atomic(uintptr_t) slot[SLOTS];		 /* mapped, waiting for an unmapper; 0 free */
static _Atomic(uintptr_t) inflight[MAX_THREADS]; /* each unmapper's munmap in progress */
static int nunmap;
static atomic_long races, longs, calls;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Put the calling thread into the throttled cgroup. */
static void join_cgroup(void)
{
	char buf[32];
	int fd, n;

	if (!cg_tasks)
		return;
	fd = open(cg_tasks, O_WRONLY | O_CLOEXEC);
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)syscall(SYS_gettid));
	if (fd < 0 || write(fd, buf, (size_t)n) != n) {
		fprintf(stderr, "unmap_race: cannot join %s: %s\n", cg_tasks, strerror(errno));
		exit(2);
	}
	close(fd);
}

static void *mapper(void *arg)
{
	unsigned i = (unsigned)(uintptr_t)arg;

	while (!atomic_load(&stop)) {
		void *p =
			mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		uintptr_t a = (uintptr_t)p, zero = 0;

		if (p == MAP_FAILED) {
			perror("unmap_race: mmap");
			exit(2);
		}
		for (int u = 0; u < nunmap; u++) {
			if (atomic_load(&inflight[u]) == a) {
				atomic_fetch_add(&races, 1);
				break;
			}
		}
		if (uffd >= 0) {
			struct uffdio_register reg = {
				.range = {.start = a, .len = len},
				.mode = UFFDIO_REGISTER_MODE_MISSING,
			};

			if (ioctl(uffd, UFFDIO_REGISTER, &reg)) {
				perror("unmap_race: UFFDIO_REGISTER");
				exit(2);
			}
		}
		/* Hand it over; if every slot is taken, free it here. */
		for (;; i = (i + 1) % SLOTS) {
			if (atomic_compare_exchange_strong(&slot[i], &zero, a))
				break;
			zero = 0;
			if (atomic_load(&stop)) {
				munmap(p, len);
				return NULL;
			}
		}
	}
	return NULL;
}

static void *unmapper(void *arg)
{
	int u = (int)(uintptr_t)arg;
	unsigned i = (unsigned)u;

	join_cgroup();
	for (;;) {
		uintptr_t a = atomic_exchange(&slot[i], 0);
		uint64_t t;

		i = (i + 1) % SLOTS;
		if (!a) {
			if (atomic_load(&stop))
				break;
			continue;
		}
		atomic_store(&inflight[u], a);
		t = now_ns();
		if (munmap((void *)a, len)) {
			perror("unmap_race: munmap");
			exit(2);
		}
		if (now_ns() - t > 30000000u)
			atomic_fetch_add(&longs, 1);
		atomic_store(&inflight[u], 0);
		atomic_fetch_add(&calls, 1);
	}
	/* What is left in the slots. */
	for (unsigned s = 0; s < SLOTS; s++) {
		uintptr_t a = atomic_exchange(&slot[s], 0);

		if (a)
			munmap((void *)a, len);
	}
	return NULL;
}

/* Reads the unmap events: each munmap waits until its event is read. */
static void *monitor(void *arg)
{
	struct uffd_msg msg;

	(void)arg;
	join_cgroup();
	while (!atomic_load(&mon_stop)) {
		struct pollfd pfd = {.fd = uffd, .events = POLLIN};

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		while (read(uffd, &msg, sizeof(msg)) == sizeof(msg))
			;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th[2 * MAX_THREADS + 1], mon;
	int nmap, n = 0;
	double secs;

	if (argc < 2) {
		fprintf(stderr, "usage: unmap_race SECONDS [UNMAPPERS [MAPPERS]]\n");
		return 2;
	}
	secs = atof(argv[1]);
	nunmap = argc > 2 ? atoi(argv[2]) : 2;
	nmap = argc > 3 ? atoi(argv[3]) : 2;
	if (nunmap < 1 || nunmap > MAX_THREADS || nmap < 1 || nmap > MAX_THREADS) {
		fprintf(stderr, "unmap_race: 1 to %d threads of each kind\n", MAX_THREADS);
		return 2;
	}
	len = 5 * (size_t)sysconf(_SC_PAGESIZE);
	cg_tasks = getenv("RACE_CG_TASKS");
	if (cg_tasks && !*cg_tasks)
		cg_tasks = NULL;
	if (getenv("RACE_UFFD") && atoi(getenv("RACE_UFFD"))) {
		struct uffdio_api api = {.api = UFFD_API, .features = UFFD_FEATURE_EVENT_UNMAP};

		uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
		if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api)) {
			fprintf(stderr, "unmap_race: userfaultfd: %s\n", strerror(errno));
			return 77;
		}
		pthread_create(&mon, NULL, monitor, NULL);
	}
	for (int i = 0; i < nunmap; i++)
		pthread_create(&th[n++], NULL, unmapper, (void *)(uintptr_t)i);
	for (int i = 0; i < nmap; i++)
		pthread_create(&th[n++], NULL, mapper, (void *)(uintptr_t)(i * 7));
	usleep((useconds_t)(secs * 1e6));
	atomic_store(&stop, 1);
	/* Mappers first, then unmappers (they empty the slots), then the monitor. */
	for (int i = n - 1; i >= 0; i--)
		pthread_join(th[i], NULL);
	atomic_store(&mon_stop, 1);
	if (uffd >= 0)
		pthread_join(mon, NULL);
	printf("races %ld long %ld calls %ld\n", atomic_load(&races), atomic_load(&longs),
	       atomic_load(&calls));
	return 0;
}
