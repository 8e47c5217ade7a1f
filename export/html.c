// SPDX-License-Identifier: MIT
/*
 * The HTML page of a timeline or of a comparison (html.h).
 *
 * Everything is inline and nothing names a URL: the state map is export/svg.c's picture
 * (drawn into a memfd with the embed option, then copied in), the charts are SVG drawn
 * here from the metrics' downsampled series, the data for hovering is a JSON island, and
 * the script below makes the map zoomable, pannable and hoverable. The page's size is
 * bounded: fixed-size pictures, MS_MX_SERIES points per series, capped lists that say how
 * many were left out.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "convert.h"
#include "html.h"
#include "memstate/timeline.h"

#define MAP_W	  1200u /* state map picture */
#define MAP_H	  640u
#define CHART_W	  900u /* bytes-over-time chart */
#define CHART_H	  220u
#define MAX_PROCS 40	     /* processes with their own table */
#define MAX_MAP	  (6u << 20) /* a map picture larger than this is drawn again smaller */

static const char *const state_fill[MS_STATE_COUNT] = {"#ffffff", "#9e9e9e", "#f4b400", "#34a853"};

/* ------------------------------------------------------------------ text */

/* HTML text: escaped; control bytes and bad UTF-8 become '?'. */
static void esc(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	while (*p) {
		size_t n = 1;

		if (*p == '&')
			fputs("&amp;", f);
		else if (*p == '<')
			fputs("&lt;", f);
		else if (*p == '>')
			fputs("&gt;", f);
		else if (*p == '"')
			fputs("&quot;", f);
		else if (*p < 0x20 || *p == 0x7f)
			fputc('?', f);
		else if (*p < 0x80)
			fputc(*p, f);
		else {
			size_t len = (*p & 0xe0) == 0xc0   ? 2
				     : (*p & 0xf0) == 0xe0 ? 3
				     : (*p & 0xf8) == 0xf0 ? 4
							   : 0;
			bool ok = len && *p != 0xc0 && *p != 0xc1 && *p < 0xf5;

			for (size_t i = 1; ok && i < len; i++)
				ok = (p[i] & 0xc0) == 0x80;
			if (ok)
				fwrite(p, 1, len, f), n = len;
			else
				fputc('?', f);
		}
		p += n;
	}
}

