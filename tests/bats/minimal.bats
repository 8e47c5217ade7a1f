#!/usr/bin/env bats
# Minimal timelines (SPEC section 7, docs/timeline.md): only the header's format, version
# and page_size and each event's operation. Every reader (check, report, convert, view)
# accepts them and computes what they leave out; a recorded member or section that is
# present must still agree, one that is absent is never a disagreement.

load helpers

DATA=$ROOT/tests/data/minimal
TOOLS=$ROOT/tests/data/tools
KINDS="illegal-transition double-free accounting-mismatch misaligned hint-on-unmapped access-reserved access-prepared"

# jsonl FILE OUT [COMMAND]: the same minimal timeline as JSON Lines (a header without
# command, unless one is given).
jsonl() {
	python3 - "$1" "$2" "${3:-}" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
h = {"type": "header", "format": d["format"], "version": d["version"], "page_size": d["page_size"]}
if sys.argv[3]:
    h["command"] = [sys.argv[3]]
with open(sys.argv[2], "w") as f:
    f.write(json.dumps(h) + "\n")
    for e in d["events"]:
        f.write(json.dumps(dict(type="event", **e)) + "\n")
PY
}

@test "minimal: each violation kind gives its verdict through check, in both forms" {
	for k in $KINDS; do
		run -1 "$MEMSTATE" check "$DATA/$k.json"
		assert_line --regexp " $k: "
		assert_line --regexp "1 violation \($k 1\); agrees with the recorded timeline \([0-9]+ events? recorded no states: computed"
		jsonl "$DATA/$k.json" "$BATS_TEST_TMPDIR/$k.jsonl"
		run -1 --separate-stderr "$MEMSTATE" check "$BATS_TEST_TMPDIR/$k.jsonl"
		assert_line --regexp "1 violation \($k 1\); agrees"
		assert_equal "$stderr" "" # complete, not "cut short": a minimal header
	done
}

@test "minimal: a clean one is clean through check" {
	run -0 "$MEMSTATE" check "$DATA/clean.json"
	assert_output --regexp '6 events, 1 process, 0 violations; agrees with the recorded timeline \(6 events recorded no states'
	jsonl "$DATA/clean.json" "$BATS_TEST_TMPDIR/clean.jsonl"
	run -0 "$MEMSTATE" check "$BATS_TEST_TMPDIR/clean.jsonl"
}

@test "minimal: report and every conversion read them; the JSON copy is complete and agrees" {
	for k in clean $KINDS; do
		run -0 "$MEMSTATE" report "$DATA/$k.json"
		run -0 "$MEMSTATE" report --json "$DATA/$k.json"
		for t in perfetto svg json jsonl; do
			run -0 "$MEMSTATE" convert --to $t "$DATA/$k.json" -o "$BATS_TEST_TMPDIR/$k.$t"
		done
		# stdin too (read once, replayed as it streams)
		run -0 "$MEMSTATE" convert --to json - -o "$BATS_TEST_TMPDIR/$k.stdin.json" <"$DATA/$k.json"
		cmp "$BATS_TEST_TMPDIR/$k.json" "$BATS_TEST_TMPDIR/$k.stdin.json"
		want=0
		[ $k = clean ] || want=1
		run -$want "$MEMSTATE" check "$BATS_TEST_TMPDIR/$k.json"
		assert_output --regexp '; agrees with the recorded timeline$'
		run -$want "$MEMSTATE" check "$BATS_TEST_TMPDIR/$k.jsonl"
		assert_output --regexp '; agrees with the recorded timeline$'
		grep -q '<svg' "$BATS_TEST_TMPDIR/$k.svg"
	done
	# the complete copy names the violation and its computed states
	n=$(json_query "$BATS_TEST_TMPDIR/double-free.json" 'd["events"][2]["violation"]["kind"] + " " + str(d["events"][2]["from"]) + " " + d["events"][2]["to"]')
	assert_equal "$n" "double-free {'None': 65536} None"
	n=$(json_query "$BATS_TEST_TMPDIR/clean.json" 'len(d["regions"]), d["summary"]["peak_bytes"]["Ready"]')
	assert_equal "$n" "(0, 65536)"
}

@test "minimal: a file that is minimal only from some event on is copied whole" {
	# the first events record their states, the rest leave them out
	"$MEMSTATE" convert --to json "$DATA/access-prepared.json" -o "$BATS_TEST_TMPDIR/full.json"
	python3 - "$BATS_TEST_TMPDIR/full.json" "$BATS_TEST_TMPDIR/mixed.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for e in d["events"][2:]:
    for k in ("from", "to", "violation", "tid", "source"):
        e.pop(k)
for k in ("violations", "regions", "processes", "summary"):
    d.pop(k)
json.dump(d, open(sys.argv[2], "w"))
PY
	run -0 "$MEMSTATE" convert --to jsonl "$BATS_TEST_TMPDIR/mixed.json" -o "$BATS_TEST_TMPDIR/mixed.jsonl"
	run -1 "$MEMSTATE" check "$BATS_TEST_TMPDIR/mixed.jsonl"
	assert_output --regexp 'access-prepared 1\); agrees with the recorded timeline$'
	run -0 diff <(grep -v '"type":"header"' "$BATS_TEST_TMPDIR/mixed.jsonl") \
		<("$MEMSTATE" convert --to jsonl "$BATS_TEST_TMPDIR/full.json" | grep -v '"type":"header"')
}

