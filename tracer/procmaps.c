// SPDX-License-Identifier: MIT
/* The tracing session and /proc/PID/maps and pagemap: seeding a process, checking it at exit (trace_int.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"
#include "memstate/pagemap.h"

#include "bpf/go.h"
#include "memstate/channel.h"
#include "trace.h"
#include "tui/live.h"
#include "trace_int.h"

/* ------------------------------------------------------------------ seeds at exec */

/* The start of /proc/PID/exe's path, or of the interpreter's: whose bss the kernel maps. */
static bool image_file(const char *path, const char *exe)
{
	const char *b = strrchr(path, '/');

	return !strcmp(path, exe) || (b && !strncmp(b + 1, "ld-", 3));
}

/*
 * Residency of memory memstate did not see being touched (SPEC section 8): the pages of
 * [addr, addr + len) present now in pid's pagemap, one fn call per run of them, so that
 * seeded memory starts with what the kernel holds. Quietly nothing when unreadable.
 */
static void present_runs(uint32_t pid, uint64_t addr, uint64_t len,
			 void (*fn)(void *ctx, uint64_t s, uint64_t e), void *ctx)
{
	uint64_t ps = (uint64_t)sysconf(_SC_PAGESIZE), buf[512], run = 0, a = addr;
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/pagemap", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	while (a < addr + len) {
		uint64_t n = (addr + len - a) / ps;
		ssize_t got;

		n = n > 512 ? 512 : n;
		got = pread(fd, buf, n * 8, (off_t)(a / ps * 8));
		if (got < (ssize_t)(n * 8))
			break;
		for (uint64_t k = 0; k < n; k++, a += ps) {
			bool present = buf[k] >> 63;

			if (present && !run)
				run = a;
			if (!present && run) {
				fn(ctx, run, a);
				run = 0;
			}
		}
	}
	if (run)
		fn(ctx, run, a);
	close(fd);
}

struct seed_ctx {
	struct ms_trace *t;
	uint32_t pid;
	uint64_t t_ns;
	bool queued; /* queue behind the exec (true) or apply now (attach) */
};

static void seed_present(void *arg, uint64_t s, uint64_t e)
{
	struct seed_ctx *c = arg;
	struct ms_event ev = {.op = MS_OP_PAGE_FAULT,
			      .source = MS_SRC_KERNEL,
			      .flags = MS_EVF_SEED,
			      .addr = s,
			      .len = e - s,
			      .pid = c->pid,
			      .tid = c->pid,
			      .t_ns = c->t_ns};
	struct item *it;
	struct tproc *p;

	if (c->queued) {
		it = tr_item_new(c->t, IT_EVENT, c->t_ns);
		if (!it)
			return;
		it->u.ev = ev;
		tr_queue(c->t, it);
	} else if ((p = tr_proc_get(c->t, c->pid))) {
		tr_apply_event(c->t, p, &ev, 0, NULL);
	}
}

/*
 * At exec the kernel maps the stack and the bss of the program and of its interpreter
 * without any syscall. Read them now, as the exec record arrives (under ptrace the program
 * is still stopped at its exec), and queue them right after the exec as seed events. Only
 * those: anything else in /proc/PID/maps may already come from syscalls queued behind.
 */
void tr_queue_exec_seeds(struct ms_trace *t, const struct ms_proc_event *pe)
{
	char path[64], exe[512] = "", line[1024], prev_path[512] = "";
	unsigned long prev_end = 0;
	struct item *it;
	struct ms_event ev;
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/exe", pe->pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	snprintf(path, sizeof(path), "/proc/%u/maps", pe->pid);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *p = strchr(line, '/'), *nl;
		bool stack = strstr(line, "[stack]") != NULL;

		if (!ms_maps_line(line, &ev))
			continue;
		if (ev.op == MS_OP_FILE_MAP) {
			snprintf(prev_path, sizeof(prev_path), "%s", p ? p : "");
			if ((nl = strchr(prev_path, '\n')))
				*nl = 0;
			prev_end = (unsigned long)(ev.addr + ev.len);
			continue;
		}
		if (stack || (ev.addr == prev_end && image_file(prev_path, exe))) {
			it = tr_item_new(t, IT_EVENT, pe->t_ns);
			if (!it)
				break;
			ev.pid = ev.tid = pe->pid;
			ev.t_ns = pe->t_ns;
			ev.source = MS_SRC_SYSCALL;
			ev.flags |= MS_EVF_SEED;
			it->u.ev = ev;
			tr_queue(t, it);
			if (ev.op == MS_OP_ALLOC) { /* what of it the kernel holds already */
				struct seed_ctx c = {t, pe->pid, pe->t_ns, true};

				present_runs(pe->pid, ev.addr, ev.len, seed_present, &c);
			}
		}
		prev_end = 0;
	}
	fclose(f);
}

