// SPDX-License-Identifier: MIT
/*
 * Fuzz target "infer": syscall records -> operations (ms_infer_syscall_locked, SPEC 5).
 *
 * The input drives a small model of what the kernel holds (one entry per page: unmapped,
 * PROT_NONE anonymous, accessible anonymous, file-backed or shared) and produces the
 * syscall records a real kernel would return for it: mmap (fixed, non-fixed,
 * MAP_FIXED_NOREPLACE, file, shared, unaligned lengths), munmap, mprotect, pkey_mprotect,
 * madvise, mremap (shrink, grow, move, DONTUNMAP), brk, failed calls, and page faults. Then:
 *  - the shadow map agrees with the kernel model page by page (what --verify-maps checks
 *    on real programs): None / Reserved / Prepared-or-Ready / file;
 *  - no syscall-inferred event carries a violation; a page fault carries access-reserved
 *    exactly when the page is PROT_NONE anonymous memory (SPEC 5: the only one);
 *  - every event is source "syscall" with the record's number, pid and tid; a failed call
 *    changes no byte; ms_space_verify() is clean after every record.
 * Some records are pure garbage (any number, any argument, any result): after the first
 * one the model is dropped and only the invariants are checked.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "fuzz.h"
#include "memstate/capture.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

#define PS   4096ull
#define BASE 0x40000000ull
#define NP   512
#define PID  77
#define TID  78

enum { K_NONE, K_RES, K_USE, K_FILE };

struct kpage {
	uint8_t cls;	  /* K_* */
	uint8_t dontcare; /* an ignored file mapping lies here: the shadow may differ */
};

static struct kpage km[NP];
static bool model_ok;	  /* no garbage record yet */
static bool ignore_files; /* st.ignore_files */
static uint64_t brk_cur;  /* the break, 0 before brk(0) */
static struct ms_space *sp;
static struct ms_infer_state st;

static uint64_t A(uint64_t p)
{
	return BASE + p * PS;
}

/* ------------------------------------------------------------------ checking */

static uint8_t shadow_cls(uint64_t a)
{
	struct ms_region r;
	enum ms_state s = ms_space_state_at(sp, a, &r);

	if (s == MS_NONE)
		return K_NONE;
	if (r.kind == MS_KIND_FILE)
		return K_FILE;
	return s == MS_RESERVED ? K_RES : K_USE;
}

static void compare(const char *when)
{
	char why[200];

	fuzz_check(!ms_space_verify(sp, why, sizeof(why)), "%s: verify: %s", when, why);
	if (!model_ok)
		return;
	for (uint64_t p = 0; p < NP; p++) {
		uint8_t s = shadow_cls(A(p));

		if (km[p].dontcare)
			continue;
		fuzz_check(s == km[p].cls,
			   "%s: page %" PRIu64 " is %u for the kernel, %u in the map", when, p,
			   km[p].cls, s);
	}
}

/* Run one record; check what it recorded. */
static void run(const struct ms_sysrec *rec, const char *what)
{
	struct ms_totals before, after;
	struct ms_event evs[256];
	size_t n;
	bool failed = false;
	int ret;

	ms_space_lock(sp);
	ms_space_totals_locked(sp, &before);
	ret = ms_infer_syscall_locked(sp, &st, rec);
	ms_space_totals_locked(sp, &after);
	fuzz_check(ret >= 0, "%s: inference returned %d", what, ret);
	fuzz_check(after.events - before.events == (uint64_t)ret,
		   "%s: %d events said, %" PRIu64 " recorded", what, ret,
		   after.events - before.events);
	while ((n = ms_space_events_read_locked(sp, evs, 256))) {
		for (size_t i = 0; i < n; i++) {
			const struct ms_event *ev = &evs[i];

			fuzz_check(ev->source == MS_SRC_SYSCALL && ev->aux == rec->nr &&
					   ev->pid == rec->pid && ev->tid == rec->tid,
				   "%s: event source %u aux %u pid %u tid %u", what, ev->source,
				   ev->aux, ev->pid, ev->tid);
			fuzz_check(!ev->violation, "%s: syscall event %s carries violation %s",
				   what, ms_op_name(ev->op), ms_violation_name(ev->violation));
			failed |= ev->result != 0;
			fuzz_check(!ev->result || ev->to == MS_STATE_UNCHANGED,
				   "%s: a failed %s moved bytes", what, ms_op_name(ev->op));
		}
	}
	if (failed)
		fuzz_check(!memcmp(before.bytes, after.bytes, sizeof(before.bytes)) &&
				   before.file_bytes == after.file_bytes,
			   "%s: a failed call changed the byte counts", what);
	ms_space_unlock(sp);
	compare(what);
}

