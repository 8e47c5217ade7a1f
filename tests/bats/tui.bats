#!/usr/bin/env bats
# The TUI (tui/): the live state map driven by the synthetic producer (memstate view
# --demo, what `memstate run --tui` shows) and the replay of saved timelines (memstate view),
# each in its own tmux server: legend and totals, zoom, scroll, region details, violations,
# replay stepping, resize, and the terminal given back on q and on signals.

load helpers

setup() {
	SOCK="memstate-tui-$$-$BATS_TEST_NUMBER"
	command -v tmux >/dev/null || skip "needs tmux"
	"$MEMSTATE" view --help >/dev/null 2>&1 || skip "memstate view is not built (ncurses)"
}

teardown() {
	tmux -L "$SOCK" kill-server 2>/dev/null || true
}

# start COLS ROWS COMMAND: run COMMAND in a fresh tmux server; when it ends the pane
# shows EXIT=<status> and the terminal's mode (stty), then waits to be read. The shell
# traps SIGINT so that a Ctrl-C for the command does not end the shell too.
start() {
	local cols=$1 rows=$2
	shift 2
	tmux -L "$SOCK" -f /dev/null new-session -d -x "$cols" -y "$rows" \
		"trap 'echo INT' INT; cd '$BATS_TEST_TMPDIR' && $*; echo EXIT=\$?; stty -a | tr ' ' '\n' | grep -E '^-?(icanon|echo)\$' | tr '\n' ' '; echo; sleep 600" 3>&-
}

screen() {
	tmux -L "$SOCK" capture-pane -p -t 0
}

keys() {
	tmux -L "$SOCK" send-keys -t 0 "$@"
}

# wait_for REGEX [SECONDS]: poll the screen until a line matches; show it when it never does.
wait_for() {
	local i tries=$((${2:-10} * 10))
	for ((i = 0; i < tries; i++)); do
		screen | grep -qE -- "$1" && return 0
		sleep 0.1
	done
	echo "# screen never matched /$1/:" >&3
	screen | sed 's/^/# | /' >&3
	return 1
}

# eventually CMD...: retry a condition for up to 5 s (the view redraws at its own pace).
eventually() {
	local end=$((SECONDS + 5))
	until "$@"; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.1
	done
}

# events_shown: the event count on the totals row.
events_shown() {
	line 3 | sed -E 's/.*events ([0-9]+).*/\1/'
}

# grows CMD...: the number CMD prints gets bigger.
grows() {
	local a
	a=$("$@")
	eventually gt_now "$a" "$@"
}

# gt_now N CMD...: what CMD prints now is bigger than N.
gt_now() {
	local before=$1
	shift
	[ "$(("$("$@")"))" -gt "$((before))" ]
}

# gone TEXT: the screen stops showing TEXT.
gone() {
	eventually sh -c "! tmux -L '$SOCK' capture-pane -p -t 0 | grep -qF -- '$1'"
}

# line N: row N (1-based) of the screen.
line() {
	screen | sed -n "${1}p"
}

# the row where the map's cursor line is (it starts with "@ ").
cursor_row() {
	screen | grep -E '^@ [0-9a-f]+' | head -1
}

pane_child() {
	pgrep -P "$(tmux -L "$SOCK" list-panes -t 0 -F '#{pane_pid}')" -x memstate
}

demo() {
	start "${COLS:-80}" "${ROWS:-24}" "'$MEMSTATE' view --demo=${RATE:-2000} --no-color $*"
	# up once the arena is reserved and drawn
	wait_for 'Reserved [0-9.]+M peak 256.0M'
	wait_for '^00c000000000 '
}

# ------------------------------------------------------------------ live (demo feed)