/* ------------------------------------------------------------------ /proc/PID/maps */

bool ms_maps_line(const char *line, struct ms_event *ev)
{
	unsigned long lo, hi, off, inode;
	char perms[8] = "", dev[16], path[512] = "";
	int n = sscanf(line, "%lx-%lx %7s %lx %15s %lu %511[^\n]", &lo, &hi, perms, &off, dev,
		       &inode, path);

	if (n < 6 || hi <= lo)
		return false;
	/* [uprobes]: the page the kernel single-steps probed instructions in, made by the
	 * tracer's own uprobes (Go), never by the program. */
	if (!strcmp(path, "[vdso]") || !strcmp(path, "[vvar]") || !strcmp(path, "[vsyscall]") ||
	    !strcmp(path, "[vvar_vclock]") || !strcmp(path, "[uprobes]"))
		return false;
	*ev = (struct ms_event){.addr = lo, .len = hi - lo, .t_ns = tr_mono_ns()};
	if (inode || perms[3] == 's' || path[0] == '/') {
		ev->op = MS_OP_FILE_MAP;
		ev->kind = MS_KIND_FILE;
	} else if (!strncmp(perms, "---", 3)) {
		ev->op = MS_OP_RESERVE;
	} else {
		ev->op = MS_OP_ALLOC;
	}
	return true;
}

int ms_trace_seed_from_proc(struct ms_trace *t, uint32_t pid)
{
	char path[64], line[1024];
	struct ms_event ev;
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/maps", pid);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (!ms_maps_line(line, &ev) || (!t->o.files && ev.op == MS_OP_FILE_MAP))
			continue;
		ev.tid = pid;
		if (!ms_trace_seed(t, pid, &ev))
			n++;
		if (ev.op == MS_OP_ALLOC) {
			struct seed_ctx c = {t, pid, ev.t_ns, false};

			present_runs(pid, ev.addr, ev.len, seed_present, &c);
		}
	}
	fclose(f);
	return n;
}

/* What a byte is, for the map check: not anonymous memory, Reserved, or usable. */
enum mclass { MC_OTHER, MC_RESERVED, MC_USABLE };

struct mrange {
	uint64_t s, e;
	uint8_t cls;
};

struct mlist {
	struct mrange *v;
	size_t n, cap;
};

