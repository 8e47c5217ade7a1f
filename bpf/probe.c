// SPDX-License-Identifier: MIT
/*
 * memstate eBPF probe, user side: the "ebpf" capture source (ms_src_ebpf).
 *
 * Life cycle as libbpf-bootstrap's: open the skeleton, switch off the programs this kernel
 * or this configuration cannot use (bpf_program__set_autoload), fill the rodata settings,
 * load, attach, then consume the ring buffer from poll(). start(pid) only seeds the traced
 * map: the programs follow forks, execs and exits themselves.
 *
 * Records go to the sink as they are: syscall and process records point into the ring
 * buffer (same layout as struct ms_sysrec / ms_proc_event), faults and THP collapses
 * become struct ms_event on the stack.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "lib/util.h"
#include "memstate/capture.h"
#include "lib/source.h"
#include "features.h"
#include "probe.h"
#include "memstate.skel.h"

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

/* The ring records carry the tracer's structs verbatim after an 8-byte type word. */
#define MS_SAME_FIELD(a, fa, b, fb) \
	(offsetof(a, fa) - 8 == offsetof(b, fb) && sizeof(((a *)0)->fa) == sizeof(((b *)0)->fb))
_Static_assert(sizeof(struct ms_bpf_sys) - 8 == sizeof(struct ms_sysrec), "sysrec size");
_Static_assert(MS_SAME_FIELD(struct ms_bpf_sys, t_ns, struct ms_sysrec, t_ns), "t_ns");
_Static_assert(MS_SAME_FIELD(struct ms_bpf_sys, pid, struct ms_sysrec, pid), "pid");
_Static_assert(MS_SAME_FIELD(struct ms_bpf_sys, tid, struct ms_sysrec, tid), "tid");
_Static_assert(MS_SAME_FIELD(struct ms_bpf_sys, nr, struct ms_sysrec, nr), "nr");
_Static_assert(MS_SAME_FIELD(struct ms_bpf_sys, ret, struct ms_sysrec, ret), "ret");
_Static_assert(MS_SAME_FIELD(struct ms_bpf_sys, args, struct ms_sysrec, args), "args");
_Static_assert(sizeof(struct ms_bpf_proc) - 8 == sizeof(struct ms_proc_event), "proc size");
_Static_assert(MS_SAME_FIELD(struct ms_bpf_proc, t_ns, struct ms_proc_event, t_ns), "t_ns");
_Static_assert(MS_SAME_FIELD(struct ms_bpf_proc, ptype, struct ms_proc_event, type), "type");
_Static_assert(MS_SAME_FIELD(struct ms_bpf_proc, pid, struct ms_proc_event, pid), "pid");
_Static_assert(MS_SAME_FIELD(struct ms_bpf_proc, ppid, struct ms_proc_event, ppid), "ppid");
_Static_assert(MS_SAME_FIELD(struct ms_bpf_proc, exit_code, struct ms_proc_event, exit_code),
	       "exit_code");
_Static_assert(MS_SAME_FIELD(struct ms_bpf_proc, exit_signal, struct ms_proc_event, exit_signal),
	       "exit_signal");
_Static_assert(MS_SAME_FIELD(struct ms_bpf_proc, comm, struct ms_proc_event, comm), "comm");

/* ------------------------------------------------------------------ the source */

