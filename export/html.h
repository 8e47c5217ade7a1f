/* SPDX-License-Identifier: MIT */
/*
 * One self-contained HTML page of a timeline (`memstate report --html`) or of two
 * (`memstate diff --html`): inline CSS, inline SVG and a small script written here; the
 * page fetches nothing (its CSP says default-src 'none'). It holds the address x time state
 * map (export/svg.c's drawing, made zoomable and pannable, hover on a region shows its
 * range, state, stat, faults, THP and history), bytes per state over time, the summary
 * tables, the violations with their events, and for a diff both runs overlaid.
 *
 * Bounded size whatever the trace: series are downsampled (MS_MX_SERIES points), the map
 * is a fixed-size picture, regions, violations and history entries are capped, and the page
 * says what was left out.
 */
#ifndef MEMSTATE_EXPORT_HTML_H
#define MEMSTATE_EXPORT_HTML_H

#include <stddef.h>

#include "diff.h"
#include "metrics.h"

/*
 * Write the page of path (read again to draw the map; m measured with opts.keep) to out.
 * 0, or a negative errno with one line in msg.
 */
int ms_html_report(const char *out, const char *path, const struct ms_metrics *m, char *msg,
		   size_t msglen);
/* The page of a comparison; base and now measured with opts.keep. */
int ms_html_diff(const char *out, const char *base_path, const char *now_path,
		 const struct ms_diff *d, char *msg, size_t msglen);

#endif /* MEMSTATE_EXPORT_HTML_H */
