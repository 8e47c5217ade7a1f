#!/usr/bin/env bats
# Compressed timelines (SPEC section 9, lib/zio.c): `-o NAME.zst` for run, MEMSTATE_OUT and
# convert writes a zstd stream that `zstd -d` turns into the very bytes of the plain file;
# every reader (check, report, convert) tells zstd by its magic, not by the name, also
# from a pipe ("-"); a memstate killed mid-trace leaves a readable prefix; a stream cut
# short reads like a cut plain file, a corrupt one is an error (exit 2, one line naming
# the file and the offset), never data.

load helpers

PROGS=$BUILD/tests/progs

setup_file() {
	local d=$BATS_FILE_TMPDIR
	command -v zstd >/dev/null || return 0
	# One traced run, compressed, and the same bytes decompressed by the zstd tool.
	"$MEMSTATE" run -q --capture ptrace -o "$d/t.jsonl.zst" -- "$PROGS/sysloop" 3000 \
		>/dev/null 2>&1 3>&-
	zstd -q -d -c "$d/t.jsonl.zst" >"$d/t.jsonl" 2>/dev/null
}

setup() {
	command -v zstd >/dev/null || skip "the zstd tool is not installed (make deps)"
	"$MEMSTATE" check --help >/dev/null 2>&1 || skip "memstate check is not built"
	[ -s "$BATS_FILE_TMPDIR/t.jsonl.zst" ] || skip "memstate was built without libzstd (ZSTD=0)"
}

# first_bytes FILE: its first 4 bytes in hex.
first_bytes() {
	od -An -tx1 -N4 "$1" | tr -d ' \n'
}

@test "run -o t.jsonl.zst: a zstd stream of JSON Lines, the plain file once decompressed" {
	local d=$BATS_FILE_TMPDIR
	[ "$(first_bytes "$d/t.jsonl.zst")" = 28b52ffd ]
	run -0 zstd -q -t "$d/t.jsonl.zst"
	# the name asked for JSON Lines (no -f needed)
	run -0 head -c 20 "$d/t.jsonl"
	assert_output '{"type":"header","fo'
	# the file is created 0600, as plain timelines are
	[ "$(stat -c %a "$d/t.jsonl.zst")" = 600 ]
	# much smaller than the plain bytes
	local z p
	z=$(stat -c %s "$d/t.jsonl.zst") p=$(stat -c %s "$d/t.jsonl")
	[ $((p / z)) -ge 8 ] || fail "only $p -> $z bytes"
}

