// SPDX-License-Identifier: MIT
/*
 * Go runtime uprobes: which functions to probe, what each one does, and how a record
 * becomes a call for the trace (go.h).
 *
 * What Go 1.19 does on Linux (runtime/mem.go, mem_linux.go), and so what a call claims:
 *   sysAlloc(n, stat)       mmap(nil, n, RW, PRIVATE|ANON)       None -> Ready, stat += n
 *   sysReserve(v, n)        mmap(v, n, NONE, PRIVATE|ANON)       None -> Reserved (v a hint)
 *   sysMap(v, n, stat)      mmap(v, n, RW, FIXED)                Reserved -> Prepared, stat += n
 *   sysUsed(v, n, prep)     nothing (harddecommit: mmap RW FIXED) Prepared -> Ready
 *   sysUnused(v, n)         madvise(v, n, DONTNEED or FREE)      Ready -> Prepared
 *                           (FREE failing: DONTNEED; harddecommit: mmap NONE FIXED after)
 *   sysFree(v, n, stat)     munmap(v, n)                         any -> None, stat -= n
 *   sysFault(v, n)          mmap(v, n, NONE, FIXED)              Ready -> Reserved
 *                           (newer: mprotect NONE + madvise DONTNEED)
 *   sysHugePageOS(v, n)     madvise(inner 2 MiB-aligned range, HUGEPAGE) when there is one
 * sysUnusedOS also marks the huge pages at the ends of its range NOHUGEPAGE: those
 * madvises are not the transition, and are applied as the syscalls they are.
 *
 * Wrappers and their OS halves are both probed when the binary keeps both: a wrapper
 * inlined at some call sites (sysUsed, at two in Go 1.19) shows up only as its OS half.
 * The OS half's return address says which: inside the wrapper's body, the record is the
 * same call again and is dropped.
 */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/util.h"
#include "bpf/probe.h"
#include "go.h"
#include "go_elf.h"

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

/* ------------------------------------------------------------------ the functions */

/* How a function's arguments are laid out. */
enum go_args {
	GA_N_STAT,   /* (n, stat) */
	GA_N,	     /* (n) */
	GA_V_N,	     /* (v, n) */
	GA_V_N_STAT, /* (v, n, stat) */
	GA_V_N_PREP, /* (v, n, prepared) */
	GA_NONE,
};

struct go_fn_info {
	const char *name; /* symbol */
	int8_t op;	  /* enum ms_op it performs, -1 for the mark */
	int8_t parent;	  /* the wrapper whose body it is the OS half of, -1 for none */
	uint8_t args;	  /* enum go_args */
	int8_t also;	  /* another caller whose calls need no probe of their own, or -1 */
};

