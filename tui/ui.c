// SPDX-License-Identifier: MIT
/*
 * The TUI's loop and keys: live (ms_tui_run, fed by struct ms_live) and replay
 * (ms_tui_replay, fed by struct ms_replay). Each turn: measure the terminal, scan the feed
 * into the model (live: at most every LIVE_PERIOD, so a key storm cannot hammer the
 * producer's locks), draw, then wait for a key until the next frame is due.
 *
 * Under a burst the producer is never waited for: a frame reads the newest events and a
 * fresh snapshot, and whatever happened in between is skipped for display only.
 */
#include <ctype.h>
#include <curses.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"
#include "tui.h"

#define LIVE_PERIOD   100000000ull /* ns between two live scans: 10 frames/s */
#define PLAY_PERIOD   33	   /* ms between replay frames while playing */
#define IDLE_PERIOD   500	   /* ms to wait for a key when nothing moves */
#define STATUS_NS     4000000000ull
#define PLAY_MAX_WAIT 1000000000ull /* a pause in the trace plays in at most 1 s */

__attribute__((format(printf, 2, 3))) static void status(struct tui *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->status, sizeof(t->status), fmt, ap);
	va_end(ap);
	t->status_until = ms_now_ns() + STATUS_NS;
}

/* ------------------------------------------------------------------ cursor */

static void cursor_to_cell(struct tui *t, int64_t cell)
{
	const struct ms_map *map = &t->m.map;

	if (!map->ncells)
		return;
	if (cell < 0)
		cell = 0;
	if ((uint64_t)cell >= map->ncells)
		cell = (int64_t)map->ncells - 1;
	t->cursor = (uint64_t)cell;
	t->cursor_addr = ms_map_cell_addr(map, t->cursor);
	t->cursor_set = true;
	tui_relayout(t); /* scrolls to keep it visible */
}

static void cursor_to_addr(struct tui *t, uint64_t addr)
{
	t->cursor_addr = addr;
	t->cursor_set = true;
	tui_relayout(t);
}

static void zoom(struct tui *t, int dir)
{
	uint64_t s = t->m.map.scale ? t->m.map.scale : t->m.page_size;

	if (dir > 0)
		s = s / 2 < t->m.page_size ? t->m.page_size : s / 2;
	else if (dir < 0)
		s = s * 2 > MS_MAP_MAX_SCALE ? MS_MAP_MAX_SCALE : s * 2;
	t->scale_user = dir ? s : 0;
	/* Zoom around the cursor: its address stays put. */
	if (!t->cursor_set && t->m.map.ncells)
		t->cursor_set = true;
	tui_relayout(t);
}

/* ------------------------------------------------------------------ replay moves */

static void select_pid(struct tui *t, uint32_t pid)
{
	if (t->m.sel_pid == pid)
		return;
	t->m.sel_pid = pid;
	ms_heat_clear(&t->m.heat);
	t->cursor_set = false;
	t->top = 0;
}

static void replay_seek(struct tui *t, int64_t pos)
{
	struct ms_replay *rp = t->rp;

	if (pos < 0)
		pos = 0;
	if ((uint64_t)pos > rp->nev)
		pos = (int64_t)rp->nev;
	if (ms_replay_seek(rp, (size_t)pos))
		status(t, "out of memory while seeking");
	t->dirty = true;
	/* Playing goes on from here. */
	t->play_wall = ms_now_ns();
	t->play_t = rp->pos ? rp->ev[rp->pos - 1].t_ns : (rp->nev ? rp->ev[0].t_ns : 0);
}

static void replay_advance(struct tui *t)
{
	struct ms_replay *rp = t->rp;
	uint64_t now = ms_now_ns(), target;
	size_t pos;

	if (t->paused)
		return;
	if (rp->pos >= rp->nev) {
		t->paused = true;
		t->dirty = true;
		return;
	}
	target = t->play_t + (uint64_t)((double)(now - t->play_wall) * t->speed);
	pos = ms_replay_find_time(rp, target + 1);
	if (pos <= rp->pos) {
		/* Nothing due yet: a long quiet stretch of the trace is cut to PLAY_MAX_WAIT. */
		if ((double)(rp->ev[rp->pos].t_ns - target) / t->speed <= (double)PLAY_MAX_WAIT)
			return;
		pos = rp->pos + 1;
		t->play_wall = now;
		t->play_t = rp->ev[rp->pos].t_ns;
	}
	if (ms_replay_seek(rp, pos)) {
		status(t, "out of memory while playing");
		t->paused = true;
	}
	t->dirty = true;
	if (rp->pos >= rp->nev)
		t->paused = true;
}

