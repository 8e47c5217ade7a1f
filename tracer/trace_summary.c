// SPDX-License-Identifier: MIT
/* The tracing session's closing summary table (trace_int.h). */
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

static const char *base(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static void print_summary(struct ms_trace *t, FILE *f, const char *what)
{
	uint64_t events = 0, viol = 0, by_kind[MS_V_COUNT] = {0};
	size_t n = ms_proctab_count(&t->pt);
	char a[16], b[16], c[16], d[16], e[16];

	for (size_t i = 0; i < n; i++) {
		struct ms_totals tot;

		ms_space_totals(tr_proc_at(t, i)->base.sp, &tot);
		events += tot.events;
		viol += tot.violations;
		for (int k = 0; k < MS_V_COUNT; k++)
			by_kind[k] += tot.by_kind[k];
	}
	fprintf(f,
		"memstate: %s; %zu process%s, %" PRIu64 " events, %" PRIu64 " violations, %" PRIu64
		" lost\n",
		what, n, n == 1 ? "" : "es", events, viol, t->st.lost);
	fprintf(f, "  %-7s %-16s %10s %10s %10s %10s %10s %8s %5s %8s %5s\n", "PID", "EXE",
		"RESERVED", "PREPARED", "READY", "PEAK READY", "RESIDENT", "FAULTS", "THP",
		"EVENTS", "VIOL");
	for (size_t i = 0; i < ms_proctab_count(&t->pt); i++) {
		struct tproc *p = tr_proc_at(t, i);
		struct ms_totals tot;

		/* Keep the table readable for build scripts that fork hundreds of shells. */
		if (i == SUMMARY_ROWS && ms_proctab_count(&t->pt) > SUMMARY_ROWS + 1) {
			fprintf(f, "  ... %zu more processes in the timeline\n",
				ms_proctab_count(&t->pt) - i);
			break;
		}
		ms_space_totals(p->base.sp, &tot);
		fprintf(f,
			"  %-7u %-16.16s %10s %10s %10s %10s %10s %8" PRIu64 " %5" PRIu64
			" %8" PRIu64 " %5" PRIu64 "\n",
			p->base.pid, base(p->exe),
			ms_fmt_size(a, sizeof(a), tot.bytes[MS_RESERVED], MS_SIZE_TEXT),
			ms_fmt_size(b, sizeof(b), tot.bytes[MS_PREPARED], MS_SIZE_TEXT),
			ms_fmt_size(c, sizeof(c), tot.bytes[MS_READY], MS_SIZE_TEXT),
			ms_fmt_size(d, sizeof(d), tot.peak_bytes[MS_READY], MS_SIZE_TEXT),
			tot.residency
				? ms_fmt_size(e, sizeof(e),
					      tot.resident[MS_PREPARED] + tot.resident[MS_READY],
					      MS_SIZE_TEXT)
				: "-",
			tot.page_faults, tot.thp_collapses, tot.events, tot.violations);
	}
	if (t->st.maps_checked)
		fprintf(f, "  map check: %" PRIu64 " process%s compared with /proc/PID/maps, %s\n",
			t->st.maps_checked, t->st.maps_checked == 1 ? "" : "es",
			t->st.maps_diffs ? "ranges differ (above)" : "all agree");
	if (t->st.res_checked)
		fprintf(f,
			"  residency check: %" PRIu64 " process%s compared with /proc/PID/pagemap, "
			"%s\n",
			t->st.res_checked, t->st.res_checked == 1 ? "" : "es",
			t->st.res_diffs ? "ranges differ (above)" : "all agree");
	if (viol) {
		fprintf(f, "  violations:");
		for (int k = 1; k < MS_V_COUNT; k++) {
			if (by_kind[k])
				fprintf(f, " %s %" PRIu64, ms_violation_name((unsigned)k),
					by_kind[k]);
		}
		fprintf(f, "\n");
	}
}

int ms_trace_finish(struct ms_trace *t, FILE *summary, const char *what)
{
	struct ms_tl_process *procs;
	int err = 0;
	size_t n;

	ms_trace_flush(t, true); /* may name processes not known yet */
	n = ms_proctab_count(&t->pt);
	if (t->o.writer) {
		procs = calloc(n ? n : 1, sizeof(*procs));
		if (!procs)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++) {
			struct tproc *p = tr_proc_at(t, i);

			procs[i] = (struct ms_tl_process){
				.pid = p->base.pid,
				.ppid = p->base.ppid,
				.exe = p->exe[0] ? p->exe : NULL,
				.exit_code = p->base.exited && !p->base.exit_signal
						     ? p->base.exit_code
						     : -1,
				.exit_signal = p->base.exit_signal,
				.space = p->base.sp,
				.dropped = i == 0 ? t->st.lost : 0,
				.pagemap = p->resck,
			};
		}
		err = ms_tlw_finish(t->o.writer, procs, n);
		free(procs);
	}
	if (summary)
		print_summary(t, summary, what);
	return err;
}