static struct ms_sysrec rec(unsigned nr, int64_t ret, uint64_t a0, uint64_t a1, uint64_t a2,
			    uint64_t a3, uint64_t a4)
{
	return (struct ms_sysrec){
		.pid = PID, .tid = TID, .nr = nr, .ret = ret, .args = {a0, a1, a2, a3, a4, 0}};
}

/* ------------------------------------------------------------------ the kernel model */

static void set(uint64_t p, uint64_t n, uint8_t cls, bool dontcare)
{
	for (uint64_t i = p; i < p + n && i < NP; i++)
		km[i] = (struct kpage){.cls = cls, .dontcare = dontcare};
}

static bool all(uint64_t p, uint64_t n, uint8_t cls)
{
	for (uint64_t i = p; i < p + n; i++) {
		if (i >= NP || km[i].cls != cls)
			return false;
	}
	return true;
}

/* A free run of n pages from about `from`, avoiding [ap, ap+an): its first page or -1. */
static int64_t find_free(uint64_t from, uint64_t n, uint64_t ap, uint64_t an)
{
	for (uint64_t k = 0; k < NP; k++) {
		uint64_t p = (from + k) % NP;

		if (p + n > NP || (p < ap + an && ap < p + n))
			continue;
		if (all(p, n, K_NONE))
			return (int64_t)p;
	}
	return -1;
}

static uint8_t prot_cls(int prot)
{
	return prot == PROT_NONE ? K_RES : K_USE;
}

/* ------------------------------------------------------------------ one syscall each */

static const int prots[] = {PROT_NONE, PROT_READ | PROT_WRITE, PROT_READ,
			    PROT_READ | PROT_WRITE | PROT_EXEC};

static void do_mmap(struct fuzz_in *in, bool fixed)
{
	uint8_t b = fuzz_u8(in), pg = fuzz_u8(in), cnt = fuzz_u8(in), odd = fuzz_u8(in);
	uint64_t p = (uint64_t)pg * 2 % NP, n = 1 + cnt % 48;
	int prot = prots[b % 4], type = (b >> 2) % 4, flags;
	uint64_t len = n * PS - (odd & 1 ? odd % PS : 0); /* the kernel rounds up */
	bool file = type >= 2, noreplace = fixed && (b & 0x40);
	uint8_t cls;
	int64_t at;

	/* private anonymous, private anonymous again, private file, shared anonymous */
	flags = type == 2   ? MAP_PRIVATE
		: type == 3 ? MAP_SHARED | MAP_ANONYMOUS
			    : MAP_PRIVATE | MAP_ANONYMOUS;
	cls = file ? K_FILE : prot_cls(prot);
	if (!fixed) {
		at = find_free(p, n, 0, 0);
		if (at < 0 || (b & 0x80 && odd > 250)) {
			struct ms_sysrec r = rec(SYS_mmap, -ENOMEM, 0, len, (uint64_t)prot,
						 (uint64_t)flags, file ? 3 : (uint64_t)-1);
			run(&r, "mmap refused");
			return;
		}
		struct ms_sysrec r =
			rec(SYS_mmap, (int64_t)A((uint64_t)at), b & 0x40 ? A(p) : 0, len,
			    (uint64_t)prot, (uint64_t)flags, file ? 3 : (uint64_t)-1);

		set((uint64_t)at, n, cls, file && ignore_files);
		run(&r, "mmap");
		return;
	}
	if (p + n > NP)
		n = NP - p, len = n * PS;
	if (noreplace && !all(p, n, K_NONE)) {
		struct ms_sysrec r =
			rec(SYS_mmap, -EEXIST, A(p), len, (uint64_t)prot,
			    (uint64_t)(flags | MAP_FIXED_NOREPLACE), file ? 3 : (uint64_t)-1);

		run(&r, "mmap noreplace refused");
		return;
	}
	struct ms_sysrec r = rec(SYS_mmap, (int64_t)A(p), A(p), len, (uint64_t)prot,
				 (uint64_t)(flags | (noreplace ? MAP_FIXED_NOREPLACE : MAP_FIXED)),
				 file ? 3 : (uint64_t)-1);

	if (file && ignore_files) {
		for (uint64_t i = p; i < p + n; i++)
			km[i].dontcare = 1;
	} else {
		set(p, n, cls, false);
	}
	run(&r, "mmap fixed");
}

