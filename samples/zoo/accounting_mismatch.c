// SPDX-License-Identifier: MIT
/* Bug zoo: sysUsed told a wrong number of Prepared bytes (Go's scavenged-bit bug class). */
#include "memstate/memstate.h"

int main(void)
{
	static struct ms_stat heap = MS_STAT_INIT("heap");
	char *p = ms_sys_reserve(0, 1 << 20);

	if (!p)
		return 2;
	ms_sys_map(p, 1 << 20, &heap);
	ms_sys_used(p, 1 << 20, 1 << 19); /* accounting-mismatch: all 1 MiB is Prepared */
	ms_sys_free(p, 1 << 20, &heap);
	return 0;
}