@test "live: title, legend, totals and a growing event count" {
	demo
	run -0 line 1
	assert_output --regexp 'memstate demo: synthetic Go-like heap.*running'
	run -0 line 4
	assert_output --regexp '^#Ready \+Prepared -Reserved \.none ~gap fault THP +[0-9.]+[KMG]/cell auto +[0-9]+ regions'
	run -0 line 2
	assert_output --regexp '^#Ready [0-9.]+[BKMG]+ peak [0-9.]+[KMG] +\+Prepared .* -Reserved [0-9.]+M peak 256.0M'
	run -0 line 3
	assert_output --regexp '^pid [0-9]+ .*events [0-9]+ \([0-9.k]+/s\)  faults [0-9]+  THP [0-9]+  violations [0-9]+  drops 0'
	# the first map row is the arena, the cursor starts on it
	run -0 line 5
	assert_output --regexp '^00c000000000 [#+-]+'
	run -0 cursor_row
	assert_output --regexp '^@ 00c000000000  (Ready|Prepared|Reserved) '
	# the log shows the newest events and keeps going
	a=$(screen | grep -cE '^ +[0-9]+ +[0-9]+\.[0-9]+ (sys|page|thp)')
	[ "$a" -ge 3 ]
	grows events_shown
}

@test "live: q gives the terminal back in cooked mode" {
	demo
	keys q
	wait_for '^EXIT=0'
	wait_for '(^| )icanon echo'
	# the alternate screen is gone: no map left over
	run -0 screen
	refute_output --partial '/cell'
}

@test "live: SIGTERM, Ctrl-C and a crash restore the terminal and end with the signal" {
	demo
	pid=$(pane_child)
	[ -n "$pid" ]
	kill -TERM "$pid"
	wait_for '^EXIT=143'
	wait_for '(^| )icanon echo'
	# Ctrl-C: the view hands SIGINT back to its default action once the terminal is back
	tmux -L "$SOCK" kill-server
	SOCK="$SOCK-2"
	demo
	keys C-c
	wait_for '^EXIT=130'
	wait_for '(^| )icanon echo'
	# a crash of memstate itself: the terminal first, then the default action
	tmux -L "$SOCK" kill-server
	SOCK="$SOCK-3"
	demo
	kill -SEGV "$(pane_child)"
	wait_for '^EXIT=139'
	wait_for '(^| )icanon echo'
}

@test "live: space pauses the view while the capture goes on" {
	demo
	keys Space
	wait_for 'PAUSED'
	n1=$(events_shown)
	sleep 0.5
	[ "$(events_shown)" = "$n1" ]
	keys Space
	gone PAUSED
	grows events_shown
}

@test "live: + and - zoom by powers of two, 0 goes back to auto" {
	demo
	scale() { line 4 | grep -oE '[0-9.]+[KMG]/cell( auto)?'; }
	auto=$(scale)
	[[ $auto == *auto ]]
	keys +
	wait_for '/cell  [0-9]+ regions'
	run -0 scale
	refute_output --partial auto
	# half the auto scale
	python3 - "$auto" "$output" <<'EOF'
import sys
def b(s):
    s = s.split('/')[0]
    return float(s[:-1]) * {'K': 1 << 10, 'M': 1 << 20, 'G': 1 << 30}[s[-1]]
assert b(sys.argv[1]) == 2 * b(sys.argv[2]), sys.argv
EOF
	keys - -
	want=$(python3 - "$auto" <<'EOF'
import sys
s = sys.argv[1].split('/')[0]
v = float(s[:-1]) * 2
u = s[-1]
if v >= 1024:
    v, u = v / 1024, {'K': 'M', 'M': 'G'}[u]
print("%.1f%s/cell" % (v, u))
EOF
	)
	wait_for " $want  "
	run -0 scale
	python3 - "$auto" "$output" <<'EOF'
import sys
def b(s):
    s = s.split('/')[0]
    return float(s[:-1]) * {'K': 1 << 10, 'M': 1 << 20, 'G': 1 << 30}[s[-1]]
assert 2 * b(sys.argv[1]) == b(sys.argv[2]), sys.argv
EOF
	keys 0
	wait_for '/cell auto'
}

@test "live: the map scrolls with the cursor (arrows, PgDn, PgUp)" {
	demo
	# zoom in until the arena takes more rows than the screen has
	keys + + + +
	wait_for '/cell  [0-9]+ regions'
	run -0 line 5
	assert_output --regexp '^00c000000000 '
	keys NPage
	first_row() { echo "0x$(line 5 | cut -d' ' -f1)"; }
	eventually gt_now 0xc000000000 first_row
	run -0 cursor_row
	assert_output --regexp '^@ 00c0'
	keys Down Down PPage PPage PPage
	wait_for '^00c000000000 '
	# right moves one cell: the cursor address grows by the scale
	cursor_addr() { echo "0x$(cursor_row | cut -d' ' -f2)"; }
	c1=$(cursor_addr)
	keys Right
	eventually gt_now "$c1" cursor_addr
}