/* A JSON string for the data island: only safe characters survive (no "</script>"). */
static void jstr(FILE *f, const char *s)
{
	fputc('"', f);
	for (const char *p = s ? s : ""; *p; p++) {
		char c = *p;

		fputc((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
				      c == '_' || c == '-' || c == '.' || c == ' ' || c == ':'
			      ? c
			      : '?',
		      f);
	}
	fputc('"', f);
}

static const char *fmt_ns(char *buf, size_t len, uint64_t ns)
{
	if (ns < 1000000)
		snprintf(buf, len, "%.3f ms", (double)ns / 1e6);
	else if (ns < 10000000000ull)
		snprintf(buf, len, "%.1f ms", (double)ns / 1e6);
	else
		snprintf(buf, len, "%.2f s", (double)ns / 1e9);
	return buf;
}

/* ------------------------------------------------------------------ page frame */

static const char css[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:16px 24px;color:#222;background:#fff}"
	"h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:22px 0 6px;border-bottom:1px "
	"solid #ddd}h3{font-size:14px;margin:14px 0 4px}"
	"table{border-collapse:collapse;font-size:13px;margin:4px 0}td,th{padding:2px "
	"8px;border-bottom:1px solid #eee;text-align:right}td:first-child,th:first-child{text-"
	"align:left}th{background:#f6f6f6}.num{font-family:monospace}.up{color:#b00020}.down{"
	"color:#1b7f3b}.fail{color:#fff;background:#b00020;padding:0 4px}.ok{color:#1b7f3b}"
	".note{color:#666;font-size:12px}.mapbox{position:relative;border:1px solid "
	"#ccc;display:inline-block;max-width:100%;overflow:hidden}.mapbox svg.map{display:block;"
	"cursor:crosshair;max-width:100%;height:auto}.tools{margin:4px 0}.tools "
	"button{margin-right:4px}#tip{position:fixed;pointer-events:none;display:none;background:"
	"#fff;border:1px solid #888;box-shadow:0 2px 6px rgba(0,0,0,.25);padding:6px "
	"8px;font:12px/1.35 monospace;white-space:pre;z-index:10;max-width:640px}"
	"svg.chart{border:1px solid #ddd;background:#fff}.legend span{display:inline-block;"
	"margin-right:12px}.sw{display:inline-block;width:12px;height:12px;vertical-align:middle;"
	"margin-right:4px;border:1px solid #666}";

/* The map's behaviour: zoom (wheel, buttons), pan (drag), hover (tooltip). */
static const char script[] =
	"(function(){'use strict';\n"
	"var FILL={'#9e9e9e':'Reserved','#f4b400':'Prepared','#34a853':'Ready',"
	"'#4285f4':'file-backed'};\n"
	"var tip=document.getElementById('tip');\n"
	"function hex(n){return '0x'+n.toString(16);}\n"
	"function fb(n){var u=['B','KiB','MiB','GiB','TiB'],i=0;while(n>=1024&&i<4){n/=1024;i++;}"
	"return (i?n.toFixed(1):n)+' '+u[i];}\n"
	"function ft(ns){return ns<1e6?(ns/1e6).toFixed(3)+' ms':ns<1e10?(ns/1e6).toFixed(1)+' ms'"
	":(ns/1e9).toFixed(2)+' s';}\n"
	"var maps=[];\n"
	"function Map(box,i){var self=this;this.box=box;this.svg=box.querySelector('svg.map');\n"
	" var d=document.getElementById('ms-data-'+i);this.data=d?JSON.parse(d.textContent):"
	"{regions:[],changes:[],viols:[],ops:[],states:[]};\n"
	" var "
	"s=this.svg;if(!s)return;this.W=+s.getAttribute('width');this.H=+s.getAttribute('height');"
	"this.vb={x:0,y:0,w:this.W,h:this.H};\n"
	" var plot=s.querySelector('#plot');this.x0=+plot.dataset.x0;this.colw=+plot.dataset.colw;"
	"this.cols=+plot.dataset.cols;this.t0=+plot.dataset.t0;this.dt=+plot.dataset.dt;\n"
	" s.addEventListener('wheel',function(e){e.preventDefault();self.zoom(self.pt(e),"
	"e.deltaY<0?0.8:1.25);},{passive:false});\n"
	" var drag=null;s.addEventListener('mousedown',function(e){drag={x:e.clientX,y:e.clientY,"
	"vx:self.vb.x,vy:self.vb.y};e.preventDefault();});\n"
	" window.addEventListener('mouseup',function(){drag=null;});\n"
	" s.addEventListener('mousemove',function(e){if(drag){var r=s.getBoundingClientRect();"
	"self.vb.x=drag.vx-(e.clientX-drag.x)*self.vb.w/"
	"r.width;self.vb.y=drag.vy-(e.clientY-drag.y)"
	"*self.vb.h/r.height;self.clamp();self.apply();tip.style.display='none';return;}"
	"self.hover(e);});\n"
	" s.addEventListener('mouseleave',function(){tip.style.display='none';});\n"
	" s.addEventListener('dblclick',function(){self.reset();});\n"
	" box.parentNode.querySelectorAll('button[data-zoom]').forEach(function(b){"
	"b.addEventListener('click',function(){var z=b.dataset.zoom;if(z==='reset')self.reset();"
	"else self.zoom({x:self.vb.x+self.vb.w/2,y:self.vb.y+self.vb.h/2},z==='in'?0.5:2);});});\n"
	"}\n"
	"Map.prototype.apply=function(){var v=this.vb;this.svg.setAttribute('viewBox',v.x+' "
	"'+v.y+' '"
	"+v.w+' '+v.h);};\n"
	"Map.prototype.clamp=function(){var v=this.vb;v.x=Math.max(0,Math.min(this.W-v.w,v.x));"
	"v.y=Math.max(0,Math.min(this.H-v.h,v.y));};\n"
	"Map.prototype.reset=function(){this.vb={x:0,y:0,w:this.W,h:this.H};this.apply();};\n"
	"Map.prototype.zoom=function(p,f){var v=this.vb,nw=Math.min(this.W,Math.max(this.W/400,"
	"v.w*f)),k=nw/v.w;v.x=p.x-(p.x-v.x)*k;v.y=p.y-(p.y-v.y)*k;v.w=nw;v.h=v.h*k;"
	"if(v.h>this.H)v.h=this.H;this.clamp();this.apply();};\n"
	"Map.prototype.pt=function(e){var r=this.svg.getBoundingClientRect(),v=this.vb;"
	"return {x:v.x+(e.clientX-r.left)*v.w/r.width,y:v.y+(e.clientY-r.top)*v.h/r.height};};\n"
	/* where: panel, band and address of a picture point */
	"Map.prototype.where=function(p){var ps=this.svg.querySelectorAll('g.panel');"
	"for(var i=0;i<ps.length;i++){var g=ps[i],y0=+g.dataset.y0,rows=+g.dataset.rows;"
	"if(p.y<y0||p.y>=y0+rows)continue;var bs=g.querySelectorAll('rect.band');"
	"for(var k=0;k<bs.length;k++){var "
	"b=bs[k],by=+b.getAttribute('y'),bh=+b.getAttribute('height'),"
	"bx=+b.getAttribute('x'),bw=+b.getAttribute('width');if(p.y<by||p.y>=by+bh||p.x<bx||p.x>="
	"bx+bw)"
	"continue;var a=+b.dataset.addr,len=+b.dataset.len,r0=Math.floor(p.y-by),"
	"lo=a+Math.floor(len*r0/bh),hi=a+Math.floor(len*(r0+1)/bh);lo-=lo%4096;"
	"hi=Math.max(lo+4096,Math.ceil(hi/4096)*4096);"
	"return {pid:+g.dataset.pid,lo:lo,hi:Math.max(hi,lo+1),addr:Math.floor((lo+hi)/2),"
	"t:this.t0+Math.floor((p.x-this.x0)/this.colw)*this.dt,col:Math.floor((p.x-this.x0)/"
	"this.colw)};}}return null;};\n"
	/* the cell's state at that time: the grid rectangle under the point */
	"Map.prototype.cell=function(p){var rs=this.svg.querySelectorAll('g[shape-rendering] > "
	"rect');"
	"for(var i=0;i<rs.length;i++){var r=rs[i],x=+r.getAttribute('x'),y=+r.getAttribute('y');"
	"if(p.x>=x&&p.x<x+ +r.getAttribute('width')&&p.y>=y&&p.y<y+ +r.getAttribute('height')&&"
	"r.parentNode.getAttribute('class')!=='final')return FILL[r.getAttribute('fill')]||null;}"
	"return null;};\n"
	"Map.prototype.region=function(pid,lo,hi){var R=this.data.regions,out=[];for(var "
	"i=0;i<R.length;"
	"i++){var r=R[i];if(r[0]===pid&&r[1]<hi&&r[1]+r[2]>lo)out.push(r);if(out.length>=4)break;}"
	"return out;};\n"
	"Map.prototype.text=function(w,state){var D=this.data,L=[];"
	"L.push('pid '+w.pid+'  ['+hex(w.lo)+', '+hex(w.hi)+')  '+fb(w.hi-w.lo)+' under the "
	"cursor');"
	"L.push('at '+ft(w.t)+': '+(state||'None'));"
	"var rs=this.region(w.pid,w.lo,w.hi);if(!rs.length)L.push('final map: nothing here (freed'+"
	"(D.regions_left?', or one of the '+D.regions_left+' regions not embedded':'')+')');"
	"rs.forEach(function(r){L.push('region ['+hex(r[1])+', '+hex(r[1]+r[2])+') '+fb(r[2])+"
	"'  state '+D.states[r[3]]+'  stat '+(r[4]||'-')+'  faults '+r[5]+'  THP '+r[6]+"
	"(r[7]?'  '+r[7]:''));});"
	"var h=D.changes.filter(function(c){return c[2]===w.pid&&c[5]<w.hi&&c[5]+c[6]>w.lo;});"
	"L.push('history ('+h.length+' change'+(h.length===1?'':'s')+(D.changes_left?', of the "
	"first '"
	"+D.changes.length+' kept':'')+'):');"
	"h.slice(-10).forEach(function(c){L.push('  #'+c[0]+' '+ft(c[1])+' '+D.ops[c[3]]+' -> '+"
	"D.states[c[4]]+' ['+hex(c[5])+', '+hex(c[5]+c[6])+')');});"
	"if(h.length>10)L.push('  ('+(h.length-10)+' earlier)');"
	"D.viols.filter(function(v){return v[2]===w.pid&&v[4]<w.hi&&v[4]+v[5]>w.lo;}).slice(0,5)"
	".forEach(function(v){L.push('violation #'+v[0]+' '+v[3]+' at '+ft(v[1]));});"
	"return L.join('\\n');};\n"
	"Map.prototype.hover=function(e){var p=this.pt(e),w=this.where(p);if(!w){tip.style.display="
	"'none';return;}tip.textContent=this.text(w,this.cell(p));tip.style.display='block';"
	"var x=e.clientX+14,y=e.clientY+14;if(x+tip.offsetWidth>window.innerWidth)x=e.clientX-"
	"tip.offsetWidth-8;if(y+tip.offsetHeight>window.innerHeight)y=e.clientY-tip.offsetHeight-8;"
	"tip.style.left=Math.max(0,x)+'px';tip.style.top=Math.max(0,y)+'px';};\n"
	/* test hook: client coordinates of an address in map i (tests drive a real hover there) */
	"Map.prototype.locate=function(pid,addr){var g=this.svg.querySelector('g.panel[data-pid=\"'"
	"+pid+'\"]');if(!g)return null;var bs=g.querySelectorAll('rect.band');for(var "
	"k=0;k<bs.length;"
	"k++){var b=bs[k],a=+b.dataset.addr,len=+b.dataset.len;if(addr<a||addr>=a+len)continue;"
	"var y=+b.getAttribute('y')+Math.floor((addr-a)*+b.getAttribute('height')/len),"
	"x=+b.getAttribute('x')+ +b.getAttribute('width')/2,r=this.svg.getBoundingClientRect(),"
	"v=this.vb,k=r.height/v.h;return {x:Math.round(r.left+(x-v.x)*r.width/v.w),"
	"y:Math.round(r.top+(y-v.y)*k+k/2)};}return null;};\n"
	"document.querySelectorAll('.mapbox').forEach(function(b,i){maps.push(new Map(b,i));});\n"
	"window.memstatePage={maps:maps,locate:function(i,pid,addr){var m=maps[i];return m&&m.svg?"
	"m.locate(pid,addr):null;},tip:function(){return "
	"tip.style.display==='block'?tip.textContent:"
	"'';},zoom:function(i,f){var m=maps[i];m.zoom({x:m.vb.x+m.vb.w/2,y:m.vb.y+m.vb.h/2},f);"
	"return m.svg.getAttribute('viewBox');}};\n"
	"document.body.setAttribute('data-ready','1');\n"
	"})();\n";

static void page_head(FILE *f, const char *title)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width\">\n<title>",
	      f);
	esc(f, title);
	fprintf(f, "</title>\n<style>%s</style></head>\n<body>\n<div id=\"tip\"></div>\n", css);
}