struct ms_ebpf {
	struct memstate_bpf *skel;	      /* loaded programs and maps */
	struct ring_buffer *rb;		      /* consumer of skel->maps.events */
	int epfd;			      /* edge-triggered on the ring: its wake-ups only */
	struct ms_sink sink;		      /* where records go */
	struct ms_source_cfg cfg;	      /* as opened */
	struct ms_features feat;	      /* what the kernel offers */
	unsigned attached;		      /* MS_FEAT_* whose programs are attached */
	int ncpus;			      /* possible CPUs (per-CPU map values) */
	uint32_t page_size;		      /* length given to page fault events */
	uint64_t pmd_size;		      /* length of huge-page fault notices */
	uint64_t lost_seen[MS_BPF_REC_COUNT]; /* lost records already told to the sink */
	uint64_t lost_checked_ns;	      /* when the lost counters were last read */
	uint64_t *lost_buf;		      /* ncpus counters, for reading the map */
	bool stopped;			      /* stop() ran: programs detached, ring drained */
	ms_ebpf_go_fn go_fn;		      /* where Go uprobe records go, NULL: dropped */
	void *go_ctx;
	struct bpf_link **go_links; /* uprobes attached one by one (no uprobe_multi) */
	unsigned ngo_links, go_links_cap;
	int go_multi_fd;	       /* the uprobe_multi link, or -1 */
	struct ms_ebpf_entry *entries; /* munmap/mremap entered, not returned (probe.h) */
	unsigned nentries, entries_cap;
};

static int ms_libbpf_verbose;

static int ms_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if ((level == LIBBPF_WARN && ms_libbpf_verbose >= 1) || ms_libbpf_verbose >= 2)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

static uint64_t coarse_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* ------------------------------------------------------------------ entry marks */

/* One call that gives address space back, entered and not yet returned. */
struct ms_ebpf_entry {
	uint64_t t_ns; /* its entry stamp */
	uint32_t pid;  /* process */
	uint32_t tid;  /* thread: at most one call each */
};

static void entry_forget(struct ms_ebpf *st, uint32_t tid)
{
	for (unsigned i = 0; i < st->nentries; i++) {
		if (st->entries[i].tid == tid) {
			st->entries[i] = st->entries[--st->nentries];
			return;
		}
	}
}

static void entry_add(struct ms_ebpf *st, const struct ms_bpf_entry *e)
{
	entry_forget(st, e->tid); /* a thread's earlier mark whose record was lost */
	if (st->nentries == st->entries_cap) {
		unsigned cap = st->entries_cap ? 2 * st->entries_cap : 16;
		struct ms_ebpf_entry *v = realloc(st->entries, cap * sizeof(*v));

		if (!v)
			return; /* the order is then only as good as the merge's window */
		st->entries = v;
		st->entries_cap = cap;
	}
	st->entries[st->nentries++] = (struct ms_ebpf_entry){e->t_ns, e->pid, e->tid};
}

/* A process is gone: none of its threads will return. */
static void entry_forget_pid(struct ms_ebpf *st, uint32_t pid)
{
	for (unsigned i = 0; i < st->nentries;) {
		if (st->entries[i].pid == pid)
			st->entries[i] = st->entries[--st->nentries];
		else
			i++;
	}
}

/*
 * The entry stamp of the oldest munmap/mremap entered and not yet returned, or 0. One
 * entered more than a second ago no longer holds the merge (its record was lost: the
 * ring's drop counter says so), as under ptrace.
 */
static uint64_t ms_ebpf_pending_since(void *state)
{
	struct ms_ebpf *st = state;
	uint64_t oldest = 0, now = coarse_now_ns();

	for (unsigned i = 0; i < st->nentries; i++) {
		uint64_t t = st->entries[i].t_ns;

		if ((now < t || now - t < 1000000000ull) && (!oldest || t < oldest))
			oldest = t;
	}
	return oldest;
}

