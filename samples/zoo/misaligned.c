// SPDX-License-Identifier: MIT
/* Bug zoo: sysUnused on a range that does not start on a page boundary. */
#include "memstate/memstate.h"

int main(void)
{
	char *p = ms_sys_alloc(1 << 16, 0);

	if (!p)
		return 2;
	ms_sys_unused(p + 100, 4096); /* misaligned: refused with EINVAL, nothing changes */
	ms_sys_free(p, 1 << 16, 0);
	return 0;
}