static int mlist_add(struct mlist *l, uint64_t s, uint64_t e, uint8_t cls)
{
	if (l->n && l->v[l->n - 1].e == s && l->v[l->n - 1].cls == cls) {
		l->v[l->n - 1].e = e;
		return 0;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 256;
		struct mrange *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = (struct mrange){s, e, cls};
	return 0;
}

static int shadow_range(const struct ms_region *r, void *ctx)
{
	uint8_t cls = r->kind == MS_KIND_FILE	? MC_OTHER
		      : r->state == MS_RESERVED ? MC_RESERVED
						: MC_USABLE;

	return mlist_add(ctx, r->start, r->end, cls);
}

/* Class of addr in a sorted range list, and where that answer stops holding. */
static uint8_t class_at(const struct mlist *l, size_t *i, uint64_t a, uint64_t *until)
{
	while (*i < l->n && l->v[*i].e <= a)
		(*i)++;
	if (*i < l->n && l->v[*i].s <= a) {
		*until = l->v[*i].e;
		return l->v[*i].cls;
	}
	*until = *i < l->n ? l->v[*i].s : UINT64_MAX;
	return MC_OTHER;
}

#define RES_DIFFS_KEPT 32 /* disagreeing runs kept per process for the timeline */

/* Residency against /proc/PID/pagemap (SPEC section 8): the ground truth at exit. */
static void verify_resident(struct ms_trace *t, struct tproc *p, FILE *f)
{
	struct ms_totals tot;
	char a[32], b[32];
	int err;

	ms_space_totals(p->base.sp, &tot);
	if (!tot.residency)
		return;
	if (!p->resck && !(p->resck = calloc(1, sizeof(*p->resck))))
		return;
	ms_res_check_free(p->resck);
	err = ms_pagemap_check(p->base.sp, (int)p->base.pid, RES_DIFFS_KEPT, p->resck);
	if (err) {
		if (f)
			fprintf(f, "memstate: residency check, pid %u: /proc/%u/pagemap: %s\n",
				p->base.pid, p->base.pid, strerror(-err));
		return;
	}
	t->st.res_checked++;
	t->st.res_diffs += p->resck->ndiffs;
	for (size_t i = 0; f && i < p->resck->nkept && i < 5; i++) {
		const struct ms_res_diff *d = &p->resck->diffs[i];

		fprintf(f,
			"memstate: residency check, pid %u: [%#" PRIx64 ", %#" PRIx64
			"): memstate %s resident, the kernel %s\n",
			p->base.pid, d->start, d->end,
			ms_fmt_size(a, sizeof(a), d->memstate, MS_SIZE_TEXT),
			ms_fmt_size(b, sizeof(b), d->kernel, MS_SIZE_TEXT));
	}
	if (f && p->resck->ndiffs > 5)
		fprintf(f, "memstate: residency check, pid %u: %" PRIu64 " more ranges differ\n",
			p->base.pid, p->resck->ndiffs - 5);
}

int ms_trace_verify_maps(struct ms_trace *t, uint32_t pid, FILE *f)
{
	static const char *const cname[] = {"not anonymous", "Reserved", "Prepared/Ready"};
	struct tproc *p = tr_proc_find(t, pid);
	struct mlist k = {0}, m = {0};
	char path[64], line[1024];
	struct ms_event ev;
	uint64_t a = 0;
	size_t ki = 0, mi = 0;
	int diffs = 0;
	FILE *maps;

	if (!p)
		return -ENOENT;
	snprintf(path, sizeof(path), "/proc/%u/maps", pid);
	maps = fopen(path, "r");
	if (!maps)
		return -errno;
	while (fgets(line, sizeof(line), maps)) {
		if (!ms_maps_line(line, &ev))
			continue;
		mlist_add(&k, ev.addr, ev.addr + ev.len,
			  ev.op == MS_OP_FILE_MAP  ? MC_OTHER
			  : ev.op == MS_OP_RESERVE ? MC_RESERVED
						   : MC_USABLE);
	}
	fclose(maps);
	ms_space_lock(p->base.sp);
	ms_space_foreach_region_locked(p->base.sp, shadow_range, &m);
	ms_space_unlock(p->base.sp);
	/* Walk both sorted lists at once, one run of equal answers at a time. */
	while (a != UINT64_MAX) {
		uint64_t ku, mu, end;
		uint8_t kc = class_at(&k, &ki, a, &ku), mc = class_at(&m, &mi, a, &mu);

		end = ku < mu ? ku : mu;
		if (kc != mc) {
			if (f && diffs < 5)
				fprintf(f,
					"memstate: map check, pid %u: [%#" PRIx64 ", %#" PRIx64
					") is %s for the kernel, %s for memstate\n",
					pid, a, end, cname[kc], cname[mc]);
			diffs++;
		}
		a = end;
	}
	free(k.v);
	free(m.v);
	t->st.maps_checked++;
	t->st.maps_diffs += (uint64_t)diffs;
	verify_resident(t, p, f);
	return diffs;
}

int ms_trace_seed(struct ms_trace *t, uint32_t pid, struct ms_event *ev)
{
	struct tproc *p = tr_proc_get(t, pid);

	if (!p)
		return -ENOMEM;
	ev->flags |= MS_EVF_SEED;
	ev->source = MS_SRC_SYSCALL;
	ev->pid = pid;
	tr_apply_event(t, p, ev, 0, NULL);
	return 0;
}

/* ------------------------------------------------------------------ life cycle */
