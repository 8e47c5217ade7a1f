#!/usr/bin/env bats
# Honest loss: with a ring too small for the event rate, a violation after the capture
# lost events may be an artefact of what is missing. Such violations carry
# "after_loss": true and "lost_before" in the timeline (inline and in the list), a mark in
# check, report and the TUI; check fails on them only with --strict. A violation before
# any loss is never marked. tests/progs/lossy touches Reserved memory (a real
# access-reserved) before and after a burst that overflows a 4 KiB ring.

load reliability_helpers

# lossy_run FORM EARLY: trace lossy into $T (json or jsonl) with a 4 KiB ring.
lossy_run() {
	require_root_bpf
	T=$BATS_TEST_TMPDIR/t.$1
	run -0 --separate-stderr "$MEMSTATE" run --capture ebpf --ring-size 4K -f "$1" -o "$T" -- \
		"$BUILD/tests/progs/lossy" "$2" 100000
	[[ $stderr == *" lost"* ]] && [[ $stderr != *", 0 lost"* ]] || fail "no loss: $stderr"
	valid_timeline "$T"
}

@test "loss: the violation before the loss is not marked, the one after it is" {
	lossy_run jsonl 1
	run -0 python3 - "$T" <<'PY'
import json, sys
v = [json.loads(l) for l in open(sys.argv[1]) if '"type":"violation"' in l]
ev = {}
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e.get("type") == "event" and e.get("violation"):
        ev[e["seq"]] = e["violation"]
first, last = v[0], v[-1]
assert "after_loss" not in first and "after_loss" not in ev[first["seq"]], first
assert last.get("after_loss") is True and last["lost_before"] > 0, last
assert ev[last["seq"]].get("after_loss") is True and ev[last["seq"]]["lost_before"] == last["lost_before"]
# marked ones all come after every unmarked one's loss-free time
print(len(v), sum(1 for x in v if x.get("after_loss")), last["lost_before"])
PY
	echo "# violations, after loss, lost before the last: $output" >&3
	run -1 "$MEMSTATE" check "$T"
	assert_line --regexp '^pid [0-9]+ tid [0-9]+ seq [0-9]+ .*access-reserved: .*SIGSEGV follows \(held: Reserved 4096\)$'
	assert_line --regexp 'access-reserved: .* \[after loss: [0-9]+ events lost before it\]$'
	assert_output --regexp 'after lost events \(maybe artefacts: --strict to fail on them\)'
	run -1 "$MEMSTATE" check --strict -q "$T"
	run -0 "$MEMSTATE" report "$T"
	assert_output --regexp '\[after loss: [0-9]+ events lost before it\]'
	run -0 "$MEMSTATE" report --json "$T"
	assert_output --partial '"after_loss":'
}

@test "loss: only violations after the loss: check passes, --strict fails; the document form too" {
	lossy_run json 0
	n=$(json_query "$T" 'sum(1 for x in d["violations"] if not x.get("after_loss"))')
	assert_equal "$n" 0
	n=$(json_query "$T" 'sum(1 for e in d["events"] if e["violation"] and e["violation"].get("after_loss"))')
	[ "$n" -ge 1 ]
	run -0 "$MEMSTATE" check "$T"
	assert_output --regexp 'after lost events \(maybe artefacts'
	run -1 "$MEMSTATE" check --strict "$T"
	assert_output --regexp 'after lost events \(maybe artefacts; --strict counts them\)'
	# a copy keeps the marks
	"$MEMSTATE" convert --to jsonl "$T" -o "$BATS_TEST_TMPDIR/c.jsonl"
	run -0 grep -c '"after_loss":true' "$BATS_TEST_TMPDIR/c.jsonl"
	[ "$output" -ge 2 ]
}

@test "loss: a recorded mark is read, kept and shown without root (a minimal timeline)" {
	cat >"$BATS_TEST_TMPDIR/m.json" <<'EOF2'
{"format": "memstate-timeline", "version": 1, "page_size": 4096, "events": [
 {"seq": 0, "t_ns": 0, "pid": 1, "op": "sysReserve", "addr": 1048576, "len": 65536},
 {"seq": 1, "t_ns": 9, "pid": 1, "op": "pageFault", "addr": 1048576, "len": 4096,
  "violation": {"kind": "access-reserved", "after_loss": true, "lost_before": 7}}]}
EOF2
	run -0 "$MEMSTATE" check "$BATS_TEST_TMPDIR/m.json"
	assert_line --regexp 'access-reserved: .* \[after loss: 7 events lost before it\]$'
	run -1 "$MEMSTATE" check --strict "$BATS_TEST_TMPDIR/m.json"
	run -0 "$MEMSTATE" convert --to json "$BATS_TEST_TMPDIR/m.json"
	assert_output --partial '"after_loss":true,"lost_before":7}'
	run -0 "$MEMSTATE" report "$BATS_TEST_TMPDIR/m.json"
	assert_output --partial '[after loss: 7 events lost before it]'
}
