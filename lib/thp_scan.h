/* SPDX-License-Identifier: MIT */
/*
 * Which PMD-sized ranges of a process are backed by transparent huge pages (lib/thp_scan.c).
 */
#ifndef MEMSTATE_LIB_THP_SCAN_H
#define MEMSTATE_LIB_THP_SCAN_H

#include <stdint.h>
#include <sys/types.h>

/*
 * THP coverage of [addr, addr+len) in process pid: calls fn once per PMD-sized (2 MiB)
 * aligned range inside it that is backed by a transparent huge page, in address order;
 * a non-zero return from fn stops the scan. Reads /proc/PID/pagemap and
 * /proc/kpageflags, so it needs root (CAP_SYS_ADMIN for the page frame numbers).
 * Returns the number of huge ranges found, or a negative errno (-EPERM without the
 * rights, -ESRCH when the process is gone).
 */
typedef int (*ms_thp_scan_fn)(void *ctx, uint64_t addr, uint64_t len);
int ms_thp_scan(pid_t pid, uint64_t addr, uint64_t len, ms_thp_scan_fn fn, void *ctx);

#endif /* MEMSTATE_LIB_THP_SCAN_H */