static void do_munmap(struct fuzz_in *in)
{
	uint64_t p = fuzz_u8(in) * 2u % NP, n = 1 + fuzz_u8(in) % 64, odd = fuzz_u8(in);

	if (p + n > NP)
		n = NP - p;
	set(p, n, K_NONE, false);
	struct ms_sysrec r = rec(SYS_munmap, 0, A(p), n * PS - odd % PS, 0, 0, 0);

	run(&r, "munmap");
}

static void do_mprotect(struct fuzz_in *in, bool pkey)
{
	uint64_t p = fuzz_u8(in) * 2u % NP, n = 1 + fuzz_u8(in) % 64;
	int prot = prots[fuzz_u8(in) % 4];

	if (p + n > NP)
		n = NP - p;
	if (km[p].cls == K_NONE) { /* the kernel refuses before changing anything */
		struct ms_sysrec r = rec(pkey ? SYS_pkey_mprotect : SYS_mprotect, -ENOMEM, A(p),
					 n * PS, (uint64_t)prot, 0, 0);

		run(&r, "mprotect refused");
		return;
	}
	/* A hole later in the range: the kernel would change what comes before it and then
	 * fail; stay before it. */
	for (uint64_t i = p; i < p + n; i++) {
		if (km[i].cls == K_NONE) {
			n = i - p;
			break;
		}
	}
	for (uint64_t i = p; i < p + n; i++) {
		if (km[i].cls != K_FILE && !km[i].dontcare)
			km[i].cls = prot_cls(prot);
	}
	struct ms_sysrec r =
		rec(pkey ? SYS_pkey_mprotect : SYS_mprotect, 0, A(p), n * PS, (uint64_t)prot, 0, 0);

	run(&r, "mprotect");
}

static void do_madvise(struct fuzz_in *in)
{
	static const int advs[] = {MADV_DONTNEED,   MADV_FREE,	   MADV_HUGEPAGE,
				   MADV_NOHUGEPAGE, MADV_COLLAPSE, MADV_WILLNEED};
	uint64_t p = fuzz_u8(in) * 2u % NP, n = 1 + fuzz_u8(in) % 64;
	int adv = advs[fuzz_u8(in) % 6];
	bool hole = false;

	if (p + n > NP)
		n = NP - p;
	for (uint64_t i = p; i < p + n; i++)
		hole |= km[i].cls == K_NONE;
	/* Holes: the kernel advises what is mapped and says ENOMEM; classes do not change. */
	struct ms_sysrec r =
		rec(SYS_madvise, hole ? -ENOMEM : 0, A(p), n * PS, (uint64_t)adv, 0, 0);

	run(&r, "madvise");
}