static void show_violation_event(struct tui *t, const struct ms_event *ev, const char *msg,
				 const char *where)
{
	select_pid(t, ev->pid);
	t->viol_seq = ev->seq;
	t->viol_pid = ev->pid;
	t->viol_ev = *ev;
	t->viol_ev_set = true;
	cursor_to_addr(t, ev->addr);
	status(t, "%s%s at %012" PRIx64 "%s%s", where, ms_violation_name(ev->violation), ev->addr,
	       msg ? ": " : "", msg ? msg : "");
}

/* v / V: the next or previous violation, wrapping around at either end (as a search does). */
static void next_violation(struct tui *t, int dir)
{
	if (t->rp) {
		struct ms_replay *rp = t->rp;
		size_t cur = rp->pos ? rp->pos - 1 : SIZE_MAX;
		size_t i = ms_replay_find_violation(rp, dir > 0 ? cur : (cur == SIZE_MAX ? 0 : cur),
						    dir, 0);
		bool wrapped = false;
		char where[64];

		if (i == SIZE_MAX) {
			i = ms_replay_find_violation(rp, dir > 0 ? SIZE_MAX : rp->nev, dir, 0);
			wrapped = true;
		}
		if (i == SIZE_MAX) {
			status(t, "no violation in this timeline");
			return;
		}
		t->paused = true;
		replay_seek(t, (int64_t)i + 1);
		select_pid(t, rp->ev[i].pid);
		tui_scan(t);
		t->dirty = false;
		snprintf(where, sizeof(where), "%sevent %zu: ", wrapped ? "(wrapped) " : "", i + 1);
		show_violation_event(t, &rp->ev[i], ms_replay_message(rp, i), where);
		return;
	}
	/* Live: the shown process's violations, as its space keeps them. */
	{
		struct ms_space *sp = t->m.space;
		struct ms_violation v, best;
		size_t n = sp ? ms_space_violation_count(sp) : 0;
		/* After a process switch, v starts from the first one and V from the last. */
		bool from_end = t->viol_pid != t->m.sel_pid, found = false, wrapped = false;

		for (int pass = 0; pass < 2 && !found; pass++) {
			if (pass) {
				from_end = true;
				wrapped = true;
			}
			for (size_t i = 0; i < n; i++) {
				if (ms_space_violation_get(sp, i, &v))
					break;
				if (!from_end &&
				    (dir > 0 ? v.ev.seq <= t->viol_seq : v.ev.seq >= t->viol_seq))
					continue;
				if (!found ||
				    (dir > 0 ? v.ev.seq < best.ev.seq : v.ev.seq > best.ev.seq)) {
					best = v;
					found = true;
				}
			}
		}
		if (!found) {
			status(t, "no violation in pid %u", t->m.sel_pid);
			return;
		}
		show_violation_event(t, &best.ev, best.message, wrapped ? "(wrapped) " : "");
	}
}

/* ------------------------------------------------------------------ prompt */

