#!/usr/bin/env bats
# `memstate run --capture ebpf` end to end, through the JSON timeline: the exact operations
# of rawseq (dynamic and static), one pageFault per page touched, MADV_COLLAPSE and
# khugepaged collapses on their 2 MiB range, forked children followed, unrelated
# processes left out, the access fault of a program dying of SIGSEGV, and ring overflow
# counted in the timeline.
# Root and a BPF kernel: skipped otherwise, failed under MEMSTATE_REQUIRE_BPF=1.

load helpers

PROGS=$BUILD/tests/progs

setup() {
	require_root_bpf
	# A memstate built without bpf/ (BPF=0) cannot be asked for eBPF capture.
	if ! "$MEMSTATE" run --capture ebpf -q -- true 2>"$BATS_TEST_TMPDIR/probe.err"; then
		[ "${MEMSTATE_REQUIRE_BPF:-0}" = 1 ] &&
			fail "MEMSTATE_REQUIRE_BPF=1 but: $(cat "$BATS_TEST_TMPDIR/probe.err")"
		skip "no eBPF capture: $(head -1 "$BATS_TEST_TMPDIR/probe.err")"
	fi
	T=$BATS_TEST_TMPDIR/t.json
}

# tl PYTHON: run PYTHON with the timeline as `d`, the program's stdout lines as `out`
# ({first word: [numbers...]}) and `ev` = events of the traced root process.
tl() {
	python3 - "$T" "$BATS_TEST_TMPDIR/out" "$1" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
out = {}
for line in open(sys.argv[2]):
    w = line.split()
    if w and all(x.lstrip('-').isdigit() for x in w[1:]):
        out[w[0]] = [int(x) for x in w[1:]]
root = d["processes"][0]["pid"]
ev = [e for e in d["events"] if e["pid"] == root]
exec(sys.argv[3])
EOF
}

rawseq_case() {
	run -0 --separate-stderr "$MEMSTATE" run --capture ebpf -q -o "$T" -- "$PROGS/$1"
	echo "$output" >"$BATS_TEST_TMPDIR/out"
	run -0 tl '
a, n = out["reserve"]
q, qn = out["alloc"]
ps = 4096
mine = [e for e in ev if e["op"] != "procExec" and e["op"] != "procExit" and
        (a <= e["addr"] < a + n or q <= e["addr"] < q + qn)]
got = [(e["op"], e["addr"], e["len"], e.get("to")) for e in mine]
want = [("sysReserve", a, 16 * ps, "Reserved"), ("sysMap", a, 4 * ps, "Prepared")] + \
       [("pageFault", a + i * ps, ps, "Ready") for i in range(4)] + \
       [("sysUnused", a, 4 * ps, "Prepared"), ("sysMap", a + 8 * ps, 4 * ps, "Prepared"),
        ("sysFault", a + 8 * ps, 4 * ps, "Reserved"), ("sysFree", a, 16 * ps, "None"),
        ("sysAlloc", q, 2 * ps, "Ready"), ("sysFree", q, 2 * ps, "None")]
print(got == want or got)
print([e["source"] for e in mine if e["op"] != "pageFault"] == ["syscall"] * 8)
print(d["summary"]["dropped_events"], d["summary"]["violations"])'
	assert_output "True
True
0 0"
}

@test "rawseq: exactly its operations, in order" {
	rawseq_case rawseq
}

@test "rawseq_static: exactly its operations, in order" {
	rawseq_case rawseq_static
}

@test "touching N pages gives N page faults in the mapping" {
	run -0 --separate-stderr "$MEMSTATE" run --capture ebpf -q -o "$T" -- "$PROGS/touchn" 500
	echo "$output" >"$BATS_TEST_TMPDIR/out"
	run -0 tl '
a, n = out["map"]
f = [e for e in ev if e["op"] == "pageFault" and a <= e["addr"] < a + n]
print(len(f), len({e["addr"] >> 12 for e in f}), all(e["write"] and e["source"] == "kernel" for e in f))'
	assert_output "500 500 True"
}

@test "MADV_COLLAPSE of an aligned 2 MiB range: one thpCollapse on it" {
	run -0 --separate-stderr "$MEMSTATE" run --capture ebpf -q -o "$T" -- "$PROGS/thpcollapse"
	echo "$output" >"$BATS_TEST_TMPDIR/out"
	[ "$(awk '/^collapse/ {print $4}' "$BATS_TEST_TMPDIR/out")" = 0 ] ||
		skip "MADV_COLLAPSE refused by this kernel"
	run -0 tl '
a, n, res = out["collapse"]
t = [e for e in d["events"] if e["op"] == "thpCollapse"]
print([(e["addr"] == a, e["len"], e["pid"] == root) for e in t], d["summary"]["thp_collapses"])'
	assert_output "[(True, 2097152, True)] 1"
}