static const struct go_fn_info fn_info[MS_GO_FN_COUNT] = {
	[MS_GO_ALLOC] = {"runtime.sysAlloc", MS_OP_ALLOC, -1, GA_N_STAT},
	[MS_GO_ALLOC_OS] = {"runtime.sysAllocOS", MS_OP_ALLOC, MS_GO_ALLOC, GA_N},
	[MS_GO_RESERVE] = {"runtime.sysReserve", MS_OP_RESERVE, -1, GA_V_N},
	[MS_GO_RESERVE_OS] = {"runtime.sysReserveOS", MS_OP_RESERVE, MS_GO_RESERVE, GA_V_N},
	[MS_GO_MAP] = {"runtime.sysMap", MS_OP_MAP, -1, GA_V_N_STAT},
	[MS_GO_MAP_OS] = {"runtime.sysMapOS", MS_OP_MAP, MS_GO_MAP, GA_V_N},
	[MS_GO_USED] = {"runtime.sysUsed", MS_OP_USED, -1, GA_V_N_PREP},
	[MS_GO_USED_OS] = {"runtime.sysUsedOS", MS_OP_USED, MS_GO_USED, GA_V_N},
	[MS_GO_UNUSED] = {"runtime.sysUnused", MS_OP_UNUSED, -1, GA_V_N},
	[MS_GO_UNUSED_OS] = {"runtime.sysUnusedOS", MS_OP_UNUSED, MS_GO_UNUSED, GA_V_N},
	[MS_GO_FREE] = {"runtime.sysFree", MS_OP_FREE, -1, GA_V_N_STAT},
	[MS_GO_FREE_OS] = {"runtime.sysFreeOS", MS_OP_FREE, MS_GO_FREE, GA_V_N},
	[MS_GO_FAULT] = {"runtime.sysFault", MS_OP_FAULT, -1, GA_V_N},
	[MS_GO_FAULT_OS] = {"runtime.sysFaultOS", MS_OP_FAULT, MS_GO_FAULT, GA_V_N},
	[MS_GO_HUGE] = {"runtime.sysHugePage", MS_OP_HUGE_PAGE, -1, GA_V_N},
	/* Called by sysUsedOS too: that madvise reaches the map as the syscall it is. */
	[MS_GO_HUGE_OS] = {"runtime.sysHugePageOS", MS_OP_HUGE_PAGE, MS_GO_HUGE, GA_V_N,
			   MS_GO_USED_OS},
	[MS_GO_NOHUGE] = {"runtime.sysNoHugePage", MS_OP_NO_HUGE_PAGE, -1, GA_V_N},
	[MS_GO_NOHUGE_OS] = {"runtime.sysNoHugePageOS", MS_OP_NO_HUGE_PAGE, MS_GO_NOHUGE, GA_V_N},
	[MS_GO_COLLAPSE] = {"runtime.sysHugePageCollapse", MS_OP_HUGE_PAGE_COLLAPSE, -1, GA_V_N},
	[MS_GO_COLLAPSE_OS] = {"runtime.sysHugePageCollapseOS", MS_OP_HUGE_PAGE_COLLAPSE,
			       MS_GO_COLLAPSE, GA_V_N},
	[MS_GO_MARK] = {"runtime.readmemstats_m", -1, -1, GA_NONE},
	[MS_GO_MARK_AT] = {"runtime.(*heapStatsDelta).merge", -1, -1, GA_NONE},
};

/* The callers whose calls of f need no probe of f: its wrapper, and fn_info's "also". */
static bool covers(int f, int caller)
{
	return caller >= 0 &&
	       (caller == fn_info[f].parent || (fn_info[f].also > 0 && caller == fn_info[f].also));
}

/*
 * Where one uprobe sits (its attach cookie is its index): a function's entry, or a call
 * site of an OS half outside its wrapper, where the wrapper was inlined.
 */
struct go_probe {
	uint8_t fn;    /* enum ms_go_fn */
	bool site;     /* at a call instruction: the callee's arguments are already set */
	uint64_t addr; /* link-time address of the probed instruction */
};

#define MAX_PROBES 64
#define MAX_SITES  8 /* call sites of one OS half worth probing one by one */

/* A stat pointer already named. */
struct go_stat_name {
	uint64_t ptr;
	char name[56];
};

struct ms_go {
	struct ms_go_elf elf;
	char path[4096];
	const struct ms_go_sym *sym[MS_GO_FN_COUNT]; /* NULL: not in the binary */
	bool attached[MS_GO_FN_COUNT];
	bool folded[MS_GO_FN_COUNT];	    /* only called where its caller's probe sees it */
	struct go_probe probes[MAX_PROBES]; /* by attach cookie */
	unsigned nprobes;
	const struct ms_sink *sink; /* where calls go (on_go) */
	uint64_t page;		    /* the system's page size */
	uint64_t huge;		    /* THP size, as the runtime reads it (0: none) */
	uint64_t nested;	    /* OS halves dropped as their wrapper's */
	uint64_t bias;		    /* load bias of a PIE (learned from the first record) */
	bool bias_known;
	uint32_t mark_tid;	    /* thread inside ReadMemStats, its counters not read yet */
	struct go_stat_name *stats; /* named stat pointers */
	size_t nstats, stats_cap;
};

struct ms_go *ms_go_open(const char *path, bool *is_go, char *why, size_t whylen)
{
	struct ms_go *g = calloc(1, sizeof(*g));
	unsigned nfound = 0;