static void page_tail(FILE *f)
{
	fprintf(f,
		"<p class=\"note\">Made by memstate %s. This page is self-contained: it loads "
		"nothing.</p>\n<script>%s</script>\n</body></html>\n",
		"0.1.0", script);
}

/* ------------------------------------------------------------------ the map */

/* Draw path's map through svg.c into a memory file and copy it in. */
static int put_map(FILE *f, const char *path, char *msg, size_t msglen)
{
	struct ms_conv_opts o = {
		.out_name = "the HTML map", .width = MAP_W, .height = MAP_H, .embed = true};
	struct stat sb;
	char buf[1 << 16];
	int fd, ret;
	ssize_t n;

	for (int attempt = 0; attempt < 2; attempt++) {
		fd = memfd_create("memstate-map", MFD_CLOEXEC);
		if (fd < 0) {
			snprintf(msg, msglen, "memfd_create: %s", strerror(errno));
			return -errno;
		}
		ret = ms_conv_svg(path, fd, &o);
		if (ret) {
			close(fd);
			snprintf(msg, msglen, "%s: cannot draw the state map", path);
			return -EINVAL;
		}
		if (fstat(fd, &sb) || (size_t)sb.st_size <= MAX_MAP || attempt)
			break;
		/* A very fragmented picture: draw it again with fewer cells. */
		close(fd);
		o.width /= 2;
		o.height /= 2;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		return -errno;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, f);
	close(fd);
	return n < 0 ? -EIO : 0;
}

