// SPDX-License-Identifier: MIT
/*
 * Syscalls -> operations (SPEC section 5), for programs that do not use the library.
 *
 * The kernel accepted a call, so what it did is the truth: the operation is picked from the
 * states the range really holds, and these events never raise semantic violations. Where
 * one call has different outcomes over different parts of its range (mmap MAP_FIXED or
 * mprotect over Reserved and Ready memory), it is recorded as one event per run of equal
 * outcome, so each event has one destination state.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "memstate/capture.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif
#ifndef MADV_DONTNEED_LOCKED
#define MADV_DONTNEED_LOCKED 24
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

#define NO_OP -1

int ms_infer_wants(unsigned nr)
{
	switch (nr) {
	case SYS_mmap:
	case SYS_munmap:
	case SYS_mprotect:
	case SYS_pkey_mprotect:
	case SYS_madvise:
	case SYS_mremap:
	case SYS_brk:
		return 1;
	default:
		return 0;
	}
}

/* Record one operation as a syscall event. 1 when recorded, 0 for nothing, -ENOMEM. */
static int emit_full(struct ms_space *sp, const struct ms_sysrec *rec, int op, uint64_t addr,
		     uint64_t len, uint8_t kind, int32_t result, uint16_t flags, uint64_t arg)
{
	struct ms_event ev = {
		.flags = flags,
		.arg = arg,
		.op = (uint8_t)op,
		.source = MS_SRC_SYSCALL,
		.addr = addr,
		.len = len,
		.pid = rec->pid,
		.tid = rec->tid,
		.t_ns = rec->t_ns,
		.aux = rec->nr,
		.kind = kind,
		.result = result,
	};
	int v;

	if (op == NO_OP || !len)
		return 0;
	v = ms_space_check_locked(sp, &ev);
	if (v < 0)
		return v;
	ms_space_commit_locked(sp, &ev);
	return 1;
}

static int emit(struct ms_space *sp, const struct ms_sysrec *rec, int op, uint64_t addr,
		uint64_t len, uint8_t kind, int32_t result)
{
	return emit_full(sp, rec, op, addr, len, kind, result, 0, 0);
}

/* ------------------------------------------------------------------ runs of one outcome */

/* How a call treats one piece of its range; region NULL for a None gap. */
typedef int (*classify_fn)(const struct ms_region *r);

static int cls_fixed_none(const struct ms_region *r)
{
	/* A new PROT_NONE mapping: decommit where memory was usable, else a reservation. */
	if (r && r->kind == MS_KIND_ANON && (r->state == MS_PREPARED || r->state == MS_READY))
		return MS_OP_FAULT;
	return MS_OP_RESERVE;
}

static int cls_fixed_rw(const struct ms_region *r)
{
	/* A new accessible mapping: commit over Reserved, a reset over Prepared/Ready. */
	if (!r || r->kind == MS_KIND_FILE)
		return MS_OP_ALLOC;
	return MS_OP_MAP;
}

static int cls_protect_none(const struct ms_region *r)
{
	if (r && r->kind == MS_KIND_ANON && (r->state == MS_PREPARED || r->state == MS_READY))
		return MS_OP_FAULT;
	return NO_OP;
}

static int cls_protect_rw(const struct ms_region *r)
{
	/* glibc grows its heaps this way: Reserved -> Prepared, Ready on first touch. */
	if (r && r->kind == MS_KIND_ANON && r->state == MS_RESERVED)
		return MS_OP_MAP;
	return NO_OP;
}

struct run {
	uint64_t s, e;
	int op;
};

struct runs {
	struct run *v;
	size_t n, cap;
	uint64_t pos; /* next byte not yet covered */
	classify_fn cls;
	int err;
	struct run local[16];
};