@test "check, report and convert read .zst as they read the plain file" {
	local d=$BATS_FILE_TMPDIR t=$BATS_TEST_TMPDIR
	run -0 "$MEMSTATE" check "$d/t.jsonl.zst"
	assert_output --regexp '^.*t\.jsonl\.zst: [0-9]+ events, .*agrees with the recorded timeline$'
	local zcheck=${output#*t.jsonl.zst}
	run -0 "$MEMSTATE" check "$d/t.jsonl"
	[ "${output#*t.jsonl}" = "$zcheck" ] || fail "plain: $output / zstd: $zcheck"
	run -0 "$MEMSTATE" report --json "$d/t.jsonl.zst"
	echo "$output" | sed 's/t\.jsonl\.zst/T/g' >"$t/rz"
	run -0 "$MEMSTATE" report --json "$d/t.jsonl"
	echo "$output" | sed 's/t\.jsonl/T/g' >"$t/rp"
	run -0 cmp "$t/rz" "$t/rp"
	# convert copies byte for byte: zstd in, plain out, and plain in, zstd out
	run -0 "$MEMSTATE" convert --to jsonl "$d/t.jsonl.zst" -o "$t/copy.jsonl"
	run -0 cmp "$t/copy.jsonl" "$d/t.jsonl"
	run -0 "$MEMSTATE" convert --to jsonl "$d/t.jsonl" -o "$t/copy.jsonl.zst"
	[ "$(first_bytes "$t/copy.jsonl.zst")" = 28b52ffd ]
	zstd -q -d -c "$t/copy.jsonl.zst" >"$t/copy2.jsonl"
	run -0 cmp "$t/copy2.jsonl" "$d/t.jsonl"
	# a document, compressed, from a compressed JSON Lines file
	run -0 "$MEMSTATE" convert --to json "$d/t.jsonl.zst" -o "$t/doc.json.zst"
	run -0 "$MEMSTATE" convert --to json "$d/t.jsonl" -o "$t/doc.json"
	zstd -q -d -c "$t/doc.json.zst" >"$t/doc2.json"
	run -0 cmp "$t/doc2.json" "$t/doc.json"
	run -0 "$MEMSTATE" check "$t/doc.json.zst"
	assert_output --partial "agrees with the recorded timeline"
	# the other converters' outputs compress too
	run -0 "$MEMSTATE" convert --to svg "$d/t.jsonl.zst" -o "$t/p.svg.zst"
	run -0 zstd -q -t "$t/p.svg.zst"
}

@test "zstd is told by its magic, not the name; '-' reads a pipe" {
	local d=$BATS_FILE_TMPDIR t=$BATS_TEST_TMPDIR
	cp "$d/t.jsonl.zst" "$t/renamed.jsonl"
	run -0 "$MEMSTATE" check "$t/renamed.jsonl"
	assert_output --partial "agrees with the recorded timeline"
	cp "$d/t.jsonl" "$t/plain.zst"
	run -0 "$MEMSTATE" check "$t/plain.zst"
	assert_output --partial "agrees with the recorded timeline"
	run -0 bash -c "cat '$d/t.jsonl.zst' | '$MEMSTATE' check -"
	assert_output --regexp '^<stdin>: [0-9]+ events'
	run -0 bash -c "cat '$d/t.jsonl.zst' | '$MEMSTATE' report -"
	assert_output --partial "memstate report: <stdin> (JSON Lines)"
	run -0 bash -c "cat '$d/t.jsonl.zst' | '$MEMSTATE' convert --to jsonl - -o '$t/s.jsonl'"
	run -0 cmp "$t/s.jsonl" "$d/t.jsonl"
	# the SVG reads its input twice: a pipe is kept, still compressed
	run -0 bash -c "cat '$d/t.jsonl.zst' | '$MEMSTATE' convert --to svg - -o '$t/s.svg'"
	run -0 grep -c '<svg' "$t/s.svg"
	# a zstd stream made by the zstd tool itself (one frame for the whole file)
	zstd -q -19 -c "$d/t.jsonl" >"$t/tool.zst"
	run -0 "$MEMSTATE" convert --to jsonl "$t/tool.zst" -o "$t/tool.jsonl"
	run -0 cmp "$t/tool.jsonl" "$d/t.jsonl"
}

@test "MEMSTATE_OUT=NAME.jsonl.zst: the library writes a compressed JSON Lines timeline" {
	local t=$BATS_TEST_TMPDIR
	MEMSTATE_OUT=$t/g.jsonl.zst "$SAMPLES/goheap" 200 >/dev/null 3>&-
	[ "$(first_bytes "$t/g.jsonl.zst")" = 28b52ffd ]
	zstd -q -d -c "$t/g.jsonl.zst" >"$t/g.jsonl"
	run -0 head -c 17 "$t/g.jsonl"
	assert_output '{"type":"header",'
	run -0 tail -n 1 "$t/g.jsonl"
	assert_output --partial '{"type":"summary"'
	run -0 "$MEMSTATE" check "$t/g.jsonl.zst"
	assert_output --partial "agrees with the recorded timeline"
	MEMSTATE_OUT=$t/g.json.zst "$SAMPLES/goheap" 200 >/dev/null 3>&-
	run -0 bash -c "zstd -q -d -c '$t/g.json.zst' | head -c 29"
	assert_output '{"format":"memstate-timeline"'
}

@test "a memstate killed mid-trace (SIGKILL) leaves a readable prefix" {
	local t=$BATS_TEST_TMPDIR pid i
	"$MEMSTATE" run -q --capture ptrace -o "$t/k.jsonl.zst" -- "$PROGS/sysloop" 100000000 \
		>/dev/null 2>&1 3>&- &
	pid=$!
	# wait until a good part of a frame has gone out
	for i in $(seq 100); do
		[ "$(stat -c %s "$t/k.jsonl.zst" 2>/dev/null || echo 0)" -gt 20000 ] && break
		sleep 0.05
	done
	sleep 0.3
	kill -KILL "$pid"
	wait "$pid" || true
	run -0 --separate-stderr "$MEMSTATE" check "$t/k.jsonl.zst"
	assert_output --regexp ': [1-9][0-9]+ events, .*agrees with the recorded timeline \(cut short'
	local events=${output#*: }
	events=${events%% events*}
	[[ $stderr == *"k.jsonl.zst"*"cut short"* ]] || fail "stderr: $stderr"
	# the zstd tool decodes a prefix of the same bytes (it may keep back the last block)
	zstd -q -d -c "$t/k.jsonl.zst" >"$t/k.jsonl" 2>/dev/null || true
	run -0 "$MEMSTATE" convert --to jsonl "$t/k.jsonl.zst" -o "$t/copy.jsonl"
	run -0 python3 -c 'import sys
a, b = (open(f, "rb").read() for f in sys.argv[1:])
n = min(len(a), len(b))
print(n > 0 and a[:n] == b[:n] and len(b) >= len(a) - a[::-1].index(b"\n"))' \
		"$t/k.jsonl" "$t/copy.jsonl"
	assert_output True
	# and it closes into a whole document
	run -0 "$MEMSTATE" convert --to json "$t/k.jsonl.zst" -o "$t/k.json"
	run -0 "$MEMSTATE" check "$t/k.json"
	assert_output --partial ": $events events,"
}

@test "a .zst cut short reads like a cut plain file; the cut offset is named" {
	local d=$BATS_FILE_TMPDIR t=$BATS_TEST_TMPDIR size
	size=$(stat -c %s "$d/t.jsonl.zst")
	head -c $((size / 2)) "$d/t.jsonl.zst" >"$t/cut.jsonl.zst"
	run -0 --separate-stderr "$MEMSTATE" check "$t/cut.jsonl.zst"
	assert_output --partial "(cut short: checked up to its last whole line)"
	[[ $stderr == *"cut.jsonl.zst"*"the zstd stream is cut short at byte $((size / 2)))" ]] ||
		fail "stderr: $stderr"
	[ "$(echo "$stderr" | wc -l)" -eq 1 ] || fail "more than one line: $stderr"
	# a document cut short is unreadable, as a plain one is: exit 2, one line
	"$MEMSTATE" convert --to json "$d/t.jsonl" -o "$t/doc.json.zst"
	size=$(stat -c %s "$t/doc.json.zst")
	head -c $((size / 2)) "$t/doc.json.zst" >"$t/cut.json.zst"
	run -2 --separate-stderr "$MEMSTATE" check "$t/cut.json.zst"
	[[ $stderr == "memstate: check: "*"cut.json.zst:"*"(the file is cut short) (the zstd stream is cut short at byte $((size / 2)))" ]] ||
		fail "stderr: $stderr"
	# nothing but the magic
	head -c 4 "$d/t.jsonl.zst" >"$t/magic.zst"
	run -2 --separate-stderr "$MEMSTATE" check "$t/magic.zst"
	[ "$(echo "$stderr" | wc -l)" -eq 1 ] || fail "stderr: $stderr"
}

@test "a corrupt zstd frame is an error naming the file and the frame, never data" {
	local d=$BATS_FILE_TMPDIR t=$BATS_TEST_TMPDIR size
	size=$(stat -c %s "$d/t.jsonl.zst")
	# flip one byte in the middle of the stream
	python3 -c 'import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[len(b) // 2] ^= 0x5a
open(sys.argv[2], "wb").write(b)' "$d/t.jsonl.zst" "$t/bad.jsonl.zst"
	run -2 --separate-stderr "$MEMSTATE" check "$t/bad.jsonl.zst"
	[[ $stderr == "memstate: check: "*"bad.jsonl.zst:"*"corrupt zstd frame at byte "[0-9]*": "* ]] ||
		fail "stderr: $stderr"
	[ "$(echo "$stderr" | wc -l)" -eq 1 ] || fail "more than one line: $stderr"
	run -2 --separate-stderr "$MEMSTATE" report "$t/bad.jsonl.zst"
	[[ $stderr == *"corrupt zstd frame"* ]] || fail "stderr: $stderr"
	run -2 --separate-stderr "$MEMSTATE" convert --to jsonl "$t/bad.jsonl.zst" -o "$t/o.jsonl"
	[[ $stderr == *"corrupt zstd frame"* ]] || fail "stderr: $stderr"
	# garbage after a whole stream is corrupt too, not an end
	{ cat "$d/t.jsonl.zst"; printf 'garbage!'; } >"$t/trail.zst"
	run -2 --separate-stderr "$MEMSTATE" check "$t/trail.zst"
	[[ $stderr == *"trail.zst:"*"corrupt zstd frame at byte $size: "* ]] || fail "stderr: $stderr"
	# named .zst but neither zstd nor a timeline: the message says both
	printf 'garbage\n' >"$t/g.zst"
	run -2 --separate-stderr "$MEMSTATE" check "$t/g.zst"
	[[ $stderr == *"g.zst:1:1: "*"(not a zstd stream: it does not start with 28 b5 2f fd)" ]] ||
		fail "stderr: $stderr"
}