/* The data the map's hover reads: final regions, state changes, violations. */
static void put_data(FILE *f, const struct ms_metrics *m, unsigned idx)
{
	fprintf(f, "<script type=\"application/json\" id=\"ms-data-%u\">{\"states\":[", idx);
	for (unsigned s = 0; s < MS_STATE_COUNT; s++)
		fprintf(f, "%s\"%s\"", s ? "," : "", ms_state_name(s));
	fputs("],\"ops\":[", f);
	for (unsigned o = 0; o < MS_OP_COUNT; o++)
		fprintf(f, "%s\"%s\"", o ? "," : "", ms_op_name(o));
	fputs("],\"regions\":[", f);
	for (size_t i = 0; i < m->nregions; i++) {
		const struct ms_mx_region *r = &m->regions[i];

		fprintf(f, "%s[%u,%" PRIu64 ",%" PRIu64 ",%u,", i ? "," : "", r->pid, r->r.start,
			r->r.end - r->r.start, r->r.state < MS_STATE_COUNT ? r->r.state : 0);
		jstr(f, r->stat);
		fprintf(f, ",%" PRIu64 ",%u,", r->r.faults, r->r.thp_collapses);
		jstr(f, r->r.kind == MS_KIND_FILE ? "file-backed" : "");
		fputs("]", f);
	}
	fprintf(f, "],\"regions_left\":%" PRIu64 ",\"changes\":[", m->regions_total - m->nregions);
	for (size_t i = 0; i < m->nchanges; i++) {
		const struct ms_mx_change *c = &m->changes[i];

		fprintf(f, "%s[%" PRIu64 ",%" PRIu64 ",%u,%u,%u,%" PRIu64 ",%" PRIu64 "]",
			i ? "," : "", c->seq, c->t_ns, c->pid, c->op,
			c->to < MS_STATE_COUNT ? c->to : 0, c->addr, c->len);
	}
	fprintf(f, "],\"changes_left\":%" PRIu64 ",\"viols\":[", m->changes_total - m->nchanges);
	for (size_t i = 0; i < m->nviols; i++) {
		const struct ms_mx_viol *v = &m->viols[i];

		fprintf(f, "%s[%" PRIu64 ",%" PRIu64 ",%u,\"%s\",%" PRIu64 ",%" PRIu64 "]",
			i ? "," : "", v->seq, v->t_ns, v->pid, ms_violation_name(v->kind), v->addr,
			v->len);
	}
	fputs("]}</script>\n", f);
}