static void runs_add(struct runs *rs, uint64_t s, uint64_t e, int op)
{
	if (rs->n && rs->v[rs->n - 1].op == op && rs->v[rs->n - 1].e == s) {
		rs->v[rs->n - 1].e = e;
		return;
	}
	if (rs->n == rs->cap) {
		size_t cap = rs->cap * 2;
		struct run *v = rs->v == rs->local ? malloc(cap * sizeof(*v))
						   : realloc(rs->v, cap * sizeof(*v));

		if (!v) {
			rs->err = -ENOMEM;
			return;
		}
		if (rs->v == rs->local)
			for (size_t i = 0; i < rs->n; i++)
				v[i] = rs->local[i];
		rs->v = v;
		rs->cap = cap;
	}
	rs->v[rs->n++] = (struct run){s, e, op};
}

static int runs_visit(const struct ms_region *r, void *ctx)
{
	struct runs *rs = ctx;

	if (r->start > rs->pos)
		runs_add(rs, rs->pos, r->start, rs->cls(NULL));
	runs_add(rs, r->start, r->end, rs->cls(r));
	rs->pos = r->end;
	return rs->err;
}

/*
 * A range no call can have worked on: the kernel refuses a misaligned start (EINVAL) and
 * never returns one, and no range wraps. A record that claims one is not the kernel's.
 */
static bool impossible_range(uint64_t addr, uint64_t len, uint64_t ps)
{
	return (addr & (ps - 1)) || addr + len < addr;
}

/* Split [addr, addr+len) into runs of one outcome and record each. */
static int emit_runs(struct ms_space *sp, const struct ms_sysrec *rec, uint64_t addr, uint64_t len,
		     classify_fn cls, uint8_t kind)
{
	struct runs rs = {.cap = 16, .pos = addr, .cls = cls};
	int n = 0, r;

	/* Runs after the first would start aligned and apply: one event, which is refused. */
	if (impossible_range(addr, len, ms_space_page_size(sp)))
		return emit(sp, rec, cls(NULL), addr, len, kind, 0);
	rs.v = rs.local;
	ms_space_foreach_in_locked(sp, addr, len, runs_visit, &rs);
	if (!rs.err && rs.pos < addr + len)
		runs_add(&rs, rs.pos, addr + len, cls(NULL));
	for (size_t i = 0; !rs.err && i < rs.n; i++) {
		r = emit(sp, rec, rs.v[i].op, rs.v[i].s, rs.v[i].e - rs.v[i].s, kind, 0);
		if (r < 0)
			rs.err = r;
		n += r > 0;
	}
	if (rs.v != rs.local)
		free(rs.v);
	return rs.err ? rs.err : n;
}

/* ------------------------------------------------------------------ per syscall */

static uint64_t page_up(uint64_t x, uint64_t ps)
{
	return (x + ps - 1) & ~(ps - 1);
}

static int infer_mmap(struct ms_space *sp, const struct ms_infer_state *st,
		      const struct ms_sysrec *rec, uint64_t ps)
{
	uint64_t len = page_up(rec->args[1], ps);
	int prot = (int)rec->args[2], flags = (int)rec->args[3];
	bool anon = flags & MAP_ANONYMOUS, shared = (flags & MAP_SHARED) && !(flags & MAP_PRIVATE);
	bool fixed = (flags & MAP_FIXED) && !(flags & MAP_FIXED_NOREPLACE);
	uint64_t addr = rec->ret >= 0 ? (uint64_t)rec->ret : rec->args[0];
	int op = MS_OP_ALLOC;

	/* File-backed and shared memory is tracked as its own kind, never as heap states. */
	if (!anon || shared)
		op = MS_OP_FILE_MAP;
	else if (prot == PROT_NONE)
		op = MS_OP_RESERVE;
	if (op == MS_OP_FILE_MAP && st->ignore_files)
		return 0;
	if (rec->ret < 0)
		return emit(sp, rec, op, addr, len, op == MS_OP_FILE_MAP, (int32_t)-rec->ret);
	if (op == MS_OP_FILE_MAP || !fixed)
		return emit(sp, rec, op, addr, len, op == MS_OP_FILE_MAP, 0);
	return emit_runs(sp, rec, addr, len, prot == PROT_NONE ? cls_fixed_none : cls_fixed_rw,
			 MS_KIND_ANON);
}