static int ms_ebpf_record(void *ctx, void *data, size_t size)
{
	struct ms_ebpf *st = ctx;
	const struct ms_sink *k = &st->sink;
	uint32_t type = *(const uint32_t *)data;

	switch (type) {
	case MS_BPF_REC_SYSCALL: {
		const struct ms_sysrec *r = (const void *)((const char *)data + 8);

		/* cfg.files is the inference's business (ms_infer_state.ignore_files): a
		 * mapping left out here could not be told from one replaced by MAP_FIXED. */
		if (size >= sizeof(struct ms_bpf_sys) &&
		    (r->nr == SYS_munmap || r->nr == SYS_mremap))
			entry_forget(st, r->tid);
		if (size >= sizeof(struct ms_bpf_sys) && k->on_syscall)
			k->on_syscall(k->ctx, r);
		break;
	}
	case MS_BPF_REC_ENTRY: {
		const struct ms_bpf_entry *e = data;

		if (size < sizeof(*e))
			break;
		if (e->flags & MS_BPF_ENTRY_GONE)
			entry_forget(st, e->tid);
		else
			entry_add(st, e);
		break;
	}
	case MS_BPF_REC_FAULT: {
		const struct ms_bpf_fault *f = data;
		struct ms_event ev = {
			.t_ns = f->t_ns,
			.addr = f->addr,
			.len = st->page_size,
			.arg = f->ip,
			.pid = f->pid,
			.tid = f->tid,
			.op = MS_OP_PAGE_FAULT,
			.source = MS_SRC_KERNEL,
			.to = MS_STATE_UNCHANGED,
			/* x86 error code: bit 0 protection fault on a present page, bit 1 write */
			.flags = ((f->error_code & 2) ? MS_EVF_WRITE : 0) |
				 ((f->error_code & 1) ? MS_EVF_PRESENT : 0),
		};

		if (f->error_code & MS_BPF_FAULT_HUGE) { /* residency notice: the huge page */
			ev.flags = MS_EVF_HUGE | (ev.flags & MS_EVF_WRITE);
			ev.len = st->pmd_size;
		}

		if (size >= sizeof(*f) && k->on_event)
			k->on_event(k->ctx, &ev);
		break;
	}
	case MS_BPF_REC_THP: {
		const struct ms_bpf_thp *h = data;
		struct ms_event ev = {
			.t_ns = h->t_ns,
			.addr = h->addr,
			.len = h->len,
			.pid = h->pid,
			.tid = h->tid,
			.result = h->status,
			.op = MS_OP_THP_COLLAPSE,
			.source = MS_SRC_KERNEL,
			.to = MS_STATE_UNCHANGED,
			.flags = h->status ? MS_EVF_FAILED : 0,
		};

		if (size >= sizeof(*h) && k->on_event)
			k->on_event(k->ctx, &ev);
		break;
	}
	case MS_BPF_REC_PROC:
		if (size >= sizeof(struct ms_bpf_proc) &&
		    ((const struct ms_bpf_proc *)data)->ptype == MS_PROC_EXIT)
			entry_forget_pid(st, ((const struct ms_bpf_proc *)data)->pid);
		if (size >= sizeof(struct ms_bpf_proc) && k->on_proc)
			k->on_proc(k->ctx, (const void *)((const char *)data + 8));
		break;
	case MS_BPF_REC_GO:
		if (size >= sizeof(struct ms_bpf_go) && st->go_fn)
			st->go_fn(st->go_ctx, data);
		break;
	default:
		break;
	}
	return 0;
}

/* Sum of the per-CPU lost counters, per record type, into out. */
static int ms_ebpf_read_lost(struct ms_ebpf *st, uint64_t out[MS_BPF_REC_COUNT])
{
	size_t vsz = sizeof(uint64_t) * st->ncpus;
	int err;

	for (uint32_t type = 0; type < MS_BPF_REC_COUNT; type++) {
		out[type] = 0;
		err = bpf_map__lookup_elem(st->skel->maps.lost, &type, sizeof(type), st->lost_buf,
					   vsz, 0);
		if (err)
			return err;
		for (int c = 0; c < st->ncpus; c++)
			out[type] += st->lost_buf[c];
	}
	return 0;
}