@test "live: / goes to an address, Enter opens the region's details and history" {
	demo
	# 240 MiB into the 256 MiB arena: still Reserved (the demo maps 4 MiB a second)
	keys / c00f000000 Enter
	wait_for '^@ 00c00f0'
	run -0 cursor_row
	assert_output --regexp '^@ 00c00f0[0-9a-f]+  Reserved [0-9a-f]+-00c010000000 '
	keys Enter
	wait_for 'region details'
	run -0 screen
	assert_output --regexp 'state Reserved'
	assert_output --regexp '00c010000000'
	assert_output --regexp 'History: [0-9]+ events? touched it'
	assert_output --regexp 'sysReserve +00c000000000 +256\.0M None->Reserved'
	keys Escape
	gone 'region details'
	# an address nobody owns
	keys / 1000 Enter
	wait_for 'not owned by pid'
}

@test "live: v lands on a violation and names it" {
	RATE=30000 demo
	wait_for 'violations [1-9]' 10
	keys Space v
	wait_for '(double-free|access-prepared) at [0-9a-f]+: ' 5
	kind=$(screen | grep -oE '(double-free|access-prepared) at' | head -1 | cut -d' ' -f1)
	addr=$(screen | grep -oE "$kind at [0-9a-f]+" | head -1 | cut -d' ' -f3)
	run -0 cursor_row
	assert_output --regexp "^@ 0*${addr}"
	# the details of where it happened hold the event, with its kind
	keys Enter
	wait_for 'region details'
	wait_for "!! $kind"
}

@test "live: p lists the processes, ? shows the keys" {
	demo
	keys p
	wait_for 'pick a process'
	run -0 screen
	assert_output --regexp 'running +[0-9.]+[BKMG]'
	keys Enter
	gone 'pick a process'
	keys ?
	wait_for 'memstate help'
	keys x
	gone 'memstate help'
}

@test "live: resize follows the terminal; too small says so; q still quits" {
	demo
	tmux -L "$SOCK" resize-window -t 0 -x 140 -y 45
	wait_for '^\?Help' 5
	# the key bar moved to the new last row, the map rows are wider
	run -0 line 45
	assert_output --regexp '^\?Help'
	w=$(line 5 | wc -c)
	[ "$w" -gt 120 ]
	tmux -L "$SOCK" resize-window -t 0 -x 30 -y 8
	wait_for 'terminal too small'
	tmux -L "$SOCK" resize-window -t 0 -x 80 -y 24
	wait_for '^\?Help'
	run -0 line 24
	assert_output --regexp '^\?Help'
	keys q
	wait_for '^EXIT=0'
	wait_for '(^| )icanon echo'
}

@test "live: colours for states when the terminal has them, none with NO_COLOR" {
	start 80 24 "'$MEMSTATE' view --demo=2000"
	wait_for '/cell'
	run -0 line 4
	assert_output --regexp '^ Ready  Prepared  Reserved \.none ~gap h/n hint T THP \*fault'
	# Ready is drawn on green (42), Reserved on blue (44)
	run -0 tmux -L "$SOCK" capture-pane -p -e -t 0
	assert_output --partial $'\e[42m'
	assert_output --partial $'\e[44m'
	keys q
	wait_for '^EXIT=0'
	tmux -L "$SOCK" kill-server
	SOCK="$SOCK-2" # a server of its own, not the one shutting down
	start 80 24 "NO_COLOR=1 '$MEMSTATE' view --demo=2000"
	wait_for '/cell'
	run -0 line 4
	assert_output --regexp '^#Ready \+Prepared -Reserved'
}

@test "view: usage errors and a missing file exit 2 with one line" {
	run -2 --separate-stderr "$MEMSTATE" view
	assert_equal "$stderr" "memstate view: which timeline?; see 'memstate view --help'"
	run -2 --separate-stderr "$MEMSTATE" view --speed fast x.json
	[[ $stderr == "memstate view: --speed wants"* ]]
	run -2 --separate-stderr "$MEMSTATE" view "$BATS_TEST_TMPDIR/missing.json"
	[ "$(echo "$stderr" | wc -l)" -eq 1 ]
	[[ $stderr == "memstate: view: "* ]]
}

