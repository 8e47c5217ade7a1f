/* SPDX-License-Identifier: MIT */
/*
 * Inside the TUI: htop's split. A scan step (scan.c) fills struct tui_model from a feed
 * (the live struct or a replay) and lays the map out; the panels (panels.c) only draw the
 * model; ui.c runs the loop and the keys; screen.c alone sets up and tears down curses.
 * Only screen.c, panels.c and ui.c include curses.
 */
#ifndef MEMSTATE_TUI_TUI_H
#define MEMSTATE_TUI_TUI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "live.h"
#include "model.h"
#include "replay.h"

/* ------------------------------------------------------------------ live feed copies */

/* A violation message copied out with the events (index into the copied events). */
struct ms_live_msg {
	size_t index;  /* event it belongs to */
	char text[96]; /* NUL-terminated */
};

/* The part of struct ms_live a frame needs, copied under its lock. */
struct ms_live_state {
	struct ms_live_proc procs[MS_LIVE_MAX_PROCS]; /* first nprocs valid */
	unsigned nprocs;			      /* registered processes */
	uint64_t events;			      /* published in all */
	uint64_t dropped;			      /* lost before the tracer */
	uint64_t t0_ns;				      /* start of the trace */
	bool replay;				      /* the producer replays a file */
	bool done;				      /* the traced program ended */
	bool no_color;				      /* the producer asked for no colours */
	char command[256];			      /* title */
};

/*
 * Copy the events published since *cursor into out[] (at most max, the newest when more
 * are waiting: the older ones are counted in *skipped), and the messages of the violations
 * among them into msgs[] (capacity *nmsgs in, count out). Advances *cursor to the head.
 */
size_t ms_live_read(struct ms_live *live, uint64_t *cursor, struct ms_event *out,
		    struct ms_live_msg *msgs, size_t *nmsgs, size_t max, uint64_t *skipped);
void ms_live_state(struct ms_live *live, struct ms_live_state *st);

/* ------------------------------------------------------------------ the model */

#define TUI_LOG_CAP  65536 /* live: events kept for the log and region histories */
#define TUI_VMSG_CAP 1024  /* violation messages kept with them */
#define TUI_HEAT_CAP 4096  /* recent faults that light the map */

/* One process as the panels show it. */
struct tui_proc {
	uint32_t pid, ppid;   /* ids */
	char exe[128];	      /* program, may be empty */
	bool alive;	      /* appeared and not exited (replay: at this position) */
	bool exited;	      /* has exited */
	int exit_code;	      /* -1 when unknown or killed */
	int exit_signal;      /* 0 when none */
	struct ms_totals tot; /* counters at the scan */
};

/* A violation's message, matched to its event by (pid, seq). */
struct tui_vmsg {
	uint64_t seq;  /* event seq */
	uint32_t pid;  /* event pid */
	char text[96]; /* NUL-terminated */
};

/* What one scan found: everything a frame draws. */
struct tui_model {
	bool replay;		     /* a saved timeline, seekable */
	char title[256];	     /* the traced command */
	struct tui_proc *procs;	     /* processes, first nprocs valid */
	unsigned nprocs, procs_cap;  /* count, allocated */
	unsigned sel;		     /* shown process (index in procs) */
	uint32_t sel_pid;	     /* its pid (keeps the choice across scans) */
	struct ms_space *space;	     /* its space (stat names); valid until the next scan */
	struct ms_snapshot *snap;    /* its map at the scan (owned) */
	struct ms_space *snap_space; /* live: the space snap was taken of */
	uint64_t snap_events;	     /* live: events published when it was taken */
	struct ms_map map;	     /* snap laid out */
	uint32_t page_size;	     /* bytes */
	struct ms_heat heat;	     /* its recent faults */
	uint64_t heat_now;	     /* heat clock at the scan (ns live, event index replay) */
	uint64_t heat_window;	     /* how long a fault glows, same unit */
	struct ms_event *log;	     /* ring of the last events seen, all processes */
	size_t log_cap;		     /* a power of two */
	uint64_t log_head;	     /* events ever put in the ring */
	struct tui_vmsg *vmsgs;	     /* ring of violation messages */
	uint64_t vmsg_head;	     /* messages ever put in it */
	uint64_t skipped;	     /* live: events the view skipped when it fell behind */
	uint64_t events;	     /* events in all (replay: up to the position) */
	uint64_t dropped;	     /* events the capture lost */
	double rate;		     /* events per second */
	uint64_t rate_events;	     /* live: events at the last rate sample */
	uint64_t rate_t;	     /* live: when that was (ns) */
	uint64_t t_ns;		     /* trace time at the scan, from its start */
	uint64_t t0_ns;		     /* what event t_ns count from (live: CLOCK_MONOTONIC start) */
	bool done;		     /* the traced program ended */
	bool truncated;		     /* replay: the file was cut short */
	size_t pos, nev;	     /* replay: position and events */
	uint64_t violations;	     /* all processes */
	uint64_t frame_ns;	     /* time the last frame took to build and draw */
	uint64_t scan_fail;	     /* snapshots that failed for lack of memory */
};

