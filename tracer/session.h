/* SPDX-License-Identifier: MIT */
/*
 * What `memstate run` and `memstate attach` share: options, the choice of capture sources,
 * the timeline writer, the poll loop that feeds the trace, signals, and the ending.
 */
#ifndef MEMSTATE_TRACER_SESSION_H
#define MEMSTATE_TRACER_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "memstate/timeline.h"
#include "lib/source.h"
#include "trace.h"

enum ms_capture {
	MS_CAP_AUTO = 0, /* eBPF when it can run here, else ptrace */
	MS_CAP_EBPF,	 /* eBPF or fail */
	MS_CAP_PTRACE,	 /* the no-root fallback */
	MS_CAP_API,	 /* only the API channel (programs linked with libmemstate) */
};

struct ms_session_opts {
	const char *cmd;	  /* "run" or "attach", for messages */
	const char *out;	  /* -o FILE, NULL for none */
	enum ms_tl_format fmt;	  /* --format */
	bool fmt_given;		  /* --format was given (else the -o name decides) */
	enum ms_capture capture;  /* --capture */
	uint32_t ring_bytes;	  /* --ring-size */
	bool faults;		  /* page fault events */
	bool files;		  /* file-backed mappings in the map */
	bool no_residency;	  /* do not track which pages are resident */
	bool tui;		  /* --tui */
	bool no_color;		  /* --tui without colours */
	bool quiet;		  /* no summary */
	bool api;		  /* the API channel */
	bool verify_maps;	  /* compare the map with /proc/PID/maps at each exit */
	const char *child_output; /* --tui: where the program's output goes */
	int verbose;
	int go;		       /* Go uprobes: -1 when the program is Go (default), 0 never
				     (--no-go), 1 asked for (--go: say why when impossible) */
	const char *go_marks;  /* --go-marks FILE: ReadMemStats marks as JSON Lines */
	const char *prog_path; /* run: the program about to be exec'd (Go detection) */
	int alloc; /* allocator hooks: -1 auto (run), 0 none, 1 jemalloc found, 2 forced;
				  auto means: when the program uses a dynamic jemalloc */
	const char *alloc_marks;   /* --alloc-marks FILE: jemalloc stats beside memstate's */
	const char *alloc_preload; /* run: the adapter to preload, NULL for none */
};

#define MS_MAX_SOURCES 4

struct ms_session {
	struct ms_session_opts o;
	const struct ms_source_ops *src[MS_MAX_SOURCES]; /* [0] the syscall/kernel source */
	void *state[MS_MAX_SOURCES];
	unsigned nsrc;
	void *chan; /* the channel's state (also in src[]), NULL without it */
	void *held; /* the state of the source that holds exits, or NULL */
	const struct ms_source_ops *held_src; /* that source (hold/release capability) */
	struct ms_tl_writer *writer;
	struct ms_trace *trace;
	struct ms_live *live;  /* --tui */
	struct ms_go *go;      /* the Go binary whose runtime is probed, or NULL */
	char capture_desc[64]; /* "ebpf+go+api" */
	uint64_t t0;
};

/* Parse one common option at argv[*i]; 1 when consumed, 0 when not ours, -1 on error. */
int ms_session_option(struct ms_session_opts *o, int argc, char **argv, int *i);
/* Under sudo (root, SUDO_UID and SUDO_GID set), give a file memstate made to the user who
 * ran sudo. Allocates nothing (safe in the child before exec). */
void ms_session_own(const char *path);
/* Help text for the common options. */
void ms_session_usage(FILE *f);

/* Open the writer, pick and open the sources, create the trace. 0 or MS_EXIT_ERROR. */
int ms_session_setup(struct ms_session *s, const struct ms_session_opts *o, int argc,
		     char *const argv[]);
/* In the forked child before exec: the sources' child hooks. */
int ms_session_child(struct ms_session *s);
/* Start following pid with every source. */
int ms_session_start(struct ms_session *s, pid_t pid, bool attach);

/*
 * Poll the sources and feed the trace until every traced process has ended (child: the
 * direct child to reap when no source reaps), or the user stops it. Sets *status to the
 * child's wait status when known. Returns 0, or 1 when interrupted.
 */
int ms_session_loop(struct ms_session *s, pid_t child, int *status);
/* The wait status of pid as the trace learned it (exit code or signal); false if unknown. */
bool ms_session_status(struct ms_session *s, pid_t pid, int *status);
/* Stop sources, finish the timeline, print the summary. 0 or MS_EXIT_ERROR. */
int ms_session_finish(struct ms_session *s, const char *what);
void ms_session_close(struct ms_session *s);

/* Set by the signal handlers: how many stop requests (SIGINT/SIGTERM/SIGHUP) arrived. */
extern volatile int ms_session_stops;
void ms_session_signals(pid_t forward_to);

#endif /* MEMSTATE_TRACER_SESSION_H */
