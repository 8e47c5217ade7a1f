// SPDX-License-Identifier: MIT
/*
 * Go runtime uprobes, tracer side (tracer/go.c, go_elf.c and the merge in trace.c),
 * without eBPF: records as the uprobe program would send them, built against the real
 * Go sample's symbols, and syscall records as the eBPF source would, fed to a trace whose
 * timeline is read back.
 *
 * Covers: reading a Go binary (version, functions, call sites, the probe point past the
 * stack check, stat names from DWARF: compressed, plain or .zdebug), refusing non-Go and
 * stripped binaries, and cut or corrupted copies (a reason, no read out of bounds); a call
 * claims its own syscalls and takes sysAlloc's address from its mmap; unaligned sysAlloc
 * lengths; sysUsed's prepared checked; faults in uprobe Prepared memory are
 * access-prepared; sysUnused's NOHUGEPAGE hints applied as syscalls; MADV_FREE falling
 * back to DONTNEED; api-mismatch for a syscall over another range and for a missing one;
 * the OS half of a wrapper dropped, or standing for an inlined wrapper; a call waiting in
 * the merge for its mmap; ReadMemStats marks taken where the counters are read.
 *
 * Needs the Go sample ($MEMSTATE_BUILD/samples/go/gophases): skipped without it.
 */
#include <cjson/cJSON.h>
#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bpf/probe.h"
#include "memstate/timeline.h"
#include "bpf/go.h"
#include "bpf/go_elf.h"
#include "tracer/trace.h"
#include "test.h"
#include "test_main.h"

#define PG   4096ull
#define HEAP 0xc000000000ull /* Go's first arena hint */