/* ------------------------------------------------------------------ the view's state */

enum tui_overlay {
	TUI_OV_NONE = 0,
	TUI_OV_HELP,	/* key list */
	TUI_OV_DETAILS, /* the region under the cursor */
	TUI_OV_PROCS,	/* process picker */
	TUI_OV_PROMPT,	/* one-line input on the bottom row */
};

enum tui_prompt {
	TUI_PR_ADDR = 1, /* go to address */
	TUI_PR_SEQ,	 /* replay: go to event seq */
	TUI_PR_TIME,	 /* replay: go to a moment (seconds into the trace) */
};

struct tui_opts {
	bool color;   /* use colours when the terminal has them */
	double speed; /* replay: play speed (trace seconds per second), 0 for auto */
	size_t start; /* replay: position to open at */
	uint32_t pid; /* process to show first, 0 for the first one */
	bool play;    /* replay: start playing */
};

struct tui {
	struct tui_model m;	   /* filled by scan */
	struct ms_live *live;	   /* live feed, or NULL */
	struct ms_replay *rp;	   /* replay feed, or NULL */
	struct ms_event *rbuf;	   /* live: copy buffer (MS_LIVE_RECENT) */
	struct ms_live_msg *rmsgs; /* live: copied messages */
	uint64_t cursor_ev;	   /* live: next event to read */
	struct ms_live_state *lst; /* live: copied state */
	/* geometry, set before each scan from the terminal size */
	int rows, cols;		/* terminal */
	int map_y, map_x;	/* top-left map cell on screen */
	int map_rows, map_cols; /* map cells shown */
	int log_y, log_rows;	/* event log */
	bool too_small;		/* terminal below the minimum */
	/* view state */
	bool color;		 /* colours in use */
	uint64_t scale_user;	 /* bytes per cell chosen with +/-, 0 for auto */
	uint64_t cursor;	 /* cursor cell */
	uint64_t cursor_addr;	 /* address the cursor stands for (kept across layouts) */
	bool cursor_set;	 /* the user moved it (else it follows the first region) */
	uint64_t top;		 /* first map row shown */
	bool paused;		 /* live: frozen; replay: not playing */
	bool dirty;		 /* replay: rescan needed */
	enum tui_overlay ov;	 /* what is drawn over the panels */
	enum tui_prompt prompt;	 /* which prompt */
	char input[64];		 /* prompt input */
	size_t ninput;		 /* its length */
	char status[200];	 /* one-line message */
	uint64_t status_until;	 /* ns when it disappears */
	bool show_frame;	 /* title shows frame time */
	bool res_view;		 /* 'r': the map shows residency instead of heat and hints */
	unsigned pick;		 /* process picker cursor */
	uint64_t viol_seq;	 /* live: seq of the violation `v` last showed */
	uint32_t viol_pid;	 /* its pid */
	struct ms_event viol_ev; /* that event (details show it even when newer ones crowd it) */
	bool viol_ev_set;	 /* viol_ev holds one */
	uint64_t det_addr;	 /* details: the address it was opened on */
	uint32_t det_pid;	 /* details: in which process */
	struct ms_cell *cells;	 /* the visible cells of the last frame */
	size_t cells_cap;	 /* allocated entries */
	int label_digits;	 /* hex digits of the map's address column */
	/* replay play */
	double speed;	    /* trace ns per wall ns */
	uint64_t play_wall; /* wall ns when play last (re)started */
	uint64_t play_t;    /* trace ns at that moment */
	bool quit;	    /* leave the loop */
};