static int put_map_section(FILE *f, const char *title, const char *path, const struct ms_metrics *m,
			   unsigned idx, char *msg, size_t msglen)
{
	int err;

	fprintf(f, "<h3>");
	esc(f, title);
	fprintf(f,
		"</h3>\n<div class=\"tools\"><button data-zoom=\"in\">zoom in</button>"
		"<button data-zoom=\"out\">zoom out</button><button data-zoom=\"reset\">"
		"reset</button> <span class=\"note\">wheel: zoom, drag: pan, double-click: "
		"reset, hover: the region under the cursor</span></div>\n"
		"<div class=\"mapbox\" id=\"map-%u\">\n",
		idx);
	err = put_map(f, path, msg, msglen);
	if (err)
		return err;
	fputs("</div>\n", f);
	if (m->regions_total > m->nregions || m->changes_total > m->nchanges)
		fprintf(f,
			"<p class=\"note\">Left out of the hover data: %" PRIu64 " of %" PRIu64
			" final regions, %" PRIu64 " of %" PRIu64
			" state changes (history shows the first ones). The map itself shows the "
			"whole trace at %u x %u cells.</p>\n",
			m->regions_total - m->nregions, m->regions_total,
			m->changes_total - m->nchanges, m->changes_total, MAP_W, MAP_H);
	put_data(f, m, idx);
	return 0;
}

/* ------------------------------------------------------------------ charts */

struct run {
	const struct ms_mx_scope *s; /* whose series */
	const char *dash;	     /* stroke-dasharray, NULL for solid */
};

/* Bytes per state over time; runs overlaid on one time axis (time since each one's start). */
static void put_chart(FILE *f, const char *id, const struct run *runs, unsigned nruns)
{
	static uint64_t pts[2][MS_MX_SERIES][MS_STATE_COUNT];
	const unsigned L = 70, R = 10, T = 10, B = 30, pw = CHART_W - L - R, ph = CHART_H - T - B;
	uint64_t ymax = 1, tmax = 1;
	unsigned n[2] = {0};
	char a[32];

	for (unsigned r = 0; r < nruns && r < 2; r++) {
		const struct ms_mx_series *s = &runs[r].s->series;

		n[r] = ms_mx_series_points(s, pts[r]);
		for (unsigned i = 0; i < n[r]; i++)
			for (int k = MS_RESERVED; k < MS_STATE_COUNT; k++)
				if (pts[r][i][k] > ymax)
					ymax = pts[r][i][k];
		if (n[r] && s->span * n[r] > tmax)
			tmax = s->span * n[r];
	}
	fprintf(f,
		"<svg class=\"chart\" id=\"%s\" width=\"%u\" height=\"%u\" viewBox=\"0 0 %u %u\" "
		"font-size=\"10\" font-family=\"sans-serif\">\n",
		id, CHART_W, CHART_H, CHART_W, CHART_H);
	for (unsigned g = 0; g <= 4; g++) {
		unsigned y = T + ph - ph * g / 4;

		fprintf(f,
			"<line x1=\"%u\" x2=\"%u\" y1=\"%u\" y2=\"%u\" stroke=\"#eee\"/>"
			"<text x=\"%u\" y=\"%u\" text-anchor=\"end\">%s</text>\n",
			L, L + pw, y, y, L - 4, y + 3,
			ms_mx_fmt(a, sizeof(a), "bytes.Ready", ymax * g / 4));
	}
	for (unsigned g = 0; g <= 5; g++) {
		unsigned x = L + pw * g / 5;

		fprintf(f, "<text x=\"%u\" y=\"%u\" text-anchor=\"middle\">%s</text>\n", x,
			T + ph + 14, fmt_ns(a, sizeof(a), tmax * g / 5));
	}
	fprintf(f,
		"<text x=\"%u\" y=\"%u\" text-anchor=\"end\" fill=\"#666\">time since the start of "
		"the trace</text>\n",
		L + pw, T + ph + 27);
	for (unsigned r = 0; r < nruns && r < 2; r++) {
		const struct ms_mx_series *s = &runs[r].s->series;

		for (int k = MS_RESERVED; k < MS_STATE_COUNT; k++) {
			fprintf(f,
				"<polyline class=\"series\" data-state=\"%s\" data-run=\"%u\" "
				"fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\"%s%s%s points=\"",
				ms_state_name((unsigned)k), r, state_fill[k],
				runs[r].dash ? " stroke-dasharray=\"" : "",
				runs[r].dash ? runs[r].dash : "", runs[r].dash ? "\"" : "");
			for (unsigned i = 0; i < n[r]; i++) {
				double x =
					L + (double)pw * (double)(s->span * (i + 1)) / (double)tmax;
				double y =
					T + ph - (double)ph * (double)pts[r][i][k] / (double)ymax;

				fprintf(f, "%s%.1f,%.1f", i ? " " : "", x, y);
			}
			fputs("\"/>\n", f);
		}
	}
	fputs("</svg>\n<div class=\"legend note\">", f);
	for (int k = MS_RESERVED; k < MS_STATE_COUNT; k++)
		fprintf(f, "<span><i class=\"sw\" style=\"background:%s\"></i>%s</span>",
			state_fill[k], ms_state_name((unsigned)k));
	if (nruns > 1)
		fputs("<span>dashed: BASE, solid: NEW</span>", f);
	fprintf(f, "<span>each line: the highest value in each of at most %u time buckets</span>",
		MS_MX_SERIES);
	fputs("</div>\n", f);
}