static int infer_mprotect(struct ms_space *sp, const struct ms_sysrec *rec, uint64_t ps)
{
	uint64_t addr = rec->args[0], len = page_up(rec->args[1], ps);
	bool none = (int)rec->args[2] == PROT_NONE;

	if (rec->ret < 0)
		return emit(sp, rec, none ? MS_OP_FAULT : MS_OP_MAP, addr, len, MS_KIND_ANON,
			    (int32_t)-rec->ret);
	return emit_runs(sp, rec, addr, len, none ? cls_protect_none : cls_protect_rw,
			 MS_KIND_ANON);
}

static int infer_madvise(struct ms_space *sp, const struct ms_sysrec *rec, uint64_t ps)
{
	uint64_t addr = rec->args[0], len = page_up(rec->args[1], ps);
	int32_t result = rec->ret < 0 ? (int32_t)-rec->ret : 0;
	int op;

	switch ((int)rec->args[2]) {
	case MADV_DONTNEED:
	case MADV_FREE:
	case MADV_DONTNEED_LOCKED:
		op = MS_OP_UNUSED; /* only Ready anonymous memory changes: see target() */
		break;
	case MADV_HUGEPAGE:
		op = MS_OP_HUGE_PAGE;
		break;
	case MADV_NOHUGEPAGE:
		op = MS_OP_NO_HUGE_PAGE;
		break;
	case MADV_COLLAPSE:
		op = MS_OP_HUGE_PAGE_COLLAPSE;
		break;
	default:
		return 0;
	}
	/* MADV_FREE pages stay resident, lazily free, until reclaimed or written again. */
	return emit_full(sp, rec, op, addr, len, MS_KIND_ANON, result,
			 (int)rec->args[2] == MADV_FREE ? MS_EVF_LAZY : 0, 0);
}

/* The pieces of a range, copied out before the range changes. */
struct pieces {
	struct ms_region *v;
	size_t n, cap;
	int err;
};

static int pieces_add(const struct ms_region *r, void *ctx)
{
	struct pieces *p = ctx;

	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 16;
		struct ms_region *v = realloc(p->v, cap * sizeof(*v));

		if (!v)
			return p->err = -ENOMEM;
		p->v = v;
		p->cap = cap;
	}
	p->v[p->n++] = *r;
	return 0;
}

/* The operation that recreates a piece of memory with its state at a new place. */
static int recreate_op(const struct ms_region *r)
{
	if (r->kind == MS_KIND_FILE)
		return MS_OP_FILE_MAP;
	switch (r->state) {
	case MS_RESERVED:
		return MS_OP_RESERVE;
	case MS_PREPARED:
		return MS_OP_MAP;
	default:
		return MS_OP_ALLOC;
	}
}

