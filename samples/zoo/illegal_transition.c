// SPDX-License-Identifier: MIT
/* Bug zoo: sysMap over memory that is already Ready (only Reserved may be mapped). */
#include "memstate/memstate.h"

int main(void)
{
	static struct ms_stat heap = MS_STAT_INIT("heap");
	char *p = ms_sys_alloc(1 << 16, &heap);

	if (!p)
		return 2;
	ms_sys_map(p, 1 << 16, &heap); /* illegal-transition: Ready is not a source of sysMap */
	ms_sys_free(p, 1 << 16, &heap);
	return 0;
}