/* Tell the sink about records lost since the last report; at most every 100 ms unless forced. */
static void ms_ebpf_report_lost(struct ms_ebpf *st, bool force)
{
	static const char *const where[MS_BPF_REC_COUNT] = {
		[0] = "ebpf",
		[MS_BPF_REC_SYSCALL] = "ebpf ring buffer: syscalls",
		[MS_BPF_REC_FAULT] = "ebpf ring buffer: page faults",
		[MS_BPF_REC_THP] = "ebpf ring buffer: THP collapses",
		[MS_BPF_REC_PROC] = "ebpf: process records (ring or traced map full)",
		[MS_BPF_REC_GO] = "ebpf ring buffer: Go runtime uprobes",
		[MS_BPF_REC_ENTRY] =
			"ebpf ring buffer: munmap entry marks (their order may not hold)",
	};
	uint64_t now = coarse_now_ns(), cur[MS_BPF_REC_COUNT], since = st->lost_checked_ns;

	/* Every 10 ms: the time of the read before is when a loss became possible, which
	 * must be known before the merge (30 ms behind) applies what came after it. */
	if (!force && now - st->lost_checked_ns < 10000000ull)
		return;
	st->lost_checked_ns = now;
	if (ms_ebpf_read_lost(st, cur))
		return;
	for (int t = 0; t < MS_BPF_REC_COUNT; t++) {
		if (cur[t] <= st->lost_seen[t])
			continue;
		if (st->sink.on_lost_at)
			st->sink.on_lost_at(st->sink.ctx, cur[t] - st->lost_seen[t], since,
					    where[t]);
		else if (st->sink.on_lost)
			st->sink.on_lost(st->sink.ctx, cur[t] - st->lost_seen[t], where[t]);
		st->lost_seen[t] = cur[t];
	}
}

static uint32_t ms_pow2_at_least(uint64_t n)
{
	uint32_t p = 4096;

	while (p < n && p < (1u << 30))
		p <<= 1;
	return p;
}

static uint32_t ms_log2(uint64_t n)
{
	uint32_t s = 0;

	while ((1ull << (s + 1)) <= n)
		s++;
	return s;
}

/* Programs of each feature, for autoload and attach. */
static struct bpf_program *ms_feat_prog(struct memstate_bpf *s, unsigned feat, int i)
{
	struct bpf_program *core[] = {s->progs.ms_sys_enter, s->progs.ms_sys_exit, s->progs.ms_fork,
				      s->progs.ms_exec,	     s->progs.ms_exit,	   NULL};
	struct bpf_program *faults[] = {s->progs.ms_page_fault, s->progs.ms_page_fault_kernel,
					NULL};
	struct bpf_program *thp[] = {s->progs.ms_thp_collapse, s->progs.ms_thp_scan_pmd, NULL};

	switch (feat) {
	case MS_FEAT_CORE:
		return core[i];
	case MS_FEAT_FAULTS:
		return faults[i];
	default:
		return thp[i];
	}
}

static struct bpf_link **ms_prog_link(struct memstate_bpf *s, struct bpf_program *p)
{
	if (p == s->progs.ms_sys_enter)
		return &s->links.ms_sys_enter;
	if (p == s->progs.ms_sys_exit)
		return &s->links.ms_sys_exit;
	if (p == s->progs.ms_fork)
		return &s->links.ms_fork;
	if (p == s->progs.ms_exec)
		return &s->links.ms_exec;
	if (p == s->progs.ms_exit)
		return &s->links.ms_exit;
	if (p == s->progs.ms_page_fault)
		return &s->links.ms_page_fault;
	if (p == s->progs.ms_page_fault_kernel)
		return &s->links.ms_page_fault_kernel;
	if (p == s->progs.ms_thp_collapse)
		return &s->links.ms_thp_collapse;
	return &s->links.ms_thp_scan_pmd;
}

/* Attach every program of feat; 0, or the first error (then none of feat stays attached). */
static int ms_attach_feat(struct memstate_bpf *s, unsigned feat)
{
	struct bpf_program *p;
	int err = 0;

	for (int i = 0; (p = ms_feat_prog(s, feat, i)); i++) {
		struct bpf_link **l = ms_prog_link(s, p);

		*l = bpf_program__attach(p);
		if (!*l) {
			err = -errno;
			break;
		}
	}
	if (err) {
		for (int i = 0; (p = ms_feat_prog(s, feat, i)); i++) {
			struct bpf_link **l = ms_prog_link(s, p);

			bpf_link__destroy(*l);
			*l = NULL;
		}
	}
	return err;
}