# ------------------------------------------------------------------ replay (memstate view)

# timeline NAME PROGRAM [ARGS]: record a sample's timeline into $BATS_TEST_TMPDIR/NAME.
timeline() {
	local name=$1
	shift
	MEMSTATE_OUT="$BATS_TEST_TMPDIR/$name" "$@" >/dev/null 2>&1 || true
	[ -s "$BATS_TEST_TMPDIR/$name" ]
}

# jq_tl FILE EXPR: like json_query, with fmt(bytes) as the TUI prints sizes.
jq_tl() {
	python3 -c '
import json, sys
def fmt(b):
    if b < 1024:
        return "%dB" % b
    v, u = float(b), -1
    while v >= 1024 and u < 5:
        v /= 1024
        u += 1
    return "%.1f%s" % (v, "KMGTPE"[u])
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$1" "$2"
}

view() {
	start "${COLS:-80}" "${ROWS:-24}" "'$MEMSTATE' view --no-color $*"
	wait_for '^\?Help'
}

# Replay reads timelines through export/'s reader; a memstate without it says so.
require_reader() {
	if "$MEMSTATE" view "$BATS_TEST_TMPDIR/none.json" 2>&1 | grep -q 'reader .* is not built'; then
		skip "the timeline reader (export/reader.c) is not built in"
	fi
}

@test "replay: at the end, totals and legend match the timeline's summary" {
	require_reader
	timeline g.json "$SAMPLES/goheap"
	view g.json
	n=$(jq_tl "$BATS_TEST_TMPDIR/g.json" 'len(d["events"])')
	run -0 line 1
	assert_output --regexp "event $n/$n .*paused"
	want=$(jq_tl "$BATS_TEST_TMPDIR/g.json" '"  ".join("%s%s %s peak %s" % (g, s, fmt(d["summary"]["bytes"][s]), fmt(d["summary"]["peak_bytes"][s])) for g, s in (("#", "Ready"), ("+", "Prepared"), ("-", "Reserved")))')
	run -0 line 2
	assert_output --regexp "^${want//+/\\+}"
	want=$(jq_tl "$BATS_TEST_TMPDIR/g.json" '"events %d .*  faults %d  THP %d  violations %d  drops %d" % tuple(d["summary"][k] for k in ("events", "page_faults", "thp_collapses", "violations", "dropped_events"))')
	run -0 line 3
	assert_output --regexp "$want"
	run -0 line 4
	assert_output --regexp '^#Ready \+Prepared -Reserved \.none ~gap fault THP +4\.0K/cell auto  0 regions'
	keys q
	wait_for '^EXIT=0'
	wait_for '(^| )icanon echo'
}

@test "replay: a minimal timeline (operations only) shows the computed states and violation" {
	require_reader
	cp "$ROOT/tests/data/minimal/access-prepared.json" "$BATS_TEST_TMPDIR/m.json"
	view m.json
	run -0 line 1
	assert_output --regexp 'event 3/3 .*paused'
	run -0 line 3
	assert_output --regexp 'events 3 .*violations 1 '
	run -0 cursor_row
	assert_output --regexp '^@ 000000100000  Prepared '
	keys q
	wait_for '^EXIT=0'
}

@test "replay: a violation after lost events is marked !? with its count in the details" {
	require_reader
	cat >"$BATS_TEST_TMPDIR/l.json" <<'EOF2'
{"format": "memstate-timeline", "version": 1, "page_size": 4096, "events": [
 {"seq": 0, "t_ns": 0, "pid": 1, "op": "sysReserve", "addr": 1048576, "len": 65536},
 {"seq": 1, "t_ns": 9, "pid": 1, "op": "pageFault", "addr": 1048576, "len": 4096,
  "violation": {"kind": "access-reserved", "after_loss": true, "lost_before": 7}}]}
EOF2
	COLS=200 view --start l.json
	keys v
	wait_for 'access-reserved at [0-9a-f]+: .*\[after loss: 7 events lost before it\]'
	wait_for '!\? access-reserved'
	keys q
	wait_for '^EXIT=0'
}

