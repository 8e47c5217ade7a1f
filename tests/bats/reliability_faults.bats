#!/usr/bin/env bats
# Faults, with each capture source: the traced program killed (SIGKILL, SIGSEGV, abort) or
# exiting while its threads are mid-burst; memstate itself signalled mid-run; the timeline
# going to a full disk, a device, an unwritable place; a ring too small for the event
# rate; a program forking 100 children that exec. Each time: memstate exits with the
# status and the one clear line it should, the timeline validates (JSON Schema) and
# `memstate check` agrees with it, every call the program completed is in it (or counted
# as dropped), and no traced process is left running or stopped.

load reliability_helpers

# killed CAP MODE STATUS LINE: burst dies mid-burst; memstate reports it and keeps it all.
killed() {
	local cap=$1 mode=$2 status=$3 line=$4 d=$BATS_TEST_TMPDIR
	need_cap "$cap"
	run -"$status" --separate-stderr "$MEMSTATE" run --capture "$cap" -o "$d/t.json" -- \
		"$PROGS/burst" "$d/log" 6000 "$mode" 4
	assert_output "burst $mode"
	[[ $stderr == *"$line"* ]] || fail "stderr: $stderr"
	valid_timeline "$d/t.json"
	run -0 burst_complete "$d/t.json" "$d/log"
	assert_output --regexp '^logged [1-9][0-9]+ missing 0 dropped 0$'
	no_leftovers "$d/log"
}

@test "ptrace: program SIGKILLed mid-burst" {
	killed ptrace kill 137 "burst killed by signal 9"
}
@test "ebpf: program SIGKILLed mid-burst" {
	killed ebpf kill 137 "burst killed by signal 9"
}
@test "ptrace: program crashing with SIGSEGV mid-burst" {
	killed ptrace segv 139 "burst killed by signal 11"
}
@test "ebpf: program crashing with SIGSEGV mid-burst" {
	killed ebpf segv 139 "burst killed by signal 11"
}
@test "ptrace: program calling abort() mid-burst" {
	killed ptrace abort 134 "burst killed by signal 6"
}
@test "ebpf: program calling abort() mid-burst" {
	killed ebpf abort 134 "burst killed by signal 6"
}
@test "ptrace: a thread calls _exit while the others are mid-burst" {
	killed ptrace exit 3 "burst exited with 3"
}
@test "ebpf: a thread calls _exit while the others are mid-burst" {
	killed ebpf exit 3 "burst exited with 3"
}

# signalled CAP SIG: kill(1) aimed at memstate alone is passed on; the program dies of it.
signalled() {
	local cap=$1 sig=$2 d=$BATS_TEST_TMPDIR pid n status
	need_cap "$cap"
	# (a background job starts with SIGINT ignored, which the program would inherit)
	env --default-signal=INT "$MEMSTATE" run --capture "$cap" -o "$d/t.json" -- \
		"$PROGS/burst" "$d/log" 0 loop 2 200 >"$d/out" 2>"$d/err" 3>&- &
	pid=$!
	log_grows_past "$d/log" 2000
	kill -"$sig" "$pid"
	n=$(kill -l "$sig")
	# (not `run wait`: run's subshell cannot wait for a job still running)
	status=0
	wait "$pid" || status=$?
	assert_equal "$status" $((128 + n))
	run -0 cat "$d/err"
	assert_output --partial "burst killed by signal $n"
	valid_timeline "$d/t.json"
	run -0 burst_complete "$d/t.json" "$d/log"
	assert_output --regexp '^logged [1-9][0-9]+ missing 0 dropped 0$'
	no_leftovers "$d/log"
}

@test "ptrace: SIGINT to memstate mid-run" {
	signalled ptrace INT
}
@test "ebpf: SIGINT to memstate mid-run" {
	signalled ebpf INT
}
@test "ptrace: SIGTERM to memstate mid-run" {
	signalled ptrace TERM
}
@test "ebpf: SIGTERM to memstate mid-run" {
	signalled ebpf TERM
}
@test "ptrace: SIGHUP to memstate mid-run" {
	signalled ptrace HUP
}
@test "ebpf: SIGHUP to memstate mid-run" {
	signalled ebpf HUP
}

