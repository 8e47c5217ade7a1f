#!/usr/bin/env bats
# The bundled samples run standalone (MEMSTATE_OUT): goheap is clean and its totals match
# the timeline; each bug-zoo program yields exactly its one violation.

load helpers

@test "goheap runs clean and writes a valid timeline" {
	run -0 env MEMSTATE_OUT="$BATS_TEST_TMPDIR/g.json" "$SAMPLES/goheap"
	assert_output --partial "0 violations"
	run -0 json_query "$BATS_TEST_TMPDIR/g.json" 'd["format"], d["version"], d["summary"]["violations"]'
	assert_output "('memstate-timeline', 1, 0)"
	# Everything was freed: no regions left, and the final bytes are zero.
	run -0 json_query "$BATS_TEST_TMPDIR/g.json" 'len(d["regions"]), d["summary"]["bytes"]'
	assert_output "(0, {'Reserved': 0, 'Prepared': 0, 'Ready': 0})"
}

@test "goheap's printed totals agree with the timeline" {
	run -0 env MEMSTATE_OUT="$BATS_TEST_TMPDIR/g.json" "$SAMPLES/goheap" 300
	ops=$(json_query "$BATS_TEST_TMPDIR/g.json" 'd["summary"]["events"]')
	used=$(json_query "$BATS_TEST_TMPDIR/g.json" 'd["summary"]["ops"]["sysUsed"]')
	peak=$(json_query "$BATS_TEST_TMPDIR/g.json" 'd["summary"]["peak_bytes"]["Ready"] >> 10')
	assert_output --partial "goheap: $ops operations"
	assert_output --partial "$used sysUsed"
	assert_output --partial "peak Ready $peak KiB"
	# Replaying the events by hand gives the same final Ready bytes: events are complete.
	run -0 json_query "$BATS_TEST_TMPDIR/g.json" 'len(d["events"]) == d["summary"]["events"]'
	assert_output True
}

@test "timeline files are private (0600)" {
	run -0 env MEMSTATE_OUT="$BATS_TEST_TMPDIR/g.json" "$SAMPLES/goheap" 10
	run -0 stat -c %a "$BATS_TEST_TMPDIR/g.json"
	assert_output 600
}

@test "JSON Lines form: header first, summary last" {
	run -0 env MEMSTATE_OUT="$BATS_TEST_TMPDIR/g.jsonl" MEMSTATE_FORMAT=jsonl "$SAMPLES/goheap" 50
	run -0 python3 -c '
import json,sys
lines=[json.loads(l) for l in open(sys.argv[1])]
print(lines[0]["type"], lines[-1]["type"], sum(l["type"]=="event" for l in lines)==lines[-1]["events"])' \
		"$BATS_TEST_TMPDIR/g.jsonl"
	assert_output "header summary True"
}

zoo_case() {
	local prog=$1 kind=$2
	run -0 --separate-stderr env MEMSTATE_OUT="$BATS_TEST_TMPDIR/z.json" "$SAMPLES/zoo/$prog"
	# one line on stderr naming the kind
	[ "$(echo "$stderr" | grep -c "memstate: $kind:")" -eq 1 ]
	run -0 json_query "$BATS_TEST_TMPDIR/z.json" '[v["kind"] for v in d["violations"]], d["summary"]["violations"], [e["violation"]["kind"] for e in d["events"] if e["violation"]]'
	assert_output "(['$kind'], 1, ['$kind'])"
}

@test "zoo: illegal_transition" { zoo_case illegal_transition illegal-transition; }
@test "zoo: double_free" { zoo_case double_free double-free; }
@test "zoo: accounting_mismatch" { zoo_case accounting_mismatch accounting-mismatch; }
@test "zoo: misaligned" { zoo_case misaligned misaligned; }
@test "zoo: hint_on_unmapped" { zoo_case hint_on_unmapped hint-on-unmapped; }
@test "zoo: invalid_range" { zoo_case invalid_range invalid-range; }

@test "MEMSTATE_ON_VIOLATION=abort stops at the first violation and still writes the timeline" {
	run -134 env MEMSTATE_ON_VIOLATION=abort MEMSTATE_OUT="$BATS_TEST_TMPDIR/z.json" "$SAMPLES/zoo/double_free"
	run -0 json_query "$BATS_TEST_TMPDIR/z.json" 'd["summary"]["violations"], d["events"][-1]["op"]'
	assert_output "(1, 'sysFree')"
}

@test "an unwritable MEMSTATE_OUT is one clear line and the program still runs" {
	run -0 --separate-stderr env MEMSTATE_OUT=/nonexistent/dir/x.json "$SAMPLES/goheap" 10
	assert_equal "$(echo "$stderr" | grep -c 'memstate: cannot write timeline /nonexistent/dir/x.json')" 1
}