@test "replay: the totals show resident, never touched and lazily free bytes" {
	require_reader
	"$MEMSTATE" run -q -o "$BATS_TEST_TMPDIR/r.json" "$BUILD/tests/progs/resident" basic >/dev/null 2>&1
	[ -s "$BATS_TEST_TMPDIR/r.json" ]
	COLS=160 view r.json
	want=$(jq_tl "$BATS_TEST_TMPDIR/r.json" '"resident %s untouched %s lazy %s" % (fmt(d["summary"]["resident_bytes"]["Prepared"] + d["summary"]["resident_bytes"]["Ready"]), fmt(d["summary"]["ready_untouched"]), fmt(d["summary"]["lazy_free"]))')
	run -0 line 2
	assert_output --partial "$want"
	keys q
	wait_for '^EXIT=0'
}

@test "replay: stepping to a known event shows that event's state" {
	require_reader
	timeline g.json "$SAMPLES/goheap"
	view --start g.json
	run -0 line 1
	assert_output --regexp 'event 0/[0-9]+'
	wait_for 'before the first event'
	# the first sysMap: Reserved -> Prepared, 4 MiB of the arena
	seq=$(jq_tl "$BATS_TEST_TMPDIR/g.json" '[e["seq"] for e in d["events"] if e["op"] == "sysMap"][0]')
	addr=$(jq_tl "$BATS_TEST_TMPDIR/g.json" '"%012x" % [e["addr"] for e in d["events"] if e["op"] == "sysMap"][0]')
	keys g "$seq" Enter
	wait_for "event $((seq + 1))/"
	run -0 cursor_row
	assert_output --regexp "^@ $addr  Prepared $addr-[0-9a-f]+ 4\.0M heap"
	run -0 line 23
	assert_output --regexp "^ +$seq +[0-9.]+ sysMap +$addr +4\.0M Reserved->Prepared"
	# one step on: the first span handed out (sysUsed) turns Ready
	keys ]
	wait_for "event $((seq + 2))/"
	run -0 line 23
	assert_output --regexp "sysUsed +$addr .*Prepared->Ready"
	run -0 cursor_row
	assert_output --regexp "^@ $addr  Ready "
	# and back again
	keys [
	wait_for "event $((seq + 1))/"
	run -0 cursor_row
	assert_output --regexp "^@ $addr  Prepared "
	# the details of that region: its history up to here
	keys Enter
	wait_for 'region details'
	run -0 screen
	assert_output --regexp 'state Prepared +stat heap'
	assert_output --regexp 'History: 2 events touched it up to here'
	assert_output --regexp 'sysReserve +[0-9a-f]+ +64\.0M None->Reserved'
	# stepping keeps the details open and follows the region
	keys ]
	wait_for 'History: 3 events'
}

@test "replay: v lands on the zoo's violation with the map at that moment" {
	require_reader
	timeline am.json "$SAMPLES/zoo/accounting_mismatch"
	view --start am.json
	keys v
	wait_for 'accounting-mismatch at [0-9a-f]+: sysUsed'
	# ($i is not safe across bats' run)
	at=$(jq_tl "$BATS_TEST_TMPDIR/am.json" '[k for k, e in enumerate(d["events"]) if e["violation"]][0] + 1')
	n=$(jq_tl "$BATS_TEST_TMPDIR/am.json" 'len(d["events"])')
	run -0 line 1
	assert_output --regexp "event $at/$n"
	run -0 line 3
	assert_output --regexp 'violations 1'
	# sysUsed was still performed: the range is Ready at that moment
	run -0 cursor_row
	assert_output --regexp '^@ [0-9a-f]+  Ready [0-9a-f]+-[0-9a-f]+ 1\.0M heap'
	run -0 screen
	assert_output --regexp 'sysUsed +[0-9a-f]+ +1\.0M !! accounting-mismatch'
	# the only one: v wraps around to it
	keys v
	wait_for '\(wrapped\) event [0-9]+: accounting-mismatch'
	# a double free: the second sysFree finds None
	tmux -L "$SOCK" kill-server
	SOCK="$SOCK-2"
	timeline df.json "$SAMPLES/zoo/double_free"
	view --start df.json
	keys v
	wait_for 'double-free at [0-9a-f]+: '
	run -0 screen
	assert_output --regexp 'sysFree +[0-9a-f]+ +64\.0K !! double-free'
}

