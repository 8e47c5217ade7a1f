/* SPDX-License-Identifier: MIT */
/* The kernel's tracepoints as its BTF describes them, read in place (ktypes.c). */
#ifndef MEMSTATE_BPF_KTYPES_H
#define MEMSTATE_BPF_KTYPES_H

#include <stddef.h>

#define KT_MAX 16 /* tracepoints per call */

/*
 * For each tracepoint tps[i], its number of arguments (counts[i]), or -ENOENT when the
 * kernel has no such tracepoint, from the BTF file at path (raw BTF: /sys/kernel/btf/vmlinux).
 * Returns 0, or a negative errno when the file cannot be mapped or read this way (the
 * caller then asks libbpf).
 */
int ms_ktypes_tp_params(const char *path, const char *const *tps, int *counts, size_t n);

#endif