static void put_resident_note(FILE *f, const struct ms_mx_scope *a, const struct ms_mx_scope *b)
{
	char x[32], y[32];

	fputs("<h3>Resident memory</h3>\n", f);
	if (!a->has_resident && (!b || !b->has_resident)) {
		fputs("<p class=\"note\">Residency is not recorded in this timeline (SPEC section "
		      "8: "
		      "recorded with eBPF page faults).</p>\n",
		      f);
		return;
	}
	fprintf(f, "<p>resident %s, peak %s", ms_mx_fmt(x, sizeof(x), "resident", a->resident),
		ms_mx_fmt(y, sizeof(y), "resident", a->peak_resident));
	if (b && b->has_resident)
		fprintf(f, "; NEW: resident %s, peak %s",
			ms_mx_fmt(x, sizeof(x), "resident", b->resident),
			ms_mx_fmt(y, sizeof(y), "resident", b->peak_resident));
	fputs("</p>\n", f);
}

/* ------------------------------------------------------------------ tables */

static int put_rows(FILE *f, const struct ms_diff_pair *p, bool two)
{
	struct ms_diff_row *rows;
	long n = ms_diff_rows(p, &rows);
	char a[48], b[48], pc[32];

	if (n < 0)
		return (int)n;
	fputs(two ? "<table class=\"metrics\"><tr><th>metric</th><th>BASE</th><th>NEW</th>"
		    "<th>change</th><th>%</th></tr>\n"
		  : "<table class=\"metrics\"><tr><th>metric</th><th>value</th></tr>\n",
	      f);
	for (long i = 0; i < n; i++) {
		const struct ms_diff_row *r = &rows[i];

		fprintf(f, "<tr><td>%s</td><td class=\"num\">%s</td>", r->metric,
			r->in_base ? ms_mx_fmt(a, sizeof(a), r->metric, r->base) : "-");
		if (two) {
			const char *cls = r->now > r->base ? "up" : r->now < r->base ? "down" : "";

			ms_mx_fmt(b, sizeof(b), r->metric,
				  r->now > r->base ? r->now - r->base : r->base - r->now);
			fprintf(f, "<td class=\"num\">%s</td>",
				r->in_now ? ms_mx_fmt(a, sizeof(a), r->metric, r->now) : "-");
			fprintf(f, "<td class=\"num %s\">%s%s</td><td class=\"num %s\">%s</td>",
				cls,
				r->now == r->base  ? ""
				: r->now > r->base ? "+"
						   : "-",
				r->now == r->base ? "0" : b, cls,
				ms_diff_pct(pc, sizeof(pc), r->base, r->now));
		}
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
	free(rows);
	return 0;
}

static void put_violations(FILE *f, const struct ms_metrics *m, const char *title)
{
	char t[32];

	fprintf(f, "<h2>Violations%s%s</h2>\n", title ? ": " : "", title ? title : "");
	if (!m->total.tot.violations) {
		fputs("<p>None.</p>\n", f);
		return;
	}
	fprintf(f, "<p>%" PRIu64 " in all", m->total.tot.violations);
	for (unsigned k = 1; k < MS_V_COUNT; k++)
		if (m->total.tot.by_kind[k])
			fprintf(f, "; %s %" PRIu64, ms_violation_name(k), m->total.tot.by_kind[k]);
	fputs(".</p>\n<table class=\"violations\"><tr><th>seq</th><th>time</th><th>pid/tid</th>"
	      "<th>kind</th><th>event</th><th>range</th><th>bytes "
	      "found</th><th>message</th></tr>\n",
	      f);
	for (size_t i = 0; i < m->nviols; i++) {
		const struct ms_mx_viol *v = &m->viols[i];
		const char *sep = "";

		fprintf(f,
			"<tr><td>%" PRIu64 "</td><td>%s</td><td>%u/%u</td><td>%s</td><td>%s</td>"
			"<td class=\"num\">[%#" PRIx64 ", %#" PRIx64 ")</td><td>",
			v->seq, fmt_ns(t, sizeof(t), v->t_ns), v->pid, v->tid,
			ms_violation_name(v->kind), ms_op_name(v->op), v->addr, v->addr + v->len);
		for (int k = 0; k < MS_STATE_COUNT; k++)
			if (v->from[k]) {
				fprintf(f, "%s%s %" PRIu64, sep, ms_state_name((unsigned)k),
					v->from[k]);
				sep = ", ";
			}
		fputs("</td><td style=\"text-align:left\">", f);
		esc(f, v->message);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
	if (m->total.tot.violations > m->nviols)
		fprintf(f, "<p class=\"note\">%" PRIu64 " more not listed.</p>\n",
			m->total.tot.violations - m->nviols);
}

static int cmp_groups(const void *x, const void *y)
{
	const struct ms_mx_group *a = x, *b = y;

	return a->bytes != b->bytes ? (a->bytes > b->bytes ? -1 : 1) : 0;
}

static int put_groups(FILE *f, const struct ms_mx_scope *s)
{
	struct ms_mx_group *g;
	size_t n = s->ngroups < 20 ? s->ngroups : 20;
	char a[32], b[32];

	if (!s->ngroups)
		return 0;
	g = malloc(s->ngroups * sizeof(*g));
	if (!g)
		return -ENOMEM;
	memcpy(g, s->groups, s->ngroups * sizeof(*g));
	qsort(g, s->ngroups, sizeof(*g), cmp_groups);
	fputs("<table class=\"groups\"><tr><th>mappings made by</th><th>length</th><th>stat</th>"
	      "<th>count</th><th>bytes</th></tr>\n",
	      f);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "<tr><td>%s</td><td class=\"num\">%s</td><td>", ms_op_name(g[i].op),
			ms_mx_fmt(a, sizeof(a), "bytes.Ready", g[i].len));
		esc(f, g[i].stat[0] ? g[i].stat : "-");
		fprintf(f,
			"</td><td class=\"num\">%" PRIu64 "</td><td class=\"num\">%s</td></tr>\n",
			g[i].count, ms_mx_fmt(b, sizeof(b), "bytes.Ready", g[i].bytes));
	}
	fputs("</table>\n", f);
	if (s->ngroups > n)
		fprintf(f, "<p class=\"note\">%zu more groups not listed.</p>\n", s->ngroups - n);
	free(g);
	return 0;
}

