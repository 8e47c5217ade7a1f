#!/usr/bin/env bats
# memstate run / attach on real programs no one here instrumented, with each capture
# source: output and exit status unchanged, no false violations, a valid timeline, and the
# final map equal to /proc/PID/maps at exit (--verify-maps). Plus bad input, signals,
# crashes, forks and execs, the API channel and its deduplication.

load helpers

PROGS=$BUILD/tests/progs
PY=/usr/bin/python3

setup_file() {
	awk 'BEGIN { srand(1); for (i = 0; i < 200000; i++) print int(rand() * 1e9) }' >"$BATS_FILE_TMPDIR/big.txt"
}

# traced CAPTURE PROG ARGS...: run untraced then traced; compare; leave the timeline in $T
# and the traced program's output in $TRACED_OUT.
traced() {
	local cap=$1 d=$BATS_TEST_TMPDIR
	shift
	T=$d/t.json
	local want_status=0 status=0
	"$@" >"$d/plain.out" 2>"$d/plain.err" 3>&- || want_status=$?
	"$MEMSTATE" run --capture "$cap" --verify-maps -o "$T" -- "$@" >"$d/traced.out" \
		2>"$d/traced.err" 3>&- || status=$?
	stderr=$(cat "$d/traced.err")
	assert_equal "$status" "$want_status"
	# digits masked: some test programs print their (randomised) addresses
	assert_equal "$(sed 's/[0-9]/N/g' "$d/traced.out" | md5sum)" \
		"$(sed 's/[0-9]/N/g' "$d/plain.out" | md5sum)"
	TRACED_OUT=$(head -c 4096 "$d/traced.out")
	[[ $stderr == *"map check:"*"all agree"* ]] || fail "map check: $stderr"
	[[ $stderr == *" 0 violations"* ]] || fail "violations: $stderr"
	run -0 json_query "$T" 'd["format"], d["summary"]["violations"], len(d["events"]) == d["summary"]["events"]'
	assert_output "('memstate-timeline', 0, True)"
}

python_workload='
x = [bytearray(1000) for i in range(100000)]
del x[::2]
y = [str(i) * 20 for i in range(200000)]
del y
print(len(x))'

@test "ptrace: a dynamic program's raw syscalls become the expected operations" {
	traced ptrace "$PROGS/rawseq"
	# The part of the timeline inside rawseq's own 64 KiB reservation, in order.
	local base
	base=$(awk '/^reserve/{print $2}' <<<"$TRACED_OUT")
	run -0 json_query "$T" '[e["op"] + ":" + str(e["to"]) + ":" + str((e["addr"] - '"$base"') // 4096) + "+" + str(e["len"] // 4096)
 for e in d["events"] if e["source"] == "syscall" and '"$base"' <= e["addr"] < '"$base"' + 65536]'
	assert_output "['sysReserve:Reserved:0+16', 'sysMap:Prepared:0+4', 'sysUnused:Prepared:0+4', 'sysMap:Prepared:8+4', 'sysFault:Reserved:8+4', 'sysFree:None:0+16']"
}

@test "ptrace: static binary" {
	traced ptrace "$PROGS/rawseq_static"
}

@test "ptrace: threaded glibc malloc program" {
	traced ptrace "$PROGS/mthreads"
}

@test "ptrace: sort on a large file" {
	traced ptrace sort "$BATS_FILE_TMPDIR/big.txt"
}

@test "ptrace: python3 growing and freeing memory" {
	traced ptrace "$PY" -c "$python_workload"
}

@test "ebpf: static binary" {
	require_root_bpf
	traced ebpf "$PROGS/rawseq_static"
}

@test "ebpf: threaded glibc malloc program" {
	require_root_bpf
	traced ebpf "$PROGS/mthreads"
}

@test "ebpf: sort on a large file" {
	require_root_bpf
	traced ebpf sort "$BATS_FILE_TMPDIR/big.txt"
}

@test "ebpf: python3 growing and freeing memory" {
	require_root_bpf
	traced ebpf "$PY" -c "$python_workload"
}

