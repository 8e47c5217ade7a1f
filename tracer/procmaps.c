// SPDX-License-Identifier: MIT
/* The tracing session and /proc/PID/maps: seeding a process's map, checking it at exit. */
#include <errno.h>
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

#include "bpf/go.h"
#include "trace.h"
#include "tui/live.h"
#include "lib/util.h"
#include "trace_int.h"

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
	*ev = (struct ms_event){.addr = lo, .len = hi - lo, .t_ns = ms_now_ns()};
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
	ms_space_lock(p->sp);
	ms_space_foreach_region_locked(p->sp, shadow_range, &m);
	ms_space_unlock(p->sp);
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