static void put_command(FILE *f, const struct ms_metrics *m)
{
	char t[32];

	fputs("<p><code>", f);
	for (int i = 0; i < m->argc; i++) {
		esc(f, m->argv[i]);
		fputc(' ', f);
	}
	fprintf(f,
		"</code><br>%" PRIu64 " events, %zu process%s, %" PRIu64
		" violation%s, %s traced%s%s"
		"</p>\n",
		m->events, m->nprocs, m->nprocs == 1 ? "" : "es", m->total.tot.violations,
		m->total.tot.violations == 1 ? "" : "s",
		fmt_ns(t, sizeof(t), m->total.last_ns - m->total.first_ns),
		m->complete ? "" : " (cut short: read up to its last whole line)",
		m->lost ? " (the trace lost events)" : "");
}

/* ------------------------------------------------------------------ the pages */

static FILE *open_out(const char *out, char *msg, size_t msglen, int *err)
{
	int fd = ms_tl_create(out);
	FILE *f;

	if (fd < 0) {
		*err = fd;
		snprintf(msg, msglen, "%s: %s", out, strerror(-fd));
		return NULL;
	}
	f = fdopen(fd, "w");
	if (!f) {
		*err = -errno;
		close(fd);
		snprintf(msg, msglen, "%s: %s", out, strerror(-*err));
	}
	return f;
}

static int close_out(FILE *f, const char *out, int err, char *msg, size_t msglen)
{
	bool bad = ferror(f);

	if (fclose(f) || bad) {
		if (!err) {
			snprintf(msg, msglen, "writing %s: %s", out, strerror(errno ? errno : EIO));
			err = -EIO;
		}
	}
	return err;
}

int ms_html_report(const char *out, const char *path, const struct ms_metrics *m, char *msg,
		   size_t msglen)
{
	struct run run = {.s = &m->total};
	char title[300];
	int err = 0;
	FILE *f = open_out(out, msg, msglen, &err);

	if (!f)
		return err;
	snprintf(title, sizeof(title), "memstate report: %s", m->name);
	page_head(f, title);
	fputs("<h1>", f);
	esc(f, title);
	fputs("</h1>\n", f);
	put_command(f, m);
	fputs("<h2>State map (address x time)</h2>\n", f);
	err = put_map_section(f, m->name, path, m, 0, msg, msglen);
	if (err)
		goto out;
	fputs("<h2>Bytes per state over time</h2>\n", f);
	put_chart(f, "chart-bytes", &run, 1);
	put_resident_note(f, &m->total, NULL);
	fputs("<h2>Summary</h2>\n<h3>whole timeline</h3>\n", f);
	{
		struct ms_diff_pair p = {.base = &m->total};

		if ((err = put_rows(f, &p, false)))
			goto out;
	}
	for (size_t i = 0; i < m->nprocs && i < MAX_PROCS; i++) {
		struct ms_diff_pair p = {.base = &m->procs[i]};
		char t[32];

		fprintf(f, "<h3>process %u ", m->procs[i].pid);
		esc(f, m->procs[i].exe ? m->procs[i].exe : "(exe unknown)");
		fprintf(f, ", %s to %s</h3>\n", fmt_ns(title, sizeof(title), m->procs[i].first_ns),
			fmt_ns(t, sizeof(t), m->procs[i].last_ns));
		if ((err = put_rows(f, &p, false)) || (err = put_groups(f, &m->procs[i])))
			goto out;
	}
	if (m->nprocs > MAX_PROCS)
		fprintf(f,
			"<p class=\"note\">%zu more processes not shown (the whole-timeline table "
			"counts them).</p>\n",
			m->nprocs - MAX_PROCS);
	put_violations(f, m, NULL);
	page_tail(f);
out:
	if (err == -ENOMEM)
		snprintf(msg, msglen, "out of memory");
	return close_out(f, out, err, msg, msglen);
}

