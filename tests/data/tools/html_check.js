#!/usr/bin/env node
// SPDX-License-Identifier: MIT
//
// html_check.js PAGE [PID ADDR]: open a memstate HTML page in headless Chromium through the
// DevTools protocol (--remote-debugging-pipe: no npm package, no port) and print one JSON
// object: load time, every request the page attempted besides itself, console errors and
// exceptions, what was drawn (map rectangles, chart lines), whether the screenshot has more
// than a blank page's colours, the tooltip a real mouse hover over ADDR of process PID
// shows, and the map's viewBox before and after a wheel zoom.
//
// Exit 0 with the JSON whatever the page did (the caller judges); 2 when Chromium fails.
'use strict';
const { spawn } = require('child_process');
const path = require('path');
const zlib = require('zlib');

const [page, pid, addr] = process.argv.slice(2);
const chrome = process.env.CHROMIUM || 'chromium';
const W = 1400, H = 1000;

const fs = require('fs');
const profile = fs.mkdtempSync(path.join(process.env.TMPDIR || '/tmp', 'memstate-html-check-'));
const proc = spawn(chrome, ['--headless', '--no-sandbox', '--disable-gpu',
	'--remote-debugging-pipe', '--no-first-run', '--no-default-browser-check',
	`--window-size=${W},${H}`, '--user-data-dir=' + profile, 'about:blank'],
	{ stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] });
const out = proc.stdio[3], inp = proc.stdio[4];
let id = 0, buf = '';
const waiting = new Map(), listeners = [];

inp.on('data', (d) => {
	buf += d.toString();
	let i;
	while ((i = buf.indexOf('\0')) >= 0) {
		const msg = JSON.parse(buf.slice(0, i));
		buf = buf.slice(i + 1);
		if (msg.id && waiting.has(msg.id)) {
			const { resolve, reject } = waiting.get(msg.id);
			waiting.delete(msg.id);
			msg.error ? reject(new Error(JSON.stringify(msg.error))) : resolve(msg.result);
		} else if (msg.method) {
			listeners.forEach((l) => l(msg));
		}
	}
});

function send(method, params = {}, sessionId) {
	const m = { id: ++id, method, params };
	if (sessionId) m.sessionId = sessionId;
	out.write(JSON.stringify(m) + '\0');
	return new Promise((resolve, reject) => waiting.set(m.id, { resolve, reject }));
}

function once(method, timeout = 80000) {
	return new Promise((resolve, reject) => {
		const t = setTimeout(() => reject(new Error('timeout waiting for ' + method)), timeout);
		listeners.push((m) => { if (m.method === method) { clearTimeout(t); resolve(m); } });
	});
}

// Distinct colours of a PNG screenshot (8-bit RGB/RGBA, as Chromium writes them).
function pngColours(b64) {
	const png = Buffer.from(b64, 'base64');
	let off = 8, w = 0, h = 0, type = 0;
	const idat = [];
	while (off < png.length) {
		const len = png.readUInt32BE(off), kind = png.toString('ascii', off + 4, off + 8);
		const data = png.subarray(off + 8, off + 8 + len);
		if (kind === 'IHDR') { w = data.readUInt32BE(0); h = data.readUInt32BE(4); type = data[9]; }
		if (kind === 'IDAT') idat.push(data);
		off += 12 + len;
	}
	const bpp = type === 6 ? 4 : 3, stride = w * bpp, raw = zlib.inflateSync(Buffer.concat(idat));
	const img = Buffer.alloc(stride * h), colours = new Set();
	for (let y = 0; y < h; y++) {
		const f = raw[y * (stride + 1)], line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
		for (let x = 0; x < stride; x++) {
			const a = x >= bpp ? img[y * stride + x - bpp] : 0, b = y ? img[(y - 1) * stride + x] : 0;
			const c = x >= bpp && y ? img[(y - 1) * stride + x - bpp] : 0;
			let v = line[x];
			if (f === 1) v += a; else if (f === 2) v += b; else if (f === 3) v += (a + b) >> 1;
			else if (f === 4) { const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
				v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c; }
			img[y * stride + x] = v & 255;
		}
	}
	for (let i = 0; i < img.length && colours.size < 5000; i += bpp * 7)
		colours.add((img[i] << 16) | (img[i + 1] << 8) | img[i + 2]);
	return colours.size;
}