static void ms_detach_all(struct memstate_bpf *s)
{
	static const unsigned feats[] = {MS_FEAT_CORE, MS_FEAT_FAULTS, MS_FEAT_THP};
	struct bpf_program *p;

	/* The tree first, then the rest: no half-followed process. */
	for (size_t f = 0; f < 3; f++) {
		for (int i = 0; (p = ms_feat_prog(s, feats[f], i)); i++) {
			struct bpf_link **l = ms_prog_link(s, p);

			bpf_link__destroy(*l);
			*l = NULL;
		}
	}
}

static void ms_go_detach(struct ms_ebpf *st)
{
	/* One link for all (uprobe_multi): removing its uprobes waits for one RCU grace
	 * period. Perf-event uprobes wait for one each, in turn (0.1 s apiece here). */
	if (st->go_multi_fd >= 0)
		close(st->go_multi_fd);
	st->go_multi_fd = -1;
	for (unsigned i = 0; i < st->ngo_links; i++)
		bpf_link__destroy(st->go_links[i]);
	st->ngo_links = 0;
}

static void ms_ebpf_close(void *state)
{
	struct ms_ebpf *st = state;

	if (!st)
		return;
	ms_go_detach(st);
	free(st->go_links);
	if (st->epfd >= 0)
		close(st->epfd);
	ring_buffer__free(st->rb);
	memstate_bpf__destroy(st->skel);
	free(st->lost_buf);
	free(st->entries);
	free(st);
}