int ms_html_diff(const char *out, const char *base_path, const char *now_path,
		 const struct ms_diff *d, char *msg, size_t msglen)
{
	struct run runs[2] = {{.s = &d->base->total, .dash = "5 3"}, {.s = &d->now->total}};
	char title[600], a[48], b[48], pc[32];
	int err = 0;
	FILE *f = open_out(out, msg, msglen, &err);

	if (!f)
		return err;
	snprintf(title, sizeof(title), "memstate diff: %s -> %s", d->base->name, d->now->name);
	page_head(f, title);
	fputs("<h1>", f);
	esc(f, title);
	fputs("</h1>\n<h3>BASE</h3>\n", f);
	put_command(f, d->base);
	fputs("<h3>NEW</h3>\n", f);
	put_command(f, d->now);
	if (d->nverdicts) {
		fputs("<h2>Verdicts</h2>\n<ul class=\"verdicts\">\n", f);
		for (size_t i = 0; i < d->nverdicts; i++) {
			const struct ms_diff_verdict *v = &d->verdicts[i];

			fprintf(f, "<li><span class=\"%s\">%s</span> <code>",
				v->failed ? "fail" : "ok", v->failed ? "FAIL" : "ok");
			esc(f, v->e->text);
			fputs("</code> ", f);
			esc(f, d->pairs[v->pair].label);
			fprintf(f, ": %s -> %s (%s)</li>\n",
				ms_mx_fmt(a, sizeof(a), v->e->metric, v->base),
				ms_mx_fmt(b, sizeof(b), v->e->metric, v->now),
				ms_diff_pct(pc, sizeof(pc), v->base, v->now));
		}
		fputs("</ul>\n", f);
	}
	fputs("<h2>Bytes per state over time, both runs overlaid</h2>\n", f);
	put_chart(f, "chart-bytes", runs, 2);
	put_resident_note(f, &d->base->total, &d->now->total);
	fputs("<h2>Summary</h2>\n", f);
	for (size_t k = 0; k < d->npairs && k <= MAX_PROCS; k++) {
		struct ms_diff_group *g;
		long ng;

		fputs("<h3>", f);
		esc(f, d->pairs[k].label);
		fputs("</h3>\n", f);
		if ((err = put_rows(f, &d->pairs[k], true)))
			goto out;
		ng = ms_diff_groups(&d->pairs[k], d->top, &g);
		if (ng < 0) {
			err = (int)ng;
			goto out;
		}
		if (ng > 0) {
			fputs("<table class=\"groups\"><tr><th>mappings changed most (made by, "
			      "length, stat)</th><th>BASE</th><th>NEW</th><th>bytes "
			      "BASE</th><th>bytes "
			      "NEW</th></tr>\n",
			      f);
			for (long i = 0; i < ng; i++) {
				fprintf(f, "<tr><td>%s %s ", ms_op_name(g[i].op),
					ms_mx_fmt(a, sizeof(a), "bytes.Ready", g[i].len));
				esc(f, g[i].stat);
				fprintf(f,
					"</td><td class=\"num\">%" PRIu64
					"</td><td class=\"num\">%" PRIu64
					"</td><td class=\"num\">%s</td><td "
					"class=\"num\">%s</td></tr>\n",
					g[i].base_count, g[i].now_count,
					ms_mx_fmt(a, sizeof(a), "bytes.Ready", g[i].base_bytes),
					ms_mx_fmt(b, sizeof(b), "bytes.Ready", g[i].now_bytes));
			}
			fputs("</table>\n", f);
		}
		free(g);
	}
	fputs("<h2>State maps</h2>\n", f);
	snprintf(title, sizeof(title), "BASE: %s", d->base->name);
	err = put_map_section(f, title, base_path, d->base, 0, msg, msglen);
	snprintf(title, sizeof(title), "NEW: %s", d->now->name);
	if (!err)
		err = put_map_section(f, title, now_path, d->now, 1, msg, msglen);
	if (err)
		goto out;
	put_violations(f, d->base, "BASE");
	put_violations(f, d->now, "NEW");
	page_tail(f);
out:
	if (err == -ENOMEM)
		snprintf(msg, msglen, "out of memory");
	return close_out(f, out, err, msg, msglen);
}