@test "minimal: what is present must agree; what is absent is computed" {
	# a recorded "to" that the replay contradicts
	sed 's/"op": "sysMap", "addr": 1048576, "len": 65536, "stat": "heap"/&, "to": "Ready"/' \
		"$DATA/illegal-transition.json" >"$BATS_TEST_TMPDIR/to.json"
	run -1 "$MEMSTATE" check "$BATS_TEST_TMPDIR/to.json"
	assert_line --partial 'recorded to Ready, replay gives Prepared'
	assert_output --regexp '1 disagreement with the recorded timeline'
	# a recorded clean verdict for an event that violates
	sed 's/"op": "sysUsed", "addr": 1048576, "len": 65536, "prepared": 4096/&, "violation": null/' \
		"$DATA/accounting-mismatch.json" >"$BATS_TEST_TMPDIR/v.json"
	run -1 "$MEMSTATE" check "$BATS_TEST_TMPDIR/v.json"
	assert_line --partial 'recorded no violation, replay finds accounting-mismatch'
	# a summary that is present but wrong
	sed 's/^]}$/], "summary": {"bytes": {"Reserved": 0, "Prepared": 0, "Ready": 4096}, "peak_bytes": {"Reserved": 262144, "Prepared": 131072, "Ready": 65536}, "events": 6, "violations": 0, "page_faults": 1, "thp_collapses": 0, "dropped_events": 0}}/' \
		"$DATA/clean.json" >"$BATS_TEST_TMPDIR/s.json"
	run -1 "$MEMSTATE" check "$BATS_TEST_TMPDIR/s.json"
	assert_output --partial 'the summary: recorded 4096 final Ready bytes, replay 0'
	# an empty violation list that is present: held to it
	sed 's/^]}$/], "violations": []}/' "$DATA/double-free.json" >"$BATS_TEST_TMPDIR/l.json"
	run -1 "$MEMSTATE" check "$BATS_TEST_TMPDIR/l.json"
	assert_output --partial 'the replay finds 1 violations, the timeline lists 0'
}

@test "minimal: a required member left out is one line and exit 2" {
	sed '0,/"op": "sysMap", /s///' "$DATA/illegal-transition.json" >"$BATS_TEST_TMPDIR/noop.json"
	run -2 --separate-stderr "$MEMSTATE" check "$BATS_TEST_TMPDIR/noop.json"
	assert_equal "$stderr" "memstate: check: $BATS_TEST_TMPDIR/noop.json:4:3: event: missing member \"op\""
	sed 's/"page_size": 4096//; s/"version": 1,/"version": 1/' "$DATA/clean.json" >"$BATS_TEST_TMPDIR/nops.json"
	run -2 --separate-stderr "$MEMSTATE" check "$BATS_TEST_TMPDIR/nops.json"
	[[ $stderr == *'header: missing member "page_size"'* ]]
	sed 's/, "prepared": 65536//' "$DATA/clean.json" >"$BATS_TEST_TMPDIR/noprep.json"
	run -2 --separate-stderr "$MEMSTATE" check "$BATS_TEST_TMPDIR/noprep.json"
	[[ $stderr == *'missing member "prepared"'* ]]
}

@test "minimal: a JSON Lines file with a command in its header is cut short without its summary" {
	jsonl "$DATA/clean.json" "$BATS_TEST_TMPDIR/m.jsonl" ./prog
	run -0 --separate-stderr "$MEMSTATE" check "$BATS_TEST_TMPDIR/m.jsonl"
	assert_output --partial '(cut short: checked up to its last whole line)'
	[[ $stderr == *"warning"*"no summary line"* ]]
}

@test "minimal: the schemas: complete by default, the minimal one for readers" {
	python3 -c 'import jsonschema' 2>/dev/null || skip "needs python3-jsonschema"
	run -0 python3 "$TOOLS/minimal_schema.py" "$ROOT/docs/timeline.schema.json"
	if [ "${UPDATE:-0}" = 1 ]; then
		printf '%s\n' "$output" >"$ROOT/docs/timeline.minimal.schema.json"
	fi
	assert_equal "$output" "$(cat "$ROOT/docs/timeline.minimal.schema.json")"
	# one validator run per schema and form (each python start costs)
	local min=() full=() jl=()
	for k in clean $KINDS; do
		min+=("$DATA/$k.json")
		jsonl "$DATA/$k.json" "$BATS_TEST_TMPDIR/$k.jsonl"
		jl+=("$BATS_TEST_TMPDIR/$k.jsonl")
		# the complete copy convert writes meets the complete schema
		"$MEMSTATE" convert --to json "$DATA/$k.json" -o "$BATS_TEST_TMPDIR/$k.full.json"
		full+=("$BATS_TEST_TMPDIR/$k.full.json")
	done
	run -0 python3 "$TOOLS/validate_timeline.py" "$ROOT/docs/timeline.minimal.schema.json" "${min[@]}" "${jl[@]}"
	run -0 python3 "$TOOLS/validate_timeline.py" "$ROOT/docs/timeline.schema.json" "${full[@]}"
	run -1 python3 "$TOOLS/validate_timeline.py" "$ROOT/docs/timeline.schema.json" "${min[@]}"
	for k in clean $KINDS; do
		assert_line "$DATA/$k.json: 'command' is a required property at []"
	done
}
