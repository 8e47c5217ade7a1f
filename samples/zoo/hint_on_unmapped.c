// SPDX-License-Identifier: MIT
/* Bug zoo: a huge-page hint on address space that is only Reserved. */
#include "memstate/memstate.h"

int main(void)
{
	char *p = ms_sys_reserve(0, 4 << 20);

	if (!p)
		return 2;
	ms_sys_huge_page(p, 4 << 20); /* hint-on-unmapped: Reserved memory has no pages */
	ms_sys_free(p, 4 << 20, 0);
	return 0;
}
