// SPDX-License-Identifier: MIT
/*
 * bench_ebpf: what the eBPF capture source costs the traced program, and how many events
 * per second it carries without dropping any.
 *
 *   bench_ebpf [-r ROUNDS] [-a] [-g GIB] [-n ITERS] [-b RING_BYTES]
 *
 * Workloads, each in a fresh forked child, timed from its release to its reaping:
 *   faults    touch GIB GiB of fresh anonymous memory, one write per 4 KiB page
 *   faults-rc as many faults, on 32 MiB touched, released (MADV_DONTNEED) and touched again
 *   syscalls  ITERS x (mmap 64 KiB PROT_NONE, mprotect 16 KiB RW, madvise DONTNEED, munmap)
 *   rate      ITERS x 8 madvise(MADV_NORMAL) on one page: the cheapest memory syscall,
 *             to find the highest event rate the probe sustains
 * Untraced runs have no probe loaded at all (attached programs slow every syscall on the
 * machine); traced runs open the source, start the child, and poll it from this process,
 * as `memstate run` does. -a makes the sink apply every record to a shadow space (the
 * tracer's own work) instead of only counting. Prints medians of wall time and of the
 * child's CPU time (less sensitive to other load on the machine), traced/untraced ratios,
 * events per second and drops. Needs root; without the probe it says so and exits 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "memstate/capture.h"
#include "memstate/space.h"
#include "lib/source.h"

extern const struct ms_source_ops ms_src_ebpf __attribute__((weak));

static struct env {
	int rounds;	     /* runs of each workload, traced and untraced */
	bool apply;	     /* sink applies records to a shadow space */
	uint64_t gib;	     /* faults workload size */
	long iters;	     /* syscalls/rate workload iterations */
	uint32_t ring_bytes; /* 0: the source's default */
} env = {.rounds = 5, .gib = 1, .iters = 100000};

/* ------------------------------------------------------------------ workloads (children) */