@test "khugepaged's collapse is attributed to the traced process and its range" {
	knob=/sys/kernel/mm/transparent_hugepage/khugepaged/scan_sleep_millisecs
	[ -w "$knob" ] || skip "cannot tune khugepaged"
	# Take turns with test_ebpf (same lock): a concurrent run would restore our setting.
	exec {lock}>>/tmp/memstate-khugepaged.lock
	flock "$lock"
	old=$(cat "$knob")
	echo 50 >"$knob"
	run --separate-stderr "$MEMSTATE" run --capture ebpf -q -o "$T" -- "$PROGS/khuge"
	echo "$old" >"$knob"
	exec {lock}>&-
	[ "$status" -eq 0 ]
	echo "$output" >"$BATS_TEST_TMPDIR/out"
	[ "$(awk '/^huge/ {print $2}' "$BATS_TEST_TMPDIR/out")" -ge 2048 ] ||
		skip "khugepaged did not collapse the range in time"
	run -0 tl '
a, n = out["range"]
t = [e for e in d["events"] if e["op"] == "thpCollapse" and e.get("result") in (0, None)]
print([(e["addr"] == a, e["len"], e["pid"] == root, e["tid"]) for e in t])'
	assert_output "[(True, 2097152, True, 0)]"
}

@test "a forked child is traced: its fork, its own events, its exit status" {
	run -0 --separate-stderr "$MEMSTATE" run --capture ebpf -q -o "$T" -- "$PROGS/forker"
	echo "$output" >"$BATS_TEST_TMPDIR/out"
	run -0 tl '
cpid, ca, cn = out["child"]
procs = {p["pid"]: p for p in d["processes"]}
c = procs.get(cpid, {})
print(c.get("ppid") == root, c.get("exit_code"), c.get("exit_signal"))
cf = [e for e in d["events"] if e["pid"] == cpid and e["op"] == "pageFault" and ca <= e["addr"] < ca + cn]
fork = [e["seq"] for e in d["events"] if e["op"] == "procFork" and e["pid"] == cpid]
print(len(cf), len(fork) == 1 and min(e["seq"] for e in d["events"] if e["pid"] == cpid) == fork[0])'
	assert_output "True 3 None
7 True"
}

@test "an unrelated process running at the same time leaves no trace" {
	"$PROGS/touchn" 20000 >"$BATS_TEST_TMPDIR/other" 3>&- &
	other=$!
	run -0 --separate-stderr "$MEMSTATE" run --capture ebpf -q -o "$T" -- "$PROGS/touchn" 64
	wait "$other"
	echo "$output" >"$BATS_TEST_TMPDIR/out"
	run -0 tl "
pids = {p['pid'] for p in d['processes']}
print(pids == {root}, $other in {e['pid'] for e in d['events']}, len(ev) > 64)"
	assert_output "True False True"
}

@test "a program touching Reserved memory: the fault is recorded before its death" {
	run -139 --separate-stderr "$MEMSTATE" run --capture ebpf -q -o "$T" -- "$PROGS/segv"
	echo "$output" >"$BATS_TEST_TMPDIR/out"
	run -0 tl '
a, n = out["reserve"]
f = [e for e in ev if e["op"] == "pageFault" and e["addr"] == a]
x = [e for e in ev if e["op"] == "procExit"]
print(len(f), f[0]["violation"] and f[0]["violation"]["kind"], f[0]["seq"] < x[0]["seq"])
print(d["processes"][0]["exit_signal"])'
	assert_output "1 access-reserved True
11"
}

@test "a ring too small for the fault rate: losses are counted, never silent" {
	run -0 --separate-stderr "$MEMSTATE" run --capture ebpf --ring-size 4K -o "$T" -- \
		"$PROGS/touchn" 100000
	echo "$output" >"$BATS_TEST_TMPDIR/out"
	# (100k faults: at 20k a fast consumer sometimes kept up with the 4K ring)
	run -0 tl '
a, n = out["map"]
f = [e for e in ev if e["op"] == "pageFault" and a <= e["addr"] < a + n]
lost = d["summary"]["dropped_events"]
print(lost > 0, len(f) + lost >= 100000)'
	assert_output "True True"
	# and the summary on stderr says so
	[[ $stderr =~ [1-9][0-9]*\ lost ]]
}
