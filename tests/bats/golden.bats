#!/usr/bin/env bats
# Outputs pinned across refactors: for every saved timeline under tests/data (the bug zoo
# and a short goheap run recorded in tests/data/golden/in, the malformed corpus), what
# check, report, report --json and convert (perfetto, --ops, svg, json, jsonl) print, on
# stdout and stderr, and their exit statuses, byte for byte as the code before the folder
# reorganisation (commit d705075) printed them: tests/data/golden/out, made by
# tests/data/golden/make.sh. A deliberate change of an output regenerates them.

load helpers

GOLDEN=$ROOT/tests/data/golden

# same KIND...: today's outputs of those kinds equal the golden ones.
same() {
	local out=$BATS_TEST_TMPDIR/out kind f
	run "$GOLDEN/make.sh" "$MEMSTATE" "$out" "$@"
	assert_success
	for kind in "$@"; do
		for f in "$GOLDEN/out/"*."$kind"; do
			run diff -u "$f" "$out/${f##*/}"
			assert_success
		done
	done
}

@test "check prints what it printed" {
	same check
}

@test "report and report --json print what they printed" {
	"$MEMSTATE" report --help >/dev/null 2>&1 || skip "memstate report is not built (no cJSON)"
	same report report_json
}

@test "convert to perfetto (with and without --ops) writes the same trace" {
	same perfetto perfetto_ops
}

@test "convert to svg draws the same picture" {
	same svg
}

@test "convert to json and jsonl writes the same timeline" {
	same json jsonl
}
