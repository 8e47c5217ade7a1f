// SPDX-License-Identifier: MIT
/* Bug zoo: the same range freed twice. */
#include "memstate/memstate.h"

int main(void)
{
	static struct ms_stat heap = MS_STAT_INIT("heap");
	char *p = ms_sys_alloc(1 << 16, &heap);

	if (!p)
		return 2;
	ms_sys_free(p, 1 << 16, &heap);
	ms_sys_free(p, 1 << 16, &heap); /* double-free: the bytes are already None */
	return 0;
}
