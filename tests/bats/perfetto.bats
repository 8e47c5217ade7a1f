#!/usr/bin/env bats
# `memstate convert --to perfetto`: Perfetto's native protobuf trace (export/perfetto_pb.c).
# Each trace is decoded by protoc (--decode_raw: well-formed protobuf; --decode with the
# field numbers of Perfetto's protos, tests/data/perfetto/memstate_subset.proto) and read
# back by tests/data/perfetto/pftrace.py, which also checks what trace_processor relies on
# (tracks described before use, interned ids defined, slices paired). The figures must be
# the timeline's own: bytes per state against the summary and `report`, mapping slices
# against `report`'s regions, page faults, stats, violations, THP collapses, resident bytes.
# The JSON form stays as --to perfetto-json, and --to perfetto -o NAME.json still writes it.

load helpers

DATA=$ROOT/tests/data
PF=$DATA/perfetto
PROGS=$BUILD/tests/progs

setup() {
	command -v protoc >/dev/null || skip "protoc is not installed (make deps: protobuf-compiler)"
	"$MEMSTATE" convert --help >/dev/null 2>&1 || skip "memstate convert is not built"
}

# pf TRACE QUERY...: pftrace.py's answer about a protobuf trace.
pf() {
	local t=$1
	shift
	protoc --decode=perfetto.protos.Trace -I"$PF" "$PF/memstate_subset.proto" <"$t" |
		python3 "$PF/pftrace.py" "$@"
}

# q TIMELINE PYTHON: evaluate PYTHON over a JSON Lines timeline's items, grouped by type
# (`items["summary"][0]`, ...).
q() {
	python3 -c '
import json, sys
items = {}
for line in open(sys.argv[1]):
    o = json.loads(line)
    items.setdefault(o["type"], []).append(o)
print(eval(sys.argv[2]))' "$1" "$2"
}

@test "known.json: well-formed protobuf, tracks per process, the violation, final bytes" {
	local t=$BATS_TEST_TMPDIR/k.pftrace
	run -0 "$MEMSTATE" convert --to perfetto "$DATA/known.json" -o "$t"
	run -0 protoc --decode_raw <"$t"
	run -0 pf "$t" tracks
	assert_output "100 known -
100 mappings -
100 mappings 1 -
100 Reserved bytes UNIT_SIZE_BYTES
100 Prepared bytes UNIT_SIZE_BYTES
100 Ready bytes UNIT_SIZE_BYTES
100 stat heap UNIT_SIZE_BYTES
100 violations -
100 resident bytes UNIT_SIZE_BYTES
100 page faults/s UNIT_COUNT"
	run -0 pf "$t" instants 100 violations
	assert_output "double-free seq=3 tid=101 addr=536870912 len=4096 message=sysFree [0x20000000, 0x20001000) over bytes already None (held: None 4096)"
	# the same last sample as the JSON form's (500.0 Reserved 32768 Prepared 16384 Ready 16384)
	run -0 pf "$t" counters 100 "Reserved bytes"
	assert_output --regexp '^32768 '
	run -0 pf "$t" counters 100 "Prepared bytes"
	assert_output --regexp '^16384 '
	run -0 pf "$t" counters 100 "Ready bytes"
	assert_output --regexp '^16384 '
	run -0 pf "$t" slices 100
	assert_output "1 1"
}

