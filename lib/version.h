/* SPDX-License-Identifier: MIT */
/* The memstate tool's version: `memstate --version`, timelines' "tool", converters' generator. */
#ifndef MEMSTATE_LIB_VERSION_H
#define MEMSTATE_LIB_VERSION_H

#define MS_TOOL_VERSION "0.1.0"

#endif /* MEMSTATE_LIB_VERSION_H */
