#!/usr/bin/env bats
# Go programs traced through uprobes on the runtime's sys* functions (memstate run on a
# Go binary): the sample's runtime.MemStats equal the traced map at every ReadMemStats
# mark, exactly, with MADV_DONTNEED and with MADV_FREE; zero violations; one event per
# runtime call with its stat by name; a touch of released memory is access-prepared;
# --no-go, stripped and non-Go binaries, and no eBPF fall back to syscalls, saying why.

load helpers

GOPHASES=$SAMPLES/go/gophases

# require_go_sample: the Go sample is built (golang-1.19-go installed, then make).
require_go_sample() {
	[ -x "$GOPHASES" ] && return 0
	if [ "${MEMSTATE_REQUIRE_BPF:-0}" = 1 ]; then
		fail "MEMSTATE_REQUIRE_BPF=1 but the Go sample is not built ($GOPHASES)"
	fi
	skip "the Go sample is not built (install golang-1.19-go, run make)"
}

# marks_match OUT MARKS: each line the sample printed against the mark memstate took at
# the same ReadMemStats; prints one line per mark that differs, then "N marks match".
marks_match() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
printed = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
traced = [json.loads(l) for l in open(sys.argv[2])]
bad = 0
if len(printed) != len(traced) or not printed:
    print("marks: %d printed, %d traced" % (len(printed), len(traced)))
    bad += 1
for p, t in zip(printed, traced):
    # MemStats.Sys: the runtime's stats; the map holds them in Prepared + Ready bytes
    # (whole pages: the kernel rounds unaligned sysAlloc lengths up, `rounding`).
    checks = [("sys", t["sys"], p["sys"]),
              ("prepared+ready", t["prepared"] + t["ready"] - t["rounding"], p["sys"]),
              ("prepared", t["prepared"], p["heap_released"])]
    for name, got, want in checks:
        if got != want:
            print("mark %d (%s): %s %d, MemStats %d" % (p["mark"], p["phase"], name, got, want))
            bad += 1
print("%d marks match" % len(printed) if not bad else "%d differences" % bad)
EOF
}

@test "Go sample: at every ReadMemStats the map equals MemStats exactly, no violation" {
	require_root_bpf
	require_go_sample
	run -0 --separate-stderr "$MEMSTATE" run -v --go-marks "$BATS_TEST_TMPDIR/m.jsonl" \
		-o "$BATS_TEST_TMPDIR/t.json" -- "$GOPHASES"
	echo "$output" >"$BATS_TEST_TMPDIR/out"
	[[ $stderr == *"memstate: go: go1."*"uprobes on the runtime"* ]] || fail "$stderr"
	[[ $stderr != *"NOT attached"* ]] || fail "$stderr"
	run -0 marks_match "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/m.jsonl"
	assert_output "12 marks match"
	run -0 json_query "$BATS_TEST_TMPDIR/t.json" 'd["summary"]["violations"], d["summary"]["dropped_events"]'
	assert_output "(0, 0)"
}

@test "Go sample under GODEBUG=madvdontneed=0 (MADV_FREE): the same equalities" {
	require_root_bpf
	require_go_sample
	run -0 env GODEBUG=madvdontneed=0 "$MEMSTATE" run -q --go-marks "$BATS_TEST_TMPDIR/m.jsonl" \
		-o "$BATS_TEST_TMPDIR/t.json" -- "$GOPHASES"
	echo "$output" >"$BATS_TEST_TMPDIR/out"
	run -0 marks_match "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/m.jsonl"
	assert_output "12 marks match"
	# The runtime released with MADV_FREE, and those madvises were its sysUnused calls.
	run -0 json_query "$BATS_TEST_TMPDIR/t.json" '
ev = d["events"]
un = [e for e in ev if e["op"] == "sysUnused"]
(len(un) > 0, set(e["source"] for e in un), d["summary"]["violations"])'
	assert_output "(True, {'uprobe'}, 0)"
}

@test "one uprobe event per runtime call, with its stat by name; memstate check agrees" {
	require_root_bpf
	require_go_sample
	run -0 "$MEMSTATE" run -q -o "$BATS_TEST_TMPDIR/t.json" -- "$GOPHASES" -rounds 1 -quiet
	run -0 json_query "$BATS_TEST_TMPDIR/t.json" '
ev = d["events"]
up = [e for e in ev if e["source"] == "uprobe"]
ops = set(e["op"] for e in up)
stats = set(e.get("stat") for e in up if e["op"] in ("sysMap", "sysAlloc"))
# The heap: sysReserve'"'"'d arenas, sysMap'"'"'ed into heapReleased; metadata elsewhere.
heap = [e for e in up if e["op"] == "sysMap" and e["addr"] >= 0xc000000000 and e["addr"] < 0xc100000000]
mem = [e for e in ev if e["source"] == "syscall" and e["op"] in ("sysMap", "sysUnused")]
print(d["capture"])
print(sorted(ops & {"sysAlloc", "sysReserve", "sysMap", "sysUsed", "sysUnused"}))
print("runtime.gcController.heapReleased" in stats, any(s and s.startswith("runtime.memstats.") for s in stats))
print(len(heap) > 0 and all(e["stat"] == "runtime.gcController.heapReleased" for e in heap))
"%d %d" % (len(mem), d["summary"]["violations"])'
	assert_output "ebpf+go+api
['sysAlloc', 'sysMap', 'sysReserve', 'sysUnused', 'sysUsed']
True True
True
0 0"
	run -0 "$MEMSTATE" check "$BATS_TEST_TMPDIR/t.json"
}