static void prompt_commit(struct tui *t)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (t->prompt == TUI_PR_ADDR) {
		v = strtoull(t->input, &end, 16);
		if (errno || end == t->input || *end) {
			status(t, "not a hex address: %s", t->input);
			return;
		}
		cursor_to_addr(t, v);
		if (!t->m.snap ||
		    ms_map_find_region(t->m.snap->regions, t->m.snap->nregions, v) == SIZE_MAX)
			status(t, "%llx is not owned by pid %u: nearest cell shown", v,
			       t->m.sel_pid);
		return;
	}
	if (t->prompt == TUI_PR_TIME) {
		double sec = strtod(t->input, &end);
		size_t pos;

		if (end == t->input || *end || !(sec >= 0) || sec > 1e9) {
			status(t, "not a time in seconds: %s", t->input);
			return;
		}
		/* The state at that moment: every event up to it applied. */
		pos = ms_replay_find_time(t->rp, (uint64_t)(sec * 1e9 + 0.5) + 1);
		t->paused = true;
		replay_seek(t, (int64_t)pos);
		status(t, "at t %.6fs: event %zu of %zu", sec, pos, t->rp->nev);
		return;
	}
	v = strtoull(t->input, &end, 10);
	if (errno || end == t->input || *end) {
		status(t, "not an event seq: %s", t->input);
		return;
	}
	{
		size_t i = ms_replay_find_seq(t->rp, v);

		if (i == SIZE_MAX) {
			status(t, "no event with seq %llu", v);
			return;
		}
		t->paused = true;
		replay_seek(t, (int64_t)i + 1);
		select_pid(t, t->rp->ev[i].pid);
		tui_scan(t);
		t->dirty = false;
		if (!ms_op_is_proc(t->rp->ev[i].op))
			cursor_to_addr(t, t->rp->ev[i].addr);
		status(t, "at event seq %llu (%s)", v, ms_op_name(t->rp->ev[i].op));
	}
}

static void prompt_key(struct tui *t, int ch)
{
	switch (ch) {
	case 27:
		t->ov = TUI_OV_NONE;
		return;
	case '\n':
	case '\r':
	case KEY_ENTER:
		t->ov = TUI_OV_NONE;
		prompt_commit(t);
		return;
	case KEY_BACKSPACE:
	case 127:
	case 8:
		if (t->ninput)
			t->input[--t->ninput] = 0;
		return;
	default:
		if (ch > 0 && ch < 256 && isprint(ch) && t->ninput + 1 < sizeof(t->input)) {
			t->input[t->ninput++] = (char)ch;
			t->input[t->ninput] = 0;
		}
	}
}

static void open_prompt(struct tui *t, enum tui_prompt p)
{
	t->ov = TUI_OV_PROMPT;
	t->prompt = p;
	t->ninput = 0;
	t->input[0] = 0;
}

/* ------------------------------------------------------------------ keys */

static bool replay_key(struct tui *t, int ch)
{
	struct ms_replay *rp = t->rp;
	int64_t pos = (int64_t)rp->pos, jump = rp->nev / 20 ? (int64_t)(rp->nev / 20) : 1;

	switch (ch) {
	case ']':
		t->paused = true;
		replay_seek(t, pos + 1);
		return true;
	case '[':
		t->paused = true;
		replay_seek(t, pos - 1);
		return true;
	case '}':
		t->paused = true;
		replay_seek(t, pos + jump);
		return true;
	case '{':
		t->paused = true;
		replay_seek(t, pos - jump);
		return true;
	case 'b':
		t->paused = true;
		replay_seek(t, 0);
		return true;
	case 'e':
		t->paused = true;
		replay_seek(t, (int64_t)rp->nev);
		return true;
	case '>':
		if (t->speed < 1048576)
			t->speed *= 2;
		replay_seek(t, pos); /* restart the clock at the new speed */
		return true;
	case '<':
		if (t->speed > 1.0 / 1048576)
			t->speed /= 2;
		replay_seek(t, pos);
		return true;
	case ' ':
		if (t->paused && rp->pos >= rp->nev)
			replay_seek(t, 0); /* play again from the start */
		else
			replay_seek(t, pos);
		t->paused = !t->paused;
		return true;
	case 'g':
		open_prompt(t, TUI_PR_SEQ);
		return true;
	case 't':
		open_prompt(t, TUI_PR_TIME);
		return true;
	default:
		return false;
	}
}

static void procs_key(struct tui *t, int ch)
{
	switch (ch) {
	case KEY_UP:
	case 'k':
		if (t->pick > 0)
			t->pick--;
		break;
	case KEY_DOWN:
	case 'j':
		if (t->pick + 1 < t->m.nprocs)
			t->pick++;
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
		if (t->pick < t->m.nprocs)
			select_pid(t, t->m.procs[t->pick].pid);
		t->ov = TUI_OV_NONE;
		t->dirty = true;
		tui_scan(t);
		break;
	case 'q':
		t->quit = true;
		break;
	default:
		t->ov = TUI_OV_NONE;
	}
}

