// SPDX-License-Identifier: MIT
/* Bug zoo: sysFree of a NULL range (a length computed from a failed allocation). */
#include "memstate/memstate.h"

int main(void)
{
	ms_sys_free(0, 1 << 16, 0); /* invalid-range: refused with EINVAL, nothing unmapped */
	return 0;
}