# stubborn CAP: the program ignores the signal; a second one stops tracing. The program
# must not outlive memstate (ptrace cannot leave it: its filter needs the tracer).
stubborn() {
	local cap=$1 d=$BATS_TEST_TMPDIR pid status
	need_cap "$cap"
	"$MEMSTATE" run --capture "$cap" -f jsonl -o "$d/t.jsonl" -- \
		"$PROGS/burst" "$d/log" 0 stubborn 2 200 >"$d/out" 2>"$d/err" 3>&- &
	pid=$!
	log_grows_past "$d/log" 2000
	kill -TERM "$pid"
	sleep 0.3
	kill -TERM "$pid"
	status=0
	wait "$pid" || status=$?
	assert_equal "$status" 2
	run -0 cat "$d/err"
	assert_output --partial "stopped tracing"
	valid_timeline "$d/t.jsonl"
	no_leftovers "$d/log"
}

@test "ptrace: a second signal stops tracing a program that ignores the first" {
	stubborn ptrace
}
@test "ebpf: a second signal stops tracing a program that ignores the first" {
	stubborn ebpf
}

# A device or a full disk as output: one line, exit 2, the program unharmed, the device's
# mode untouched (fchmod on /dev/null as root once made it 0600 for everyone).
full_disk() {
	local cap=$1 d=$BATS_TEST_TMPDIR full=/dev/full
	need_cap "$cap"
	if [ "$(id -u)" -eq 0 ]; then # a copy of the node: a bug here must not break /dev/full
		mknod "$d/full" c 1 7 && chmod 666 "$d/full" && full=$d/full
	fi
	local mode
	mode=$(stat -c %a "$full")
	run -2 --separate-stderr "$MEMSTATE" run --capture "$cap" -o "$full" -- \
		"$PROGS/burst" "$d/log" 2000 none 2
	assert_output "burst none"
	assert_equal "$(tail -1 <<<"$stderr")" "memstate: writing $full failed: No space left on device"
	assert_equal "$(stat -c %a "$full")" "$mode"
	run -0 burst_complete /dev/null "$d/log" 2>/dev/null || true
	no_leftovers "$d/log"
}

@test "ptrace: output to /dev/full" {
	full_disk ptrace
}
@test "ebpf: output to /dev/full" {
	full_disk ebpf
}

@test "output to /dev/null: nothing written, the device's mode untouched" {
	local d=$BATS_TEST_TMPDIR null=/dev/null
	if [ "$(id -u)" -eq 0 ]; then
		mknod "$d/null" c 1 3 && chmod 666 "$d/null" && null=$d/null
	fi
	run -0 --separate-stderr "$MEMSTATE" run --capture ptrace -o "$null" -- "$PROGS/rawseq"
	assert_equal "$(stat -c %a "$null")" 666
	run -0 "$MEMSTATE" convert --to perfetto "$ROOT/tests/data/known.json" -o "$null"
	assert_equal "$(stat -c %a "$null")" 666
}

# The disk fills up mid-run: the program runs on unharmed, memstate says so and exits 2,
# and a JSON Lines timeline reads up to its last whole line.
@test "the disk fills up mid-run (a 256 KiB tmpfs)" {
	[ "$(id -u)" -eq 0 ] || skip "needs root (mount)"
	local d=$BATS_TEST_TMPDIR cap
	mkdir "$d/small"
	mount -t tmpfs -o size=256k memstate-test "$d/small" || skip "cannot mount a tmpfs here"
	for cap in $(caps); do
		run -2 --separate-stderr "$MEMSTATE" run --capture "$cap" -f jsonl -o "$d/small/t.jsonl" -- \
			"$PROGS/burst" "$d/log" 5000 none 2
		assert_output "burst none"
		assert_equal "$(tail -1 <<<"$stderr")" \
			"memstate: writing $d/small/t.jsonl failed: No space left on device"
		run -0 --separate-stderr "$MEMSTATE" check -q "$d/small/t.jsonl"
		assert_output --partial "agrees with the recorded timeline (cut short"
		rm -f "$d/small/t.jsonl"
	done
	umount "$d/small"
}