static void handle_key(struct tui *t, int ch)
{
	int64_t cols = t->map_cols > 0 ? t->map_cols : 1;

	if (ch == KEY_RESIZE) {
		clearok(curscr, TRUE);
		tui_layout_geometry(t);
		tui_relayout(t);
		return;
	}
	if (ch == 12) { /* Ctrl-L */
		clearok(curscr, TRUE);
		return;
	}
	switch (t->ov) {
	case TUI_OV_PROMPT:
		prompt_key(t, ch);
		return;
	case TUI_OV_HELP:
		t->ov = TUI_OV_NONE;
		if (ch != 'q')
			return;
		break;
	case TUI_OV_PROCS:
		procs_key(t, ch);
		return;
	case TUI_OV_DETAILS:
		if (ch == 27 || ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
			t->ov = TUI_OV_NONE;
			return;
		}
		/* Stepping through a replay keeps the details open: watch the region change. */
		if (t->rp && strchr("[]{}be", ch) && replay_key(t, ch))
			return;
		t->ov = TUI_OV_NONE;
		break;
	default:
		break;
	}
	if (t->rp && replay_key(t, ch))
		return;
	switch (ch) {
	case 'q':
	case 'Q':
	case KEY_F(10):
		t->quit = true;
		break;
	case '?':
	case KEY_F(1):
		t->ov = TUI_OV_HELP;
		break;
	case KEY_LEFT:
	case 'h':
		cursor_to_cell(t, (int64_t)t->cursor - 1);
		break;
	case KEY_RIGHT:
	case 'l':
		cursor_to_cell(t, (int64_t)t->cursor + 1);
		break;
	case KEY_UP:
	case 'k':
		cursor_to_cell(t, (int64_t)t->cursor - cols);
		break;
	case KEY_DOWN:
	case 'j':
		cursor_to_cell(t, (int64_t)t->cursor + cols);
		break;
	case KEY_PPAGE:
		cursor_to_cell(t, (int64_t)t->cursor - cols * t->map_rows);
		break;
	case KEY_NPAGE:
		cursor_to_cell(t, (int64_t)t->cursor + cols * t->map_rows);
		break;
	case KEY_HOME:
		cursor_to_cell(t, 0);
		break;
	case KEY_END:
		cursor_to_cell(t, (int64_t)t->m.map.ncells - 1);
		break;
	case '+':
	case '=':
		zoom(t, 1);
		break;
	case '-':
	case '_':
		zoom(t, -1);
		break;
	case '0':
		zoom(t, 0);
		break;
	case '\n':
	case '\r':
	case KEY_ENTER: {
		size_t r = ms_map_region_at(&t->m.map, t->cursor);

		t->det_addr = r != SIZE_MAX ? t->m.snap->regions[r].start : t->cursor_addr;
		t->det_pid = t->m.sel_pid;
		t->ov = TUI_OV_DETAILS;
		break;
	}
	case 'v':
		next_violation(t, 1);
		break;
	case 'V':
		next_violation(t, -1);
		break;
	case '/':
		open_prompt(t, TUI_PR_ADDR);
		break;
	case 'p':
		t->pick = t->m.sel;
		t->ov = TUI_OV_PROCS;
		break;
	case ' ':
		t->paused = !t->paused;
		status(t, t->paused ? "paused: the capture goes on, space resumes the view"
				    : "resumed");
		break;
	case 'F':
		t->show_frame = !t->show_frame;
		break;
	case 'r': {
		const struct tui_proc *p = t->m.sel < t->m.nprocs ? &t->m.procs[t->m.sel] : NULL;

		if (!t->res_view && (!p || !p->tot.residency)) {
			status(t, "no residency here: the capture saw no page faults (ptrace, "
				  "--no-faults or --no-residency)");
			break;
		}
		t->res_view = !t->res_view;
		status(t, t->res_view ? "residency: # resident, + part, . never touched or given "
					"back (Prepared/Ready bytes of each cell)"
				      : "states");
		break;
	}
	default:
		break;
	}
}

/* ------------------------------------------------------------------ the loop */