static void work_faults(void)
{
	uint64_t len = env.gib << 30;
	char *p = (char *)syscall(SYS_mmap, 0, len, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		_exit(1);
	for (uint64_t i = 0; i < len; i += 4096)
		((volatile char *)p)[i] = 1;
	syscall(SYS_munmap, p, len);
}

/* The same number of faults, on 32 MiB recycled with MADV_DONTNEED: every fault still
 * allocates and zeroes a page, but a page the guest just freed, so a VM host that takes
 * back free memory (free page reporting) adds no faults of its own to the timing. */
static void work_faults_recycled(void)
{
	uint64_t len = 32ull << 20;
	char *p = (char *)syscall(SYS_mmap, 0, len, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		_exit(1);
	for (uint64_t k = 0; k < (env.gib << 30) / len; k++) {
		for (uint64_t i = 0; i < len; i += 4096)
			((volatile char *)p)[i] = 1;
		syscall(SYS_madvise, p, len, MADV_DONTNEED);
	}
	syscall(SYS_munmap, p, len);
}

static void work_syscalls(void)
{
	for (long i = 0; i < env.iters; i++) {
		char *p = (char *)syscall(SYS_mmap, 0, 65536, PROT_NONE,
					  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		syscall(SYS_mprotect, p, 16384, PROT_READ | PROT_WRITE);
		syscall(SYS_madvise, p, 16384, MADV_DONTNEED);
		syscall(SYS_munmap, p, 65536);
	}
}

static void work_rate(void)
{
	char *p = (char *)syscall(SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	for (long i = 0; i < env.iters * 8; i++)
		syscall(SYS_madvise, p, 4096, MADV_NORMAL);
}

struct workload {
	const char *name; /* as printed */
	void (*fn)(void); /* runs in the child */
};

static const struct workload workloads[] = {
	{"faults", work_faults},
	{"faults-rc", work_faults_recycled},
	{"syscalls", work_syscalls},
	{"rate", work_rate},
};

/* ------------------------------------------------------------------ sink */

static struct {
	uint64_t records;    /* delivered */
	uint64_t lost;	     /* told through on_lost */
	struct ms_space *sp; /* -a: where records are applied */
	struct ms_infer_state inf;
} sink_state;

static void on_syscall(void *ctx, const struct ms_sysrec *r)
{
	sink_state.records++;
	if (sink_state.sp) {
		ms_space_lock(sink_state.sp);
		ms_infer_syscall_locked(sink_state.sp, &sink_state.inf, r);
		ms_space_events_read_locked(sink_state.sp, NULL, 0);
		ms_space_unlock(sink_state.sp);
	}
}

static void on_event(void *ctx, struct ms_event *ev)
{
	sink_state.records++;
	if (sink_state.sp)
		ms_space_apply(sink_state.sp, ev);
}

static void on_proc(void *ctx, const struct ms_proc_event *pe)
{
	sink_state.records++;
}

static void on_lost(void *ctx, uint64_t n, const char *where)
{
	sink_state.lost += n;
}

static void drain_log(struct ms_space *sp, void *ctx)
{
	static struct ms_event buf[4096];

	while (ms_space_events_read_locked(sp, buf, 4096) == 4096)
		;
}

/* ------------------------------------------------------------------ one timed run */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

struct result {
	double secs;	  /* wall time of the child */
	double cpu;	  /* its user + system CPU time (kernel probe time included) */
	uint64_t records; /* delivered */
	uint64_t lost;	  /* ops->lost() */
};

static int run_once(const struct workload *w, bool traced, struct result *res)
{
	const struct ms_source_ops *ops = &ms_src_ebpf;
	struct ms_source_cfg cfg = {
		.faults = true, .thp = true, .files = true, .ring_bytes = env.ring_bytes};
	struct ms_sink sink = {.on_syscall = on_syscall,
			       .on_event = on_event,
			       .on_proc = on_proc,
			       .on_lost = on_lost};
	struct ms_space_opts so = {.on_full = drain_log};
	int gate[2], status, err = 0;
	void *st = NULL;
	double t0;
	struct rusage ru;
	pid_t pid;
	char b;

	memset(&sink_state, 0, sizeof(sink_state));
	if (traced) {
		if (env.apply)
			sink_state.sp = ms_space_new(&so);
		err = ops->open(&cfg, &sink, &st);
		if (err)
			return err;
	}
	if (pipe(gate))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		close(gate[1]);
		if (read(gate[0], &b, 1) != 1)
			_exit(2);
		w->fn();
		_exit(0);
	}
	close(gate[0]);
	if (traced)
		err = ops->start(st, pid);
	t0 = now_s();
	if (write(gate[1], "x", 1) != 1)
		err = -EIO;
	close(gate[1]);
	for (;;) {
		pid_t r = wait4(pid, &status, traced ? WNOHANG : 0, &ru);

		if (r == pid)
			break;
		ops->poll(st, 10);
	}
	res->secs = now_s() - t0;
	res->cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec +
		   ru.ru_stime.tv_usec * 1e-6;
	if (traced) {
		ops->stop(st);
		res->lost = ops->lost(st);
		ops->close(st);
		ms_space_free(sink_state.sp);
	}
	res->records = sink_state.records;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		err = err ? err : -ECHILD;
	return err;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	char why[256] = "";
	int opt, err;

	while ((opt = getopt(argc, argv, "r:ag:n:b:h")) != -1) {
		switch (opt) {
		case 'r':
			env.rounds = atoi(optarg);
			break;
		case 'a':
			env.apply = true;
			break;
		case 'g':
			env.gib = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			env.iters = atol(optarg);
			break;
		case 'b':
			env.ring_bytes = strtoul(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr,
				"usage: %s [-r ROUNDS] [-a] [-g GIB] [-n ITERS] "
				"[-b RING_BYTES]\n",
				argv[0]);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (env.rounds < 1 || env.rounds > 100 || !env.gib || env.iters < 1) {
		fprintf(stderr, "bench_ebpf: bad arguments\n");
		return 2;
	}
	if (!&ms_src_ebpf) {
		printf("bench_ebpf: skipped: bpf/ not built (BPF=0, or no clang/bpftool/libbpf)\n");
		return 0;
	}
	if (ms_src_ebpf.probe(why, sizeof(why)) < 0) {
		printf("bench_ebpf: skipped: %s\n", why);
		return 0;
	}
	printf("bench_ebpf: %d rounds, sink %s, ring %s\n", env.rounds,
	       env.apply ? "applies to a shadow space" : "counts",
	       env.ring_bytes ? "as given" : "default (16 MiB)");
	printf("%-9s %9s %9s %6s %9s %9s %6s %10s %8s %5s\n", "workload", "untraced", "traced",
	       "ratio", "cpu-un", "cpu-tr", "ratio", "events/s", "records", "lost");
	for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++) {
		const struct workload *w = &workloads[i];
		double un[100] = {0}, tr[100] = {0}, rate[100] = {0}, cun[100] = {0},
		       ctr[100] = {0};
		uint64_t records = 0, lost = 0;

		for (int r = 0; r < env.rounds; r++) {
			struct result a = {0}, b = {0};

			/* Alternate the order, so that drift in the machine hits both alike. */
			if (r % 2) {
				err = run_once(w, true, &b);
				if (!err)
					err = run_once(w, false, &a);
			} else {
				err = run_once(w, false, &a);
				if (!err)
					err = run_once(w, true, &b);
			}
			if (err) {
				fprintf(stderr, "bench_ebpf: %s: %s\n", w->name, strerror(-err));
				return 1;
			}
			un[r] = a.secs;
			tr[r] = b.secs;
			cun[r] = a.cpu;
			ctr[r] = b.cpu;
			rate[r] = b.records / b.secs;
			records += b.records;
			lost += b.lost;
		}
		{
			double mu = median(un, env.rounds), mt = median(tr, env.rounds);
			double cu = median(cun, env.rounds), ct = median(ctr, env.rounds);

			printf("%-9s %8.3fs %8.3fs %6.3f %8.3fs %8.3fs %6.3f %10.0f %8llu %5llu\n",
			       w->name, mu, mt, mt / mu, cu, ct, ct / cu, median(rate, env.rounds),
			       (unsigned long long)(records / env.rounds),
			       (unsigned long long)lost);
		}
	}
	return 0;
}
