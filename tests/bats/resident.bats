#!/usr/bin/env bats
# Residency (SPEC section 8) against the kernel: tests/progs/resident (64 pages, 40 touched,
# 8 MADV_DONTNEED, 4 MADV_FREE; a 2 MiB MADV_HUGEPAGE range touched once; MADV_COLLAPSE;
# fork; mremap; MAP_FIXED), python3, a threaded glibc program and the Go sample, each run
# with --verify-maps: memstate's resident pages equal pagemap's present bits at every exit,
# and `memstate check` recomputes the same residency from the operations.
# Root and a BPF kernel (page faults): skipped otherwise, failed under MEMSTATE_REQUIRE_BPF=1.

load helpers

PROGS=$BUILD/tests/progs

setup() {
	require_root_bpf
	if ! "$MEMSTATE" run --capture ebpf -q -- true 2>"$BATS_TEST_TMPDIR/probe.err"; then
		[ "${MEMSTATE_REQUIRE_BPF:-0}" = 1 ] &&
			fail "MEMSTATE_REQUIRE_BPF=1 but: $(cat "$BATS_TEST_TMPDIR/probe.err")"
		skip "no eBPF capture: $(head -1 "$BATS_TEST_TMPDIR/probe.err")"
	fi
	T=$BATS_TEST_TMPDIR/t.json
}

# verified CMD...: run CMD under memstate with --verify-maps; both checks agree, and so
# does `memstate check` on the timeline.
verified() {
	run -0 --separate-stderr "$MEMSTATE" run --verify-maps -o "$T" -- "$@"
	[[ $stderr == *"residency check: "*"all agree"* ]] || fail "residency: $stderr"
	[[ $stderr == *"map check: "*"all agree"* ]] || fail "maps: $stderr"
	local prog_out=$output
	run -0 "$MEMSTATE" check "$T"
	assert_output --partial "agrees with the recorded timeline"
	output=$prog_out
}

@test "64 pages, 40 touched, 8 DONTNEED, 4 FREE: 4 lazily free, all as pagemap says" {
	verified "$PROGS/resident" basic
	run -0 json_query "$T" '
s = d["processes"][0]["summary"]
lazy = any(e.get("lazy_free") for e in d["events"] if e["op"] == "sysUnused")
(s["resident_bytes"]["Prepared"], s["lazy_free"], s["pagemap"]["differ"], lazy)'
	assert_output "(16384, 16384, 0, True)"
}

@test "a 2 MiB MADV_HUGEPAGE range touched once: what pagemap says (a huge page here)" {
	verified "$PROGS/resident" thp
	# Where the kernel gave a huge page, one notice made the whole 2 MiB resident.
	run -0 json_query "$T" '
thp = [e for e in d["events"] if e["op"] == "pageFault" and e.get("thp")]
[(e["len"], e["resident_delta"] > 0) for e in thp][:1]'
	if grep -q '\[madvise\]\|\[always\]' /sys/kernel/mm/transparent_hugepage/enabled; then
		assert_output "[(2097152, True)]"
	fi
}

@test "MADV_COLLAPSE fills the whole 2 MiB" {
	verified "$PROGS/resident" collapse
	run -0 json_query "$T" 'd["processes"][0]["summary"]["resident_bytes"]["Ready"] >= 2 << 20'
	assert_output "True"
}

@test "fork: the child starts with its parent's residency, lazily free pages too" {
	verified "$PROGS/resident" fork
	run -0 json_query "$T" '
[(p["summary"]["lazy_free"], p["summary"]["pagemap"]["differ"]) for p in d["processes"]]'
	assert_output "[(16384, 0), (16384, 0)]"
}

@test "mremap moves resident pages, MAP_FIXED drops them" {
	verified "$PROGS/resident" mremap
	run -0 json_query "$T" '[e.get("moved_from", 0) > 0 for e in d["events"] if e.get("syscall") == "mremap" and e["op"] == "sysAlloc"]'
	assert_output "[True]"
	verified "$PROGS/resident" fixed
}

@test "python3 with a big bytearray, a threaded glibc program: pagemap agrees" {
	verified python3 -c 'b = bytearray(64 << 20); b[::4096] = b"x" * (len(b) // 4096); c = bytearray(8 << 20)'
	verified "$PROGS/mthreads"
}

@test "the Go sample: pagemap agrees" {
	[ -x "$SAMPLES/go/gophases" ] || skip "Go sample not built"
	verified "$SAMPLES/go/gophases"
}

@test "report: resident figures and the Ready regions never touched" {
	verified "$PROGS/resident" basic
	run -0 "$MEMSTATE" report "$T"
	assert_output --partial "resident: "
	assert_output --partial "lazily free 16.0 KiB"
	assert_output --partial "most Ready bytes never touched"
	run -0 "$MEMSTATE" report --json "$T"
	echo "$output" >"$BATS_TEST_TMPDIR/r.json"
	run -0 json_query "$BATS_TEST_TMPDIR/r.json" '
r = d["processes"][0]["resident"]
(r["Prepared"], r["lazy_free"], len(r["top_ready_untouched"]) > 0)'
	assert_output "(16384, 16384, True)"
}

@test "svg: resident bytes over time per process" {
	verified "$PROGS/resident" fork
	run -0 "$MEMSTATE" convert --to svg -o "$BATS_TEST_TMPDIR/r.svg" "$T"
	run -0 python3 -c '
import sys, xml.etree.ElementTree as E
t = E.parse(sys.argv[1])
lines = [e for e in t.iter("{http://www.w3.org/2000/svg}polyline") if e.get("class") == "resident"]
print(len(lines), all(int(e.get("data-peak")) > 0 for e in lines))' "$BATS_TEST_TMPDIR/r.svg"
	assert_output "2 True"
}
