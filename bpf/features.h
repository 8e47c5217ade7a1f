/* SPDX-License-Identifier: MIT */
/* What the running kernel lets the probe capture (features.c), found once per process. */
#ifndef MEMSTATE_BPF_FEATURES_H
#define MEMSTATE_BPF_FEATURES_H

#include <stdbool.h>

/* What this kernel lets us capture. */
#define MS_FEAT_CORE	 0x1  /* memory syscalls and the process tree: without it, nothing */
#define MS_FEAT_FAULTS	 0x2  /* user page faults */
#define MS_FEAT_THP	 0x4  /* THP collapse attribution */
#define MS_FEAT_UPROBE	 0x8  /* Go runtime uprobes (attach cookies), attached on demand */
#define MS_FEAT_UMULTI	 0x10 /* ... and as one uprobe_multi link (Linux 6.6) */
#define MS_FEAT_THPFAULT 0x20 /* faults served by a huge page (mm_page_alloc, with the faults) */

/* Not in the uapi headers libbpf 1.1 builds against (Linux 6.6, include/uapi/linux/bpf.h). */
#define MS_BPF_TRACE_UPROBE_MULTI 48

struct ms_features {
	unsigned have;		  /* MS_FEAT_* this kernel offers */
	unsigned scan_status_arg; /* mm_khugepaged_scan_pmd: index of its status argument */
	char missing[200];	  /* what is not there and why, "" when complete */
};

/* Append one "what is missing and why" to f->missing ("; " between them). */
void ms_feat_note(struct ms_features *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Root, or CAP_BPF and CAP_PERFMON. */
bool ms_has_caps(void);
/*
 * Probe the running kernel through its BTF, as libbpf-tools do: which tracepoints exist
 * and with which arguments. 0 when at least the core works, else a negative errno;
 * f->missing says what is absent either way.
 */
int ms_features_probe(struct ms_features *f);

#endif
