#!/usr/bin/env bats
# No order hole under eBPF: a thread stalled between a munmap's entry and its exit (for
# longer than the merge's 30 ms window) while another thread's mmap gets the same address
# must still have its munmap applied first. tests/progs/unmap_race races them, its
# threads throttled by a CPU cgroup quota (v1 cpu.cfs_quota_us, or v2 cpu.max); a
# misordered free shows as a munmap of the race's mappings that finds nothing mapped.

load reliability_helpers

LEN=20480 # unmap_race's mapping length: 5 pages

setup() {
	require_root_bpf
	CG=
	if [ -w /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]; then
		# cgroup v1: the monitor and unmapper threads join it one by one ("tasks")
		CG=/sys/fs/cgroup/cpu/memstate-order-$$-$BATS_TEST_NUMBER
		mkdir "$CG"
		echo 100000 >"$CG/cpu.cfs_period_us"
		echo 10000 >"$CG/cpu.cfs_quota_us"
		CG_TASKS=$CG/tasks
		WRAP=()
	else
		local v2
		v2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
		[ -n "$v2" ] && grep -qw cpu "$v2/cgroup.controllers" 2>/dev/null ||
			skip "no CPU cgroup controller (v1 cpu.cfs_quota_us or v2 cpu.max)"
		# cgroup v2: the whole program (threads cannot leave a domain cgroup one by one)
		echo +cpu >"$v2/cgroup.subtree_control" 2>/dev/null || true
		CG=$v2/memstate-order-$$-$BATS_TEST_NUMBER
		mkdir "$CG"
		echo "10000 100000" >"$CG/cpu.max"
		CG_TASKS=
		WRAP=(sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CG")
	fi
}

teardown() {
	[ -n "${CG:-}" ] && [ -d "$CG" ] && { rmdir "$CG" 2>/dev/null || sleep 1; rmdir "$CG" 2>/dev/null; }
	return 0
}

# misordered TIMELINE: "munmaps N misordered M" over the race's mappings.
misordered() {
	python3 - "$1" "$LEN" <<'PY'
import json, sys
n = bad = 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("type") != "event" or e.get("syscall") != "munmap" or e["len"] != int(sys.argv[2]) \
            or e.get("result", 0):
        continue
    n += 1
    bad += e["from"].get("None", 0) > 0
print("munmaps %d misordered %d" % (n, bad))
PY
}

# race SECONDS UFFD: run unmap_race under eBPF; sets races, longs, munmaps, bad.
race() {
	run -0 --separate-stderr env RACE_UFFD="$2" RACE_CG_TASKS="$CG_TASKS" \
		"$MEMSTATE" run --capture ebpf -f jsonl -o "$BATS_TEST_TMPDIR/t.jsonl" -- \
		"${WRAP[@]}" "$BUILD/tests/progs/unmap_race" "$1" 2 2
	[ "$status" -ne 77 ] || skip "no userfaultfd"
	read -r _ races _ longs _ <<<"$(grep '^races' <<<"$output")"
	read -r _ munmaps _ bad <<<"$(misordered "$BATS_TEST_TMPDIR/t.jsonl")"
	echo "# races $races, munmaps over 30 ms $longs, munmaps $munmaps, misordered $bad" >&3
	valid_timeline "$BATS_TEST_TMPDIR/t.jsonl"
	[[ $stderr == *", 0 lost"* ]] || fail "events were lost: $stderr"
}

@test "order: munmaps stalled after the unmap (uffd unmap events read by a throttled thread) come first" {
	race 10 1
	[ "$races" -ge 1000 ] || fail "only $races races"
	[ "$longs" -ge 5 ] || fail "only $longs munmaps stalled over the merge window"
	[ "$munmaps" -ge 5000 ]
	assert_equal "$bad" 0
}

@test "order: the quota alone throttling the unmappers mid-burst" {
	race 5 0
	[ "$munmaps" -ge 5000 ]
	assert_equal "$bad" 0
}
