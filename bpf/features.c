// SPDX-License-Identifier: MIT
/*
 * The probe's feature check (features.h): the tracepoints this kernel has and their
 * arguments (read in place from its BTF, ktypes.c), task storage, attach cookies,
 * uprobe_multi links, and whether we hold the capabilities to load tracing programs.
 */
#include <errno.h>
#include <linux/capability.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "features.h"
#include "ktypes.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

void ms_feat_note(struct ms_features *f, const char *fmt, ...)
{
	size_t n = strlen(f->missing);
	va_list ap;

	if (n && n + 2 < sizeof(f->missing)) {
		strcpy(f->missing + n, "; ");
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(f->missing + n, sizeof(f->missing) - n, fmt, ap);
	va_end(ap);
}

/* The tracepoints the probe asks about, by their index in ms_tps[]. */
enum {
	TP_SYS_EXIT,
	TP_FORK,
	TP_EXEC,
	TP_EXIT,
	TP_FAULT_USER,
	TP_FAULT_KERNEL,
	TP_PAGE_ALLOC,
	TP_SCAN_PMD,
	TP_COLLAPSE,
	TP_COUNT
};
static const char *const ms_tps[TP_COUNT] = {
	"sys_exit",	      "sched_process_fork",	"sched_process_exec",
	"sched_process_exit", "page_fault_user",	"page_fault_kernel",
	"mm_page_alloc",      "mm_khugepaged_scan_pmd", "mm_collapse_huge_page"};

/*
 * How many arguments each tracepoint of ms_tps[] has (its btf_trace_<tp> typedef), or
 * -ENOENT. Read in place (ktypes.c); libbpf's whole parse only where that cannot be done.
 */
static int ms_tp_counts(int counts[TP_COUNT])
{
	const struct btf_type *t;
	struct btf *btf;
	char name[96];
	int id;

	if (!ms_ktypes_tp_params("/sys/kernel/btf/vmlinux", ms_tps, counts, TP_COUNT))
		return 0;
	btf = btf__load_vmlinux_btf();
	if (!btf)
		return -EOPNOTSUPP;
	for (int i = 0; i < TP_COUNT; i++) {
		snprintf(name, sizeof(name), "btf_trace_%s", ms_tps[i]);
		id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
		t = id < 0 ? NULL : btf__type_by_id(btf, id);
		t = t ? btf__type_by_id(btf, t->type) : NULL; /* pointer */
		t = t && btf_is_ptr(t) ? btf__type_by_id(btf, t->type) : NULL;
		counts[i] = t && btf_is_func_proto(t) ? btf_vlen(t) : -ENOENT;
	}
	btf__free(btf);
	return 0;
}

/*
 * Can a uprobe_multi link be made? A trivial program of that attach type, linked to a
 * path that does not exist: -ENOENT means the kernel got as far as the path (6.6 on),
 * -EINVAL that it does not know the attach type.
 */
static bool ms_probe_uprobe_multi(void)
{
	LIBBPF_OPTS(bpf_prog_load_opts, popts, .expected_attach_type = MS_BPF_TRACE_UPROBE_MULTI);
	struct bpf_insn insns[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
		{.code = BPF_JMP | BPF_EXIT},
	};
	uint64_t off = 0x1000, cookie = 0;
	union {
		uint8_t raw[128];
		uint32_t w[32];
		uint64_t d[16];
	} attr;
	int prog, link;
	bool ok;

	/* Tests take the one-uprobe-each path on any kernel with this. */
	if (getenv("MEMSTATE_UPROBE_MULTI") && !strcmp(getenv("MEMSTATE_UPROBE_MULTI"), "0"))
		return false;
	prog = bpf_prog_load(BPF_PROG_TYPE_KPROBE, NULL, "GPL", insns, 2, &popts);
	if (prog < 0)
		return false;
	memset(&attr, 0, sizeof(attr));
	attr.w[0] = (uint32_t)prog;
	attr.w[2] = MS_BPF_TRACE_UPROBE_MULTI;
	attr.d[2] = (uint64_t)(uintptr_t) "/nonexistent/memstate-uprobe-probe";
	attr.d[3] = (uint64_t)(uintptr_t)&off;
	attr.d[5] = (uint64_t)(uintptr_t)&cookie;
	attr.w[12] = 1;
	link = (int)syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	ok = link < 0 && errno == ENOENT;
	if (link >= 0) {
		ok = true;
		close(link);
	}
	close(prog);
	return ok;
}

bool ms_has_caps(void)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2] = {};

	if (geteuid() == 0)
		return true;
	if (syscall(SYS_capget, &hdr, data))
		return false;
	/* CAP_BPF and CAP_PERFMON (both in the second word) load and attach tracing programs. */
	return (data[1].effective & (1u << (CAP_BPF - 32))) &&
	       (data[1].effective & (1u << (CAP_PERFMON - 32)));
}

