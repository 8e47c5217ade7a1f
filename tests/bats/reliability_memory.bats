#!/usr/bin/env bats
# Memory pressure: the traced program under a memory cgroup limit (v1 memory controller
# or v2 memory.max), memstate itself outside it. Lazily freed pages (MADV_FREE) are
# reclaimed so that the program gets on; a program that keeps what it writes is OOM
# killed: exit 137, the timeline complete up to the kill, memstate unharmed. Each case
# with both capture sources.

load reliability_helpers

LIMIT=$((64 << 20))

setup() {
	[ "$(id -u)" -eq 0 ] || skip "needs root (a memory cgroup)"
	if [ -w /sys/fs/cgroup/memory/memory.limit_in_bytes ] || [ -d /sys/fs/cgroup/memory ] &&
		grep -qw memory /proc/cgroups; then
		CG=/sys/fs/cgroup/memory/memstate-mem-$$-$BATS_TEST_NUMBER
		mkdir "$CG" && echo "$LIMIT" >"$CG/memory.limit_in_bytes" || skip "no v1 memory cgroup"
		OOMS() { sed -n 's/^oom_kill //p' "$CG/memory.oom_control"; }
	else
		local v2
		v2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
		grep -qw memory "$v2/cgroup.controllers" 2>/dev/null || skip "no memory cgroup controller"
		echo +memory >"$v2/cgroup.subtree_control" 2>/dev/null || true
		CG=$v2/memstate-mem-$$-$BATS_TEST_NUMBER
		mkdir "$CG" && echo "$LIMIT" >"$CG/memory.max"
		OOMS() { sed -n 's/^oom_kill //p' "$CG/memory.events"; }
	fi
}

teardown() {
	[ -n "${CG:-}" ] && [ -d "$CG" ] && { rmdir "$CG" 2>/dev/null || { sleep 1; rmdir "$CG"; }; }
	return 0
}

# pressure CAP MODE MIB: memstate (outside) traces pressure (inside the cgroup) into $T.
pressure() {
	need_cap "$1"
	T=$BATS_TEST_TMPDIR/t.json
	run --separate-stderr "$MEMSTATE" run --capture "$1" -o "$T" -- \
		sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CG" "$BUILD/tests/progs/pressure" "$2" "$3"
	CHUNKS=$(grep -c '^chunk ' <<<"$stderr" || true)
	FAULTS=$(json_query "$T" 'd["summary"]["page_faults"]')
	ALLOCS=$(json_query "$T" 'sum(1 for e in d["events"] if e["op"] == "sysAlloc" and e["len"] == 16 << 20)')
	echo "# $1 $2: exit $status, chunks written $CHUNKS, chunks mapped $ALLOCS, page faults $FAULTS, OOM kills $(OOMS)" >&3
}

lazy_free_reclaimed() {
	pressure "$1" free 256
	assert_equal "$status" 0
	[ "$CHUNKS" -eq 16 ]
	valid_timeline "$T"
	assert_equal "$ALLOCS" 16
	# every page was written once: 256 MiB through a 64 MiB limit (faults: eBPF only)
	[ "$1" = ptrace ] || [ "$FAULTS" -ge 65536 ]
	n=$(json_query "$T" 'd["summary"]["bytes"]["Prepared"]')
	assert_equal "$n" $((256 << 20)) # given back with MADV_FREE: Prepared to memstate
	assert_equal "$(OOMS)" 0
}

oom_killed() {
	pressure "$1" oom 256
	assert_equal "$status" 137
	[[ $stderr == *"memstate: sh killed by signal 9; 1 process"* ]] || fail "memstate's summary: $stderr"
	assert_equal "$(OOMS)" 1
	valid_timeline "$T"
	# complete up to the kill: every chunk the program finished is in the timeline
	[ "$ALLOCS" -ge "$CHUNKS" ]
	[ "$1" = ptrace ] || [ "$FAULTS" -ge $((CHUNKS * 4096)) ]
	n=$(json_query "$T" '[p["exit_signal"] for p in d["processes"]]')
	assert_equal "$n" "[9]"
}

@test "ptrace: lazily freed pages are reclaimed under the limit, the program goes on" {
	lazy_free_reclaimed ptrace
}

@test "ebpf: lazily freed pages are reclaimed under the limit, the program goes on" {
	lazy_free_reclaimed ebpf
}

@test "ptrace: an OOM kill ends the program (137), memstate and its timeline survive it" {
	oom_killed ptrace
}

@test "ebpf: an OOM kill ends the program (137), memstate and its timeline survive it" {
	oom_killed ebpf
}
