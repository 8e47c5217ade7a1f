/* SPDX-License-Identifier: MIT */
/*
 * memstate: the vocabulary shared by every part of the tool.
 *
 * States, operations, sources and violation kinds, with the names that the JSON timeline
 * uses (SPEC sections 1, 2, 3 and 7). The enum values are part of the fixed-width event
 * record (event.h) and of the tracer channel, so they only ever grow at the end.
 */
#ifndef MEMSTATE_TYPES_H
#define MEMSTATE_TYPES_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The life of a byte of address space (SPEC section 1). */
enum ms_state {
	MS_NONE = 0, /* not owned: no mapping */
	MS_RESERVED, /* owned, PROT_NONE, never counted in the footprint */
	MS_PREPARED, /* mapped and accounted, must not be touched yet */
	MS_READY,    /* safe to access */
	MS_STATE_COUNT,
};

/* Event "to" for operations that move no byte (hints, faults in Ready memory). */
#define MS_STATE_UNCHANGED 0xff

/*
 * Operations. The first ten are the seed operations (SPEC section 2); the kernel and
 * bookkeeping events follow. MS_OP_FILE_MAP is a file-backed or shared mapping, tracked so
 * that faults in it are attributed and its munmap is no surprise, never counted as heap.
 */
enum ms_op {
	MS_OP_ALLOC = 0,	  /* None -> Ready, OS-chosen address */
	MS_OP_RESERVE,		  /* None -> Reserved */
	MS_OP_MAP,		  /* Reserved -> Prepared */
	MS_OP_USED,		  /* Prepared -> Ready */
	MS_OP_UNUSED,		  /* Ready -> Prepared */
	MS_OP_FREE,		  /* any -> None */
	MS_OP_FAULT,		  /* Ready -> Reserved */
	MS_OP_HUGE_PAGE,	  /* hint */
	MS_OP_NO_HUGE_PAGE,	  /* hint */
	MS_OP_HUGE_PAGE_COLLAPSE, /* best-effort collapse request */
	MS_OP_PAGE_FAULT,	  /* kernel: a user page fault */
	MS_OP_THP_COLLAPSE,	  /* kernel: a 2 MiB range became a huge page */
	MS_OP_FILE_MAP,		  /* file-backed or shared mapping appeared */
	MS_OP_PROC_FORK,	  /* pid was forked from arg (ppid): a copy of its space */
	MS_OP_PROC_EXEC,	  /* pid exec'd: its map cleared, counters stay */
	MS_OP_PROC_EXIT,	  /* pid ended: result = exit code (-1 if killed), aux = signal */
	/* jemalloc's extent hooks (SPEC section 11), source MS_SRC_JEMALLOC: result 1 when the
	 * hook returned true (failed; a dalloc that retains the extent). */
	MS_OP_EXT_ALLOC,	/* None -> Ready (MS_EVF_COMMITTED) or Reserved */
	MS_OP_EXT_DALLOC,	/* -> None; result 1: retained, no transition */
	MS_OP_EXT_DESTROY,	/* -> None */
	MS_OP_EXT_COMMIT,	/* Reserved -> Ready */
	MS_OP_EXT_DECOMMIT,	/* committed -> Reserved */
	MS_OP_EXT_PURGE_LAZY,	/* Ready -> Prepared (MADV_FREE) */
	MS_OP_EXT_PURGE_FORCED, /* Ready -> Prepared (reads as zero) */
	MS_OP_EXT_SPLIT,	/* no transition: [addr, addr+arg) and the rest */
	MS_OP_EXT_MERGE,	/* no transition: [addr, addr+arg) with [addr+arg, addr+len) */
	MS_OP_COUNT,
};

/* Process events (fork, exec, exit): no range, applied by the tracer. */
static inline int ms_op_is_proc(unsigned op)
{
	return op >= MS_OP_PROC_FORK && op <= MS_OP_PROC_EXIT;
}

/* jemalloc extent hook operations. */
static inline int ms_op_is_extent(unsigned op)
{
	return op >= MS_OP_EXT_ALLOC && op <= MS_OP_EXT_MERGE;
}

/* Where an event was observed. */
enum ms_source {
	MS_SRC_API = 0,	 /* libmemstate call or ms_note() in the program */
	MS_SRC_SYSCALL,	 /* inferred from a memory syscall (SPEC section 5) */
	MS_SRC_UPROBE,	 /* a Go runtime function seen by a uprobe */
	MS_SRC_KERNEL,	 /* page fault or THP tracepoint */
	MS_SRC_JEMALLOC, /* a jemalloc extent hook (libmemstate-jemalloc.so) */
	MS_SRC_COUNT,
};

/* Violation kinds (SPEC section 3); 0 means none. */
enum ms_violation_kind {
	MS_V_NONE = 0,
	MS_V_ILLEGAL_TRANSITION,
	MS_V_DOUBLE_FREE,
	MS_V_ACCOUNTING_MISMATCH,
	MS_V_MISALIGNED,
	MS_V_HINT_ON_UNMAPPED,
	MS_V_ACCESS_RESERVED,
	MS_V_ACCESS_PREPARED,
	MS_V_INVALID_RANGE, /* NULL address, zero length or a range that wraps */
	MS_V_API_MISMATCH,  /* the syscalls seen differ from what an API call declared */
	/* jemalloc's extent contract (SPEC section 11) */
	MS_V_COMMIT_COMMITTED,	   /* extent commit over committed bytes */
	MS_V_DECOMMIT_UNCOMMITTED, /* decommit or purge over bytes not committed */
	MS_V_MERGE_COMMIT_DIFFERS, /* merge of extents whose committed states differ */
	MS_V_EXTENT_BOUNDS,	   /* split or merge bounds that are not known extents */
	MS_V_UNKNOWN_EXTENT,	   /* dalloc or destroy of an extent not known */
	MS_V_COUNT,
};

/* What backs an interval. */
enum ms_kind {
	MS_KIND_ANON = 0, /* private anonymous memory: the heap states */
	MS_KIND_FILE,	  /* file-backed or shared: tracked, never heap-accounted */
	MS_KIND_COUNT,
};

/* Transparent huge page advice last given on an interval. */
enum ms_huge {
	MS_HUGE_DEFAULT = 0,
	MS_HUGE_HUGEPAGE,   /* MADV_HUGEPAGE */
	MS_HUGE_NOHUGEPAGE, /* MADV_NOHUGEPAGE */
};

/* Names as they appear in the JSON timeline; "?" for out-of-range values. */
const char *ms_state_name(unsigned state);
const char *ms_op_name(unsigned op);
const char *ms_source_name(unsigned source);
const char *ms_violation_name(unsigned kind);
const char *ms_kind_name(unsigned kind);
const char *ms_huge_name(unsigned huge); /* NULL for MS_HUGE_DEFAULT (JSON null) */

/* Memory syscalls by number on this architecture ("mmap", ...); NULL for others. */
const char *ms_syscall_name(unsigned nr);
int ms_syscall_parse(const char *name, unsigned *out);

/* Reverse lookups for readers: 0 and *out set, or -EINVAL for an unknown name. */
int ms_state_parse(const char *name, unsigned *out);
int ms_op_parse(const char *name, unsigned *out);
int ms_source_parse(const char *name, unsigned *out);
int ms_violation_parse(const char *name, unsigned *out);

#ifdef __cplusplus
}
#endif

#endif /* MEMSTATE_TYPES_H */