/*
 * Probe the running kernel through its BTF, as libbpf-tools do: which tracepoints exist
 * and with which arguments. Returns 0 when at least the core works, else a negative errno;
 * f->missing says what is absent either way.
 */
int ms_features_probe(struct ms_features *f)
{
	/* The kernel does not change under us: probe() and open() share one reading of
	 * its BTF, the tracer's single thread calling both. */
	static struct ms_features cached;
	static bool have_cached;
	int n[TP_COUNT];

	memset(f, 0, sizeof(*f));
	if (!ms_has_caps()) {
		ms_feat_note(f, "needs root (CAP_BPF and CAP_PERFMON)");
		return -EPERM;
	}
	if (have_cached) {
		*f = cached;
		return 0;
	}
	if (ms_tp_counts(n)) {
		ms_feat_note(f, "no kernel BTF (/sys/kernel/btf/vmlinux, CONFIG_DEBUG_INFO_BTF)");
		return -EOPNOTSUPP;
	}
	f->have = MS_FEAT_CORE;
	for (int i = TP_SYS_EXIT; i <= TP_EXIT; i++) {
		if (n[i] < 0) {
			ms_feat_note(f, "no %s tracepoint", ms_tps[i]);
			f->have &= ~MS_FEAT_CORE;
		}
	}
	if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_TASK_STORAGE, NULL) != 1) {
		ms_feat_note(f, "no task storage maps (kernel older than 5.11)");
		f->have &= ~MS_FEAT_CORE;
	}
	if (!(f->have & MS_FEAT_CORE))
		return -EOPNOTSUPP;
	/* Go uprobes tell functions apart by their attach cookie (5.15 and later). */
	if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_KPROBE, BPF_FUNC_get_attach_cookie, NULL) == 1) {
		f->have |= MS_FEAT_UPROBE;
		if (ms_probe_uprobe_multi())
			f->have |= MS_FEAT_UMULTI;
	} else {
		ms_feat_note(f, "no bpf_get_attach_cookie (kernel older than 5.15): no Go uprobes");
	}
	if (n[TP_FAULT_USER] == 4 && n[TP_FAULT_KERNEL] == 4)
		f->have |= MS_FEAT_FAULTS;
	else
		ms_feat_note(f, "no page_fault_user tracepoint (x86 only): no page faults");
	/* Residency of huge-page faults: seen through the huge page's allocation. */
	if ((f->have & MS_FEAT_FAULTS) && n[TP_PAGE_ALLOC] == 5)
		f->have |= MS_FEAT_THPFAULT;
	else
		ms_feat_note(f, "no mm_page_alloc tracepoint: huge-page faults count 4 KiB");
	/* scan_pmd: (ctx, mm, folio or page, [writable,] referenced, none_or_zero, status,
	 * unmapped): status is the one before last. */
	if (n[TP_COLLAPSE] == 4 && (n[TP_SCAN_PMD] == 7 || n[TP_SCAN_PMD] == 8)) {
		f->have |= MS_FEAT_THP;
		f->scan_status_arg = (unsigned)n[TP_SCAN_PMD] - 3;
	} else {
		ms_feat_note(f, "no usable huge_memory tracepoints: no THP collapses");
	}
	cached = *f;
	have_cached = true;
	return 0;
}
