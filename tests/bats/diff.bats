#!/usr/bin/env bats
# Verdicts across runs (SPEC section 10): `memstate check --limit`, `memstate diff` with its
# table, JSON and Markdown, `--fail-on`; every metric name parses, bad expressions exit 2
# with one line naming the metrics; a timeline against itself changes nothing; a workload
# run at two sizes grows as expected; a new violation fails `violations=+0`.

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
	for e in peak_footprint=5% peak_footprint=+ peak_footprint=+x% peak_footprint=+5%% \
		nope=+1 peak_footprint=+1Q; do
		run -2 --separate-stderr "$MEMSTATE" diff --fail-on "$e" "$f" "$f"
		[ "${#stderr_lines[@]}" -eq 1 ] || fail "$e: ${#stderr_lines[@]} lines: $stderr"
	done
	# prefixes that pick nothing, metrics a timeline does not record: exit 2 too
	run -2 --separate-stderr "$MEMSTATE" check --limit 999:events=1 "$f"
	[[ $stderr == *"no process 999"* ]]
	run -2 --separate-stderr "$MEMSTATE" check --limit resident=1 "$f"
	[[ $stderr == *"does not record resident"* ]]
	run -2 --separate-stderr "$MEMSTATE" diff --fail-on nosuch:events=+0 "$f" "$f"
	assert_equal "${#stderr_lines[@]}" 1
	run -2 --separate-stderr "$MEMSTATE" diff "$f" "$BATS_TEST_TMPDIR/missing.json"
	assert_equal "${#stderr_lines[@]}" 1
	run -2 --separate-stderr "$MEMSTATE" diff "$f"
	assert_equal "${#stderr_lines[@]}" 1
}

# ---------------------------------------------------------------- diff

@test "diff of a timeline against itself: every change zero, exit 0 with every --fail-on =+0" {
	local g=$BATS_FILE_TMPDIR/g.json m args=()
	for m in $METRICS; do args+=(--fail-on "$m=+0"); done
	run -0 --separate-stderr "$MEMSTATE" diff --json "${args[@]}" "$g" "$g"
	run -0 python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert not d["failed"]
assert len(d["scopes"]) >= 2, d["scopes"]
n = 0
for s in d["scopes"]:
    for k, v in s["metrics"].items():
        assert v["change"] == 0 and v["base"] == v["new"], (s["scope"], k, v)
        n += 1
    assert s["regions_changed"] == [], s
assert "stats.heap.peak" in d["scopes"][0]["metrics"]
assert all(not v["failed"] for v in d["verdicts"]) and d["verdicts"]
print(n)' "$output"
	run -0 "$MEMSTATE" diff "$g" "$g"
	assert_output --partial "peak_footprint"
	refute_output --regexp ' [+-][0-9]'
}

@test "a workload at two sizes: the expected growth, --fail-on exits 1 past the allowance" {
	local d=$BATS_TEST_TMPDIR
	run -0 "$MEMSTATE" run -o "$d/64.json" -- "$PROGS/touchn" 64
	run -0 "$MEMSTATE" run -o "$d/256.json" -- "$PROGS/touchn" 256
	run -0 --separate-stderr "$MEMSTATE" diff --json "$d/64.json" "$d/256.json"
	run -0 python3 -c '
import json, sys
d = json.loads(sys.argv[1])
t = d["scopes"][0]["metrics"]
# 192 more pages mapped and touched (the loader and libc may add a mapping or two)
grow = 192 * 4096
assert grow <= t["peak_bytes.Ready"]["change"] <= grow + 512 * 1024, t["peak_bytes.Ready"]
assert grow <= t["peak_footprint"]["change"] <= grow + 512 * 1024, t["peak_footprint"]
p = d["scopes"][1]
assert p["base_process"]["exe"].endswith("touchn") and p["new_process"]["exe"].endswith("touchn")
groups = {(g["made_by"], g["len"]): g for g in p["regions_changed"]}
assert groups[("sysAlloc", 256 * 4096)]["new_count"] == 1, groups
assert groups[("sysAlloc", 64 * 4096)]["base_count"] == 1, groups
if t["page_faults"]["base"]:  # eBPF sees faults; ptrace alone does not
    assert t["page_faults"]["change"] >= 150, t["page_faults"]
' "$output"
	run -1 "$MEMSTATE" diff --fail-on peak_footprint=+10% "$d/64.json" "$d/256.json"
	assert_output --partial "FAIL peak_footprint=+10%: total"
	run -1 "$MEMSTATE" diff --fail-on touchn:peak_bytes.Ready=+700K "$d/64.json" "$d/256.json"
	run -0 "$MEMSTATE" diff --fail-on peak_footprint=+4M --fail-on violations=+0 \
		"$d/64.json" "$d/256.json"
	assert_output --partial "ok peak_footprint=+4M"
	run -0 "$MEMSTATE" diff --fail-on peak_footprint=+10% "$d/256.json" "$d/64.json"
	run -0 "$MEMSTATE" diff --markdown "$d/64.json" "$d/256.json"
	assert_output --regexp '\| `peak_bytes.Ready` \| [0-9.]+ KiB \| [0-9.]+ MiB \| \+[0-9.]+ (KiB|MiB) \| \+[0-9.]+% \|'
	assert_output --partial '#### touchn #1 (pid'
}