/* ---- scan.c: fill the model (no curses) ---- */
int tui_model_init(struct tui_model *m);
void tui_model_free(struct tui_model *m);
/* One scan: copy from the feed, snapshot the shown process, lay out its map. */
void tui_scan(struct tui *t);
/* Lay the current snapshot out again (zoom, resize) without reading the feed. */
void tui_relayout(struct tui *t);
/* Put one event into the log ring (with its message, when a violation). */
void tui_log_push(struct tui_model *m, const struct ms_event *ev, const char *msg);
/* The message of a logged violation, NULL when not kept. */
const char *tui_vmsg_find(const struct tui_model *m, uint32_t pid, uint64_t seq);
/*
 * The newest max events of pid that touched [start, end), oldest first, into out, its
 * violations first among them however old they are; returns
 * how many were copied, and in *matched how many there are in all (live: among the events
 * the view kept; replay: up to the position).
 */
size_t tui_history(struct tui *t, uint32_t pid, uint64_t start, uint64_t end, struct ms_event *out,
		   size_t max, uint64_t *matched);
/*
 * Replay: page faults and THP collapses of pid in [start, end) up to the position, counted
 * from the events (a map restored from a checkpoint does not carry per-interval counts).
 */
void tui_region_counts(struct tui *t, uint32_t pid, uint64_t start, uint64_t end, uint64_t *faults,
		       uint64_t *collapses);

/* ---- screen.c: the one owner of curses set-up and teardown ---- */
int tui_scr_init(bool want_color);
void tui_scr_done(void);
bool tui_scr_color(void);
int tui_scr_signal(void); /* SIGINT/SIGTERM/SIGHUP seen since init, 0 when none */
/* Colour pairs (0 is the terminal's default). */
enum tui_pair {
	TUI_P_TITLE = 1,
	TUI_P_RESERVED,
	TUI_P_PREPARED,
	TUI_P_READY,
	TUI_P_FILE,
	TUI_P_HEAT_NONE, /* heat glyphs, one pair per background */
	TUI_P_HEAT_RESERVED,
	TUI_P_HEAT_PREPARED,
	TUI_P_HEAT_READY,
	TUI_P_HEAT_FILE,
	TUI_P_BREAK,
	TUI_P_VIOL,
	TUI_P_KEYLABEL,
	TUI_P_HEADER,
	TUI_P_DIM,
	TUI_P_COUNT,
};

/* ---- panels.c: draw the model (curses) ---- */
void tui_layout_geometry(struct tui *t);
void tui_draw(struct tui *t);
/* How the map draws one cell: glyph and attributes (also used by the legend). */
unsigned long tui_cell_look(const struct tui *t, const struct ms_cell *c, bool cursor);

/* ---- ui.c ---- */
int ms_tui_replay(struct ms_replay *rp, const char *title, const struct tui_opts *opts);

/* ---- demo.c: a synthetic producer for `memstate view --demo` and the benchmarks ---- */
struct ms_demo;
/* Start a thread that applies a Go-like heap workload to a space and publishes every
 * event into live, at rate events per second (0: as fast as it can). */
struct ms_demo *ms_demo_start(struct ms_live *live, uint64_t rate, uint64_t seed);
/* Stop and join it; returns the events it produced. Its space stays in live until freed
 * here, so call it after the TUI has returned. */
uint64_t ms_demo_stop(struct ms_demo *d);
uint64_t ms_demo_produced(const struct ms_demo *d);

#endif /* MEMSTATE_TUI_TUI_H */
