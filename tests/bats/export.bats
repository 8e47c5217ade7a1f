#!/usr/bin/env bats
# export/: saved timelines. Every timeline made here validates against the JSON Schema;
# write -> read -> write is byte-identical in both forms; `memstate check` agrees with the
# violations recorded at trace time (the bug zoo) and is clean on goheap; report and
# convert outputs are well-formed (Perfetto trace events, SVG rendered and its pixels
# read); each file of the malformed corpus gives exit 2 and exactly one line on stderr.

load helpers

DATA=$ROOT/tests/data
TOOLS=$DATA/tools
SCHEMA=$ROOT/docs/timeline.schema.json
ZOO="illegal_transition double_free accounting_mismatch misaligned hint_on_unmapped invalid_range"

setup_file() {
	local d=$BATS_FILE_TMPDIR
	# One goheap run in each form, shared by the tests that only read them.
	MEMSTATE_OUT=$d/g.json "$SAMPLES/goheap" 300 >/dev/null 3>&-
	MEMSTATE_OUT=$d/g.jsonl MEMSTATE_FORMAT=jsonl "$SAMPLES/goheap" 300 >/dev/null 3>&-
	for z in $ZOO; do
		MEMSTATE_OUT=$d/$z.json "$SAMPLES/zoo/$z" >/dev/null 2>&1 3>&-
		MEMSTATE_OUT=$d/$z.jsonl MEMSTATE_FORMAT=jsonl "$SAMPLES/zoo/$z" >/dev/null 2>&1 3>&-
	done
}

# validate FILE...: JSON Schema validation (skipped without python3-jsonschema).
validate() {
	run python3 "$TOOLS/validate_timeline.py" "$SCHEMA" "$@"
	[ "$status" -eq 77 ] && skip "python3-jsonschema is not installed"
	assert_success
}

# ---------------------------------------------------------------- schema

@test "every timeline the samples write validates against the schema" {
	local d=$BATS_FILE_TMPDIR files
	files=("$d/g.json" "$d/g.jsonl")
	for z in $ZOO; do files+=("$d/$z.json" "$d/$z.jsonl"); done
	validate "${files[@]}" "$DATA/known.json"
}

@test "the unit tests' timelines validate too (sample and 20000 random events, both forms)" {
	[ -x "$BUILD/tests/test_reader" ] || skip "test_reader is not built"
	run -0 env MEMSTATE_TIMELINE_DIR="$BATS_TEST_TMPDIR" "$BUILD/tests/test_reader"
	validate "$BATS_TEST_TMPDIR"/sample.json "$BATS_TEST_TMPDIR"/sample.jsonl \
		"$BATS_TEST_TMPDIR"/random.json "$BATS_TEST_TMPDIR"/random.jsonl
}

@test "converted timelines validate too (json <-> jsonl, cut-short input closed)" {
	local d=$BATS_TEST_TMPDIR
	run -0 "$MEMSTATE" convert --to jsonl "$BATS_FILE_TMPDIR/g.json" -o "$d/a.jsonl"
	run -0 "$MEMSTATE" convert --to json "$BATS_FILE_TMPDIR/g.jsonl" -o "$d/b.json"
	head -c 20000 "$BATS_FILE_TMPDIR/g.jsonl" >"$d/cut.jsonl"
	run -0 "$MEMSTATE" convert --to json "$d/cut.jsonl" -o "$d/c.json"
	validate "$d/a.jsonl" "$d/b.json" "$d/c.json"
}