@test "goheap: bytes per state, peaks, stats and mapping slices are the timeline's own" {
	local d=$BATS_TEST_TMPDIR pid s
	MEMSTATE_OUT=$d/g.jsonl "$SAMPLES/goheap" 300 >/dev/null 3>&-
	run -0 "$MEMSTATE" convert --to perfetto "$d/g.jsonl" -o "$d/g.pftrace"
	pid=$(q "$d/g.jsonl" 'items["process"][0]["pid"]')
	for s in Reserved Prepared Ready; do
		run -0 pf "$d/g.pftrace" counters "$pid" "$s bytes"
		local last=${output%% *} rest=${output#* }
		local max=${rest%% *}
		assert_equal "$last" "$(q "$d/g.jsonl" "items['summary'][0]['bytes']['$s']")"
		assert_equal "$max" "$(q "$d/g.jsonl" "items['summary'][0]['peak_bytes']['$s']")"
	done
	# each stat's last value is what the process's summary says it holds
	for s in $(q "$d/g.jsonl" '" ".join(x["name"] for x in items["process"][0]["stats"])'); do
		run -0 pf "$d/g.pftrace" counters "$pid" "stat $s"
		assert_equal "${output%% *}" \
			"$(q "$d/g.jsonl" "[x['bytes'] for x in items['process'][0]['stats'] if x['name'] == '$s'][0]")"
	done
	# one slice per region report counts, each ended
	run -0 "$MEMSTATE" report --json "$d/g.jsonl"
	local made
	made=$(echo "$output" | python3 -c 'import json, sys; print(json.load(sys.stdin)["processes"][0]["regions_made"])')
	run -0 pf "$d/g.pftrace" slices "$pid"
	assert_output "$made $made"
}

@test "--ops adds an instant per operation" {
	local t=$BATS_TEST_TMPDIR/k.pftrace
	run -0 "$MEMSTATE" convert --to perfetto --ops "$DATA/known.json" -o "$t"
	run -0 pf "$t" instants 100 operations
	assert_line --index 0 'sysReserve seq=0 tid=100 addr=268435456 len=65536 source=api to=Reserved'
	[ "${#lines[@]}" -eq "$(json_query "$DATA/known.json" 'len([e for e in d["events"] if e["op"] != "pageFault" and e["pid"] == 100])')" ]
}

@test "resident bytes follow the replay's residency (SPEC section 8): report's figures" {
	local d=$BATS_TEST_TMPDIR f pid
	for f in "$DATA/known.json" "$DATA/analysis/gophases.jsonl.zst"; do
		run -0 "$MEMSTATE" convert --to perfetto "$f" -o "$d/r.pftrace"
		run -0 "$MEMSTATE" report --json "$f"
		echo "$output" >"$d/r.json"
		for pid in $(python3 -c 'import json, sys
print(" ".join(str(p["pid"]) for p in json.load(open(sys.argv[1]))["processes"]))' "$d/r.json"); do
			run -0 pf "$d/r.pftrace" counters "$pid" "resident bytes"
			local last=${output%% *} rest=${output#* }
			assert_equal "$last ${rest%% *}" "$(python3 -c 'import json, sys
p = [p for p in json.load(open(sys.argv[1]))["processes"] if p["pid"] == int(sys.argv[2])][0]
r = p["resident"]
print(r["Prepared"] + r["Ready"], r["peak"])' "$d/r.json" "$pid")"
		done
	done
}

@test "eBPF run: page faults/s adds up to the faults, THP collapse requests are instants" {
	require_root_bpf
	local d=$BATS_TEST_TMPDIR pid
	"$MEMSTATE" run --capture ebpf -q -- true 2>/dev/null || skip "no eBPF capture here"
	run -0 "$MEMSTATE" run --capture ebpf -q -o "$d/t.jsonl" -- "$PROGS/touchn" 3000
	run -0 "$MEMSTATE" convert --to perfetto "$d/t.jsonl" -o "$d/t.pftrace"
	pid=$(q "$d/t.jsonl" 'items["process"][0]["pid"]')
	# a 10 ms window: each sample is faults x 100 per second
	run -0 pf "$d/t.pftrace" counter-sum "$pid" "page faults/s"
	assert_equal "$((output / 100))" \
		"$(q "$d/t.jsonl" "sum(1 for e in items['event'] if e['op'] == 'pageFault' and e['pid'] == $pid)")"
	run -0 "$MEMSTATE" run --capture ebpf -q -o "$d/c.jsonl" -- "$PROGS/thpcollapse"
	[[ $output == *"collapse "*" 0"* ]] || skip "MADV_COLLAPSE refused by this kernel"
	run -0 "$MEMSTATE" convert --to perfetto "$d/c.jsonl" -o "$d/c.pftrace"
	pid=$(q "$d/c.jsonl" 'items["process"][0]["pid"]')
	run -0 pf "$d/c.pftrace" instants "$pid" THP
	assert_line --regexp '^collapse request seq=[0-9]+ .* len=2097152 result=0$'
	assert_line --regexp '^THP collapse seq=[0-9]+ .* len=2097152 result=0$'
}

@test "perfetto-json is the JSON form; --to perfetto -o NAME.json still writes it" {
	local d=$BATS_TEST_TMPDIR
	run -0 "$MEMSTATE" convert --to perfetto-json "$DATA/known.json" -o "$d/a.out"
	run -0 "$MEMSTATE" convert --to perfetto "$DATA/known.json" -o "$d/b.json"
	run -0 cmp "$d/a.out" "$d/b.json"
	run -0 python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["displayTimeUnit"])' "$d/b.json"
	assert_output ns
	run -0 "$MEMSTATE" convert --to perfetto "$DATA/known.json" -o "$d/c.json.zst"
	run -0 bash -c "zstd -q -d -c '$d/c.json.zst' | cmp - '$d/a.out'"
	# any other name, or stdout, is the protobuf trace (compressed too when asked)
	"$MEMSTATE" convert --to perfetto "$DATA/known.json" >"$d/s.pftrace"
	run -0 pf "$d/s.pftrace" slices 100
	run -0 "$MEMSTATE" convert --to perfetto "$DATA/known.json" -o "$d/z.pftrace.zst"
	zstd -q -d -c "$d/z.pftrace.zst" >"$d/z.pftrace"
	run -0 cmp "$d/z.pftrace" "$d/s.pftrace"
	run -2 --separate-stderr "$MEMSTATE" convert --to chrome "$DATA/known.json"
	assert_equal "$stderr" "memstate convert: unknown format 'chrome' (perfetto, perfetto-json, svg, json, jsonl); see 'memstate convert --help'"
}

@test "smaller than the JSON form, memory flat with the length of the timeline" {
	local d=$BATS_TEST_TMPDIR n rss=()
	[ -x /usr/bin/time ] || skip "/usr/bin/time is not installed"
	"$MEMSTATE" run -q --capture ptrace -f jsonl -o "$d/s.jsonl" -- "$PROGS/sysloop" 20000 3>&-
	run -0 "$MEMSTATE" convert --to perfetto "$d/s.jsonl" -o "$d/s.pftrace"
	run -0 "$MEMSTATE" convert --to perfetto-json "$d/s.jsonl" -o "$d/s.json"
	local pb js
	pb=$(stat -c %s "$d/s.pftrace") js=$(stat -c %s "$d/s.json")
	[ $((js / pb)) -ge 2 ] || fail "protobuf $pb bytes, JSON $js"
	for n in 20000 200000; do
		"$BUILD/bench/bench_export" -n "$n" -o "$d/b$n.jsonl" --jsonl >/dev/null
		/usr/bin/time -f %M -o "$d/rss" "$MEMSTATE" convert --to perfetto "$d/b$n.jsonl" \
			-o "$d/b.pftrace"
		rss+=("$(cat "$d/rss")")
		rm -f "$d/b$n.jsonl"
	done
	# ten times the events, not ten times the memory (KiB)
	[ "${rss[1]}" -lt $((rss[0] * 2)) ] || fail "RSS ${rss[0]} KiB -> ${rss[1]} KiB"
}
