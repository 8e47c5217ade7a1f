#!/usr/bin/env bats
# The HTML pages of `memstate report --html` and `memstate diff --html`: one self-contained
# file (no URL in it, a CSP that forbids fetching), opened in headless Chromium through the
# DevTools protocol (tests/data/tools/html_check.js): the map and charts drawn, the
# screenshot not blank, a real mouse hover over a known region shows its range, state, stat,
# faults and history, the wheel zooms, no console error, no request leaves the page. Big
# timelines give a bounded page that says what it left out (its load time is a benchmark
# figure: here only "opens", a loaded CI machine is slow). Bad flags: exit 2, one line.

load helpers

DATA=$ROOT/tests/data
CHECK=$DATA/tools/html_check.js
PROGS=$BUILD/tests/progs

need_browser() {
	command -v node >/dev/null || skip "node is not installed (make deps)"
	command -v "${CHROMIUM:-chromium}" >/dev/null || skip "chromium is not installed (make deps)"
}

# self_contained FILE: nothing in it names a URL or loads anything.
self_contained() {
	run grep -cE 'https?://|src=|href=|@import|url\(|fetch\(|XMLHttpRequest|WebSocket' "$1"
	assert_output 0
	grep -q "Content-Security-Policy\" content=\"default-src 'none'" "$1"
}

# page_check FILE [PID ADDR]: the browser's findings as JSON in $output.
page_check() {
	# Chromium can die at start-up on a busy machine (node then exits 1 on the broken
	# pipe, before any page is loaded): one new browser is allowed, the page's checks not.
	run timeout 120 node "$CHECK" "$@"
	[ "$status" -eq 1 ] && run timeout 120 node "$CHECK" "$@"
	assert_success
}

# jq_py JSON EXPR: assert a Python expression over the parsed JSON `r`.
assert_py() {
	python3 -c 'import json, sys; r = json.loads(sys.argv[1]); assert eval(sys.argv[2]), (sys.argv[2], r)' "$@"
}

@test "report --html: self-contained, drawn, hover shows the region, zoom works, no request" {
	need_browser
	local f=$BATS_TEST_TMPDIR/known.html
	run -0 "$MEMSTATE" report --html -o "$f" "$DATA/known.json"
	self_contained "$f"
	page_check "$f" 100 268435456
	local r=$output
	assert_py "$r" 'r["ready"] == "1" and r["maps"] == 1 and r["map_rects"] > 5'
	assert_py "$r" 'r["chart_lines"] >= 3 and r["tables"] >= 2'
	assert_py "$r" 'r["screenshot_colours"] > 20'
	assert_py "$r" 'r["requests"] == [] and r["errors"] == []'
	assert_py "$r" '"region [0x10000000, 0x10004000) 16.0 KiB  state Ready  stat heap  faults 1  THP 0" in r["tooltip"]'
	assert_py "$r" '"sysUsed -> Ready [0x10000000, 0x10004000)" in r["tooltip"]'
	assert_py "$r" 'r["viewbox_before"] != r["viewbox_after"]'
	# the violation is listed with its event
	grep -q '<td>double-free</td><td>sysFree</td>' "$f"
}

@test "diff --html: both runs overlaid, two maps, hover shows a mapping's history" {
	need_browser
	local d=$BATS_TEST_TMPDIR addr
	run -0 "$MEMSTATE" run -o "$d/64.json" -- "$PROGS/touchn" 64
	addr=$(sed -n 's/^map \([0-9]*\) .*/\1/p' <<<"$output")
	run -0 "$MEMSTATE" run -o "$d/256.json" -- "$PROGS/touchn" 256
	run -1 "$MEMSTATE" diff --html -o "$d/d.html" --fail-on peak_footprint=+10% "$d/64.json" "$d/256.json"
	assert_output --partial "FAIL peak_footprint=+10%"
	self_contained "$d/d.html"
	grep -q 'class="fail">FAIL</span> <code>peak_footprint=+10%</code>' "$d/d.html"
	pid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["processes"][0]["pid"])' "$d/64.json")
	page_check "$d/d.html" "$pid" "$addr"
	local r=$output
	assert_py "$r" 'r["maps"] == 2 and r["chart_lines"] == 6 and r["requests"] == [] and r["errors"] == []'
	assert_py "$r" '"sysAlloc -> Ready" in r["tooltip"] and "sysFree -> None" in r["tooltip"]'
	assert_py "$r" 'r["screenshot_colours"] > 20'
}

@test "a big timeline gives a bounded page that says what it left out" {
	[ -x "$BUILD/bench/bench_export" ] || skip "bench_export is not built (make benches)"
	local d=$BATS_TEST_TMPDIR size
	"$BUILD/bench/bench_export" -n 200000 -o "$d/t.json" >/dev/null
	run -0 "$MEMSTATE" report --html -o "$d/t.html" "$d/t.json"
	size=$(stat -c %s "$d/t.html")
	[ "$size" -lt $((5 << 20)) ] || fail "page of $size bytes"
	grep -q 'Left out of the hover data' "$d/t.html"
	self_contained "$d/t.html"
	if command -v node >/dev/null && command -v chromium >/dev/null; then
		page_check "$d/t.html"
		assert_py "$output" 'r["load_ms"] < 20000 and r["errors"] == [] and r["requests"] == []'
	fi
}

@test "--html flags: bad uses exit 2 with one line" {
	local f=$DATA/known.json
	run -2 --separate-stderr "$MEMSTATE" report --html "$f"
	assert_equal "${#stderr_lines[@]}" 1
	run -2 --separate-stderr "$MEMSTATE" report -o "$BATS_TEST_TMPDIR/x.html" "$f"
	assert_equal "${#stderr_lines[@]}" 1
	run -2 --separate-stderr "$MEMSTATE" report --html -o "$BATS_TEST_TMPDIR/x.html" - <"$f"
	assert_equal "${#stderr_lines[@]}" 1
	run -2 --separate-stderr "$MEMSTATE" report --html -o /nonexistent/dir/x.html "$f"
	assert_equal "${#stderr_lines[@]}" 1
	run -2 --separate-stderr "$MEMSTATE" diff --html "$f" "$f"
	assert_equal "${#stderr_lines[@]}" 1
	run -2 --separate-stderr "$MEMSTATE" diff --html -o "$BATS_TEST_TMPDIR/x.html" "$f" \
		"$BATS_TEST_TMPDIR/missing.json"
	assert_equal "${#stderr_lines[@]}" 1
	[ ! -e "$BATS_TEST_TMPDIR/x.html" ]
}