static void do_mremap(struct fuzz_in *in)
{
	uint8_t b = fuzz_u8(in);
	uint64_t p = fuzz_u8(in) * 2u % NP, n = 1 + fuzz_u8(in) % 32, m = 1 + fuzz_u8(in) % 48;
	uint64_t flags = b & 1 ? MREMAP_MAYMOVE : 0;
	uint8_t cls;
	bool dc;
	int64_t to;

	if (p + n > NP)
		n = NP - p;
	cls = km[p].cls;
	dc = km[p].dontcare;
	/* One mapping of one kind, as the kernel requires (EFAULT otherwise). */
	for (uint64_t i = p; i < p + n; i++) {
		if (km[i].cls != cls || km[i].dontcare != dc || cls == K_NONE) {
			struct ms_sysrec r =
				rec(SYS_mremap, -EFAULT, A(p), n * PS, m * PS, flags, 0);

			run(&r, "mremap refused");
			return;
		}
	}
	if (dc) /* the shadow does not know this mapping: its copy would be a guess */
		return;
	if (flags && b & 2 && m == n && cls != K_FILE) {
		/* MREMAP_DONTUNMAP: moved, the old range stays mapped (empty) */
		to = find_free(fuzz_u8(in) * 2u % NP, m, p, n);
		if (to < 0)
			return;
		set((uint64_t)to, m, cls, false);
		struct ms_sysrec r = rec(SYS_mremap, (int64_t)A((uint64_t)to), A(p), n * PS, m * PS,
					 flags | MREMAP_DONTUNMAP, 0);

		run(&r, "mremap dontunmap");
		return;
	}
	if (m <= n || all(p + n, m - n, K_NONE)) { /* in place */
		if (m < n)
			set(p + m, n - m, K_NONE, false);
		else
			set(p + n, m - n, cls, false);
		struct ms_sysrec r = rec(SYS_mremap, (int64_t)A(p), A(p), n * PS, m * PS, flags, 0);

		run(&r, "mremap in place");
		return;
	}
	to = flags ? find_free(fuzz_u8(in) * 2u % NP, m, p, n) : -1;
	if (to < 0) {
		struct ms_sysrec r = rec(SYS_mremap, -ENOMEM, A(p), n * PS, m * PS, flags, 0);

		run(&r, "mremap refused");
		return;
	}
	set(p, n, K_NONE, false);
	set((uint64_t)to, m, cls, false);
	struct ms_sysrec r =
		rec(SYS_mremap, (int64_t)A((uint64_t)to), A(p), n * PS, m * PS, flags, 0);

	run(&r, "mremap move");
}

static uint64_t page_up(uint64_t x)
{
	return (x + PS - 1) & ~(PS - 1);
}

static void do_brk(struct fuzz_in *in)
{
	uint64_t want, a, b, heap0 = A(NP - 64);
	uint8_t x = fuzz_u8(in), y = fuzz_u8(in);

	if (!brk_cur) {				   /* the first call a program makes: brk(0) */
		brk_cur = heap0 + (x & 1 ? 0 : y); /* the break need not be aligned */
		struct ms_sysrec r = rec(SYS_brk, (int64_t)brk_cur, 0, 0, 0, 0, 0);

		run(&r, "brk(0)");
		return;
	}
	want = heap0 + (uint64_t)(x % 64) * PS + (x & 0x80 ? y : 0);
	if (x % 64 == 63 && y > 200)
		want = 0; /* brk(0) again */
	if (!want) {
		struct ms_sysrec r = rec(SYS_brk, (int64_t)brk_cur, 0, 0, 0, 0, 0);

		run(&r, "brk(0)");
		return;
	}
	a = page_up(brk_cur);
	b = page_up(want);
	if (b > a && !all((a - BASE) / PS, (b - a) / PS, K_NONE)) {
		struct ms_sysrec r = rec(SYS_brk, (int64_t)brk_cur, want, 0, 0, 0, 0);

		run(&r, "brk refused");
		return;
	}
	if (b > a)
		set((a - BASE) / PS, (b - a) / PS, K_USE, false);
	else if (b < a)
		set((b - BASE) / PS, (a - b) / PS, K_NONE, false);
	brk_cur = want;
	struct ms_sysrec r = rec(SYS_brk, (int64_t)want, want, 0, 0, 0, 0);

	run(&r, "brk");
}