@test "violations=+0 catches a new violation; the kind shows in the diff" {
	local d=$BATS_FILE_TMPDIR
	run -0 "$MEMSTATE" diff --fail-on violations=+0 "$d/small.json" "$d/small.json"
	run -1 "$MEMSTATE" diff --fail-on violations=+0 "$d/small.json" "$d/double.json"
	assert_output --partial "FAIL violations=+0: total, 0 -> 1"
	assert_output --regexp 'violations.double-free +0 +1 +\+1 +new'
	run -1 "$MEMSTATE" diff --fail-on violations.double-free=+0 "$d/small.json" "$d/double.json"
	run -0 "$MEMSTATE" diff --fail-on violations.illegal-transition=+0 "$d/small.json" \
		"$d/double.json"
	# check's own verdict and its limit agree
	run -1 "$MEMSTATE" check --limit violations=0 "$d/double.json"
	assert_output --partial "limit exceeded: violations = 1 > 0"
}

# ---------------------------------------------------------------- residency (SPEC sections 8, 10)

@test "residency metrics: peak_resident is the report's peak; --limit below it exits 1, above 0" {
	require_root_bpf
	local d=$BATS_TEST_TMPDIR peak res ru lf
	run -0 "$MEMSTATE" run -o "$d/t.json" -- "$PROGS/touchn" 64
	run -0 --separate-stderr "$MEMSTATE" report --json "$d/t.json"
	read -r peak res ru lf < <(python3 -c '
import json, sys
d = json.loads(sys.argv[1])
r = [p["resident"] for p in d["processes"] if "resident" in p]
assert len(r) == 1, d["processes"]
r = r[0]
print(r["peak"], r["Prepared"] + r["Ready"], r["ready_untouched"], r["lazy_free"])' "$output")
	# 64 pages touched, each resident at the peak
	[ "$peak" -ge $((64 * 4096)) ] || fail "report's peak $peak"
	run -0 "$MEMSTATE" check --limit "peak_resident=$peak" --limit "resident=$res" \
		--limit "ready_untouched=$ru" --limit "lazy_free=$lf" "$d/t.json"
	assert_output --partial "limit ok: peak_resident = "
	run -1 "$MEMSTATE" check --limit "peak_resident=$((peak - 1))" "$d/t.json"
	assert_output --partial "limit exceeded: peak_resident = "
	run -1 "$MEMSTATE" check --limit "touchn:peak_resident=$((peak - 1))" "$d/t.json"
	assert_output --partial "limit exceeded: peak_resident (pid"
	run -0 "$MEMSTATE" check --limit "peak_resident=$((peak + 1))" "$d/t.json"
	run -1 "$MEMSTATE" check --limit "resident=$((res - 1))" "$d/t.json"
	# the same figures in diff's JSON, and the HTML page's resident note
	run -0 --separate-stderr "$MEMSTATE" diff --json "$d/t.json" "$d/t.json"
	run -0 python3 -c '
import json, sys
d = json.loads(sys.argv[1])
t = d["scopes"][0]["metrics"]
assert t["peak_resident"]["base"] == int(sys.argv[2]), t["peak_resident"]
assert t["resident"]["base"] == int(sys.argv[3]), t["resident"]
assert t["ready_untouched"]["base"] == int(sys.argv[4]), t["ready_untouched"]
assert t["lazy_free"]["base"] == int(sys.argv[5]), t["lazy_free"]
' "$output" "$peak" "$res" "$ru" "$lf"
	run -0 "$MEMSTATE" report --html -o "$d/t.html" "$d/t.json"
	run -0 grep -c 'resident [0-9.]* [KM]iB, peak' "$d/t.html"
	run -1 grep -c 'Residency is not recorded' "$d/t.html"
}

@test "residency metrics: touchn 64 vs 256 grows resident memory; --fail-on resident=+N% fails" {
	require_root_bpf
	local d=$BATS_TEST_TMPDIR
	run -0 "$MEMSTATE" run -o "$d/64.json" -- "$PROGS/touchn" 64
	run -0 "$MEMSTATE" run -o "$d/256.json" -- "$PROGS/touchn" 256
	run -0 --separate-stderr "$MEMSTATE" diff --json "$d/64.json" "$d/256.json"
	run -0 python3 -c '
import json, sys
d = json.loads(sys.argv[1])
# 192 more pages touched; what the loader and libc keep resident varies by a few pages
grow = 192 * 4096
for s in d["scopes"][:2]:  # the whole timeline and the touchn process
    r = s["metrics"]["peak_resident"]
    assert grow - 64 * 1024 <= r["change"] <= grow + 512 * 1024, (s["scope"], r)
    assert r["base"] >= 64 * 4096 and r["new"] >= 256 * 4096, (s["scope"], r)
' "$output"
	run -1 "$MEMSTATE" diff --fail-on peak_resident=+10% "$d/64.json" "$d/256.json"
	assert_output --partial "FAIL peak_resident=+10%: total"
	run -0 "$MEMSTATE" diff --fail-on peak_resident=+4M --fail-on resident=+1M \
		"$d/64.json" "$d/256.json"
	assert_output --partial "ok peak_resident=+4M"
	run -0 "$MEMSTATE" diff "$d/64.json" "$d/256.json"
	assert_output --regexp 'peak_resident +[0-9.]+ KiB +[0-9.]+ (KiB|MiB) +\+[0-9.]+ (KiB|MiB)'
	run -0 "$MEMSTATE" diff --markdown "$d/64.json" "$d/256.json"
	assert_output --regexp '\| `peak_resident` \| [0-9.]+ KiB \| [0-9.]+ (KiB|MiB) \| \+[0-9.]+ (KiB|MiB) \| \+[0-9.]+% \|'
	run -0 "$MEMSTATE" diff --html -o "$d/d.html" "$d/64.json" "$d/256.json"
	run -0 grep -c '; NEW: resident [0-9.]* [KM]iB, peak' "$d/d.html"
}