static int infer_mremap(struct ms_space *sp, const struct ms_sysrec *rec, uint64_t ps)
{
	uint64_t old = rec->args[0], old_len = page_up(rec->args[1], ps);
	uint64_t new_len = page_up(rec->args[2], ps), flags = rec->args[3];
	uint64_t to = (uint64_t)rec->ret, keep = old_len < new_len ? old_len : new_len;
	struct pieces p = {0};
	int n = 0, r = 0, grow_op = MS_OP_ALLOC;
	uint8_t grow_kind = MS_KIND_ANON;

	if (rec->ret < 0)
		return emit(sp, rec, MS_OP_FREE, old, old_len, MS_KIND_ANON, (int32_t)-rec->ret);
	if (old_len == 0) /* a second mapping of shared memory */
		return emit(sp, rec, MS_OP_FILE_MAP, to, new_len, MS_KIND_FILE, 0);
	/* A move the kernel cannot have made: recorded refused as a whole, nothing changes
	 * (freeing the old range and then failing to recreate it would lose it). */
	if (impossible_range(old, old_len, ps) || impossible_range(to, new_len, ps))
		return emit(sp, rec, MS_OP_FREE, old, old_len, MS_KIND_ANON, EINVAL);
	/* Copy the old range's pieces out first: recording the move changes them. */
	ms_space_foreach_in_locked(sp, old, old_len, pieces_add, &p);
	if (p.err) {
		r = p.err;
		goto out;
	}
	if (p.n) {
		/* Growth takes the protection and backing of the mapping's end. */
		grow_op = recreate_op(&p.v[p.n - 1]);
		if (grow_op == MS_OP_MAP)
			grow_op = MS_OP_ALLOC;
		grow_kind = p.v[p.n - 1].kind;
	}
	if (to == old) {
		if (new_len < old_len && (r = emit(sp, rec, MS_OP_FREE, old + new_len,
						   old_len - new_len, MS_KIND_ANON, 0)) < 0)
			goto out;
		n += r;
	} else {
		if (!(flags & MREMAP_DONTUNMAP)) {
			if ((r = emit(sp, rec, MS_OP_FREE, old, old_len, MS_KIND_ANON, 0)) < 0)
				goto out;
			n += r;
		}
		for (size_t i = 0; i < p.n && p.v[i].start < old + keep; i++) {
			uint64_t e = p.v[i].end < old + keep ? p.v[i].end : old + keep;
			int op = recreate_op(&p.v[i]);
			bool moves = !(flags & MREMAP_DONTUNMAP) &&
				     (op == MS_OP_ALLOC || op == MS_OP_MAP);

			/* arg: where the pages come from, so that their residency follows */
			r = emit_full(sp, rec, op, to + (p.v[i].start - old), e - p.v[i].start,
				      p.v[i].kind, 0, 0, moves ? p.v[i].start : 0);
			if (r < 0)
				goto out;
			n += r;
		}
	}
	if (new_len > old_len) {
		r = emit(sp, rec, grow_op, to + old_len, new_len - old_len, grow_kind, 0);
		if (r < 0)
			goto out;
		n += r;
	}
	r = n;
out:
	free(p.v);
	return r;
}

static int infer_brk(struct ms_space *sp, struct ms_infer_state *st, const struct ms_sysrec *rec,
		     uint64_t ps)
{
	uint64_t want = rec->args[0], now = (uint64_t)rec->ret, old = st->brk;
	uint64_t a = page_up(old, ps), b;

	if (!old || !want) { /* learn the break: brk(0), or the first call we see */
		st->brk = now;
		return 0;
	}
	if (now != want) { /* refused: the kernel returns the old break */
		b = page_up(want, ps);
		return emit(sp, rec, b > a ? MS_OP_ALLOC : MS_OP_FREE, b > a ? a : b,
			    b > a ? b - a : a - b, MS_KIND_ANON, ENOMEM);
	}
	st->brk = now;
	b = page_up(now, ps);
	if (b > a)
		return emit(sp, rec, MS_OP_ALLOC, a, b - a, MS_KIND_ANON, 0);
	if (b < a)
		return emit(sp, rec, MS_OP_FREE, b, a - b, MS_KIND_ANON, 0);
	return 0;
}

int ms_infer_syscall_locked(struct ms_space *sp, struct ms_infer_state *st,
			    const struct ms_sysrec *rec)
{
	uint64_t ps = ms_space_page_size(sp);

	switch (rec->nr) {
	case SYS_mmap:
		return infer_mmap(sp, st, rec, ps);
	case SYS_munmap:
		return emit(sp, rec, MS_OP_FREE, rec->args[0], page_up(rec->args[1], ps),
			    MS_KIND_ANON, rec->ret < 0 ? (int32_t)-rec->ret : 0);
	case SYS_mprotect:
	case SYS_pkey_mprotect:
		return infer_mprotect(sp, rec, ps);
	case SYS_madvise:
		return infer_madvise(sp, rec, ps);
	case SYS_mremap:
		return infer_mremap(sp, rec, ps);
	case SYS_brk:
		return infer_brk(sp, st, rec, ps);
	default:
		return 0;
	}
}