static const char *sample_path(void)
{
	static char path[4096];
	const char *b = getenv("MEMSTATE_BUILD");

	snprintf(path, sizeof(path), "%s/samples/go/gophases", b ? b : "build");
	return access(path, X_OK) ? NULL : path;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------------ a trace to feed */

struct rig {
	struct ms_go *g;
	struct ms_trace *t;
	struct ms_tl_writer *w;
	char path[64]; /* the timeline (JSON Lines) */
	uint64_t t0;   /* record times are t0 + µs */
	cJSON *events[512];
	int nev;
};

static void rig_open(struct rig *r, uint64_t window_ns)
{
	const char *bin = sample_path();
	char why[512];
	bool is_go;
	int err, fd;
	struct ms_trace_opts o = {.window_ns = window_ns};

	if (!bin)
		test_skip("no Go sample (install golang-1.19-go and run make)");
	memset(r, 0, sizeof(*r));
	r->g = ms_go_open(bin, &is_go, why, sizeof(why));
	assert_true(r->g, "ms_go_open: %s", why);
	snprintf(r->path, sizeof(r->path), "/tmp/memstate-test-go-XXXXXX");
	fd = mkstemp(r->path);
	assert_true(fd >= 0, "mkstemp");
	close(fd);
	r->w = ms_tlw_open(r->path, MS_TL_JSONL, &err);
	assert_true(r->w, "writer");
	r->t0 = mono_ns();
	ms_tlw_header(r->w, &(struct ms_tl_header){.page_size = PG, .t0_ns = r->t0});
	o.writer = r->w;
	o.page_size = PG;
	r->t = ms_trace_new(&o);
	assert_true(r->t, "trace");
	ms_go_bind(r->g, ms_trace_sink(r->t));
}

static void rig_close(struct rig *r)
{
	for (int i = 0; i < r->nev; i++)
		cJSON_Delete(r->events[i]);
	ms_trace_free(r->t);
	ms_go_free(r->g);
	unlink(r->path);
}

/* Finish the trace and read its events back. */
static void rig_finish(struct rig *r)
{
	char line[8192];
	FILE *f;

	ms_trace_finish(r->t, NULL, "done");
	ms_tlw_close(r->w);
	r->w = NULL;
	f = fopen(r->path, "r");
	assert_true(f, "timeline");
	while (fgets(line, sizeof(line), f) && r->nev < 512) {
		cJSON *j = cJSON_Parse(line);
		cJSON *type = cJSON_GetObjectItem(j, "type");

		if (j && cJSON_IsString(type) && !strcmp(type->valuestring, "event"))
			r->events[r->nev++] = j;
		else
			cJSON_Delete(j);
	}
	fclose(f);
}

/* A runtime function entry, as bpf/go.bpf.h records it. */
static void go_rec(struct rig *r, uint64_t us, uint32_t tid, enum ms_go_fn fn, uint64_t ret,
		   uint64_t a0, uint64_t a1, uint64_t a2)
{
	uint64_t addr = ms_go_fn_addr(r->g, fn, NULL);
	struct ms_bpf_go rec = {.type = MS_BPF_REC_GO,
				.fn = fn,
				.t_ns = r->t0 + us * 1000,
				.pid = 100,
				.tid = tid,
				.ip = addr + 4,
				.ret = ret,
				.args = {a0, a1, a2, 0}};

	assert_true(addr, "function %d is in the sample", (int)fn);
	ms_go_record(r->g, &rec);
}

/* A caller's return address: inside fn (nested) or in no function of ours (0x401234). */
static uint64_t inside(struct rig *r, enum ms_go_fn fn)
{
	uint64_t size, a = ms_go_fn_addr(r->g, fn, &size);

	return a + size / 2;
}
#define ELSEWHERE 0x401234ull

static void sys_rec(struct rig *r, uint64_t us, uint32_t tid, unsigned nr, int64_t ret, uint64_t a0,
		    uint64_t a1, uint64_t a2, uint64_t a3)
{
	struct ms_sysrec s = {.t_ns = r->t0 + us * 1000,
			      .pid = 100,
			      .tid = tid,
			      .nr = nr,
			      .ret = ret,
			      .args = {a0, a1, a2, a3, (uint64_t)-1, 0}};

	ms_trace_sink(r->t)->on_syscall(ms_trace_sink(r->t)->ctx, &s);
}

static void fault_rec(struct rig *r, uint64_t us, uint32_t tid, uint64_t addr)
{
	struct ms_event ev = {.t_ns = r->t0 + us * 1000,
			      .addr = addr,
			      .len = PG,
			      .pid = 100,
			      .tid = tid,
			      .op = MS_OP_PAGE_FAULT,
			      .source = MS_SRC_KERNEL,
			      .to = MS_STATE_UNCHANGED,
			      .flags = MS_EVF_WRITE};

	ms_trace_sink(r->t)->on_event(ms_trace_sink(r->t)->ctx, &ev);
}

#define RW	 (PROT_READ | PROT_WRITE)
#define ANON	 (MAP_PRIVATE | MAP_ANONYMOUS)
#define ANON_FIX (MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)

static const char *jstr(const cJSON *e, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(e, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static uint64_t jnum(const cJSON *e, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(e, k);

	return cJSON_IsNumber(v) ? (uint64_t)v->valuedouble : (uint64_t)-1;
}

static const char *jviol(const cJSON *e)
{
	const cJSON *v = cJSON_GetObjectItem(e, "violation");

	return cJSON_IsObject(v) ? jstr(v, "kind") : NULL;
}

/* The i-th event of op (from source src, NULL: any), or NULL. */
static const cJSON *ev_find(struct rig *r, const char *op, const char *src, int i)
{
	for (int k = 0; k < r->nev; k++) {
		const char *o = jstr(r->events[k], "op"), *s = jstr(r->events[k], "source");

		if (o && !strcmp(o, op) && (!src || (s && !strcmp(s, src))) && i-- == 0)
			return r->events[k];
	}
	return NULL;
}

static int ev_count(struct rig *r, const char *op, const char *src)
{
	int n = 0;

	while (ev_find(r, op, src, n))
		n++;
	return n;
}

/* ------------------------------------------------------------------ the binary */

/* Does the DWARF name a field of the runtime's variables? */
static bool names_heap_released(struct ms_go_elf *e)
{
	uint64_t gc = 0;
	char name[96];

	for (size_t i = 0; i < e->nobjs; i++) {
		if (!strcmp(e->objs[i].name, "runtime.gcController"))
			gc = e->objs[i].addr;
	}
	for (uint64_t off = 0; gc && off < 4096; off += 8) {
		ms_go_elf_name_addr(e, gc + off, name, sizeof(name));
		if (!strcmp(name, "runtime.gcController.heapReleased"))
			return true;
	}
	return false;
}

TEST_BEGIN(test_reads_the_go_sample)
{
	const char *bin = sample_path();
	struct ms_go_elf e;
	char why[256], name[96];
	const struct ms_go_sym *used, *used_os;
	uint64_t sites[16];
	long n;
	bool found = false;

	if (!bin)
		test_skip("no Go sample (install golang-1.19-go and run make)");
	assert_true(!ms_go_elf_open(bin, &e, why, sizeof(why)), "open: %s", why);
	expect_true(e.is_go && e.symtab, "a Go binary with symbols");
	expect_true(!strncmp(e.version, "go1.", 4), "version %s", e.version);
	used = ms_go_elf_func(&e, "runtime.sysUsed");
	used_os = ms_go_elf_func(&e, "runtime.sysUsedOS");
	assert_true(used && used_os, "sysUsed and sysUsedOS");
	/* sysUsedOS is called by sysUsed and by sites that inlined sysUsed. */
	n = ms_go_elf_callers(&e, used_os->addr, sites, 16);
	expect_true(n >= 2, "sysUsedOS has %ld call sites", n);
	for (long i = 0; i < n && i < 16; i++)
		found |= sites[i] >= used->addr && sites[i] < used->addr + used->size;
	expect_true(found, "one of them in sysUsed");
	/* Past `cmp rsp, 16(r14)`: the jbe the kernel emulates. */
	if (e.machine == 62 /* EM_X86_64 */) {
		expect_int_eq(ms_go_elf_probe_skip(&e, used), 4, "probe skip");
		/* Only instruction starts may take a uprobe: the call sites are, the bytes
		 * inside an instruction are not. */
		expect_true(ms_go_elf_insn_start(&e, used->addr), "an entry");
		expect_true(ms_go_elf_insn_start(&e, used->addr + 4), "the jbe");
		expect_true(!ms_go_elf_insn_start(&e, used->addr + 1), "inside the cmp");
		expect_true(!ms_go_elf_insn_start(&e, used->addr + 5), "inside the jbe");
		for (long i = 0; i < n && i < 16; i++) {
			if (sites[i] < used_os->addr || sites[i] >= used_os->addr + used_os->size)
				expect_true(ms_go_elf_insn_start(&e, sites[i]),
					    "call site %#" PRIx64, sites[i]);
		}
	}
	/* DWARF names a field of the runtime's variables. */
	expect_true(names_heap_released(&e), "runtime.gcController.heapReleased named from DWARF");
	ms_go_elf_name_addr(&e, 0x10, name, sizeof(name));
	expect_str_eq(name, "0x10", "outside any symbol");
	ms_go_elf_close(&e);
}
TEST_END

TEST_BEGIN(test_refuses_non_go_and_stripped)
{
	const char *bin = sample_path();
	char why[512], cmd[8400], stripped[] = "/tmp/memstate-test-go-strip-XXXXXX";
	bool is_go = true;
	struct ms_go *g;
	int fd;

	g = ms_go_open("/proc/self/exe", &is_go, why, sizeof(why));
	expect_true(!g && !is_go, "a C program is not Go");
	expect_true(strstr(why, "not a Go program") != NULL, "why: %s", why);
	ms_go_free(g);
	if (!bin)
		test_skip("no Go sample");
	fd = mkstemp(stripped);
	assert_true(fd >= 0, "mkstemp");
	close(fd);
	snprintf(cmd, sizeof(cmd), "objcopy --strip-all '%s' '%s' 2>/dev/null", bin, stripped);
	if (system(cmd)) {
		unlink(stripped);
		test_skip("no objcopy to strip the sample");
	}
	g = ms_go_open(stripped, &is_go, why, sizeof(why));
	unlink(stripped);
	expect_true(!g && is_go, "a stripped Go binary is Go, but unusable");
	expect_true(strstr(why, "stripped Go binary") != NULL, "why: %s", why);
	ms_go_free(g);
}
TEST_END

/* The sample's DWARF (SHF_COMPRESSED) rewritten plain, and in the GNU .zdebug_* format of
 * Go linkers before 1.12: fields are named from each. */
TEST_BEGIN(test_dwarf_compression_formats)
{
	static const char *const how[] = {"--decompress-debug-sections",
					  "--compress-debug-sections=zlib-gnu"};
	const char *bin = sample_path();
	char why[256], cmd[8400], copy[] = "/tmp/memstate-test-go-dwarf-XXXXXX";
	struct ms_go_elf e;
	int fd;

	if (!bin)
		test_skip("no Go sample");
	fd = mkstemp(copy);
	assert_true(fd >= 0, "mkstemp");
	close(fd);
	for (int i = 0; i < 2; i++) {
		snprintf(cmd, sizeof(cmd), "objcopy %s '%s' '%s' 2>/dev/null", how[i], bin, copy);
		if (system(cmd)) {
			unlink(copy);
			test_skip("no objcopy to rewrite the sample (%s)", how[i]);
		}
		assert_true(!ms_go_elf_open(copy, &e, why, sizeof(why)), "open: %s", why);
		expect_true(names_heap_released(&e), "heapReleased named, objcopy %s", how[i]);
		ms_go_elf_close(&e);
	}
	unlink(copy);
}
TEST_END

/* ------------------------------------------------------------------ damaged binaries */

static uint64_t rng = 0x9e3779b97f4a7c15ull; /* fixed seed: failures repeat */

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* The whole file at path, malloc'd, its length in *len; NULL when unreadable. */
static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b = NULL;
	long n;

	if (f && !fseek(f, 0, SEEK_END) && (n = ftell(f)) > 0 && !fseek(f, 0, SEEK_SET)) {
		b = malloc(n);
		if (b && fread(b, 1, n, f) != (size_t)n) {
			free(b);
			b = NULL;
		}
		*len = n;
	}
	if (f)
		fclose(f);
	return b;
}

static void put_file(const char *path, const uint8_t *b, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_true(f && fwrite(b, 1, len, f) == len && !fclose(f), "write %s", path);
}

/*
 * Open a damaged copy and use all it gives: it is refused with a reason, or read within
 * its bounds (the ASan build checks that). Returns whether it opened.
 */
static bool try_damaged(const char *path, const char *what)
{
	struct ms_go_elf e;
	char why[256] = "", name[96];
	uint64_t sites[8];
	struct ms_go *g;
	bool is_go;

	if (ms_go_elf_open(path, &e, why, sizeof(why))) {
		expect_true(why[0] != '\0', "%s: refused without a reason", what);
		return false;
	}
	for (size_t i = 0; i < e.nfuncs; i++) {
		if (!i)
			ms_go_elf_callers(&e, e.funcs[i].addr, sites, 8);
		ms_go_elf_probe_skip(&e, &e.funcs[i]);
		ms_go_elf_insn_start(&e, e.funcs[i].addr + 4);
		ms_go_elf_file_off(&e, e.funcs[i].addr);
	}
	for (size_t i = 0; i < e.nobjs; i += 1 + e.nobjs / 2) /* a DWARF scan each */
		ms_go_elf_name_addr(&e, e.objs[i].addr + 8, name, sizeof(name));
	ms_go_elf_close(&e);
	g = ms_go_open(path, &is_go, why, sizeof(why));
	expect_true(g || why[0] != '\0', "%s: ms_go_open refused without a reason", what);
	ms_go_free(g);
	return true;
}

/* 64-bit ELF header fields, by file offset (patched with the host's little-endian). */
#define EH_SHOFF     0x28
#define EH_SHENTSIZE 0x3a
#define EH_SHNUM     0x3c
#define EH_SHSTRNDX  0x3e

/*
 * Write the n bytes at v over the copy at offset at, try it, then put the original bytes
 * back. Returns whether it opened.
 */
static bool try_patch(int fd, const char *path, const uint8_t *orig, size_t at, const void *v,
		      size_t n, const char *what)
{
	bool opened;

	assert_true(pwrite(fd, v, n, at) == (ssize_t)n, "pwrite");
	opened = try_damaged(path, what);
	assert_true(pwrite(fd, orig + at, n, at) == (ssize_t)n, "pwrite");
	return opened;
}

TEST_BEGIN(test_damaged_binaries)
{
	const char *bin = sample_path();
	char path[] = "/tmp/memstate-test-go-bad-XXXXXX", what[96], why[512];
	static const struct {
		unsigned at, bytes; /* in a section header */
		uint64_t v;
	} shfield[] = {{0, 4, 0xffffffff},  {4, 4, SHT_NOBITS}, {24, 8, ~0ull},
		       {24, 8, 1ull << 40}, {32, 8, ~0ull},	{32, 8, 1ull << 40},
		       {40, 4, 0xffff},	    {40, 4, 0},		{56, 8, 0},
		       {56, 8, 3}};
	static const struct {
		unsigned at, bytes; /* in the ELF header */
		uint64_t v;
	} ehfield[] = {{EH_SHOFF, 8, ~0ull},
		       {EH_SHNUM, 2, 0xffff},
		       {EH_SHNUM, 2, 0},
		       {EH_SHSTRNDX, 2, 0xfffe},
		       {EH_SHENTSIZE, 2, 12}};
	uint8_t *orig, junk[8];
	uint64_t shoff, v;
	size_t len, cuts[] = {0, 4, 63, 64, 200, 500, 4096, 0, 0, 0};
	unsigned shnum, opened = 0;
	bool is_go;
	struct ms_go *g;
	int fd;

	if (!bin)
		test_skip("no Go sample");
	orig = slurp(bin, &len);
	assert_true(orig && len > 8192, "read the sample");
	fd = mkstemp(path);
	assert_true(fd >= 0, "mkstemp");
	memcpy(&shoff, orig + EH_SHOFF, 8);
	shnum = orig[EH_SHNUM] | orig[EH_SHNUM + 1] << 8;
	assert_true(shoff && shnum && shoff + 64 * shnum <= len, "section headers");

	/* Cut inside the ELF header, the section headers or the sections' data: refused. */
	cuts[7] = shoff + 64 * shnum - 1;
	cuts[8] = len / 2;
	cuts[9] = len - 1;
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		put_file(path, orig, cuts[i]);
		snprintf(what, sizeof(what), "cut at %zu", cuts[i]);
		expect_true(!try_damaged(path, what), "%s: opened", what);
	}
	put_file(path, orig, len / 2);
	g = ms_go_open(path, &is_go, why, sizeof(why));
	expect_true(!g && strstr(why, "truncated"), "a cut binary: %s", why);
	ms_go_free(g);
	put_file(path, orig, len);

	/* The ELF header's section fields; a section table past the end. */
	for (size_t f = 0; f < sizeof(ehfield) / sizeof(ehfield[0]); f++) {
		snprintf(what, sizeof(what), "ELF header field %#x", ehfield[f].at);
		try_patch(fd, path, orig, ehfield[f].at, &ehfield[f].v, ehfield[f].bytes, what);
	}
	v = len - 10;
	expect_true(!try_patch(fd, path, orig, EH_SHOFF, &v, 8, "e_shoff at the end"),
		    "section headers past the end: opened");

	/* Each field of each section header: offsets and sizes past the end, bad links. */
	for (unsigned sec = 0; sec < shnum; sec++) {
		for (size_t f = 0; f < sizeof(shfield) / sizeof(shfield[0]); f++) {
			snprintf(what, sizeof(what), "section %u field %u", sec, shfield[f].at);
			opened += try_patch(fd, path, orig, shoff + 64 * sec + shfield[f].at,
					    &shfield[f].v, shfield[f].bytes, what);
		}
	}
	expect_true(opened > 0, "some damage is read around");

	/* Random bytes, mostly in the headers, else anywhere (fixed seed). */
	for (int round = 0; round < 100; round++) {
		size_t n = 1 + rnd() % 8,
		       at = rnd() % 4 ? rnd() % (shoff + 64 * shnum) : rnd() % len;

		for (size_t i = 0; i < n; i++)
			junk[i] = (uint8_t)rnd();
		snprintf(what, sizeof(what), "random round %d", round);
		try_patch(fd, path, orig, at < len - n ? at : len - n, junk, n, what);
	}

	/* Unharmed, it still reads. */
	expect_true(try_damaged(path, "the sample itself"), "the sample opens");
	close(fd);
	unlink(path);
	free(orig);
}
TEST_END

/* ------------------------------------------------------------------ calls and syscalls */

TEST_BEGIN(test_alloc_takes_its_mmap)
{
	struct rig r;
	const cJSON *e;

	rig_open(&r, 1000000);
	/* sysAlloc(n unaligned, &memstats.other_sys): the kernel maps whole pages. */
	go_rec(&r, 10, 7, MS_GO_ALLOC, ELSEWHERE, 2 * PG + 100,
	       ms_go_var_addr(r.g, "runtime.memstats"), 0);
	sys_rec(&r, 12, 7, SYS_mmap, 0x7f0000000000, 0, 2 * PG + 100, RW, ANON);
	/* A failed one: no address, the errno. */
	go_rec(&r, 20, 7, MS_GO_ALLOC, ELSEWHERE, 1ull << 40, 0, 0);
	sys_rec(&r, 21, 7, SYS_mmap, -ENOMEM, 0, 1ull << 40, RW, ANON);
	rig_finish(&r);
	e = ev_find(&r, "sysAlloc", "uprobe", 0);
	assert_true(e, "uprobe sysAlloc");
	expect_u64_eq(jnum(e, "addr"), 0x7f0000000000, "address from the mmap");
	expect_u64_eq(jnum(e, "len"), 3 * PG, "whole pages");
	expect_true(jstr(e, "stat") && !strncmp(jstr(e, "stat"), "runtime.memstats", 16), "stat %s",
		    jstr(e, "stat"));
	e = ev_find(&r, "sysAlloc", "uprobe", 1);
	assert_true(e, "the failed sysAlloc");
	expect_u64_eq(jnum(e, "result"), ENOMEM, "its errno");
	expect_int_eq(ev_count(&r, "sysAlloc", "syscall"), 0, "mmaps folded into the calls");
	rig_close(&r);
}
TEST_END

TEST_BEGIN(test_heap_life)
{
	struct rig r;
	const cJSON *e;
	uint64_t heap;
	size_t nmarks;
	const struct ms_go_mark *m;

	rig_open(&r, 1000000);
	heap = ms_go_var_addr(r.g, "runtime.gcController");
	/* Reserve at a hint, map 64 pages, hand out 16 of them. */
	go_rec(&r, 10, 7, MS_GO_RESERVE, ELSEWHERE, HEAP, 256 * PG, 0);
	sys_rec(&r, 11, 7, SYS_mmap, HEAP, HEAP, 256 * PG, PROT_NONE, ANON);
	go_rec(&r, 20, 7, MS_GO_MAP, ELSEWHERE, HEAP, 64 * PG, heap);
	go_rec(&r, 21, 7, MS_GO_MAP_OS, inside(&r, MS_GO_MAP), HEAP, 64 * PG, 0);
	sys_rec(&r, 22, 7, SYS_mmap, HEAP, HEAP, 64 * PG, RW, ANON_FIX);
	go_rec(&r, 30, 7, MS_GO_USED, ELSEWHERE, HEAP, 16 * PG, 16 * PG);
	go_rec(&r, 31, 7, MS_GO_USED_OS, inside(&r, MS_GO_USED), HEAP, 16 * PG, 0);
	fault_rec(&r, 40, 7, HEAP + PG);      /* Ready: fine */
	fault_rec(&r, 41, 8, HEAP + 20 * PG); /* Prepared: access-prepared */
	/* sysUsed over 8 Ready + 8 Prepared pages declaring 16 Prepared: a mismatch. */
	go_rec(&r, 50, 7, MS_GO_USED, ELSEWHERE, HEAP + 8 * PG, 16 * PG, 16 * PG);
	/* Inlined sysUsed (sysUsedOS from elsewhere): prepared is what the map holds. */
	go_rec(&r, 60, 7, MS_GO_USED_OS, ELSEWHERE, HEAP + 24 * PG, 8 * PG, 0);
	/* Scavenge 8 pages: NOHUGEPAGE on the huge page around them, then DONTNEED. */
	go_rec(&r, 70, 7, MS_GO_UNUSED, ELSEWHERE, HEAP, 8 * PG, 0);
	sys_rec(&r, 71, 7, SYS_madvise, 0, HEAP, 64 * PG, MADV_NOHUGEPAGE, 0);
	sys_rec(&r, 72, 7, SYS_madvise, 0, HEAP, 8 * PG, MADV_DONTNEED, 0);
	/* MADV_FREE refused: the runtime falls back to DONTNEED; one call, both claimed. */
	go_rec(&r, 80, 7, MS_GO_UNUSED, ELSEWHERE, HEAP + 8 * PG, 8 * PG, 0);
	sys_rec(&r, 81, 7, SYS_madvise, -EINVAL, HEAP + 8 * PG, 8 * PG, MADV_FREE, 0);
	sys_rec(&r, 82, 7, SYS_madvise, 0, HEAP + 8 * PG, 8 * PG, MADV_DONTNEED, 0);
	/* ReadMemStats: the mark is where it reads the counters, not at its entry. */
	go_rec(&r, 90, 9, MS_GO_MARK, ELSEWHERE, 0, 0, 0);
	go_rec(&r, 91, 9, MS_GO_MARK_AT, inside(&r, MS_GO_MARK), 0, 0, 0);
	go_rec(&r, 92, 9, MS_GO_MARK_AT, inside(&r, MS_GO_MARK), 0, 0, 0);
	go_rec(&r, 100, 7, MS_GO_FREE, ELSEWHERE, HEAP, 256 * PG, heap);
	sys_rec(&r, 101, 7, SYS_munmap, 0, HEAP, 256 * PG, 0, 0);
	rig_finish(&r);

	e = ev_find(&r, "sysReserve", "uprobe", 0);
	assert_true(e, "sysReserve");
	expect_u64_eq(jnum(e, "addr"), HEAP, "at its mmap's address");
	expect_u64_eq(jnum(e, "hint"), HEAP, "hint");
	e = ev_find(&r, "sysMap", "uprobe", 0);
	assert_true(e, "sysMap");
	expect_true(jstr(e, "stat") && !strncmp(jstr(e, "stat"), "runtime.gcController.", 21),
		    "the stat the pointer names: %s", jstr(e, "stat"));
	expect_int_eq(ev_count(&r, "sysMap", NULL), 1, "sysMapOS inside sysMap dropped");
	expect_u64_eq(ms_go_nested(r.g), 2, "two nested OS halves dropped");
	e = ev_find(&r, "pageFault", NULL, 0);
	expect_true(e && !jviol(e), "a fault in Ready memory is fine");
	e = ev_find(&r, "pageFault", NULL, 1);
	expect_str_eq(e ? jviol(e) : NULL, "access-prepared", "a fault in Prepared memory");
	e = ev_find(&r, "sysUsed", "uprobe", 1);
	expect_str_eq(e ? jviol(e) : NULL, "accounting-mismatch", "prepared checked");
	e = ev_find(&r, "sysUsed", "uprobe", 2);
	assert_true(e, "the inlined sysUsed");
	expect_true(!jviol(e), "no violation");
	expect_u64_eq(jnum(e, "prepared"), 8 * PG, "prepared from the map");
	expect_int_eq(ev_count(&r, "sysUnused", "uprobe"), 2, "two sysUnused");
	expect_int_eq(ev_count(&r, "sysUnused", "syscall"), 0, "their madvises folded in");
	expect_true(!jviol(ev_find(&r, "sysUnused", "uprobe", 1)), "FREE then DONTNEED is fine");
	expect_int_eq(ev_count(&r, "sysNoHugePage", "syscall"), 1, "NOHUGEPAGE as a syscall");
	expect_int_eq(ev_count(&r, "sysFree", NULL), 1, "one free");
	m = ms_trace_go_marks(r.t, &nmarks);
	assert_true(m && nmarks == 1, "one mark (%zu)", nmarks);
	expect_u64_eq(m[0].sys, 64 * PG, "the runtime's own sum");
	expect_u64_eq(m[0].prepared, 16 * 4096 + 32 * PG, "Prepared bytes charged");
	expect_u64_eq(m[0].prepared + m[0].ready, 64 * PG, "Prepared + Ready");
	expect_u64_eq(m[0].tid, 9, "the reading thread");
	rig_close(&r);
}
TEST_END

TEST_BEGIN(test_mismatches)
{
	struct rig r;
	const cJSON *e;
	struct ms_trace_stats st;

	rig_open(&r, 1000000);
	go_rec(&r, 10, 7, MS_GO_RESERVE, ELSEWHERE, 0, 64 * PG, 0);
	sys_rec(&r, 11, 7, SYS_mmap, HEAP, 0, 64 * PG, PROT_NONE, ANON);
	/* sysMap whose mmap lands elsewhere: flagged; the kernel's mapping applied. */
	go_rec(&r, 20, 7, MS_GO_MAP, ELSEWHERE, HEAP, 16 * PG, 0);
	sys_rec(&r, 21, 7, SYS_mmap, HEAP + 32 * PG, HEAP + 32 * PG, 16 * PG, RW, ANON_FIX);
	/* sysFree that made no munmap before the thread's next call. */
	go_rec(&r, 30, 7, MS_GO_FREE, ELSEWHERE, HEAP + 48 * PG, 8 * PG, 0);
	go_rec(&r, 40, 7, MS_GO_FAULT, ELSEWHERE, HEAP, 4 * PG, 0);
	sys_rec(&r, 41, 7, SYS_mmap, HEAP, HEAP, 4 * PG, PROT_NONE, ANON_FIX);
	rig_finish(&r);
	e = ev_find(&r, "sysMap", "uprobe", 0);
	expect_str_eq(e ? jviol(e) : NULL, "api-mismatch", "mmap over another range");
	expect_true(ev_find(&r, "sysMap", "syscall", 0) != NULL, "that mmap applied as such");
	e = ev_find(&r, "sysFree", "uprobe", 0);
	expect_str_eq(e ? jviol(e) : NULL, "api-mismatch", "no munmap");
	ms_trace_get_stats(r.t, &st);
	expect_u64_eq(st.mismatches, 2, "two mismatches");
	rig_close(&r);
}
TEST_END

TEST_BEGIN(test_call_waits_for_its_mmap)
{
	struct rig r;
	uint64_t base;

	rig_open(&r, 1000);
	/* Now: a call whose mmap has not come yet holds the merge, a fault after it too. */
	base = (mono_ns() - r.t0) / 1000;
	go_rec(&r, base, 7, MS_GO_ALLOC, ELSEWHERE, 4 * PG, 0, 0);
	fault_rec(&r, base + 5, 8, 0x7f0000000000);
	usleep(3000);
	ms_trace_flush(r.t, false);
	expect_u64_eq(ms_tlw_events(r.w), 0, "nothing applied before the mmap");
	sys_rec(&r, base + 1, 7, SYS_mmap, 0x7f0000000000, 0, 4 * PG, RW, ANON);
	usleep(3000);
	ms_trace_flush(r.t, false);
	expect_u64_eq(ms_tlw_events(r.w), 2, "then the call and the fault, in order");
	rig_finish(&r);
	expect_true(!jviol(ev_find(&r, "pageFault", NULL, 0)), "the fault is in Ready memory");
	rig_close(&r);
}
TEST_END

TEST_BEGIN(test_rounding_and_marks)
{
	struct rig r;
	size_t n;
	const struct ms_go_mark *m;
	uint64_t ms;

	rig_open(&r, 1000000);
	ms = ms_go_var_addr(r.g, "runtime.memstats");
	/* heapArena metadata: 2165776 bytes asked, 2166784 mapped. */
	go_rec(&r, 10, 7, MS_GO_ALLOC, ELSEWHERE, 2165776, ms, 0);
	sys_rec(&r, 11, 7, SYS_mmap, 0x7f0000000000, 0, 2165776, RW, ANON);
	/* The L2 arena map: sysAllocOS from elsewhere, no stat. */
	go_rec(&r, 20, 7, MS_GO_ALLOC_OS, ELSEWHERE, 64 * PG, 0, 0);
	sys_rec(&r, 21, 7, SYS_mmap, 0x7e0000000000, 0, 64 * PG, RW, ANON);
	/* ReadMemStats flushes the mcaches, which may allocate (a sysAllocOS inside
	 * sysAlloc is that sysAlloc's), and reads the counters after: so does the mark. */
	go_rec(&r, 25, 9, MS_GO_MARK, ELSEWHERE, 0, 0, 0);
	go_rec(&r, 30, 9, MS_GO_ALLOC, ELSEWHERE, 2 * PG, ms, 0);
	go_rec(&r, 31, 9, MS_GO_ALLOC_OS, inside(&r, MS_GO_ALLOC), 2 * PG, 0, 0);
	sys_rec(&r, 32, 9, SYS_mmap, 0x7d0000000000, 0, 2 * PG, RW, ANON);
	go_rec(&r, 41, 9, MS_GO_MARK_AT, inside(&r, MS_GO_MARK), 0, 0, 0);
	go_rec(&r, 42, 9, MS_GO_MARK_AT, ELSEWHERE, 0, 0, 0); /* merge called elsewhere */
	rig_finish(&r);
	m = ms_trace_go_marks(r.t, &n);
	assert_true(m && n == 1, "one mark");
	expect_u64_eq(m[0].sys, 2165776 + 2 * PG, "the runtime's sum");
	expect_u64_eq(m[0].rounding, 2166784 - 2165776, "the kernel's rounding");
	expect_u64_eq(m[0].ready, 2166784 + 2 * PG, "Ready bytes charged");
	expect_u64_eq(m[0].prepared + m[0].ready - m[0].rounding, m[0].sys, "the identity");
	expect_u64_eq(m[0].unstatted, 64 * PG, "sysAllocOS charges no stat");
	expect_int_eq(ev_count(&r, "sysAlloc", "uprobe"), 3, "three allocations");
	rig_close(&r);
}
TEST_END

int main(void)
{
	return test_run(test_reads_the_go_sample, test_refuses_non_go_and_stripped,
			test_dwarf_compression_formats, test_damaged_binaries,
			test_alloc_takes_its_mmap, test_heap_life, test_mismatches,
			test_call_waits_for_its_mmap, test_rounding_and_marks, NULL);
}