	*is_go = false;
	if (!g) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	if (ms_go_elf_open(path, &g->elf, why, whylen)) {
		free(g);
		return NULL;
	}
	*is_go = g->elf.is_go;
	if (!g->elf.is_go) {
		snprintf(why, whylen, "%s is not a Go program", path);
		goto fail;
	}
	if (!g->elf.symtab) {
		snprintf(why, whylen,
			 "%s is a stripped Go binary (%s, no symbol table): its runtime functions "
			 "cannot be found",
			 path, g->elf.version[0] ? g->elf.version : "version unknown");
		goto fail;
	}
	if (g->elf.machine != EM_X86_64 && g->elf.machine != EM_AARCH64) {
		snprintf(why, whylen, "%s: Go uprobes know amd64 and arm64 registers only", path);
		goto fail;
	}
	for (int f = 0; f < MS_GO_FN_COUNT; f++) {
		g->sym[f] = ms_go_elf_func(&g->elf, fn_info[f].name);
		nfound += g->sym[f] != NULL;
	}
	if (!g->sym[MS_GO_ALLOC] && !g->sym[MS_GO_ALLOC_OS]) {
		snprintf(why, whylen, "%s: no runtime.sysAlloc in its symbol table", path);
		goto fail;
	}
	snprintf(g->path, sizeof(g->path), "%s", path);
	g->page = ms_page_size();
	g->huge = ms_thp_size_sysfs();
	return g;
fail:
	ms_go_free(g);
	return NULL;
}

void ms_go_free(struct ms_go *g)
{
	if (!g)
		return;
	ms_go_elf_close(&g->elf);
	free(g->stats);
	free(g);
}

const char *ms_go_version(const struct ms_go *g)
{
	return g->elf.version[0] ? g->elf.version : "go (version unknown)";
}

uint64_t ms_go_nested(const struct ms_go *g)
{
	return g->nested;
}

/* ------------------------------------------------------------------ records -> calls */

static const char *stat_name(struct ms_go *g, uint64_t ptr)
{
	struct go_stat_name *s;

	if (!ptr)
		return "";
	for (size_t i = 0; i < g->nstats; i++) {
		if (g->stats[i].ptr == ptr)
			return g->stats[i].name;
	}
	if (g->nstats == g->stats_cap) {
		size_t cap = g->stats_cap ? 2 * g->stats_cap : 16;
		struct go_stat_name *v = realloc(g->stats, cap * sizeof(*v));

		if (!v)
			return "";
		g->stats = v;
		g->stats_cap = cap;
	}
	s = &g->stats[g->nstats++];
	s->ptr = ptr;
	ms_go_elf_name_addr(&g->elf, ptr - g->bias, s->name, sizeof(s->name));
	return s->name;
}

static uint64_t round_up(uint64_t n, uint64_t a)
{
	return (n + a - 1) & ~(a - 1);
}

static void want(struct ms_go_call *c, uint32_t nr, uint32_t flags, uint64_t addr, uint64_t len,
		 uint64_t arg2)
{
	if (c->nwant < MS_GO_WANTS)
		c->want[c->nwant++] = (struct ms_go_want){
			.nr = nr, .flags = flags, .addr = addr, .len = len, .arg2 = arg2};
}