static void do_fault(struct fuzz_in *in)
{
	uint64_t p = fuzz_u8(in) * 2u % NP + (fuzz_u8(in) & 1);
	uint8_t cls = shadow_cls(A(p));
	struct ms_event ev = {.op = MS_OP_PAGE_FAULT,
			      .source = MS_SRC_KERNEL,
			      .addr = A(p) + 123,
			      .pid = PID,
			      .tid = TID,
			      .arg = 0x401000,
			      .flags = MS_EVF_WRITE};
	char why[200];

	ms_space_apply(sp, &ev);
	fuzz_check(ev.violation == (cls == K_RES ? MS_V_ACCESS_RESERVED : 0),
		   "fault at page %" PRIu64 " (class %u): violation %s", p, cls,
		   ms_violation_name(ev.violation));
	fuzz_check(!ms_space_verify(sp, why, sizeof(why)), "fault: verify: %s", why);
	{
		struct ms_event evs[8];

		while (ms_space_events_read(sp, evs, 8))
			;
	}
}

static void do_garbage(struct fuzz_in *in)
{
	static const unsigned nrs[] = {SYS_mmap,    SYS_munmap, SYS_mprotect, SYS_pkey_mprotect,
				       SYS_madvise, SYS_mremap, SYS_brk,      SYS_read};
	uint8_t b = fuzz_u8(in);
	struct ms_sysrec r = rec(nrs[b % 8], 0, 0, 0, 0, 0, 0);

	r.ret = (int64_t)fuzz_u64(in);
	for (int i = 0; i < 5; i++)
		r.args[i] = fuzz_u64(in);
	if (b & 0x10) /* near the model, so it collides with what is there */
		r.args[0] = A(r.args[0] % NP) + (b & 0x20 ? r.args[0] % PS : 0),
		r.args[1] = r.args[1] % (1u << 24);
	if (b & 0x40)
		r.ret = (int64_t)(r.ret % 4096) - 4095; /* an errno */
	model_ok = false;
	run(&r, "garbage");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {.p = data, .n = size};
	struct ms_space_opts o = {.page_size = PS, .log_capacity = 256, .max_violations = 16};
	unsigned steps = 0;

	sp = ms_space_new(&o);
	fuzz_check(sp != NULL, "no space");
	memset(km, 0, sizeof(km));
	model_ok = true;
	brk_cur = 0;
	ignore_files = fuzz_u8(&in) & 1;
	st = (struct ms_infer_state){.ignore_files = ignore_files};
	while (fuzz_left(&in) && steps++ < 2048) {
		switch (fuzz_u8(&in) % 12) {
		case 0:
		case 1:
			do_mmap(&in, false);
			break;
		case 2:
			do_mmap(&in, true);
			break;
		case 3:
			do_munmap(&in);
			break;
		case 4:
			do_mprotect(&in, false);
			break;
		case 5:
			do_mprotect(&in, true);
			break;
		case 6:
			do_madvise(&in);
			break;
		case 7:
			do_mremap(&in);
			break;
		case 8:
			do_brk(&in);
			break;
		case 9:
		case 10:
			do_fault(&in);
			break;
		default:
			if (fuzz_u8(&in) > 0xf0)
				do_garbage(&in);
			break;
		}
	}
	compare("end");
	ms_space_free(sp);
	sp = NULL;
	return 0;
}