@test "timelines of memstate run validate, and check agrees with them" {
	local d=$BATS_TEST_TMPDIR
	# ptrace needs no root: a fork and an exec, replayed the tracer's way
	run -0 "$MEMSTATE" run --capture ptrace -q -o "$d/sh.json" -- sh -c 'ls / >/dev/null; true' 3>&-
	run -0 "$MEMSTATE" check "$d/sh.json"
	assert_output --regexp ', 0 violations; agrees with the recorded timeline$'
	# the library's API events through the tracer, JSON Lines
	run -0 "$MEMSTATE" run -q -f jsonl -o "$d/z.jsonl" -- "$SAMPLES/zoo/double_free" 3>&-
	run -1 "$MEMSTATE" check "$d/z.jsonl"
	assert_output --partial "1 violation (double-free 1); agrees with the recorded timeline"
	run -0 "$MEMSTATE" convert --to json "$d/z.jsonl" -o "$d/z.json"
	run -0 "$MEMSTATE" convert --to jsonl "$d/z.json" -o "$d/z2.jsonl"
	run -0 cmp "$d/z.jsonl" "$d/z2.jsonl"
	validate "$d/sh.json" "$d/z.jsonl" "$d/z.json"
}

# ---------------------------------------------------------------- round trip

@test "round trip: json -> read -> json and jsonl -> read -> jsonl are byte-identical" {
	local d=$BATS_TEST_TMPDIR f
	for f in "$BATS_FILE_TMPDIR"/*.json; do
		run -0 "$MEMSTATE" convert --to json "$f" -o "$d/x.json"
		run -0 cmp "$f" "$d/x.json"
	done
	for f in "$BATS_FILE_TMPDIR"/*.jsonl; do
		run -0 "$MEMSTATE" convert --to jsonl "$f" -o "$d/x.jsonl"
		run -0 cmp "$f" "$d/x.jsonl"
	done
	run -0 "$MEMSTATE" convert --to json "$DATA/known.json" -o "$d/k.json"
	run -0 cmp "$DATA/known.json" "$d/k.json"
}

@test "round trip across forms: json -> jsonl -> json is byte-identical" {
	local d=$BATS_TEST_TMPDIR
	run -0 "$MEMSTATE" convert --to jsonl "$BATS_FILE_TMPDIR/g.json" -o "$d/a.jsonl"
	run -0 "$MEMSTATE" convert --to json "$d/a.jsonl" -o "$d/b.json"
	run -0 cmp "$BATS_FILE_TMPDIR/g.json" "$d/b.json"
	# The JSON Lines form reorders nothing: same lines as the writer's own JSON Lines run.
	run -0 "$MEMSTATE" convert --to jsonl "$d/b.json" -o "$d/c.jsonl"
	run -0 cmp "$d/a.jsonl" "$d/c.jsonl"
}

@test "stdin in, stdout out; files made 0600" {
	local d=$BATS_TEST_TMPDIR
	"$MEMSTATE" convert --to json - <"$BATS_FILE_TMPDIR/g.json" >"$d/x.json"
	run -0 cmp "$BATS_FILE_TMPDIR/g.json" "$d/x.json"
	umask 022
	run -0 "$MEMSTATE" convert --to perfetto "$BATS_FILE_TMPDIR/g.json" -o "$d/p.json"
	run -0 stat -c %a "$d/p.json"
	assert_output 600
}

@test "convert: a JSON Lines file cut in its closing sections closes whole, nothing twice" {
	local d=$BATS_TEST_TMPDIR n
	# known: 6 lines to its events, a violation, 3 regions, 1 process, the summary;
	# fork_exec: 11 lines to its events, a violation, 2 processes, the summary
	run -0 "$MEMSTATE" convert --to jsonl "$DATA/known.json" -o "$d/k.jsonl"
	for n in k7 k8 k9 k10 k11 f12 f13 f14; do
		if [ "${n:0:1}" = k ]; then
			head -n "${n:1}" "$d/k.jsonl" >"$d/$n.jsonl"
		else
			head -n "${n:1}" "$DATA/fork_exec.jsonl" >"$d/$n.jsonl"
		fi
		run -0 "$MEMSTATE" convert --to json "$d/$n.jsonl" -o "$d/$n.json"
		run -1 "$MEMSTATE" check "$d/$n.json"
		assert_output --partial "1 violation (double-free 1); agrees with the recorded timeline"
		run json_query "$d/$n.json" 'len(d["violations"]), len(d["regions"]), len(d["processes"])'
		assert_output "$([ "${n:0:1}" = k ] && echo "(1, 3, 1)" || echo "(1, 0, 2)")"
		# from a pipe, replayed as it is read: the same copy
		"$MEMSTATE" convert --to json - <"$d/$n.jsonl" >"$d/$n.stdin.json" 2>/dev/null
		run -0 cmp "$d/$n.json" "$d/$n.stdin.json"
	done
}

# ---------------------------------------------------------------- check

@test "check: goheap is clean and agrees with its timeline (both forms)" {
	run -0 "$MEMSTATE" check "$BATS_FILE_TMPDIR/g.json"
	assert_output --regexp '[0-9]+ events, 1 process, 0 violations; agrees with the recorded timeline$'
	run -0 "$MEMSTATE" check "$BATS_FILE_TMPDIR/g.jsonl"
	assert_output --partial "0 violations; agrees"
}

zoo_check() {
	local z=$1 kind=$2 f
	for f in "$BATS_FILE_TMPDIR/$z.json" "$BATS_FILE_TMPDIR/$z.jsonl"; do
		run -1 --separate-stderr "$MEMSTATE" check "$f"
		assert_equal "$stderr" ""
		# exactly the one violation recorded at trace time, found again by the replay
		assert_equal "$(grep -c "s $kind: " <<<"$output")" 1
		assert_output --partial "1 violation ($kind 1); agrees with the recorded timeline"
		run -0 json_query "$BATS_FILE_TMPDIR/$z.json" '[v["kind"] for v in d["violations"]]'
		assert_output "['$kind']"
	done
}

@test "check: zoo illegal_transition" { zoo_check illegal_transition illegal-transition; }
@test "check: zoo double_free" { zoo_check double_free double-free; }
@test "check: zoo accounting_mismatch" { zoo_check accounting_mismatch accounting-mismatch; }
@test "check: zoo misaligned" { zoo_check misaligned misaligned; }
@test "check: zoo hint_on_unmapped" { zoo_check hint_on_unmapped hint-on-unmapped; }
@test "check: zoo invalid_range" { zoo_check invalid_range invalid-range; }

@test "check: a timeline that disagrees with its replay is reported (exit 1)" {
	local d=$BATS_TEST_TMPDIR
	# Claim that the first sysMap made Ready bytes, and hide the zoo's double free.
	sed '0,/"to":"Prepared"/s//"to":"Ready"/' "$BATS_FILE_TMPDIR/g.json" >"$d/a.json"
	run -1 "$MEMSTATE" check "$d/a.json"
	assert_output --regexp 'disagreement: .*a\.json:[0-9]+: seq [0-9]+ \(pid [0-9]+ sysMap .*recorded to Ready, replay gives Prepared'
	assert_output --partial "1 disagreement with the recorded timeline"
	sed 's/"violation":{[^}]*}/"violation":null/' "$BATS_FILE_TMPDIR/double_free.json" >"$d/b.json"
	run -1 "$MEMSTATE" check "$d/b.json"
	assert_output --partial "recorded no violation, replay finds double-free"
	# A summary that does not add up is one too.
	sed 's/"peak_footprint":\([0-9]*\)/"peak_footprint":\1,"x":0/; $s/"events":\([0-9]*\)/"events":1\1/' \
		"$BATS_FILE_TMPDIR/g.json" >"$d/c.json"
	run -1 "$MEMSTATE" check "$d/c.json"
	assert_output --regexp 'the summary: recorded 1[0-9]+ events, replay [0-9]+'
}

@test "check: fork clones and exec clears, as the tracer does; unknown members are skipped" {
	run -1 "$MEMSTATE" check "$DATA/fork_exec.jsonl"
	assert_output --partial "pid 201 tid 201 seq 6"
	assert_output --partial "double-free: sysFree [0x30000000, 0x30010000) over bytes already None"
	assert_output --partial "9 events, 2 processes, 1 violation (double-free 1); agrees"
}

@test "check: a JSON Lines file cut short is checked to its last whole line, with a warning" {
	local d=$BATS_TEST_TMPDIR
	# 50 whole lines and the start of the 51st, as a killed writer leaves it
	{ head -n 50 "$BATS_FILE_TMPDIR/g.jsonl"; sed -n 51p "$BATS_FILE_TMPDIR/g.jsonl" | head -c 40; } >"$d/cut.jsonl"
	run -0 --separate-stderr "$MEMSTATE" check "$d/cut.jsonl"
	assert_output --partial ": 49 events, 1 process"
	assert_output --partial "agrees with the recorded timeline (cut short: checked up to its last whole line)"
	assert_equal "$(wc -l <<<"$stderr")" 1
	[[ $stderr == *"cut.jsonl:"*"the last line is cut short (the run was killed?); read up to line"* ]]
	# whole lines but no summary: also a killed run
	head -n 20 "$BATS_FILE_TMPDIR/g.jsonl" >"$d/cut2.jsonl"
	run -0 --separate-stderr "$MEMSTATE" check "$d/cut2.jsonl"
	[[ $stderr == *"no summary line: the run was cut short"* ]]
	assert_output --partial "19 events"
	# The same cut in a document is unreadable: no whole line to stop at.
	head -c 30000 "$BATS_FILE_TMPDIR/g.json" >"$d/cut.json"
	run -2 --separate-stderr "$MEMSTATE" check "$d/cut.json"
	[[ $stderr == "memstate: check: "*"cut.json:"*"(the file is cut short)" ]]
}

@test "check: usage errors and --help" {
	run -2 --separate-stderr "$MEMSTATE" check
	assert_equal "$stderr" "memstate check: which timeline? give one TRACE; see 'memstate check --help'"
	run -2 --separate-stderr "$MEMSTATE" check --bogus x.json
	run -2 --separate-stderr "$MEMSTATE" check "$BATS_TEST_TMPDIR/missing.json"
	assert_equal "$stderr" "memstate: check: $BATS_TEST_TMPDIR/missing.json: No such file or directory"
	for cmd in check report convert; do
		run -0 "$MEMSTATE" $cmd --help
		assert_output --partial "usage: memstate $cmd"
		assert_output --partial "examples:"
	done
}

# ---------------------------------------------------------------- malformed input

@test "malformed corpus: each file is exit 2 with one line naming the place" {
	local f n=0
	python3 "$DATA/make_malformed.py" --big "$BATS_TEST_TMPDIR/big"
	for f in "$DATA"/malformed/* "$BATS_TEST_TMPDIR"/big/*; do
		for cmd in check report "convert -o $BATS_TEST_TMPDIR/out --to perfetto" \
			"convert -o $BATS_TEST_TMPDIR/out --to svg" "convert -o $BATS_TEST_TMPDIR/out --to json"; do
			run -2 --separate-stderr $MEMSTATE $cmd "$f"
			if [ "$(printf '%s\n' "$stderr" | wc -l)" -ne 1 ]; then
				fail "$cmd $f: $(printf '%s' "$stderr" | head -3)"
			fi
			# "memstate: <cmd>: FILE:LINE:COL: what" (or FILE:LINE: for JSON Lines items)
			[[ $stderr == "memstate: "*"$(basename "$f"):"[0-9]*":"* ]] ||
				fail "$cmd $f: no place in: $stderr"
		done
		n=$((n + 1))
	done
	[ "$n" -ge 60 ]
}

@test "hostile input is bounded: giant strings and items stay within a small RSS" {
	python3 "$DATA/make_malformed.py" --big "$BATS_TEST_TMPDIR/big"
	run -2 /usr/bin/time -f "rss %M" "$MEMSTATE" check "$BATS_TEST_TMPDIR/big/giant_item.json"
	local rss=$(sed -n 's/^rss //p' <<<"$output")
	# 16 MiB item cap plus the program: far below the input size of 18 MB times anything
	[ "$rss" -lt 120000 ]
}

# ---------------------------------------------------------------- report

@test "report: text per process" {
	run -0 "$MEMSTATE" report "$DATA/known.json"
	assert_line --partial "process 100 /usr/bin/known, parent 1, exit 0"
	assert_line --regexp '^  Ready +0 B +16.0 KiB +0.500 ms +16.0 KiB$'
	assert_line --regexp '^  Reserved +32.0 KiB +64.0 KiB +0.000 ms +32.0 KiB$'
	assert_line --partial "operations: sysReserve 1, sysMap 1, sysUsed 1, sysFree 1, pageFault 1"
	assert_line --partial "page faults: 1"
	assert_line --regexp '\[0x10000000, 0x10010000\) +64.0 KiB +3 +4 +1 +0  sysReserve #0$'
	assert_line --partial "violations: 1 (double-free 1)"
	assert_line --partial "seq 3 at 0.750 ms, tid 101, double-free: sysFree [0x20000000, 0x20001000)"
}

@test "report --json: exact numbers that match the timeline's own summary" {
	run -0 bash -c "'$MEMSTATE' report --json '$BATS_FILE_TMPDIR/g.json' >'$BATS_TEST_TMPDIR/r.json'"
	run -0 python3 - "$BATS_TEST_TMPDIR/r.json" "$BATS_FILE_TMPDIR/g.json" <<-'EOF'
		import json, sys
		r = json.load(open(sys.argv[1])); t = json.load(open(sys.argv[2]))
		p = r["processes"][0]; s = t["processes"][0]["summary"]
		assert r["events"] == t["summary"]["events"], r["events"]
		for st in ("Reserved", "Prepared", "Ready"):
		    assert p["bytes"][st]["peak"] == s["peak_bytes"][st], st
		    assert p["bytes"][st]["final"] == s["bytes"][st], st
		assert p["ops"] == s["ops"], (p["ops"], s["ops"])
		top = p["top_regions_by_transitions"][0]
		assert (top["made_by"], top["len"]) == ("sysReserve", 64 << 20), top
		assert len(p["series"]["Ready"]) >= 2
		print("ok")
	EOF
	assert_output ok
}

# ---------------------------------------------------------------- perfetto

# perfetto_ok FILE: the Chrome trace-event format's required fields, per phase.
perfetto_ok() {
	python3 - "$1" <<-'EOF'
		import json, sys
		d = json.load(open(sys.argv[1]))
		assert d["displayTimeUnit"] == "ns"
		ev = d["traceEvents"]
		assert isinstance(ev, list) and ev
		for e in ev:
		    assert isinstance(e["name"], str) and e["name"], e
		    assert e["ph"] in ("C", "i", "X", "M"), e
		    assert isinstance(e["pid"], int) and isinstance(e["tid"], int), e
		    assert isinstance(e["ts"], (int, float)) and e["ts"] >= 0, e
		    if e["ph"] == "C":
		        assert e["args"] and all(isinstance(v, (int, float)) for v in e["args"].values()), e
		    elif e["ph"] == "i":
		        assert e["s"] in ("t", "p", "g"), e
		    elif e["ph"] == "X":
		        assert isinstance(e["dur"], (int, float)) and e["dur"] >= 0, e
		    else:
		        assert e["name"] in ("process_name", "thread_name") and isinstance(e["args"]["name"], str), e
		names = {(e["ph"], e["name"]) for e in ev}
		print(" ".join(sorted("%s:%s" % n for n in names)))
	EOF
}

@test "perfetto: trace events with counters per state, names, and the violation" {
	local d=$BATS_TEST_TMPDIR
	run -0 "$MEMSTATE" convert --to perfetto "$DATA/known.json" -o "$d/k.json"
	run -0 perfetto_ok "$d/k.json"
	assert_output "C:bytes C:page faults/s M:process_name M:thread_name i:double-free"
	run -0 python3 -c '
import json, sys
ev = json.load(open(sys.argv[1]))["traceEvents"]
c = [e for e in ev if e["name"] == "bytes"]
print(c[-1]["ts"], c[-1]["args"])
v = [e for e in ev if e["name"] == "double-free"][0]
print(v["ts"], v["tid"], v["args"]["addr"], v["args"]["message"][:7])
print(sorted((e["tid"], e["args"]["name"]) for e in ev if e["name"] == "thread_name"))' "$d/k.json"
	assert_line --index 0 "500.0 {'Reserved': 32768, 'Prepared': 16384, 'Ready': 16384}"
	assert_line --index 1 "750.0 101 0x20000000 sysFree"
	assert_line --index 2 "[(100, 'known'), (101, 'thread 101')]"
}

@test "perfetto: goheap's last counter sample is its final state; --ops adds slices" {
	local d=$BATS_TEST_TMPDIR
	run -0 "$MEMSTATE" convert --to perfetto --ops "$BATS_FILE_TMPDIR/g.json" -o "$d/p.json"
	run -0 perfetto_ok "$d/p.json"
	assert_output --partial "X:sysUsed"
	run -0 python3 -c '
import json, sys
ev = json.load(open(sys.argv[1]))["traceEvents"]
c = [e for e in ev if e["name"] == "bytes"]
peak = max(e["args"]["Ready"] for e in c)
print(c[-1]["args"], peak == json.load(open(sys.argv[2]))["summary"]["peak_bytes"]["Ready"])' \
		"$d/p.json" "$BATS_FILE_TMPDIR/g.json"
	assert_output "{'Reserved': 0, 'Prepared': 0, 'Ready': 0} True"
}

# ---------------------------------------------------------------- svg

# pixel PNG X Y: "#rrggbb" at that pixel.
pixel() { python3 "$TOOLS/png_pixels.py" "$1" "$2,$3"; }

@test "svg: well-formed, rendered, and the known timeline's pixels have the right states" {
	local d=$BATS_TEST_TMPDIR
	run -0 "$MEMSTATE" convert --to svg "$DATA/known.json" -o "$d/k.svg"
	run -0 python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1]); print("xml ok")' "$d/k.svg"
	run -0 rsvg-convert "$d/k.svg" -o "$d/k.png"
	# Geometry from the picture's own data attributes: x of time t, y of address a.
	read -r x0 colw t0 dt < <(python3 -c '
import re, sys
s = open(sys.argv[1]).read()
m = re.search(r"id=\"plot\" data-x0=\"(\d+)\" data-colw=\"(\d+)\" data-cols=\"\d+\" data-t0=\"(\d+)\" data-dt=\"(\d+)\"", s)
print(*m.groups())' "$d/k.svg")
	read -r y0 <<<"$(sed -n 's/.*class="panel" data-pid="100" data-y0="\([0-9]*\)".*/\1/p' "$d/k.svg")"
	read -r by bh <<<"$(sed -n 's/.*class="band" x="[0-9]*" y="\([0-9]*\)" width="[0-9]*" height="\([0-9]*\)".*data-addr="268435456".*/\1 \2/p' "$d/k.svg")"
	[ -n "$x0" ] && [ -n "$y0" ] && [ -n "$by" ]
	X() { echo $((x0 + ($1 - t0) * colw / dt)); }
	Y() { echo $((by + $1 * bh / 65536)); } # offset into the 64 KiB reservation
	# before the map everything is Reserved; then Prepared; then Ready over the first 16 KiB
	run -0 pixel "$d/k.png" "$(X 100000)" "$(Y 8192)"; assert_output "#9e9e9e"
	run -0 pixel "$d/k.png" "$(X 400000)" "$(Y 8192)"; assert_output "#f4b400"
	run -0 pixel "$d/k.png" "$(X 900000)" "$(Y 8192)"; assert_output "#34a853"
	run -0 pixel "$d/k.png" "$(X 900000)" "$(Y 24576)"; assert_output "#f4b400"
	run -0 pixel "$d/k.png" "$(X 900000)" "$(Y 49152)"; assert_output "#9e9e9e"
	# the final map beside it: the same three states
	local fx=$(sed -n 's/.*class="final" data-x="\([0-9]*\)".*/\1/p' "$d/k.svg")
	run -0 pixel "$d/k.png" "$((fx + 50))" "$(Y 8192)"; assert_output "#34a853"
	run -0 pixel "$d/k.png" "$((fx + 50))" "$(Y 24576)"; assert_output "#f4b400"
	run -0 pixel "$d/k.png" "$((fx + 50))" "$(Y 49152)"; assert_output "#9e9e9e"
	# the double free is marked in red, with its message as a tooltip
	read -r vx vy <<<"$(sed -n 's/.*class="violation" data-x="\([0-9]*\)" data-y="\([0-9]*\)".*/\1 \2/p' "$d/k.svg")"
	run -0 pixel "$d/k.png" "$vx" "$((vy - 4))"; assert_output "#d93025"
	run -0 grep -c '<title>double-free: sysFree \[0x20000000, 0x20001000) over bytes already None' "$d/k.svg"
	# legend and axes
	run -0 grep -c 'class="legend"' "$d/k.svg"
	assert_output 4
	run -0 grep -c 'time since the start of the trace' "$d/k.svg"
}

