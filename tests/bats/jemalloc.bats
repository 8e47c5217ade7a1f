#!/usr/bin/env bats
# jemalloc programs traced through their extent hooks (libmemstate-jemalloc.so, preloaded
# by memstate run): detection by DT_NEEDED and LD_PRELOAD, --alloc jemalloc|none, every
# hook an operation of source "jemalloc" whose syscalls are not counted twice, arenas made
# with arenas.create and the huge arena covered, zero violations on real programs.

load helpers

PROGS=$BUILD/tests/progs
LIBJE=$(ls /usr/lib/*/libjemalloc.so.2 2>/dev/null | head -1)

require_jemalloc() {
	[ -x "$PROGS/je_mthreads" ] && [ -n "$LIBJE" ] && return 0
	skip "libjemalloc2/libjemalloc-dev are not installed (make deps)"
}

# hooks_summary FILE: "violations=N lost=N" then one "op result count" line per hook kind.
hooks_summary() {
	python3 - "$1" <<'PY'
import json, sys, collections
d = json.load(open(sys.argv[1]))
c = collections.Counter((e["op"], e.get("result")) for e in d["events"]
                        if e["source"] == "jemalloc")
print("violations=%d lost=%d" % (d["summary"]["violations"], d["summary"]["dropped_events"]))
for (op, res), n in sorted(c.items()):
    print(op, res, n)
PY
}

@test "a program linking libjemalloc: hooks recorded, zero violations (eBPF)" {
	require_root_bpf
	require_jemalloc
	run -0 --separate-stderr "$MEMSTATE" run -q -o "$BATS_TEST_TMPDIR/t.json" -- \
		"$PROGS/je_mthreads"
	assert_output --partial "checksum"
	run -0 hooks_summary "$BATS_TEST_TMPDIR/t.json"
	assert_line "violations=0 lost=0"
	assert_line --regexp "^extentAlloc 0 [0-9]+$"
	assert_line --regexp "^extentSplit 0 [0-9]+$"
	assert_line --regexp "^extentMerge 0 [0-9]+$"
}

@test "the same program's checksum is unchanged by the adapter" {
	require_jemalloc
	run -0 "$PROGS/je_mthreads"
	local want=$output
	run -0 --separate-stderr "$MEMSTATE" run -q --capture ptrace -- "$PROGS/je_mthreads"
	assert_output "$want"
}

@test "the hooks' own syscalls are not counted twice" {
	require_root_bpf
	require_jemalloc
	run -0 --separate-stderr "$MEMSTATE" run -q -o "$BATS_TEST_TMPDIR/t.json" -- \
		"$PROGS/je_huge" 2
	# Every huge extent (>= 16 MiB) is mapped by the alloc hook alone: no syscall event
	# of that size survives, and the hook's allocs are there.
	run -0 json_query "$BATS_TEST_TMPDIR/t.json" '
big = [e for e in d["events"] if e["len"] >= 16 << 20 and e.get("kind") != "file"
       and e["op"] not in ("pageFault", "fileMap")]
sorted(set((e["source"], e["op"]) for e in big))'
	[[ $output != *"'syscall'"* ]] || fail "$output"
	[[ $output == *"('jemalloc', 'extentAlloc')"* ]] || fail "$output"
}

@test "huge allocations go through the wrapped huge arena; purges recorded" {
	require_jemalloc
	run -0 --separate-stderr "$MEMSTATE" run -q --capture ptrace -o "$BATS_TEST_TMPDIR/t.json" \
		-- "$PROGS/je_huge" 3
	run -0 hooks_summary "$BATS_TEST_TMPDIR/t.json"
	assert_line "violations=0 lost=0"
	assert_line --regexp "^extentPurgeForced 0 [0-9]+$"
	assert_line --regexp "^extentPurgeLazy 0 [0-9]+$"
	assert_line --regexp "^extentDalloc 1 [0-9]+$"
}

@test "arenas.create, with default hooks and with the program's own: wrapped, destroyed" {
	require_jemalloc
	run -0 --separate-stderr "$MEMSTATE" run -q --capture ptrace -o "$BATS_TEST_TMPDIR/t.json" \
		-- "$PROGS/je_arena"
	assert_output --regexp "^arenas [0-9]+ [0-9]+ own hooks ran$"
	run -0 hooks_summary "$BATS_TEST_TMPDIR/t.json"
	assert_line "violations=0 lost=0"
	assert_line --regexp "^extentDestroy 0 [0-9]+$"
}

@test "python3 under LD_PRELOAD=libjemalloc.so.2: detected, zero violations" {
	require_jemalloc
	if [[ $BUILD == *asan* ]]; then
		# An ASan memstate cannot itself run with jemalloc preloaded: the program's shell
		# preloads it, behind the adapter that --alloc jemalloc puts first.
		run -0 --separate-stderr "$MEMSTATE" run -q --capture ptrace --alloc jemalloc \
			-o "$BATS_TEST_TMPDIR/t.json" -- sh -c "LD_PRELOAD=\$LD_PRELOAD:$LIBJE exec \
			python3 -c 'x = [bytearray(70000) for i in range(2000)]'"
	else
		LD_PRELOAD=$LIBJE run -0 --separate-stderr "$MEMSTATE" run -q --capture ptrace \
			-o "$BATS_TEST_TMPDIR/t.json" -- \
			python3 -c 'x = [bytearray(70000) for i in range(2000)]'
	fi
	run -0 hooks_summary "$BATS_TEST_TMPDIR/t.json"
	assert_line "violations=0 lost=0"
	assert_line --regexp "^extentAlloc 0 [0-9]+$"
}

@test "--alloc none traces syscalls only; --alloc jemalloc on a glibc program says why" {
	require_jemalloc
	run -0 --separate-stderr "$MEMSTATE" run -q --capture ptrace --alloc none \
		-o "$BATS_TEST_TMPDIR/t.json" -- "$PROGS/je_huge" 1
	run -0 hooks_summary "$BATS_TEST_TMPDIR/t.json"
	assert_output "violations=0 lost=0"
	run -0 --separate-stderr "$MEMSTATE" run -q --capture ptrace --alloc jemalloc \
		-- "$PROGS/touchn" 1
	[[ $stderr == *"no dynamically linked jemalloc"*"syscalls only"* ]] || fail "$stderr"
	run -2 --separate-stderr "$MEMSTATE" run --alloc bogus -- true
	[[ $stderr == *"--alloc must be auto, jemalloc or none"* ]] || fail "$stderr"
}

@test "memstate check recomputes a jemalloc timeline and agrees" {
	require_jemalloc
	run -0 --separate-stderr "$MEMSTATE" run -q --capture ptrace -o "$BATS_TEST_TMPDIR/t.json" \
		-- "$PROGS/je_huge" 2
	run -0 --separate-stderr "$MEMSTATE" check "$BATS_TEST_TMPDIR/t.json"
	assert_output --partial "0 violations; agrees with the recorded timeline"
}

# The zoo: hooks driven in ways jemalloc never does, one violation kind each.
@test "hook zoo: each wrong use is its violation, once, and check agrees" {
	require_jemalloc
	local k
	for k in commit-committed decommit-uncommitted merge-commit-differs extent-bounds \
		unknown-extent; do
		run -0 --separate-stderr "$MEMSTATE" run -q --capture ptrace \
			-o "$BATS_TEST_TMPDIR/$k.json" -- "$PROGS/je_zoo" "$k"
		assert_output "$k done"
		run -0 json_query "$BATS_TEST_TMPDIR/$k.json" '[v["kind"] for v in d["violations"]]'
		assert_output "['$k']"
		run -1 --separate-stderr "$MEMSTATE" check "$BATS_TEST_TMPDIR/$k.json"
		assert_output --partial "agrees with the recorded timeline"
	done
}

# alloc_marks_match MARKS TIMELINE: per process, at every mark, stats.mapped + stats.retained
# minus the bytes of the extents the hooks named (extents.bytes - extents.learned) equals its
# value at the wrap mark plus the metadata blocks jemalloc mapped since without hooks (its
# global base, docs/jemalloc.md: anonymous mmaps of whole 2 MiB multiples in the syscall
# stream); no known extent holds unmapped bytes. "N marks match" or the differences.
alloc_marks_match() {
	python3 - "$1" "$2" <<'PY'
import json, sys
marks = [json.loads(l) for l in open(sys.argv[1])]
events = json.load(open(sys.argv[2]))["events"]
def base_growth(pid, s0, s1):
    # Blocks still mapped: an mmap the syscall stream saw unmapped again (a hook's aligned
    # alloc retrying at the edge of its window) is no block.
    live = {}
    for e in events:
        if e["pid"] != pid or not (s0 <= e["seq"] < s1) or e["source"] != "syscall":
            continue
        if e["op"] == "sysAlloc" and e["len"] % (2 << 20) == 0:
            live[e["addr"]] = e["len"]
        elif e["op"] == "sysFree":
            for a in [a for a, n in live.items() if a < e["addr"] + e["len"] and e["addr"] < a + n]:
                del live[a]
    return sum(live.values())
base, bad, wraps = {}, 0, 0
for m in marks:
    j, x = m["jemalloc"], m["extents"]
    held = j["mapped"] + j["retained"] - (x["bytes"] - x["learned"])
    if m["at"] == "wrap":
        base[m["pid"]] = (held, m["seq"])
        wraps += 1
    elif m["pid"] not in base:
        print("mark %d: pid %d has no wrap mark" % (m["mark"], m["pid"])); bad += 1
    else:
        want = base[m["pid"]][0] + base_growth(m["pid"], base[m["pid"]][1], m["seq"])
        if held != want:
            print("mark %d (%s): mapped+retained off by %d" % (m["mark"], m["at"], held - want))
            bad += 1
    if x["None"]:
        print("mark %d: %d bytes of known extents unmapped" % (m["mark"], x["None"])); bad += 1
if not wraps or len(marks) <= wraps:
    print("marks: %d, of which %d at the wrap" % (len(marks), wraps)); bad += 1
print("%d marks match" % len(marks) if not bad else "%d differences" % bad)
PY
}

@test "--alloc-marks: mapped + retained moves with the hooks to the byte (retain true and false)" {
	require_jemalloc
	local conf
	for conf in retain:true retain:false; do
		MALLOC_CONF=$conf run -0 --separate-stderr "$MEMSTATE" run -q --capture ptrace \
			--alloc-marks "$BATS_TEST_TMPDIR/m.jsonl" -o "$BATS_TEST_TMPDIR/t.json" -- \
			"$PROGS/je_huge" 3
		run -0 alloc_marks_match "$BATS_TEST_TMPDIR/m.jsonl" "$BATS_TEST_TMPDIR/t.json"
		assert_output "8 marks match"
		run -0 hooks_summary "$BATS_TEST_TMPDIR/t.json"
		assert_line "violations=0 lost=0"
	done
}

@test "--alloc-marks on the threaded program (eBPF): wrap and exit marks match" {
	require_root_bpf
	require_jemalloc
	run -0 --separate-stderr "$MEMSTATE" run -q --alloc-marks "$BATS_TEST_TMPDIR/m.jsonl" \
		-o "$BATS_TEST_TMPDIR/t.json" -- "$PROGS/je_mthreads"
	run -0 alloc_marks_match "$BATS_TEST_TMPDIR/m.jsonl" "$BATS_TEST_TMPDIR/t.json"
	assert_output "2 marks match"
}