/* The syscalls Go makes for op over [v, v+n) (see the table at the top). */
static void wants_for(struct ms_go *g, struct ms_go_call *c, uint64_t v, uint64_t n)
{
	const uint64_t rw = PROT_READ | PROT_WRITE;

	switch (c->ev.op) {
	case MS_OP_ALLOC:
		want(c, SYS_mmap, MS_GW_RESULT, 0, n, rw);
		break;
	case MS_OP_RESERVE:
		want(c, SYS_mmap, MS_GW_RESULT | MS_GW_HINT, v, n, PROT_NONE);
		break;
	case MS_OP_MAP:
		want(c, SYS_mmap, 0, v, n, rw);
		break;
	case MS_OP_USED:
		want(c, SYS_mmap, MS_GW_OPTIONAL, v, n, rw); /* GODEBUG=harddecommit=1 */
		break;
	case MS_OP_UNUSED:
		want(c, SYS_madvise, MS_GW_UNUSED, v, n, MADV_DONTNEED);
		want(c, SYS_madvise, MS_GW_FALLBACK | MS_GW_OPTIONAL, v, n, MADV_DONTNEED);
		want(c, SYS_mmap, MS_GW_OPTIONAL, v, n, PROT_NONE); /* harddecommit */
		break;
	case MS_OP_FREE:
		want(c, SYS_munmap, 0, v, n, 0);
		break;
	case MS_OP_FAULT:
		want(c, SYS_mmap, MS_GW_OPTIONAL, v, n, PROT_NONE);
		want(c, SYS_mprotect, MS_GW_OPTIONAL, v, n, PROT_NONE);
		want(c, SYS_madvise, MS_GW_OPTIONAL, v, n, MADV_DONTNEED);
		break;
	case MS_OP_HUGE_PAGE:
		/* Only whole huge pages inside the range: none, no madvise. */
		if (g->huge && round_up(v, g->huge) < ((v + n) & ~(g->huge - 1)))
			want(c, SYS_madvise, MS_GW_WITHIN, v, n, MADV_HUGEPAGE);
		break;
	case MS_OP_NO_HUGE_PAGE:
		want(c, SYS_madvise, MS_GW_WITHIN | MS_GW_OPTIONAL, v, n, MADV_NOHUGEPAGE);
		break;
	case MS_OP_HUGE_PAGE_COLLAPSE:
		want(c, SYS_madvise, MS_GW_WITHIN | MS_GW_OPTIONAL, v, n, MADV_COLLAPSE);
		break;
	default:
		break;
	}
}

void ms_go_record(void *ctx, const struct ms_bpf_go *r)
{
	struct ms_go *g = ctx;
	const struct go_fn_info *fi;
	const struct go_probe *pr;
	const struct ms_go_sym *w;
	struct ms_go_call c;
	uint64_t ret, v = 0, n = 0, stat = 0;
	unsigned fn;

	if (r->fn >= g->nprobes)
		return;
	pr = &g->probes[r->fn];
	fn = pr->fn;
	if (!pr->addr || !g->sym[fn])
		return;
	fi = &fn_info[fn];
	/* The hit address is the probed one (plus the breakpoint's length on some kernels);
	 * a PIE's bias is page aligned. */
	if (!g->bias_known) {
		g->bias = g->elf.pie ? (r->ip - pr->addr) & ~(g->page - 1) : 0;
		g->bias_known = true;
	}
	/* At a call site the return address is not pushed yet, and the caller is known. */
	if (!pr->site && fi->parent >= 0 && (w = g->sym[fi->parent]) && r->ret) {
		ret = r->ret - g->bias;
		if (ret >= w->addr && ret < w->addr + w->size) {
			g->nested++;
			return;
		}
	}
	memset(&c, 0, sizeof(c));
	c.fn = (uint8_t)fn;
	c.ev.source = MS_SRC_UPROBE;
	c.ev.pid = r->pid;
	c.ev.tid = r->tid;
	c.ev.t_ns = r->t_ns;
	if (fi->op < 0) {
		/*
		 * ReadMemStats flushes the mcaches first, which may allocate (a spanSet block,
		 * from a fresh persistentalloc chunk), and only then reads the counters (its
		 * first heapStatsDelta.merge): the mark is there when the binary lets us see it.
		 */
		if (fn == MS_GO_MARK && g->attached[MS_GO_MARK_AT]) {
			g->mark_tid = r->tid;
			return;
		}
		if (fn == MS_GO_MARK_AT) {
			w = g->sym[MS_GO_MARK];
			ret = r->ret - g->bias;
			if (r->tid != g->mark_tid || !w || ret < w->addr ||
			    ret >= w->addr + w->size)
				return; /* merge called elsewhere, or the 2nd and 3rd of this read */
			g->mark_tid = 0;
		}
		c.mark = 1; /* not an operation: the trace notes its map's totals */
		g->sink->on_go(g->sink->ctx, &c);
		return;
	}
	c.ev.op = (uint8_t)fi->op;
	switch (fi->args) {
	case GA_N_STAT:
		n = r->args[0];
		stat = r->args[1];
		break;
	case GA_N:
		n = r->args[0];
		break;
	case GA_V_N:
		v = r->args[0];
		n = r->args[1];
		break;
	case GA_V_N_STAT:
		v = r->args[0];
		n = r->args[1];
		stat = r->args[2];
		break;
	case GA_V_N_PREP:
		v = r->args[0];
		n = r->args[1];
		c.ev.arg = r->args[2];
		break;
	default:
		break;
	}
	c.req_len = n;
	/* The kernel maps and unmaps whole pages; the runtime counts what it asked for. */
	c.ev.len = fi->op == MS_OP_ALLOC || fi->op == MS_OP_FREE ? round_up(n, g->page) : n;
	if (fi->op == MS_OP_RESERVE)
		c.ev.arg = v; /* the hint; the address comes from the mmap */
	else if (fi->op != MS_OP_ALLOC)
		c.ev.addr = v;
	if (fi->op == MS_OP_USED && fi->args != GA_V_N_PREP)
		c.prep_unknown = 1; /* sysUsed inlined: its prepared argument is gone */
	snprintf(c.stat, sizeof(c.stat), "%s", stat_name(g, stat));
	wants_for(g, &c, v, n);
	g->sink->on_go(g->sink->ctx, &c);
}