@test "goheap under memstate: API events, the library's own syscalls not counted twice" {
	run -0 --separate-stderr "$MEMSTATE" run --capture ptrace -o "$BATS_TEST_TMPDIR/g.json" -- "$SAMPLES/goheap" 200
	assert_output --partial "0 violations"
	# Every sysMap/sysUnused/sysFree of the heap is an API event; no syscall event repeats one.
	run -0 json_query "$BATS_TEST_TMPDIR/g.json" '
api = {(e["addr"], e["len"]) for e in d["events"] if e["source"] == "api"}
ops = sorted(set(e["op"] for e in d["events"] if e["source"] == "api") & {"sysReserve", "sysMap", "sysUnused", "sysUsed", "sysFree"})
twice = sum(1 for e in d["events"] if e["source"] == "syscall" and (e["addr"], e["len"]) in api)
ops, twice, d["summary"]["violations"]'
	assert_output "(['sysFree', 'sysMap', 'sysReserve', 'sysUnused', 'sysUsed'], 0, 0)"
	# A plain goheap makes no such syscall but the library's. A sanitized one (make
	# SANITIZE=1) has a runtime mapping memory of its own: ASan's shadow and allocator.
	ldd "$SAMPLES/goheap" | grep -q libasan && return
	run -0 json_query "$BATS_TEST_TMPDIR/g.json" '
sorted(set(e["source"] for e in d["events"] if e["op"] in ("sysMap", "sysUnused", "sysUsed"))),
sum(1 for e in d["events"] if e["source"] == "syscall" and e["op"] in ("sysReserve", "sysMap", "sysUnused"))'
	assert_output "(['api'], 0)"
}

@test "a zoo program's violation is in the traced timeline" {
	run -0 --separate-stderr "$MEMSTATE" run --capture ptrace -o "$BATS_TEST_TMPDIR/z.json" -- "$SAMPLES/zoo/double_free"
	[[ $stderr == *"violations: double-free 1"* ]] || fail "$stderr"
	run -0 json_query "$BATS_TEST_TMPDIR/z.json" '[v["kind"] for v in d["violations"]]'
	assert_output "['double-free']"
}

@test "JSON Lines output" {
	run -0 "$MEMSTATE" run -q --capture ptrace -f jsonl -o "$BATS_TEST_TMPDIR/t.jsonl" -- "$PROGS/rawseq"
	run -0 python3 -c '
import json,sys
l=[json.loads(x) for x in open(sys.argv[1])]
print(l[0]["type"], l[-1]["type"], sum(x["type"]=="event" for x in l) == l[-1]["events"])' "$BATS_TEST_TMPDIR/t.jsonl"
	assert_output "header summary True"
}

@test "exit status is the program's; 128+signal when it was killed" {
	run -7 "$MEMSTATE" run -q --capture ptrace -- sh -c 'exit 7'
	run -137 "$MEMSTATE" run -q --capture ptrace -- sh -c 'kill -9 $$'
}

@test "a crashing program leaves a complete timeline" {
	run -139 --separate-stderr "$MEMSTATE" run --capture ptrace -o "$BATS_TEST_TMPDIR/c.json" -- "$PROGS/segv"
	[[ $stderr == *"killed by signal 11"* ]] || fail "$stderr"
	run -0 json_query "$BATS_TEST_TMPDIR/c.json" '[e for e in d["events"] if e["op"] == "procExit"][0]["exit_signal"], d["processes"][0]["exit_signal"]'
	assert_output "(11, 11)"
}

@test "forked children and execs are followed, each process its own map" {
	run -0 --separate-stderr "$MEMSTATE" run --capture ptrace --verify-maps -o "$BATS_TEST_TMPDIR/f.json" -- sh -c "$PROGS/forker; /bin/true"
	[[ $stderr == *"all agree"* ]] || fail "$stderr"
	run -0 json_query "$BATS_TEST_TMPDIR/f.json" '
ops = [e["op"] for e in d["events"] if e["op"].startswith("proc")]
len(d["processes"]) >= 3, ops.count("procFork") >= 2, ops.count("procExec") >= 2'
	assert_output "(True, True, True)"
}

@test "SIGTERM to memstate reaches the program, and the timeline is written" {
	"$MEMSTATE" run -q --capture ptrace -o "$BATS_TEST_TMPDIR/s.json" -- sleep 30 3>&- &
	local pid=$!
	sleep 1
	kill -TERM $pid
	# (not `run wait`: run's subshell cannot wait for a job that is still running)
	local status=0
	wait $pid || status=$?
	assert_equal "$status" 143
	run -0 json_query "$BATS_TEST_TMPDIR/s.json" 'd["processes"][0]["exit_signal"], d["summary"]["events"] > 0'
	assert_output "(15, True)"
}