@test "an unwritable output: one line, exit 2, the program never starts" {
	local d=$BATS_TEST_TMPDIR
	run -2 --separate-stderr "$MEMSTATE" run -o "$d/no/such/dir/t.json" -- "$PROGS/burst" "$d/log" 10 none
	assert_equal "$stderr" "memstate: cannot write $d/no/such/dir/t.json: No such file or directory"
	[ ! -e "$d/log" ] || fail "the program ran"
	if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
		# a directory only root may write to, as nobody
		mkdir -m 755 "$d/rootonly"
		run -2 --separate-stderr setpriv --reuid=nobody --regid=nogroup --clear-groups \
			"$MEMSTATE" run --capture ptrace -o "$d/rootonly/t.json" -- /bin/true
		assert_equal "$stderr" "memstate: cannot write $d/rootonly/t.json: Permission denied"
	fi
}

# A ring too small for the event rate: what is lost is counted, what is kept is checked,
# and every logged call is either in the timeline or among the drops.
@test "ebpf: a tiny ring (--ring-size 4K) drops, and counts every drop" {
	need_cap ebpf
	local d=$BATS_TEST_TMPDIR missing dropped
	run -0 --separate-stderr "$MEMSTATE" run --capture ebpf --ring-size 4K -o "$d/t.json" -- \
		"$PROGS/burst" "$d/log" 20000 none 4
	[[ $stderr =~ \ ([1-9][0-9]*)\ lost ]] || fail "no loss reported: $stderr"
	valid_timeline "$d/t.json"
	run -0 burst_complete "$d/t.json" "$d/log"
	read -r _ _ _ missing _ dropped <<<"$output"
	[ "$dropped" -gt 0 ] || fail "$output"
	[ "$missing" -le "$dropped" ] || fail "more calls missing than counted as dropped: $output"
	# (exit 1 allowed: a lost munmap can make a later fault look like a violation)
	run "$MEMSTATE" check "$d/t.json"
	[ "$status" -le 1 ] || fail "check: exit $status: $output"
	assert_output --partial "the trace lost $dropped events"
}

@test "ptrace: 8 threads bursting lose nothing (the tracee waits for the tracer)" {
	local d=$BATS_TEST_TMPDIR
	run -0 --separate-stderr "$MEMSTATE" run --capture ptrace -f jsonl -o "$d/t.jsonl" -- \
		"$PROGS/burst" "$d/log" 20000 none 8
	valid_timeline "$d/t.jsonl"
	run -0 burst_complete "$d/t.jsonl" "$d/log"
	assert_output "logged 80000 missing 0 dropped 0"
}

# forks CAP MODE: 100 children, each execs; every process is followed to its end.
forks() {
	local cap=$1 mode=$2 d=$BATS_TEST_TMPDIR
	need_cap "$cap"
	run -0 --separate-stderr "$MEMSTATE" run --capture "$cap" -o "$d/t.json" -- \
		"$PROGS/forkexec" 100 "$mode"
	assert_line "children 100"
	[[ $stderr == *"101 processes"*" 0 lost"* ]] || fail "$stderr"
	valid_timeline "$d/t.json"
	run -0 json_query "$d/t.json" '
from collections import Counter
ops = Counter(e["op"] for e in d["events"])
ok = sum(1 for p in d["processes"] if p["exit_code"] == 0 and p["exit_signal"] is None)
len(d["processes"]), ops["procFork"], ops["procExec"], ops["procExit"], ok, d["summary"]["dropped_events"]'
	assert_output "(101, 100, 101, 101, 101, 0)"
	no_leftovers "$PROGS/forkexec"
}

@test "ptrace: 100 children forked, each execs, all waited for" {
	forks ptrace wait
}
@test "ebpf: 100 children forked, each execs, all waited for" {
	forks ebpf wait
}
@test "ptrace: 100 children outlive their parent: followed to their end" {
	forks ptrace orphan
}
@test "ebpf: 100 children outlive their parent: followed to their end" {
	forks ebpf orphan
}