@test "svg: goheap and a multi-process timeline render; --pid picks one" {
	local d=$BATS_TEST_TMPDIR
	run -0 "$MEMSTATE" convert --to svg "$BATS_FILE_TMPDIR/g.json" -o "$d/g.svg"
	run -0 rsvg-convert "$d/g.svg" -o "$d/g.png"
	run -0 "$MEMSTATE" convert --to svg "$DATA/fork_exec.jsonl" -o "$d/f.svg"
	run -0 grep -c 'class="panel"' "$d/f.svg"
	assert_output 2
	run -0 "$MEMSTATE" convert --to svg --pid 201 --size 800x400 "$DATA/fork_exec.jsonl" -o "$d/f1.svg"
	run -0 grep -c 'class="panel"' "$d/f1.svg"
	assert_output 1
	run -0 rsvg-convert "$d/f1.svg" -o "$d/f1.png"
	run -0 python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1]); E.parse(sys.argv[2])' "$d/f.svg" "$d/f1.svg"
	# two passes over stdin: it is copied first
	run -0 bash -c "'$MEMSTATE' convert --to svg - <'$DATA/fork_exec.jsonl' >'$d/s.svg'"
	run -0 grep -c 'class="panel"' "$d/s.svg"
	assert_output 2
	run -2 --separate-stderr bash -c "'$MEMSTATE' convert --to svg - -o '$d/s.svg' <'$DATA/malformed/bad_utf8.json'"
	assert_equal "$stderr" "memstate: convert: <stdin>:1:57: invalid UTF-8 in a string (byte 0xff)"
	run -2 --separate-stderr "$MEMSTATE" convert --to svg --pid 999 "$DATA/fork_exec.jsonl" -o "$d/none.svg"
	assert_equal "$stderr" "memstate: convert: $DATA/fork_exec.jsonl has no memory of pid 999 to draw"
}

@test "convert: usage errors" {
	run -2 --separate-stderr "$MEMSTATE" convert "$DATA/known.json"
	assert_equal "$stderr" "memstate convert: which format? give --to perfetto, perfetto-json, svg, json or jsonl; see 'memstate convert --help'"
	run -2 --separate-stderr "$MEMSTATE" convert --to png "$DATA/known.json"
	run -2 --separate-stderr "$MEMSTATE" convert --to json "$DATA/known.json" -o /nonexistent/x.json
	assert_equal "$stderr" "memstate: convert: cannot write /nonexistent/x.json: No such file or directory"
	run -2 --separate-stderr "$MEMSTATE" convert --to json "$DATA/known.json" -o /dev/full
	assert_equal "$stderr" "memstate: convert: writing /dev/full: No space left on device"
}
