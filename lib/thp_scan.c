// SPDX-License-Identifier: MIT
/*
 * Which PMD-sized ranges of a process are backed by transparent huge pages, from
 * /proc/PID/pagemap (virtual page -> page frame) and /proc/kpageflags (frame -> flags).
 *
 * The THP tracepoints say a collapse happened; this says what the address space holds at a
 * moment the tracer chooses (after a collapse, at exit, for a region report). smaps'
 * AnonHugePages only gives a per-mapping total, not which 2 MiB ranges, hence pagemap.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "thp_scan.h"
#include "util.h"

#define PM_PRESENT	  (1ull << 63)
#define PM_PFN_MASK	  ((1ull << 55) - 1)
#define KPF_COMPOUND_HEAD 15
#define KPF_THP		  22

static int ms_pread_u64(int fd, uint64_t index, uint64_t *out)
{
	ssize_t n = pread(fd, out, sizeof(*out), (off_t)(index * sizeof(*out)));

	if (n == sizeof(*out))
		return 0;
	return n < 0 ? -errno : -EIO;
}

/* The page frame backing virtual page vpn: 0 and *pfn set, 1 when not present, or -errno. */
static int ms_pfn_of(int pagemap, uint64_t vpn, uint64_t *pfn)
{
	uint64_t e;
	int err = ms_pread_u64(pagemap, vpn, &e);

	if (err)
		return err;
	if (!(e & PM_PRESENT))
		return 1;
	*pfn = e & PM_PFN_MASK;
	/* Without CAP_SYS_ADMIN the kernel reports frame 0 for every page. */
	return *pfn ? 0 : -EPERM;
}

int ms_thp_scan(pid_t pid, uint64_t addr, uint64_t len, ms_thp_scan_fn fn, void *ctx)
{
	uint64_t ps = ms_page_size(), pmd = ms_thp_size();
	uint64_t per = pmd / ps, lo, hi;
	int pagemap = -1, kflags = -1, found = 0, err = 0;
	char path[64];

	if (!fn || addr + len < addr)
		return -EINVAL;
	lo = (addr + pmd - 1) & ~(pmd - 1);
	hi = (addr + len) & ~(pmd - 1);
	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	pagemap = open(path, O_RDONLY | O_CLOEXEC);
	if (pagemap < 0) {
		err = errno == ENOENT ? -ESRCH : -errno;
		goto cleanup;
	}
	kflags = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	if (kflags < 0) {
		err = errno == EACCES ? -EPERM : -errno;
		goto cleanup;
	}
	for (uint64_t a = lo; a < hi; a += pmd) {
		uint64_t pfn, last, flags;

		err = ms_pfn_of(pagemap, a / ps, &pfn);
		if (err < 0)
			goto cleanup;
		if (err > 0 || pfn % per)
			continue;
		err = ms_pread_u64(kflags, pfn, &flags);
		if (err)
			goto cleanup;
		if (!(flags & (1ull << KPF_THP)) || !(flags & (1ull << KPF_COMPOUND_HEAD)))
			continue;
		/* The head at the start and its last frame at the end: the whole range is it. */
		err = ms_pfn_of(pagemap, a / ps + per - 1, &last);
		if (err < 0)
			goto cleanup;
		if (err > 0 || last != pfn + per - 1)
			continue;
		found++;
		if (fn(ctx, a, pmd))
			break;
	}
	err = 0;
cleanup:
	if (pagemap >= 0)
		close(pagemap);
	if (kflags >= 0)
		close(kflags);
	return err ? err : found;
}