static int ms_ebpf_open(const struct ms_source_cfg *cfg, const struct ms_sink *sink, void **state)
{
	static const struct ms_source_cfg defaults = {.faults = true, .thp = true, .files = true};
	struct ms_ebpf *st;
	unsigned want;
	int err;

	*state = NULL;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->cfg = cfg ? *cfg : defaults;
	st->sink = *sink;
	st->go_multi_fd = -1;
	st->epfd = -1;
	st->page_size = sysconf(_SC_PAGESIZE);
	ms_libbpf_verbose = st->cfg.verbose;
	libbpf_set_print(ms_libbpf_print);

	err = ms_features_probe(&st->feat);
	if (err)
		goto cleanup;
	st->ncpus = libbpf_num_possible_cpus();
	if (st->ncpus <= 0) {
		err = st->ncpus ? st->ncpus : -EINVAL;
		goto cleanup;
	}
	st->lost_buf = calloc(st->ncpus, sizeof(uint64_t));
	if (!st->lost_buf) {
		err = -ENOMEM;
		goto cleanup;
	}

	st->skel = memstate_bpf__open();
	if (!st->skel) {
		err = -errno;
		goto cleanup;
	}
	want = MS_FEAT_CORE | (st->cfg.faults ? MS_FEAT_FAULTS : 0) |
	       (st->cfg.thp ? MS_FEAT_THP : 0);
	want &= st->feat.have;
	for (unsigned feat = MS_FEAT_FAULTS; feat <= MS_FEAT_THP; feat <<= 1) {
		struct bpf_program *p;

		for (int i = 0; !(want & feat) && (p = ms_feat_prog(st->skel, feat, i)); i++)
			bpf_program__set_autoload(p, false);
	}
	if (!(want & MS_FEAT_FAULTS) || !(st->feat.have & MS_FEAT_THPFAULT))
		bpf_program__set_autoload(st->skel->progs.ms_thp_fault, false);
	if (!(st->feat.have & MS_FEAT_UPROBE))
		bpf_program__set_autoload(st->skel->progs.ms_go_entry, false);
	if (st->feat.have & MS_FEAT_UMULTI)
		bpf_program__set_expected_attach_type(st->skel->progs.ms_go_entry_multi,
						      MS_BPF_TRACE_UPROBE_MULTI);
	else
		bpf_program__set_autoload(st->skel->progs.ms_go_entry_multi, false);

	/* Settings (rodata): the syscalls the inference wants, by this arch's numbers. */
	for (unsigned nr = 0; nr < MS_BPF_SYS_BITS; nr++) {
		if (ms_infer_wants(nr))
			st->skel->rodata->sys_mask[nr / 64] |= 1ull << (nr % 64);
	}
	st->skel->rodata->nr_madvise = SYS_madvise;
	st->skel->rodata->nr_munmap = SYS_munmap;
	st->skel->rodata->nr_mremap = SYS_mremap;
	st->skel->rodata->madv_collapse = MADV_COLLAPSE;
	st->skel->rodata->page_shift = ms_log2(st->page_size);
	st->pmd_size = ms_thp_size();
	st->skel->rodata->pmd_size = st->pmd_size;
	st->skel->rodata->pmd_order = ms_log2(st->pmd_size) - ms_log2(st->page_size);
	st->skel->rodata->track_huge =
		(want & MS_FEAT_FAULTS) && (st->feat.have & MS_FEAT_THPFAULT);
	st->skel->rodata->scan_status_arg = st->feat.scan_status_arg;
	{
		uint32_t ring = ms_pow2_at_least(st->cfg.ring_bytes ? st->cfg.ring_bytes
								    : MS_BPF_RING_DEFAULT);

		/* Wake the consumer each time a CPU has filled its share of a quarter of the
		 * ring: rare, and never a full ring without a wake-up. */
		st->skel->rodata->wakeup_shift = ms_log2(ring / 4 / st->ncpus);
		err = bpf_map__set_max_entries(st->skel->maps.events, ring);
		if (err)
			goto cleanup;
	}

	err = memstate_bpf__load(st->skel);
	if (err)
		goto cleanup;
	err = ms_attach_feat(st->skel, MS_FEAT_CORE);
	if (err)
		goto cleanup;
	st->attached = MS_FEAT_CORE;
	for (unsigned feat = MS_FEAT_FAULTS; feat <= MS_FEAT_THP; feat <<= 1) {
		if (!(want & feat))
			continue;
		/* An optional feature the kernel refuses leaves the rest working. */
		if (ms_attach_feat(st->skel, feat) == 0)
			st->attached |= feat;
		else
			ms_feat_note(&st->feat, "tp_btf attach refused for %s",
				     feat == MS_FEAT_FAULTS ? "page faults" : "THP collapses");
	}
	/* Optional: without it a huge-page fault makes one page resident, not 2 MiB. */
	if ((st->attached & MS_FEAT_FAULTS) && (st->feat.have & MS_FEAT_THPFAULT)) {
		st->skel->links.ms_thp_fault = bpf_program__attach(st->skel->progs.ms_thp_fault);
		if (!st->skel->links.ms_thp_fault)
			ms_feat_note(&st->feat,
				     "mm_page_alloc attach refused: huge-page faults count 4 KiB");
	}

	st->rb = ring_buffer__new(bpf_map__fd(st->skel->maps.events), ms_ebpf_record, st, NULL);
	if (!st->rb) {
		err = -errno;
		goto cleanup;
	}
	/*
	 * libbpf's epoll is level-triggered: readable whenever a record waits, so a loop
	 * polling it wakes for every few records the program makes (28k times a second on a
	 * syscall-dense program here, each with its syscalls and the merge's bookkeeping).
	 * Edge-triggered, the fd reports only the ring's wake-ups (a quarter of the ring per
	 * CPU, or an urgent record), and the caller's timeout takes the rest in batches.
	 */
	st->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (st->epfd >= 0) {
		struct epoll_event ev = {.events = EPOLLIN | EPOLLET};

		if (epoll_ctl(st->epfd, EPOLL_CTL_ADD, bpf_map__fd(st->skel->maps.events), &ev)) {
			close(st->epfd);
			st->epfd = -1;
		}
	}
	if (st->cfg.verbose && st->feat.missing[0])
		fprintf(stderr, "memstate: ebpf: %s\n", st->feat.missing);
	*state = st;
	return 0;

cleanup:
	if (st->cfg.verbose && st->feat.missing[0])
		fprintf(stderr, "memstate: ebpf: %s\n", st->feat.missing);
	ms_ebpf_close(st);
	return err < 0 ? err : -EINVAL;
}