@test "attach follows a running process and Ctrl-C detaches, leaving it running" {
	exec_py() { exec "$PY" "$@"; }
	exec_py -c 'import time
b=[]
for i in range(400):
    b.append(bytearray(300000)); time.sleep(0.005)
print("done")' >"$BATS_TEST_TMPDIR/py.out" 3>&- &
	local target=$!
	sleep 0.3
	"$MEMSTATE" attach --capture ptrace -p $target -o "$BATS_TEST_TMPDIR/a.json" 2>"$BATS_TEST_TMPDIR/a.err" 3>&- &
	local tracer=$! cgt=
	# A background job starts with SIGINT ignored: send it only once memstate has its own
	# handler (SigCgt bit 2), or a slow start-up (a sanitized build) loses it.
	for _ in $(seq 200); do
		cgt=$(awk '/^SigCgt:/ { print $2 }' "/proc/$tracer/status" 2>/dev/null)
		[ -n "$cgt" ] && (((0x$cgt >> 1) & 1)) && break
		sleep 0.05
	done
	sleep 0.3
	kill -INT $tracer
	wait $tracer || fail "memstate attach exited with $?"
	wait $target || fail "the target exited with $?"
	run -0 cat "$BATS_TEST_TMPDIR/py.out"
	assert_output done
	run -0 json_query "$BATS_TEST_TMPDIR/a.json" 'any(e.get("seed") for e in d["events"]) or d["summary"]["ops"].get("sysAlloc", 0) > 0'
	assert_output True
	run -0 cat "$BATS_TEST_TMPDIR/a.err"
	assert_output --partial "detached from pid $target"
}

@test "bad input: one clear line and exit 2" {
	run -2 --separate-stderr "$MEMSTATE" run --bogus -- true
	assert_equal "$(wc -l <<<"$stderr")" 1
	assert_equal "$stderr" "memstate run: unknown option '--bogus'; see 'memstate run --help'"
	run -2 --separate-stderr "$MEMSTATE" run -- /nonexistent/prog
	assert_equal "$stderr" "memstate: cannot run '/nonexistent/prog': No such file or directory"
	run -2 --separate-stderr "$MEMSTATE" run -o /nonexistent/dir/t.json -- true
	assert_equal "$stderr" "memstate: cannot write /nonexistent/dir/t.json: No such file or directory"
	run -2 --separate-stderr "$MEMSTATE" run --capture nope -- true
	assert_equal "$(wc -l <<<"$stderr")" 1
	run -2 --separate-stderr "$MEMSTATE" run
	assert_equal "$(wc -l <<<"$stderr")" 1
	run -2 --separate-stderr "$MEMSTATE" attach -p 999999999
	assert_equal "$(wc -l <<<"$stderr")" 1
	run -2 --separate-stderr "$MEMSTATE" frobnicate
	assert_equal "$stderr" "memstate: unknown command 'frobnicate'; see 'memstate --help'"
}

@test "help for each command, with examples" {
	run -0 "$MEMSTATE" --help
	assert_output --partial "examples:"
	run -0 "$MEMSTATE" run --help
	assert_output --partial "examples:"
	run -0 "$MEMSTATE" attach --help
	assert_output --partial "examples:"
}

@test "run --tui: the live view shows the program, q leaves, the timeline is written" {
	command -v tmux >/dev/null || skip "needs tmux"
	local sock=ms-cli-$$ out=$BATS_TEST_TMPDIR
	tmux -L "$sock" new-session -d -x 120 -y 35 \
		"'$MEMSTATE' run --tui --no-color --capture ptrace --child-output '$out/child.log' -o '$out/t.json' -- '$SAMPLES/goheap' 300; echo EXIT=\$? >'$out/exit'; sleep 30" 3>&-
	for _ in $(seq 50); do
		tmux -L "$sock" capture-pane -p | grep -q "ended after" && break
		sleep 0.2
	done
	run -0 tmux -L "$sock" capture-pane -p
	assert_output --partial "goheap"
	assert_output --partial "violations 0"
	tmux -L "$sock" send-keys q
	for _ in $(seq 50); do [ -s "$out/exit" ] && break; sleep 0.2; done
	tmux -L "$sock" kill-server 2>/dev/null || true
	run -0 cat "$out/exit"
	assert_output "EXIT=0"
	run -0 grep -c "goheap:" "$out/child.log"
	run -0 json_query "$out/t.json" 'd["summary"]["violations"], d["summary"]["events"] > 100'
	assert_output "(0, True)"
}
