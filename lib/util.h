/* SPDX-License-Identifier: MIT */
/*
 * Small facts memstate needs in many places, found once (internal to memstate: lib/,
 * bpf/, export/, tui/ and tracer/ include it as "lib/util.h").
 */
#ifndef MEMSTATE_LIB_UTIL_H
#define MEMSTATE_LIB_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* The largest errno a syscall returns as -errno (the kernel's MAX_ERRNO). */
#define MS_MAX_ERRNO 4095
/* The fallback THP (PMD) size when sysfs does not say: x86-64's and arm64-4K's. */
#define MS_THP_SIZE_DEFAULT (2ull << 20)

/* CLOCK_MONOTONIC now, in ns: the clock of every record and timeline. */
uint64_t ms_now_ns(void);
/* The system's page size in bytes. */
uint32_t ms_page_size(void);
/*
 * The THP size from /sys/kernel/mm/transparent_hugepage/hpage_pmd_size: 0 when it cannot
 * be read (no THP; what a program reading it sees), else a power of two.
 */
uint64_t ms_thp_size_sysfs(void);
/* The same, MS_THP_SIZE_DEFAULT when sysfs does not say. */
uint64_t ms_thp_size(void);

/*
 * Bits set in v. Without -mpopcnt (the x86-64 baseline) __builtin_popcountll is a call
 * into libgcc, 4% of the tracer's CPU on a syscall-dense run; inline, it is a dozen
 * instructions.
 */
static inline unsigned ms_popcount64(uint64_t v)
{
#ifdef __POPCNT__
	return (unsigned)__builtin_popcountll(v);
#else
	v = v - ((v >> 1) & 0x5555555555555555ull);
	v = (v & 0x3333333333333333ull) + ((v >> 2) & 0x3333333333333333ull);
	v = (v + (v >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (unsigned)((v * 0x0101010101010101ull) >> 56);
#endif
}

/* How ms_fmt_size() writes a size. */
enum ms_size_style {
	MS_SIZE_TEXT,	 /* "512 B", "1.5 KiB", "2048.0 MiB": one decimal (reports, summaries) */
	MS_SIZE_LABEL,	 /* "512 B", "1.5 KiB", "24 MiB": a decimal below 10 only (chart labels) */
	MS_SIZE_COMPACT, /* "512B", "1.5K", "24.0M": no space, one letter (the TUI's narrow panes) */
};
/* bytes in binary units into buf (len bytes); returns buf. */
char *ms_fmt_size(char *buf, size_t len, uint64_t bytes, enum ms_size_style style);

#endif /* MEMSTATE_LIB_UTIL_H */