static bool ms_ebpf_sees_faults(void *state)
{
	const struct ms_ebpf *st = state;

	return st->attached & MS_FEAT_FAULTS;
}

static int ms_ebpf_start(void *state, pid_t pid)
{
	struct ms_ebpf *st = state;
	struct ms_bpf_proc_info info = {0};
	uint32_t key = pid;

	int err;

	if (pid <= 0 || (uint32_t)pid >= MS_BPF_PID_BITS)
		return -EINVAL;
	err = bpf_map__update_elem(st->skel->maps.traced, &key, sizeof(key), &info, sizeof(info),
				   BPF_ANY);
	if (err)
		return err;
	/* The hot-path filter, in the mmapped .bss: from here on pid is followed. */
	__atomic_fetch_or(&st->skel->bss->traced_bits[key / 64], 1ull << (key % 64),
			  __ATOMIC_SEQ_CST);
	return 0;
}

static int ms_ebpf_poll(void *state, int timeout_ms)
{
	struct ms_ebpf *st = state;
	int n, m;

	if (st->stopped)
		return 0;
	if (st->epfd >= 0) {
		struct epoll_event ev;

		/* Take the wake-up (edge-triggered: it is reported once), then the records. */
		n = epoll_wait(st->epfd, &ev, 1, timeout_ms) < 0 && errno != EINTR ? -errno : 0;
	} else {
		n = ring_buffer__poll(st->rb, timeout_ms);
		if (n == -EINTR)
			n = 0;
	}
	if (n < 0)
		return n;
	/* Records below the wake-up threshold raised no epoll event: take them too. */
	m = ring_buffer__consume(st->rb);
	if (m < 0)
		return m;
	ms_ebpf_report_lost(st, false);
	return n + m;
}

static int ms_ebpf_fd(void *state)
{
	struct ms_ebpf *st = state;

	return st->epfd >= 0 ? st->epfd : ring_buffer__epoll_fd(st->rb);
}

static int ms_ebpf_stop(void *state)
{
	struct ms_ebpf *st = state;
	int n;

	if (st->stopped)
		return 0;
	/* Detach first, so that the drain below sees the last record there will be. */
	ms_go_detach(st);
	ms_detach_all(st->skel);
	n = ring_buffer__consume(st->rb);
	ms_ebpf_report_lost(st, true);
	st->stopped = true;
	return n < 0 ? n : 0;
}

static uint64_t ms_ebpf_lost(void *state)
{
	struct ms_ebpf *st = state;
	uint64_t cur[MS_BPF_REC_COUNT], sum = 0;

	if (!st)
		return 0;
	if (ms_ebpf_read_lost(st, cur))
		memcpy(cur, st->lost_seen, sizeof(cur));
	for (int t = 0; t < MS_BPF_REC_COUNT; t++)
		sum += cur[t];
	return sum;
}

static int ms_ebpf_probe(char *why, size_t whylen)
{
	struct ms_sink none = {0};
	struct ms_source_cfg cfg = {.faults = true, .thp = true, .ring_bytes = 4096};
	struct ms_ebpf *st = NULL;
	int err;

	/* A trial load and attach: the only way to know the verifier and tp_btf agree. */
	err = ms_ebpf_open(&cfg, &none, (void **)&st);
	if (err) {
		struct ms_features f;
		int ferr = ms_features_probe(&f);

		if (ferr)
			snprintf(why, whylen, "ebpf: %s: no eBPF capture", f.missing);
		else
			snprintf(why, whylen,
				 "ebpf: loading the probe failed (%s): no eBPF capture",
				 strerror(-err));
		return err;
	}
	if (st->attached == (MS_FEAT_CORE | MS_FEAT_FAULTS | MS_FEAT_THP))
		snprintf(why, whylen,
			 "ebpf: memory syscalls, process tree, page faults and THP "
			 "collapses");
	else
		snprintf(why, whylen,
			 "ebpf: %s; memory syscalls and the process tree%s%s still work",
			 st->feat.missing, st->attached & MS_FEAT_FAULTS ? ", page faults" : "",
			 st->attached & MS_FEAT_THP ? ", THP collapses" : "");
	ms_ebpf_close(st);
	return 0;
}

