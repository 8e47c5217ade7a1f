#!/usr/bin/env bats
# Verdicts (SPEC section 10): `memstate check --limit`; every metric name parses, bad
# expressions exit 2 with one line naming the metrics.

load helpers

PROGS=$BUILD/tests/progs
METRICS="peak_footprint bytes.Reserved bytes.Prepared bytes.Ready peak_bytes.Reserved
peak_bytes.Prepared peak_bytes.Ready page_faults thp_collapses violations
violations.double-free violations.illegal-transition events events.sysMap events.pageFault
stats.heap stats.heap.peak stats.metadata.peak file_bytes dropped_events"

# A small timeline by hand: reserve 1 MiB, map and use 64 KiB for "heap", free it all; with
# "double", one more free of the same range (a double-free).
small_timeline() {
	local out=$1 double=${2:-}
	{
		echo '{"type":"header","format":"memstate-timeline","version":1,"command":["t"],"page_size":4096}'
		echo '{"type":"event","seq":0,"t_ns":0,"pid":7,"tid":7,"source":"api","op":"sysReserve","addr":268435456,"len":1048576,"to":"Reserved","from":{"None":1048576},"violation":null,"result":0}'
		echo '{"type":"event","seq":1,"t_ns":1000,"pid":7,"tid":7,"source":"api","op":"sysMap","addr":268435456,"len":65536,"to":"Prepared","from":{"Reserved":65536},"violation":null,"stat":"heap","result":0}'
		echo '{"type":"event","seq":2,"t_ns":2000,"pid":7,"tid":7,"source":"api","op":"sysUsed","addr":268435456,"len":65536,"to":"Ready","from":{"Prepared":65536},"violation":null,"prepared":65536,"result":0}'
		echo '{"type":"event","seq":3,"t_ns":3000,"pid":7,"tid":7,"source":"api","op":"sysFree","addr":268435456,"len":1048576,"to":"None","from":{"Reserved":983040,"Ready":65536},"violation":null,"stat":"heap","result":0}'
		[ -n "$double" ] &&
			echo '{"type":"event","seq":4,"t_ns":4000,"pid":7,"tid":7,"source":"api","op":"sysFree","addr":268435456,"len":4096,"to":"None","from":{"None":4096},"violation":{"seq":4,"pid":7,"kind":"double-free","message":"sysFree over bytes already None"},"stat":"heap","result":0}'
	} >"$out.jsonl"
	"$MEMSTATE" convert --to json "$out.jsonl" -o "$out" 2>/dev/null
}

setup_file() {
	local d=$BATS_FILE_TMPDIR
	small_timeline "$d/small.json"
	small_timeline "$d/double.json" double
	MEMSTATE_OUT=$d/g.json "$SAMPLES/goheap" 300 >/dev/null 3>&-
}

# ---------------------------------------------------------------- check --limit

@test "check --limit: every metric name parses (exit 0 or 1, never 2)" {
	local m
	for m in $METRICS; do
		run --separate-stderr "$MEMSTATE" check --limit "$m=1G" "$BATS_FILE_TMPDIR/small.json"
		[ "$status" -le 1 ] || fail "$m: exit $status: $stderr"
		run --separate-stderr "$MEMSTATE" check --limit "7:$m=1G" --limit "t:$m=0" \
			"$BATS_FILE_TMPDIR/g.json"
		[ "$status" -ne 2 ] || [[ $stderr != *"unknown metric"* ]] || fail "7:$m: $stderr"
	done
}

@test "check --limit: a budget kept exits 0, one exceeded exits 1 and says which" {
	local f=$BATS_FILE_TMPDIR/small.json
	run -0 "$MEMSTATE" check --limit stats.heap.peak=64K --limit peak_footprint=64K "$f"
	assert_output --partial "limit ok: stats.heap.peak = 64.0 KiB <= 64.0 KiB"
	run -1 "$MEMSTATE" check --limit stats.heap.peak=63K --limit events=100 "$f"
	assert_output --partial "limit exceeded: stats.heap.peak = 64.0 KiB > 63.0 KiB"
	assert_output --partial "limit ok: events = 4 <= 100"
	run -1 "$MEMSTATE" check --limit 7:peak_bytes.Reserved=1023K "$f"
	assert_output --partial "limit exceeded: peak_bytes.Reserved (pid 7) = 1.0 MiB > 1023.0 KiB"
	run -1 "$MEMSTATE" check --limit goheap:stats.heap.peak=1K "$BATS_FILE_TMPDIR/g.json"
	assert_output --partial "limit exceeded: stats.heap.peak (pid"
}

@test "bad expressions exit 2 with one line (unknown metrics: the valid names listed)" {
	local f=$BATS_FILE_TMPDIR/small.json e
	for e in foo=1 bytes.Free=1 violations.bogus=1 events.nop=1 stats.=1 peak_footprint \
		=1 peak_footprint=abc peak_footprint=1X peak_footprint=-1 :events=1; do
		run -2 --separate-stderr "$MEMSTATE" check --limit "$e" "$f"
		[ "${#stderr_lines[@]}" -eq 1 ] || fail "$e: ${#stderr_lines[@]} lines: $stderr"
		[ -z "$output" ] || fail "$e: printed $output"
	done
	run -2 --separate-stderr "$MEMSTATE" check --limit nope=1 "$f"
	assert_equal "${#stderr_lines[@]}" 1
	[[ $stderr == *"unknown metric 'nope'; metrics: peak_footprint, bytes.STATE"* ]]
	[[ $stderr == *"stats.NAME.peak"* ]]
	# prefixes that pick nothing, metrics a timeline does not record: exit 2 too
	run -2 --separate-stderr "$MEMSTATE" check --limit 999:events=1 "$f"
	[[ $stderr == *"no process 999"* ]]
	run -2 --separate-stderr "$MEMSTATE" check --limit resident=1 "$f"
	[[ $stderr == *"does not record resident"* ]]
}