void ms_go_bind(struct ms_go *g, const struct ms_sink *sink)
{
	g->sink = sink;
	/* As if each function were probed at its entry, with its number as cookie. */
	for (int f = 0; f < MS_GO_FN_COUNT; f++) {
		g->attached[f] = g->sym[f] != NULL;
		g->probes[f] = (struct go_probe){.fn = (uint8_t)f,
						 .addr = g->sym[f] ? g->sym[f]->addr : 0};
	}
	g->nprobes = MS_GO_FN_COUNT;
}

uint64_t ms_go_fn_addr(const struct ms_go *g, enum ms_go_fn fn, uint64_t *size)
{
	const struct ms_go_sym *s = fn < MS_GO_FN_COUNT ? g->sym[fn] : NULL;

	if (size)
		*size = s ? s->size : 0;
	return s ? s->addr : 0;
}

uint64_t ms_go_var_addr(const struct ms_go *g, const char *name)
{
	for (size_t i = 0; i < g->elf.nobjs; i++) {
		if (!strcmp(g->elf.objs[i].name, name))
			return g->elf.objs[i].addr;
	}
	return 0;
}

const char *ms_go_stat_name(struct ms_go *g, uint64_t addr)
{
	return stat_name(g, addr + g->bias);
}

/* ------------------------------------------------------------------ attaching */

/* Append "name" or "name: why" to a comma-separated list. */
static void list_add(char *list, size_t len, const char *name, const char *why)
{
	size_t used = strlen(list);

	if (used + strlen(name) + (why ? strlen(why) + 2 : 0) + 3 < len)
		snprintf(list + used, len - used, "%s%s%s%s", used ? ", " : "", name,
			 why ? ": " : "", why ? why : "");
}

/* The function of ours whose body holds link address pc, or -1. */
static int fn_at(const struct ms_go *g, uint64_t pc)
{
	for (int f = 0; f < MS_GO_FN_COUNT; f++) {
		const struct ms_go_sym *s = g->sym[f];

		if (s && pc >= s->addr && pc < s->addr + s->size)
			return f;
	}
	return -1;
}

/*
 * The call sites of OS half f that its wrapper's probe does not see (the wrapper was
 * inlined there), into sites. An OS half called only by its probed wrapper needs no
 * probe: every trap costs the traced program (on sysUnusedOS or sysHugePageOS, one per
 * span). Returns the number of such sites, or -1 when they cannot all be probed one by
 * one (a site that is not a verified call instruction, too many): then f's entry is.
 */
static int go_sites(const struct ms_go *g, int f, uint64_t *sites, int max)
{
	uint64_t found[64];
	long n = ms_go_elf_callers(&g->elf, g->sym[f]->addr, found, 64);
	int k = 0;

	if (n < 0 || n > 64)
		return -1;
	for (long i = 0; i < n; i++) {
		int c = fn_at(g, found[i]);

		if (c == f) /* its own restart after a stack growth (morestack's jump back) */
			continue;
		if (covers(f, c) && g->sym[c])
			continue;
		/* A uprobe on anything but an instruction's first byte would corrupt the
		 * program: the byte pattern must decode as an instruction from the entry of
		 * the function that holds it. */
		if (k == max || !ms_go_elf_insn_start(&g->elf, found[i]))
			return -1;
		sites[k++] = found[i];
	}
	return k;
}