/* ------------------------------------------------------------------ Go uprobes */

void ms_ebpf_go_sink(void *state, ms_ebpf_go_fn fn, void *ctx)
{
	struct ms_ebpf *st = state;

	st->go_fn = fn;
	st->go_ctx = ctx;
}

/* All of them as one uprobe_multi link: the link's fd, or -errno. */
static int ms_go_attach_multi(struct ms_ebpf *st, const char *path, const uint64_t *offs,
			      const uint64_t *cookies, unsigned n)
{
	union {
		uint8_t raw[128];
		uint32_t w[32];
		uint64_t d[16];
	} attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.w[0] = (uint32_t)bpf_program__fd(st->skel->progs.ms_go_entry_multi);
	attr.w[2] = MS_BPF_TRACE_UPROBE_MULTI;
	attr.d[2] = (uint64_t)(uintptr_t)path;	  /* link_create.uprobe_multi.path */
	attr.d[3] = (uint64_t)(uintptr_t)offs;	  /* offsets */
	attr.d[5] = (uint64_t)(uintptr_t)cookies; /* cookies */
	attr.w[12] = n;				  /* cnt; flags 0, pid 0: every process */
	fd = (int)syscall(__NR_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	return fd < 0 ? -errno : fd;
}

int ms_ebpf_go_attach(void *state, const char *path, const uint64_t *offs, const uint64_t *cookies,
		      unsigned n, int *errs)
{
	struct ms_ebpf *st = state;
	unsigned ok = 0;
	int fd;

	if (!st || st->stopped || !n)
		return -EINVAL;
	if (!(st->feat.have & MS_FEAT_UPROBE))
		return -EOPNOTSUPP;
	/* One link, when the kernel has them and takes every offset; else one by one,
	 * which also tells which offsets it refuses. */
	if ((st->feat.have & MS_FEAT_UMULTI) && st->go_multi_fd < 0 &&
	    (fd = ms_go_attach_multi(st, path, offs, cookies, n)) >= 0) {
		st->go_multi_fd = fd;
		memset(errs, 0, n * sizeof(*errs));
		return (int)n;
	}
	for (unsigned i = 0; i < n; i++) {
		LIBBPF_OPTS(bpf_uprobe_opts, opts, .bpf_cookie = cookies[i]);
		struct bpf_link *l;

		if (st->ngo_links == st->go_links_cap) {
			unsigned cap = st->go_links_cap ? 2 * st->go_links_cap : 16;
			struct bpf_link **v = realloc(st->go_links, cap * sizeof(*v));

			if (!v) {
				errs[i] = -ENOMEM;
				continue;
			}
			st->go_links = v;
			st->go_links_cap = cap;
		}
		/* Every process mapping the file: the program filters on the traced tree, and a
		 * per-process uprobe would not follow the threads the program creates later. */
		l = bpf_program__attach_uprobe_opts(st->skel->progs.ms_go_entry, -1, path, offs[i],
						    &opts);
		errs[i] = l ? 0 : -errno;
		if (l) {
			st->go_links[st->ngo_links++] = l;
			ok++;
		}
	}
	return (int)ok;
}

const struct ms_source_ops ms_src_ebpf = {
	.name = "ebpf",
	.probe = ms_ebpf_probe,
	.open = ms_ebpf_open,
	.child_setup = NULL,
	.start = ms_ebpf_start,
	.poll = ms_ebpf_poll,
	.fd = ms_ebpf_fd,
	.stop = ms_ebpf_stop,
	.close = ms_ebpf_close,
	.lost = ms_ebpf_lost,
	.pending_since = ms_ebpf_pending_since,
	.sees_faults = ms_ebpf_sees_faults,
	.go_sink = ms_ebpf_go_sink,
	.go_attach = ms_ebpf_go_attach,
};
