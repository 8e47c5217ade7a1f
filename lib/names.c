// SPDX-License-Identifier: MIT
/* Names of states, operations, sources and violation kinds as the JSON timeline spells them. */
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>

#include "memstate/types.h"

static const char *const state_names[MS_STATE_COUNT] = {
	[MS_NONE] = "None",
	[MS_RESERVED] = "Reserved",
	[MS_PREPARED] = "Prepared",
	[MS_READY] = "Ready",
};

static const char *const op_names[MS_OP_COUNT] = {
	[MS_OP_ALLOC] = "sysAlloc",
	[MS_OP_RESERVE] = "sysReserve",
	[MS_OP_MAP] = "sysMap",
	[MS_OP_USED] = "sysUsed",
	[MS_OP_UNUSED] = "sysUnused",
	[MS_OP_FREE] = "sysFree",
	[MS_OP_FAULT] = "sysFault",
	[MS_OP_HUGE_PAGE] = "sysHugePage",
	[MS_OP_NO_HUGE_PAGE] = "sysNoHugePage",
	[MS_OP_HUGE_PAGE_COLLAPSE] = "sysHugePageCollapse",
	[MS_OP_PAGE_FAULT] = "pageFault",
	[MS_OP_THP_COLLAPSE] = "thpCollapse",
	[MS_OP_FILE_MAP] = "fileMap",
	[MS_OP_PROC_FORK] = "procFork",
	[MS_OP_PROC_EXEC] = "procExec",
	[MS_OP_PROC_EXIT] = "procExit",
	[MS_OP_EXT_ALLOC] = "extentAlloc",
	[MS_OP_EXT_DALLOC] = "extentDalloc",
	[MS_OP_EXT_DESTROY] = "extentDestroy",
	[MS_OP_EXT_COMMIT] = "extentCommit",
	[MS_OP_EXT_DECOMMIT] = "extentDecommit",
	[MS_OP_EXT_PURGE_LAZY] = "extentPurgeLazy",
	[MS_OP_EXT_PURGE_FORCED] = "extentPurgeForced",
	[MS_OP_EXT_SPLIT] = "extentSplit",
	[MS_OP_EXT_MERGE] = "extentMerge",
};

static const char *const source_names[MS_SRC_COUNT] = {
	[MS_SRC_API] = "api",	    [MS_SRC_SYSCALL] = "syscall",   [MS_SRC_UPROBE] = "uprobe",
	[MS_SRC_KERNEL] = "kernel", [MS_SRC_JEMALLOC] = "jemalloc",
};

static const char *const violation_names[MS_V_COUNT] = {
	[MS_V_NONE] = "none",
	[MS_V_ILLEGAL_TRANSITION] = "illegal-transition",
	[MS_V_DOUBLE_FREE] = "double-free",
	[MS_V_ACCOUNTING_MISMATCH] = "accounting-mismatch",
	[MS_V_MISALIGNED] = "misaligned",
	[MS_V_HINT_ON_UNMAPPED] = "hint-on-unmapped",
	[MS_V_ACCESS_RESERVED] = "access-reserved",
	[MS_V_ACCESS_PREPARED] = "access-prepared",
	[MS_V_INVALID_RANGE] = "invalid-range",
	[MS_V_API_MISMATCH] = "api-mismatch",
	[MS_V_COMMIT_COMMITTED] = "commit-committed",
	[MS_V_DECOMMIT_UNCOMMITTED] = "decommit-uncommitted",
	[MS_V_MERGE_COMMIT_DIFFERS] = "merge-commit-differs",
	[MS_V_EXTENT_BOUNDS] = "extent-bounds",
	[MS_V_UNKNOWN_EXTENT] = "unknown-extent",
};

static const char *const kind_names[MS_KIND_COUNT] = {
	[MS_KIND_ANON] = "anon",
	[MS_KIND_FILE] = "file",
};

#define NAME_OR_Q(table, i) ((i) < sizeof(table) / sizeof(table[0]) ? table[i] : "?")

const char *ms_state_name(unsigned state)
{
	return NAME_OR_Q(state_names, state);
}

const char *ms_op_name(unsigned op)
{
	return NAME_OR_Q(op_names, op);
}

const char *ms_source_name(unsigned source)
{
	return NAME_OR_Q(source_names, source);
}

const char *ms_violation_name(unsigned kind)
{
	return NAME_OR_Q(violation_names, kind);
}

const char *ms_kind_name(unsigned kind)
{
	return NAME_OR_Q(kind_names, kind);
}

const char *ms_huge_name(unsigned huge)
{
	switch (huge) {
	case MS_HUGE_HUGEPAGE:
		return "hugepage";
	case MS_HUGE_NOHUGEPAGE:
		return "nohugepage";
	default:
		return NULL;
	}
}

static int parse(const char *const *table, unsigned n, const char *name, unsigned *out)
{
	for (unsigned i = 0; i < n; i++) {
		if (table[i] && strcmp(table[i], name) == 0) {
			*out = i;
			return 0;
		}
	}
	return -EINVAL;
}

int ms_state_parse(const char *name, unsigned *out)
{
	return parse(state_names, MS_STATE_COUNT, name, out);
}

int ms_op_parse(const char *name, unsigned *out)
{
	return parse(op_names, MS_OP_COUNT, name, out);
}

int ms_source_parse(const char *name, unsigned *out)
{
	return parse(source_names, MS_SRC_COUNT, name, out);
}

int ms_violation_parse(const char *name, unsigned *out)
{
	return parse(violation_names, MS_V_COUNT, name, out);
}

static const struct {
	unsigned nr;
	const char *name;
} syscalls[] = {
	{SYS_mmap, "mmap"},
	{SYS_munmap, "munmap"},
	{SYS_mprotect, "mprotect"},
	{SYS_madvise, "madvise"},
	{SYS_mremap, "mremap"},
	{SYS_brk, "brk"},
	{SYS_pkey_mprotect, "pkey_mprotect"},
};

const char *ms_syscall_name(unsigned nr)
{
	for (size_t i = 0; i < sizeof(syscalls) / sizeof(syscalls[0]); i++) {
		if (syscalls[i].nr == nr)
			return syscalls[i].name;
	}
	return NULL;
}

int ms_syscall_parse(const char *name, unsigned *out)
{
	for (size_t i = 0; i < sizeof(syscalls) / sizeof(syscalls[0]); i++) {
		if (strcmp(syscalls[i].name, name) == 0) {
			*out = syscalls[i].nr;
			return 0;
		}
	}
	return -EINVAL;
}