static void probe_add(struct ms_go *g, int f, bool site, uint64_t addr)
{
	if (g->nprobes < MAX_PROBES)
		g->probes[g->nprobes++] = (struct go_probe){(uint8_t)f, site, addr};
}

int ms_go_attach(struct ms_go *g, const struct ms_source_ops *src, void *state,
		 const struct ms_sink *sink, char *info, size_t infolen)
{
	uint64_t offs[MAX_PROBES], cookies[MAX_PROBES], sites[MAX_SITES];
	int errs[MAX_PROBES], n;
	char failed[512] = "", inlined[512] = "", folded[512] = "", atsites[512] = "", buf[64];

	if (!src->go_attach || !src->go_sink) {
		snprintf(info, infolen, "eBPF capture is not built into this memstate");
		return -EOPNOTSUPP;
	}
	g->sink = sink;
	g->nprobes = 0;
	src->go_sink(state, ms_go_record, g);
	for (int f = 0; f < MS_GO_FN_COUNT; f++) {
		const struct ms_go_sym *s = g->sym[f];
		bool covered;
		int ns;

		if (s && fn_info[f].parent >= 0 && (ns = go_sites(g, f, sites, MAX_SITES)) >= 0) {
			/* Probed where its wrapper was inlined, or nowhere. */
			g->folded[f] = !ns;
			if (!ns)
				list_add(folded, sizeof(folded), fn_info[f].name + 8, NULL);
			for (int i = 0; i < ns; i++)
				probe_add(g, f, true, sites[i]);
			if (ns) {
				snprintf(buf, sizeof(buf), "%s (%d)", fn_info[f].name + 8, ns);
				list_add(atsites, sizeof(atsites), buf, NULL);
			}
			continue;
		}
		if (s) {
			if (f != MS_GO_MARK_AT || g->sym[MS_GO_MARK])
				probe_add(g, f, false, s->addr + ms_go_elf_probe_skip(&g->elf, s));
			continue;
		}
		/* A wrapper the compiler inlined everywhere is seen through its OS half; an
		 * OS half inlined into its wrapper, through the wrapper. */
		covered = fn_info[f].parent >= 0 && g->sym[fn_info[f].parent];
		for (int c = 0; !covered && c < MS_GO_FN_COUNT; c++)
			covered = fn_info[c].parent == f && g->sym[c];
		if (covered) /* else: not in this Go version at all */
			list_add(inlined, sizeof(inlined), fn_info[f].name + 8, NULL);
	}
	for (unsigned i = 0; i < g->nprobes; i++) {
		offs[i] = ms_go_elf_file_off(&g->elf, g->probes[i].addr);
		cookies[i] = i;
	}
	n = g->nprobes ? src->go_attach(state, g->path, offs, cookies, g->nprobes, errs) : -ENOENT;
	if (n < 0) {
		snprintf(info, infolen, "no uprobe could be attached to %s: %s", g->path,
			 g->nprobes ? strerror(-n) : "none of its runtime functions is known");
		return n;
	}
	for (unsigned i = 0; i < g->nprobes; i++) {
		if (!errs[i]) {
			g->attached[g->probes[i].fn] = true;
			continue;
		}
		g->probes[i].addr = 0; /* its records, if any, are not trusted */
		list_add(failed, sizeof(failed), fn_info[g->probes[i].fn].name + 8,
			 strerror(-errs[i]));
	}
	if (!n) {
		snprintf(info, infolen, "no uprobe could be attached to %s (%s)", g->path, failed);
		return -ENOENT;
	}
	snprintf(info, infolen, "%s, %d uprobes on the runtime%s%s%s%s%s%s%s%s", ms_go_version(g),
		 n, atsites[0] ? "; at call sites: " : "", atsites,
		 folded[0] ? "; seen through their callers: " : "", folded,
		 inlined[0] ? "; inlined (seen through the other half): " : "", inlined,
		 failed[0] ? "; NOT attached: " : "", failed);
	return n;
}
