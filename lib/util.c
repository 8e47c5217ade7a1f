// SPDX-License-Identifier: MIT
/* Small facts found once (util.h). */
#include <inttypes.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

uint64_t ms_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint32_t ms_page_size(void)
{
	long ps = sysconf(_SC_PAGESIZE);

	return ps > 0 ? (uint32_t)ps : 4096;
}

uint64_t ms_thp_size_sysfs(void)
{
	char buf[32] = {0};
	int fd = open("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", O_RDONLY | O_CLOEXEC);
	uint64_t v = 0;

	if (fd >= 0) {
		if (read(fd, buf, sizeof(buf) - 1) > 0)
			v = strtoull(buf, NULL, 10);
		close(fd);
	}
	return v && !(v & (v - 1)) ? v : 0;
}

uint64_t ms_thp_size(void)
{
	uint64_t v = ms_thp_size_sysfs();

	return v ? v : MS_THP_SIZE_DEFAULT;
}

char *ms_fmt_size(char *buf, size_t len, uint64_t bytes, enum ms_size_style style)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	double d = (double)bytes;
	int u = 0;

	while (d >= 1024 && u < 6) {
		d /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, style == MS_SIZE_COMPACT ? "%" PRIu64 "B" : "%" PRIu64 " B",
			 bytes);
	else if (style == MS_SIZE_COMPACT)
		snprintf(buf, len, "%.1f%c", d, unit[u][0]);
	else
		snprintf(buf, len, "%.*f %s", style == MS_SIZE_LABEL && d >= 10 ? 0 : 1, d,
			 unit[u]);
	return buf;
}
