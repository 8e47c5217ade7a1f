// SPDX-License-Identifier: MIT
/*
 * The TUI without curses (no curses headers, or TUI=0): the producer side (live.c) still
 * builds and the tracer links against it; drawing is refused.
 */
#include <errno.h>
#include <stdbool.h>

#include "live.h"

bool ms_tui_available(void)
{
	return false;
}

int ms_tui_run(struct ms_live *live)
{
	(void)live;
	return -ENOTSUP;
}
