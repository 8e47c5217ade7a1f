// SPDX-License-Identifier: MIT
/*
 * The live feed between a producer (the tracer's capture thread, or the demo producer) and
 * the TUI: the producer side of tui/live.h, and the copies the TUI's scan step takes.
 *
 * The producer holds live->lock for one small copy per event and never waits for anything
 * else; the consumer holds it only to copy the newest events out (at most MS_LIVE_RECENT of
 * them) and the process table. When the consumer falls more than MS_LIVE_RECENT events
 * behind, it skips to the newest ones and counts what it skipped: the producer is never
 * slowed to keep the view complete (the timeline on disk has every event).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/util.h"
#include "tui.h"

void ms_live_init(struct ms_live *live)
{
	memset(live, 0, sizeof(*live));
	pthread_mutex_init(&live->lock, NULL);
	live->t0_ns = ms_now_ns();
}

/* Caller holds the lock. The newest entry for pid: exec'd and re-registered ones win. */
static struct ms_live_proc *find_proc_locked(struct ms_live *live, uint32_t pid)
{
	for (unsigned i = live->nprocs; i-- > 0;) {
		if (live->procs[i].pid == pid)
			return &live->procs[i];
	}
	return NULL;
}

struct ms_live_proc *ms_live_add_proc(struct ms_live *live, uint32_t pid, uint32_t ppid,
				      const char *exe, struct ms_space *space)
{
	struct ms_live_proc *p;

	pthread_mutex_lock(&live->lock);
	p = find_proc_locked(live, pid);
	/*
	 * The same live pid again is an exec (a fresh space for the same process): replace
	 * its space in place. A pid that exited and came back is a new process.
	 */
	if (!p || p->exited) {
		if (live->nprocs >= MS_LIVE_MAX_PROCS) {
			pthread_mutex_unlock(&live->lock);
			return NULL;
		}
		p = &live->procs[live->nprocs++];
		memset(p, 0, sizeof(*p));
		p->pid = pid;
		p->exit_code = -1;
	}
	p->ppid = ppid;
	snprintf(p->exe, sizeof(p->exe), "%s", exe ? exe : "");
	p->space = space;
	pthread_mutex_unlock(&live->lock);
	return p;
}

void ms_live_publish(struct ms_live *live, const struct ms_event *ev, const char *message)
{
	uint64_t slot;

	pthread_mutex_lock(&live->lock);
	slot = live->recent_head & (MS_LIVE_RECENT - 1);
	live->recent[slot] = *ev;
	if (message && *message)
		snprintf(live->recent_msg[slot], sizeof(live->recent_msg[slot]), "%s", message);
	else
		live->recent_msg[slot][0] = 0;
	live->recent_head++;
	live->events++;
	if (ev->op == MS_OP_PROC_EXIT) {
		struct ms_live_proc *p = find_proc_locked(live, ev->pid);

		if (p) {
			p->exited = true;
			p->exit_code = ev->result;
			p->exit_signal = (int)ev->aux;
		}
	}
	pthread_mutex_unlock(&live->lock);
}

void ms_live_set_done(struct ms_live *live)
{
	pthread_mutex_lock(&live->lock);
	live->done = true;
	pthread_mutex_unlock(&live->lock);
}

/* ------------------------------------------------------------------ consumer copies */

size_t ms_live_read(struct ms_live *live, uint64_t *cursor, struct ms_event *out,
		    struct ms_live_msg *msgs, size_t *nmsgs, size_t max, uint64_t *skipped)
{
	uint64_t head, from;
	size_t n, maxmsgs = *nmsgs;

	if (max > MS_LIVE_RECENT)
		max = MS_LIVE_RECENT;
	*nmsgs = 0;
	pthread_mutex_lock(&live->lock);
	head = live->recent_head;
	from = *cursor;
	if (head - from > max)
		from = head - max; /* fell behind: keep the newest, skip the rest */
	*skipped = from - *cursor;
	n = (size_t)(head - from);
	for (size_t done = 0; done < n;) {
		size_t slot = (size_t)((from + done) & (MS_LIVE_RECENT - 1));
		size_t run = MS_LIVE_RECENT - slot;

		if (run > n - done)
			run = n - done;
		memcpy(&out[done], &live->recent[slot], run * sizeof(*out));
		done += run;
	}
	/* Messages only for violations: they are rare, and copying all would cost 8x more. */
	for (size_t i = 0; i < n && *nmsgs < maxmsgs; i++) {
		size_t slot = (size_t)((from + i) & (MS_LIVE_RECENT - 1));

		if (!out[i].violation)
			continue;
		msgs[*nmsgs].index = i;
		memcpy(msgs[*nmsgs].text, live->recent_msg[slot], sizeof(msgs[0].text));
		(*nmsgs)++;
	}
	pthread_mutex_unlock(&live->lock);
	*cursor = head;
	return n;
}

void ms_live_state(struct ms_live *live, struct ms_live_state *st)
{
	pthread_mutex_lock(&live->lock);
	st->nprocs = live->nprocs;
	memcpy(st->procs, live->procs, live->nprocs * sizeof(live->procs[0]));
	st->events = live->events;
	st->dropped = live->dropped;
	st->t0_ns = live->t0_ns;
	st->replay = live->replay;
	st->done = live->done;
	st->no_color = live->no_color;
	memcpy(st->command, live->command, sizeof(st->command));
	pthread_mutex_unlock(&live->lock);
}