@test "replay: --play runs to the end and stops; space plays again; jumps, speed, time" {
	require_reader
	timeline g.json "$SAMPLES/goheap" 100
	n=$(jq_tl "$BATS_TEST_TMPDIR/g.json" 'len(d["events"])')
	view --start --play --speed 4 g.json
	wait_for "event $n/$n .*paused" 10
	keys Space
	wait_for 'playing|event [0-9]+/'
	wait_for "event $n/$n .*paused" 10
	keys b
	wait_for "event 0/$n"
	keys }
	wait_for "event $((n / 20))/$n"
	keys e
	wait_for "event $n/$n"
	keys '>'
	wait_for ' 8x'
	# t: the moment of the 11th event shows the state after it
	ts=$(jq_tl "$BATS_TEST_TMPDIR/g.json" '"%.9f" % (d["events"][10]["t_ns"] / 1e9)')
	k=$(jq_tl "$BATS_TEST_TMPDIR/g.json" 'sum(e["t_ns"] <= d["events"][10]["t_ns"] for e in d["events"])')
	keys t "$ts" Enter
	wait_for "event $k/$n"
}

@test "replay: --at opens at an event; errors exit 2 with one line" {
	require_reader
	timeline g.json "$SAMPLES/goheap" 50
	view --at 4 g.json
	run -0 line 1
	assert_output --regexp 'event 5/'
	run -2 --separate-stderr "$MEMSTATE" view --at 999999 "$BATS_TEST_TMPDIR/g.json"
	assert_equal "$stderr" "memstate view: no event with seq 999999; see 'memstate view --help'"
	run -2 --separate-stderr "$MEMSTATE" view --pid 1 "$BATS_TEST_TMPDIR/g.json" </dev/null
	[ "$(echo "$stderr" | wc -l)" -eq 1 ]
	# no terminal: nothing is drawn
	run -2 --separate-stderr "$MEMSTATE" view "$BATS_TEST_TMPDIR/g.json" </dev/null
	assert_equal "$stderr" "memstate: view: needs a terminal"
	[ -z "$output" ]
	echo '{"format": "memstate-timeline", "version": 1, "events": [' >"$BATS_TEST_TMPDIR/bad.json"
	run -2 --separate-stderr "$MEMSTATE" view "$BATS_TEST_TMPDIR/bad.json"
	[ "$(echo "$stderr" | wc -l)" -eq 1 ]
	[[ $stderr == "memstate: view: "* ]]
}

@test "replay: a JSON Lines timeline replays the same" {
	require_reader
	MEMSTATE_FORMAT=jsonl timeline g.jsonl "$SAMPLES/goheap" 50
	timeline g.json "$SAMPLES/goheap" 50
	view g.jsonl
	a=$(line 2)
	keys q
	wait_for '^EXIT=0'
	tmux -L "$SOCK" kill-server
	SOCK="$SOCK-2"
	view g.json
	[ "$(line 2)" = "$a" ]
}

@test "replay: r shows residency per cell, exact to the page" {
	require_reader
	# 64 pages: 0-7 given back (DONTNEED), 8-11 lazily free (still resident), 12-39
	# resident, 40-63 never touched
	"$MEMSTATE" run -q -o "$BATS_TEST_TMPDIR/r.json" "$BUILD/tests/progs/resident" basic \
		>"$BATS_TEST_TMPDIR/out" 2>/dev/null
	read -r _ addr _ <"$BATS_TEST_TMPDIR/out"
	COLS=160 view r.json
	keys r
	wait_for '#resident \+part \.untouched'
	keys / "$(printf %x "$addr")" Enter
	wait_for 'cell resident 0B of 4\.0K'
	keys / "$(printf %x $((addr + 8 * 4096)))" Enter
	wait_for 'cell resident 4\.0K of 4\.0K'
	keys / "$(printf %x $((addr + 40 * 4096)))" Enter
	wait_for 'cell resident 0B of 4\.0K'
	# back to the states
	keys r
	gone 'resident +part'
	keys q
	wait_for '^EXIT=0'
}