static int loop(struct tui *t, bool want_color)
{
	uint64_t last_scan = 0;
	int err = tui_scr_init(want_color);

	if (err)
		return err;
	t->color = tui_scr_color();
	while (!t->quit && !tui_scr_signal()) {
		uint64_t start = ms_now_ns(), wait_ms;
		int ch;

		tui_layout_geometry(t);
		if (t->rp) {
			replay_advance(t);
			if (t->dirty) {
				tui_scan(t);
				t->dirty = false;
			} else {
				tui_relayout(t);
			}
		} else if (!t->paused && start - last_scan >= LIVE_PERIOD - LIVE_PERIOD / 10) {
			tui_scan(t);
			last_scan = start;
		} else {
			tui_relayout(t);
		}
		tui_draw(t);
		t->m.frame_ns = ms_now_ns() - start;

		if (!t->rp && !t->paused)
			wait_ms = (LIVE_PERIOD -
				   (t->m.frame_ns < LIVE_PERIOD ? t->m.frame_ns : LIVE_PERIOD)) /
				  1000000;
		else if (t->rp && !t->paused)
			wait_ms = PLAY_PERIOD;
		else
			wait_ms = IDLE_PERIOD;
		timeout((int)(wait_ms ? wait_ms : 1));
		ch = getch();
		if (ch == ERR)
			continue;
		/* Take every key already typed before drawing again (held arrows, pastes). */
		timeout(0);
		do {
			handle_key(t, ch);
		} while (!t->quit && (ch = getch()) != ERR);
	}
	err = tui_scr_signal();
	tui_scr_done();
	return err; /* the signal that ended it, 0 for q */
}

static void tui_free(struct tui *t)
{
	tui_model_free(&t->m);
	free(t->rbuf);
	free(t->rmsgs);
	free(t->lst);
	free(t->cells);
}

bool ms_tui_available(void)
{
	return true;
}

int ms_tui_run(struct ms_live *live)
{
	struct tui t;
	int ret;

	memset(&t, 0, sizeof(t));
	if (tui_model_init(&t.m))
		return -ENOMEM;
	t.live = live;
	t.rbuf = calloc(MS_LIVE_RECENT, sizeof(*t.rbuf));
	t.rmsgs = calloc(TUI_VMSG_CAP, sizeof(*t.rmsgs));
	t.lst = calloc(1, sizeof(*t.lst));
	if (!t.rbuf || !t.rmsgs || !t.lst) {
		tui_free(&t);
		return -ENOMEM;
	}
	/* Start at the oldest event the ring still holds: the log is not empty at once. */
	pthread_mutex_lock(&live->lock);
	t.cursor_ev = live->recent_head > MS_LIVE_RECENT ? live->recent_head - MS_LIVE_RECENT : 0;
	pthread_mutex_unlock(&live->lock);
	ret = loop(&t, !live->no_color);
	tui_free(&t);
	if (ret > 0) {
		/* The terminal is back and the old handlers too: hand the signal on. */
		live->quit_signal = ret;
		raise(ret);
		ret = 0;
	}
	return ret;
}

/* Speed at which the whole timeline plays in about 20 s, a power of two. */
static double auto_speed(const struct ms_replay *rp)
{
	double d, s = 1;

	if (rp->nev < 2 || rp->ev[rp->nev - 1].t_ns <= rp->ev[0].t_ns)
		return 1;
	d = (double)(rp->ev[rp->nev - 1].t_ns - rp->ev[0].t_ns) / 20e9;
	while (s > d * 1.5 && s > 1.0 / 1048576)
		s /= 2;
	while (s < d / 1.5 && s < 1048576)
		s *= 2;
	return s;
}

int ms_tui_replay(struct ms_replay *rp, const char *title, const struct tui_opts *opts)
{
	struct tui t;
	int ret;

	memset(&t, 0, sizeof(t));
	if (tui_model_init(&t.m))
		return -ENOMEM;
	t.rp = rp;
	snprintf(t.m.title, sizeof(t.m.title), "%s", title ? title : "");
	t.speed = opts->speed > 0 ? opts->speed : auto_speed(rp);
	t.paused = !opts->play;
	t.m.sel_pid = opts->pid;
	replay_seek(&t, (int64_t)(opts->start > rp->nev ? rp->nev : opts->start));
	ret = loop(&t, opts->color);
	tui_free(&t);
	if (ret > 0)
		raise(ret); /* as ms_tui_run: the previous disposition decides */
	return ret;
}