async function main() {
	const url = 'file://' + path.resolve(page);
	const requests = [], errors = [];
	listeners.push((m) => {
		if (m.method === 'Network.requestWillBeSent' && m.params.request.url !== url)
			requests.push(m.params.request.url);
		if (m.method === 'Runtime.exceptionThrown')
			errors.push('exception: ' + JSON.stringify(m.params.exceptionDetails.exception ||
				m.params.exceptionDetails.text));
		if (m.method === 'Runtime.consoleAPICalled' && (m.params.type === 'error' || m.params.type === 'warning'))
			errors.push('console: ' + JSON.stringify(m.params.args.map((a) => a.value)));
		if (m.method === 'Log.entryAdded' && m.params.entry.level === 'error')
			errors.push('log: ' + m.params.entry.text);
	});
	const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
	const { sessionId: s } = await send('Target.attachToTarget', { targetId, flatten: true });
	for (const d of ['Page', 'Network', 'Runtime', 'Log']) await send(d + '.enable', {}, s);
	await send('Emulation.setDeviceMetricsOverride', { width: W, height: H, deviceScaleFactor: 1, mobile: false }, s);
	const loaded = once('Page.loadEventFired');
	const t0 = Date.now();
	await send('Page.navigate', { url }, s);
	await loaded;
	const loadMs = Date.now() - t0;
	const ev = async (expr) => (await send('Runtime.evaluate', { expression: expr, returnByValue: true }, s)).result.value;
	const res = {
		load_ms: loadMs,
		ready: await ev("document.body.getAttribute('data-ready')"),
		maps: await ev("document.querySelectorAll('svg.map').length"),
		map_rects: await ev("document.querySelectorAll('svg.map rect').length"),
		chart_lines: await ev("Array.from(document.querySelectorAll('svg.chart polyline')).filter(p => p.getAttribute('points').split(' ').length > 1).length"),
		tables: await ev("document.querySelectorAll('table.metrics').length"),
		violation_rows: await ev("document.querySelectorAll('table.violations tr').length"),
	};
	const shot = await send('Page.captureScreenshot', { format: 'png' }, s);
	res.screenshot_colours = pngColours(shot.data);
	if (pid && addr) {
		const p = await ev(`JSON.stringify(memstatePage.locate(0, ${+pid}, ${+addr}))`);
		const pt = JSON.parse(p || 'null');
		if (pt) {
			await send('Runtime.evaluate', { expression: `window.scrollTo(0, ${Math.max(0, pt.y - H / 2)})` }, s);
			const q = JSON.parse(await ev(`JSON.stringify(memstatePage.locate(0, ${+pid}, ${+addr}))`));
			await send('Input.dispatchMouseEvent', { type: 'mouseMoved', x: q.x, y: q.y }, s);
			res.tooltip = await ev('memstatePage.tip()');
			res.viewbox_before = await ev("document.querySelector('svg.map').getAttribute('viewBox')");
			await send('Input.dispatchMouseEvent', { type: 'mouseWheel', x: q.x, y: q.y, deltaX: 0, deltaY: -240 }, s);
			await new Promise((r) => setTimeout(r, 200));
			res.viewbox_after = await ev("document.querySelector('svg.map').getAttribute('viewBox')");
		} else {
			res.tooltip = null;
		}
	}
	await new Promise((r) => setTimeout(r, 100));
	res.requests = requests;
	res.errors = errors;
	process.stdout.write(JSON.stringify(res) + '\n');
	await send('Browser.close').catch(() => {});
}

// Chromium gone, its profile removed, then exit.
function finish(code) {
	const done = () => { fs.rmSync(profile, { recursive: true, force: true }); process.exit(code); };
	if (proc.exitCode !== null || proc.signalCode !== null) return done();
	proc.on('exit', done);
	proc.kill(code ? 'SIGKILL' : 'SIGTERM');
	setTimeout(() => { proc.kill('SIGKILL'); }, 5000);
}
const guard = setTimeout(() => { process.stderr.write('html_check: timed out\n'); finish(2); }, 110000);
main().then(() => { clearTimeout(guard); finish(0); },
	(e) => { process.stderr.write('html_check: ' + e.message + '\n'); finish(2); });
