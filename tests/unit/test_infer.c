// SPDX-License-Identifier: MIT
/* Syscall inference (SPEC section 5): each row of the table, mixed runs, mremap, brk. */
#include <errno.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "memstate/capture.h"
#include "test.h"
#include "test_main.h"

#define PS 4096ull
#define A  0x20000000ull

static struct ms_space *sp;
static struct ms_infer_state st;
static struct ms_event out[64];
static size_t nout;

static void setup(void)
{
	struct ms_space_opts o = {.page_size = PS};

	ms_space_free(sp);
	sp = ms_space_new(&o);
	st = (struct ms_infer_state){0};
}

/* Run one syscall record; the events it produced land in out[]. */
static int sys(unsigned nr, int64_t ret, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
	       uint64_t a4)
{
	struct ms_sysrec r = {
		.pid = 7, .tid = 8, .nr = nr, .ret = ret, .args = {a0, a1, a2, a3, a4, 0}};
	int n;

	ms_space_lock(sp);
	n = ms_infer_syscall_locked(sp, &st, &r);
	nout = ms_space_events_read_locked(sp, out, 64);
	ms_space_unlock(sp);
	return n;
}

#define MMAP(ret, addr, len, prot, flags) sys(SYS_mmap, (int64_t)(ret), addr, len, prot, flags, 0)
#define RW				  (PROT_READ | PROT_WRITE)
#define ANON				  (MAP_PRIVATE | MAP_ANONYMOUS)

static enum ms_state at(uint64_t a)
{
	return ms_space_state_at(sp, a, NULL);
}

TEST_BEGIN(test_mmap_rows)
{
	setup();
	expect_int_eq(MMAP(A, 0, 16 * PS, PROT_NONE, ANON), 1, "reserve");
	expect_int_eq(out[0].op, MS_OP_RESERVE, "PROT_NONE anon is a reservation");
	expect_int_eq(out[0].aux, SYS_mmap, "syscall number kept");
	expect_int_eq(MMAP(A, A, 4 * PS, RW, ANON | MAP_FIXED), 1, "commit");
	expect_int_eq(out[0].op, MS_OP_MAP, "RW FIXED over Reserved is sysMap");
	expect_int_eq(at(A), MS_PREPARED, "Prepared");
	expect_int_eq(MMAP(A + 32 * PS, 0, 4 * PS, RW, ANON), 1, "alloc");
	expect_int_eq(out[0].op, MS_OP_ALLOC, "RW anon is sysAlloc");
	expect_int_eq(at(A + 32 * PS), MS_READY, "Ready");
	/* RW FIXED over Reserved + None + Ready: three runs, three events */
	expect_int_eq(MMAP(A + 12 * PS, A + 12 * PS, 24 * PS, RW, ANON | MAP_FIXED), 3,
		      "mixed runs");
	expect_int_eq(out[0].op, MS_OP_MAP, "run 1 map");
	expect_int_eq(out[1].op, MS_OP_ALLOC, "run 2 alloc over None");
	expect_int_eq(out[2].op, MS_OP_MAP, "run 3 reset over Ready");
	/* PROT_NONE FIXED over Prepared: decommit */
	expect_int_eq(MMAP(A, A, 2 * PS, PROT_NONE, ANON | MAP_FIXED), 1, "decommit");
	expect_int_eq(out[0].op, MS_OP_FAULT, "PROT_NONE FIXED over Prepared is sysFault");
	expect_int_eq(at(A), MS_RESERVED, "Reserved again");
	/* Failed calls change nothing and carry the errno */
	expect_int_eq(MMAP(-ENOMEM, 0, 1 << 30, RW, ANON), 1, "failed alloc recorded");
	expect_int_eq(out[0].result, ENOMEM, "errno kept");
	expect_true(out[0].flags & MS_EVF_FAILED, "failed flag");
	expect_int_eq(out[0].violation, 0, "no violation from syscalls");
	{
		struct ms_totals t;

		ms_space_totals(sp, &t);
		expect_u64_eq(t.violations, 0, "never semantic violations");
	}
}
TEST_END

