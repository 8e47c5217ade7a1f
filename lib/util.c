// SPDX-License-Identifier: MIT
/* Small facts found once (util.h). */
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
