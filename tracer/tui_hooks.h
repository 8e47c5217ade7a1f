/* SPDX-License-Identifier: MIT */
/*
 * The live view is optional: tui/ is not built without ncurses. The tracer refers to its
 * functions weakly and calls them only when they are linked in (non-NULL).
 */
#ifndef MEMSTATE_TRACER_TUI_HOOKS_H
#define MEMSTATE_TRACER_TUI_HOOKS_H

#include "tui/live.h"

#pragma weak ms_live_init
#pragma weak ms_live_add_proc
#pragma weak ms_live_publish
#pragma weak ms_live_set_done
#pragma weak ms_tui_run

#endif /* MEMSTATE_TRACER_TUI_HOOKS_H */