TEST_BEGIN(test_file_mappings_are_their_own_kind)
{
	struct ms_totals t;
	struct ms_region r;

	setup();
	expect_int_eq(MMAP(A, 0, 8 * PS, PROT_READ, MAP_PRIVATE), 1, "file map");
	expect_int_eq(out[0].op, MS_OP_FILE_MAP, "fileMap op");
	expect_int_eq(out[0].kind, MS_KIND_FILE, "file kind");
	expect_int_eq(MMAP(A + 8 * PS, 0, 8 * PS, RW, MAP_SHARED | MAP_ANONYMOUS), 1, "shm");
	expect_int_eq(out[0].op, MS_OP_FILE_MAP, "shared anon is not heap");
	ms_space_totals(sp, &t);
	expect_u64_eq(t.bytes[MS_READY], 0, "no heap bytes");
	expect_u64_eq(t.file_bytes, 16 * PS, "file bytes");
	/* madvise DONTNEED and mprotect NONE leave file mappings alone */
	sys(SYS_madvise, 0, A, 8 * PS, MADV_DONTNEED, 0, 0);
	sys(SYS_mprotect, 0, A, 8 * PS, PROT_NONE, 0, 0);
	expect_int_eq(ms_space_state_at(sp, A, &r), MS_READY, "file still there");
	expect_int_eq(r.kind, MS_KIND_FILE, "file kind kept");
	/* a fault in it is counted, no violation */
	{
		struct ms_event f = {
			.op = MS_OP_PAGE_FAULT, .source = MS_SRC_KERNEL, .addr = A + 5};

		ms_space_apply(sp, &f);
		expect_int_eq(f.violation, 0, "fault in a file mapping");
	}
	expect_int_eq(sys(SYS_munmap, 0, A, 16 * PS, 0, 0, 0), 1, "munmap");
	ms_space_totals(sp, &t);
	expect_u64_eq(t.file_bytes, 0, "gone");
	expect_u64_eq(t.violations, 0, "never a false violation");
}
TEST_END

TEST_BEGIN(test_mprotect_and_madvise)
{
	setup();
	MMAP(A, 0, 64 * PS, PROT_NONE, ANON);
	expect_int_eq(sys(SYS_mprotect, 0, A, 16 * PS, RW, 0, 0), 1, "grow a glibc heap");
	expect_int_eq(out[0].op, MS_OP_MAP, "mprotect RW over Reserved is sysMap");
	expect_int_eq(at(A), MS_PREPARED, "Prepared until touched");
	{
		struct ms_event f = {
			.op = MS_OP_PAGE_FAULT, .source = MS_SRC_KERNEL, .addr = A + 3 * PS};

		ms_space_apply(sp, &f);
		expect_int_eq(f.violation, 0, "first touch is no violation");
		expect_int_eq(at(A + 3 * PS), MS_READY, "first touch: Ready");
	}
	expect_int_eq(sys(SYS_mprotect, 0, A, 16 * PS, RW, 0, 0), 0, "RW again: nothing changes");
	expect_int_eq(sys(SYS_madvise, 0, A, 16 * PS, MADV_DONTNEED, 0, 0), 1, "DONTNEED");
	expect_int_eq(out[0].op, MS_OP_UNUSED, "sysUnused");
	expect_u64_eq(out[0].from[MS_READY], PS, "one Ready page");
	expect_int_eq(at(A + 3 * PS), MS_PREPARED, "back to Prepared");
	expect_int_eq(sys(SYS_madvise, 0, A, 16 * PS, MADV_WILLNEED, 0, 0), 0, "WILLNEED ignored");
	expect_int_eq(sys(SYS_madvise, 0, A, 16 * PS, MADV_HUGEPAGE, 0, 0), 1, "hint");
	expect_int_eq(out[0].op, MS_OP_HUGE_PAGE, "sysHugePage");
	expect_int_eq(sys(SYS_mprotect, 0, A + 8 * PS, 16 * PS, PROT_NONE, 0, 0), 1,
		      "PROT_NONE over Prepared + Reserved: one decommit run");
	expect_int_eq(out[0].op, MS_OP_FAULT, "sysFault");
	expect_u64_eq(out[0].len, 8 * PS, "only the Prepared part");
	expect_int_eq(sys(SYS_mprotect, -ENOMEM, A + 100 * PS, PS, RW, 0, 0), 1, "failed");
	expect_int_eq(out[0].result, ENOMEM, "failed mprotect recorded");
}
TEST_END

TEST_BEGIN(test_mremap)
{
	struct ms_region r;

	setup();
	MMAP(A, 0, 4 * PS, RW, ANON);
	/* grow in place */
	expect_int_eq(sys(SYS_mremap, (int64_t)A, A, 4 * PS, 8 * PS, 0, 0), 1, "grow in place");
	expect_int_eq(out[0].op, MS_OP_ALLOC, "growth is sysAlloc");
	expect_u64_eq(out[0].addr, A + 4 * PS, "growth start");
	/* shrink in place */
	expect_int_eq(sys(SYS_mremap, (int64_t)A, A, 8 * PS, 2 * PS, 0, 0), 1, "shrink");
	expect_int_eq(out[0].op, MS_OP_FREE, "shrink is sysFree");
	expect_int_eq(at(A + 2 * PS), MS_NONE, "tail gone");
	/* move: old freed, states recreated at the new place, plus growth */
	sys(SYS_madvise, 0, A + PS, PS, MADV_DONTNEED, 0, 0);
	expect_int_eq(
		sys(SYS_mremap, (int64_t)(A + 100 * PS), A, 2 * PS, 3 * PS, MREMAP_MAYMOVE, 0), 4,
		"move");
	expect_int_eq(out[0].op, MS_OP_FREE, "old freed");
	expect_int_eq(at(A), MS_NONE, "old gone");
	expect_int_eq(at(A + 100 * PS), MS_READY, "Ready page moved");
	expect_int_eq(ms_space_state_at(sp, A + 101 * PS, &r), MS_PREPARED, "Prepared page moved");
	expect_int_eq(at(A + 102 * PS), MS_READY, "growth");
	expect_int_eq(sys(SYS_mremap, -EFAULT, A, PS, PS, 0, 0), 1, "failed mremap");
	expect_int_eq(out[0].result, EFAULT, "errno");
}
TEST_END