@test "a page read after the runtime released it is an access-prepared violation" {
	require_root_bpf
	require_go_sample
	run -0 "$MEMSTATE" run -q -o "$BATS_TEST_TMPDIR/t.json" -- "$GOPHASES" -touch-released
	run -0 json_query "$BATS_TEST_TMPDIR/t.json" '
v = d["violations"]
print([x["kind"] for x in v])
e = [e for e in d["events"] if e["violation"]][0]
" ".join(str(x) for x in (e["op"], e["source"], e["from"]))'
	assert_output "['access-prepared']
pageFault kernel {'Prepared': 4096}"
}

@test "--verify-maps: the map agrees with the kernel's at the Go program's exit" {
	require_root_bpf
	require_go_sample
	run -0 --separate-stderr "$MEMSTATE" run --verify-maps -o "$BATS_TEST_TMPDIR/t.json" -- \
		"$GOPHASES" -rounds 1 -quiet
	# (the kernel's [uprobes] page, where probed instructions are single-stepped, is not
	# the program's)
	[[ $stderr == *"map check: 1 process compared with /proc/PID/maps, all agree"* ]] ||
		fail "$stderr"
}

@test "--no-go traces a Go program by its syscalls alone" {
	require_root_bpf
	require_go_sample
	run -0 --separate-stderr "$MEMSTATE" run -v --no-go -o "$BATS_TEST_TMPDIR/t.json" -- \
		"$GOPHASES" -rounds 1 -quiet
	[[ $stderr != *"memstate: go:"* ]] || fail "$stderr"
	run -0 json_query "$BATS_TEST_TMPDIR/t.json" 'd["capture"], sum(e["source"] == "uprobe" for e in d["events"]), d["summary"]["violations"]'
	assert_output "('ebpf+api', 0, 0)"
}

@test "perf-event uprobes (no uprobe_multi) give the same marks" {
	require_root_bpf
	require_go_sample
	run -0 env MEMSTATE_UPROBE_MULTI=0 "$MEMSTATE" run -q --go-marks "$BATS_TEST_TMPDIR/m.jsonl" \
		-o "$BATS_TEST_TMPDIR/t.json" -- "$GOPHASES" -rounds 1
	echo "$output" >"$BATS_TEST_TMPDIR/out"
	run -0 marks_match "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/m.jsonl"
	assert_output "7 marks match"
}

@test "a stripped Go binary: one line saying so, and its syscalls are traced" {
	require_go_sample
	command -v objcopy >/dev/null || skip "no objcopy to strip the sample"
	objcopy --strip-all "$GOPHASES" "$BATS_TEST_TMPDIR/stripped"
	run -0 --separate-stderr "$MEMSTATE" run -o "$BATS_TEST_TMPDIR/t.json" -- \
		"$BATS_TEST_TMPDIR/stripped" -rounds 1 -quiet
	[ "$(grep -c 'memstate: go: .*stripped Go binary (go1\..*no symbol table).*tracing its syscalls' <<<"$stderr")" -eq 1 ] ||
		fail "$stderr"
	run -0 json_query "$BATS_TEST_TMPDIR/t.json" 'sum(e["source"] == "uprobe" for e in d["events"]), sum(e["source"] == "syscall" for e in d["events"]) > 0'
	assert_output "(0, True)"
}

@test "--go on a program that is not Go says so and traces its syscalls" {
	run -0 --separate-stderr "$MEMSTATE" run --go -o "$BATS_TEST_TMPDIR/t.json" -- true
	[ "$(grep -c '^memstate: go: /usr/bin/true is not a Go program; tracing its syscalls$' <<<"$stderr")" -eq 1 ] ||
		fail "$stderr"
	# Without --go, a program that is not Go gets no word about Go.
	run -0 --separate-stderr "$MEMSTATE" run -o "$BATS_TEST_TMPDIR/t.json" -- true
	[[ $stderr != *"memstate: go:"* ]] || fail "$stderr"
}

@test "--go without eBPF (ptrace capture) says the uprobes need it" {
	require_go_sample
	run -0 --separate-stderr "$MEMSTATE" run --capture ptrace --go -o "$BATS_TEST_TMPDIR/t.json" \
		-- "$GOPHASES" -rounds 1 -quiet
	[[ $stderr == *"memstate: go: $GOPHASES is a Go program (go1."*"runtime uprobes need the eBPF capture (root): tracing its syscalls"* ]] ||
		fail "$stderr"
	run -0 json_query "$BATS_TEST_TMPDIR/t.json" 'd["capture"], sum(e["source"] == "uprobe" for e in d["events"])'
	assert_output "('ptrace+api', 0)"
}