/* A success the kernel cannot have returned (misaligned, wrapping) changes nothing. */
TEST_BEGIN(test_impossible_records_change_nothing)
{
	struct ms_totals before, after;
	char why[128];

	setup();
	MMAP(A, 0, 8 * PS, PROT_NONE, ANON);
	MMAP(A + 8 * PS, A + 8 * PS, 8 * PS, RW, ANON | MAP_FIXED);
	ms_space_totals(sp, &before);
	/* runs after a misaligned start begin aligned: the Ready half would be decommitted */
	expect_int_eq(sys(SYS_mprotect, 0, A + 100, 16 * PS, PROT_NONE, 0, 0), 0, "mprotect");
	expect_int_eq(sys(SYS_mmap, (int64_t)(A + 100), A + 100, 16 * PS, RW, ANON | MAP_FIXED, 0),
		      1, "mmap MAP_FIXED");
	expect_int_eq(out[0].result, EINVAL, "refused");
	/* the old range would be freed, then its copy at the new place refused */
	expect_int_eq(sys(SYS_mremap, (int64_t)(A + 100 * PS + 1), A, 16 * PS, 16 * PS,
			  MREMAP_MAYMOVE, 0),
		      1, "mremap to a misaligned place");
	expect_int_eq(out[0].result, EINVAL, "refused");
	expect_int_eq(sys(SYS_mremap, (int64_t)(UINT64_MAX & ~(PS - 1)), A, 16 * PS, 16 * PS,
			  MREMAP_MAYMOVE, 0),
		      1, "mremap past the end of memory");
	expect_int_eq(out[0].to, MS_STATE_UNCHANGED, "nothing moved");
	ms_space_totals(sp, &after);
	expect_true(!memcmp(before.bytes, after.bytes, sizeof(before.bytes)), "same bytes");
	expect_int_eq(at(A + 8 * PS), MS_READY, "the Ready half stayed");
	expect_int_eq(ms_space_verify(sp, why, sizeof(why)), 0, why);
}
TEST_END

TEST_BEGIN(test_brk)
{
	struct ms_totals t;

	setup();
	expect_int_eq(sys(SYS_brk, (int64_t)A, 0, 0, 0, 0, 0), 0, "brk(0) learns the break");
	expect_int_eq(sys(SYS_brk, (int64_t)(A + 33 * PS + 100), A + 33 * PS + 100, 0, 0, 0, 0), 1,
		      "grow");
	expect_int_eq(out[0].op, MS_OP_ALLOC, "heap growth is sysAlloc");
	expect_u64_eq(out[0].len, 34 * PS, "page rounded");
	expect_int_eq(sys(SYS_brk, (int64_t)(A + 10 * PS), A + 10 * PS, 0, 0, 0, 0), 1, "shrink");
	expect_int_eq(out[0].op, MS_OP_FREE, "shrink is sysFree");
	expect_int_eq(sys(SYS_brk, (int64_t)(A + 10 * PS), A + (1ull << 40), 0, 0, 0, 0), 1,
		      "refused growth");
	expect_int_eq(out[0].result, ENOMEM, "recorded as failed");
	ms_space_totals(sp, &t);
	expect_u64_eq(t.bytes[MS_READY], 10 * PS, "heap size");
}
TEST_END

TEST_BEGIN(test_clone_for_fork)
{
	struct ms_space *c;
	struct ms_totals a, b;
	char why[128];

	setup();
	MMAP(A, 0, 64 * PS, PROT_NONE, ANON);
	sys(SYS_mprotect, 0, A, 16 * PS, RW, 0, 0);
	MMAP(A + 100 * PS, 0, 4 * PS, PROT_READ, MAP_PRIVATE);
	c = ms_space_clone(sp, NULL);
	assert_true(c != NULL, "clone");
	ms_space_totals(sp, &a);
	ms_space_totals(c, &b);
	expect_true(!memcmp(a.bytes, b.bytes, sizeof(a.bytes)), "same bytes per state");
	expect_u64_eq(b.file_bytes, a.file_bytes, "same file bytes");
	expect_u64_eq(b.regions, a.regions, "same intervals");
	expect_u64_eq(b.events, 0, "fresh counters");
	expect_int_eq(ms_space_verify(c, why, sizeof(why)), 0, why);
	ms_space_free(c);
}
TEST_END

int main(void)
{
	int r = test_run(test_mmap_rows, test_file_mappings_are_their_own_kind,
			 test_mprotect_and_madvise, test_mremap,
			 test_impossible_records_change_nothing, test_brk, test_clone_for_fork,
			 NULL);

	ms_space_free(sp);
	return r;
}
