#!/usr/bin/env bats
# Security and transparency: what a traced program can do to memstate (nothing), what
# memstate does to a traced program (nothing visible), who may be traced, who may read
# a timeline.

load reliability_helpers

PY=/usr/bin/python3

# A hostile program scribbles over its API channel slot (garbage, racing ring indices,
# records forged in the name of pid 1 and of the tracer): memstate survives, records only
# what it could validate, in the program's own name, and `check` agrees with it.
hostile() {
	local cap=$1 d=$BATS_TEST_TMPDIR
	need_cap "$cap"
	run -0 --separate-stderr "$MEMSTATE" run --capture "$cap" -o "$d/t.json" -- \
		"$PROGS/chan_scribble" all 0.5
	assert_output "scribbled yes"
	valid_timeline "$d/t.json"
	run -0 json_query "$d/t.json" 'sorted({e["pid"] for e in d["events"]}) == [d["processes"][0]["pid"]]'
	assert_output True
}

@test "ptrace: a program scribbling over its API channel cannot harm the tracer" {
	hostile ptrace
}
@test "ebpf: a program scribbling over its API channel cannot harm the tracer" {
	hostile ebpf
}

# Every file memstate writes holds addresses: 0600, whatever the umask.
@test "timelines and conversions are created 0600 under umask 000" {
	local d=$BATS_TEST_TMPDIR f
	umask 000
	run -0 "$MEMSTATE" run -q --capture ptrace -o "$d/t.json" -- "$PROGS/rawseq"
	run -0 "$MEMSTATE" run -q --capture ptrace -f jsonl -o "$d/t.jsonl" -- "$PROGS/rawseq"
	run -0 "$MEMSTATE" convert --to perfetto "$d/t.json" -o "$d/p.json"
	run -0 "$MEMSTATE" convert --to svg "$d/t.json" -o "$d/p.svg"
	run -0 "$MEMSTATE" report --json "$d/t.json"
	for f in t.json t.jsonl p.json p.svg; do
		assert_equal "$f $(stat -c %a "$d/$f")" "$f 600"
	done
}

# attach: only a process the caller could ptrace; the refusal is one line, exit 2.
@test "attach refuses a process the caller may not trace" {
	[ "$(id -u)" -eq 0 ] || skip "needs root (to become another user)"
	command -v setpriv >/dev/null || skip "needs setpriv"
	sleep 30 &
	local target=$!
	run -2 --separate-stderr setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$MEMSTATE" attach --capture ptrace -p "$target" -o /dev/null
	kill "$target"
	assert_equal "$stderr" "memstate: cannot attach to pid $target: Operation not permitted"
	# and no eBPF for an unprivileged user: one line saying so
	run -2 --separate-stderr setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$MEMSTATE" run --capture ebpf -o /dev/null -- /bin/true
	[ "${#lines[@]}" -eq 0 ] || fail "stdout: $output"
	[[ $stderr == memstate:* ]] || fail "stderr: $stderr"
	assert_equal "$(wc -l <<<"$stderr")" 1
}

# No user string reaches a shell: names full of shell syntax are only ever names.
@test "program and file names are never given to a shell" {
	local d=$BATS_TEST_TMPDIR weird
	weird="$d/a;touch \$HOME-pwned \`id\`|\$(id)'\""
	mkdir -p "$weird"
	cp "$PROGS/rawseq" "$weird/prog;rm -rf x"
	run -0 --separate-stderr "$MEMSTATE" run --capture ptrace -o "$weird/t.json;id" -- \
		"$weird/prog;rm -rf x"
	[ -s "$weird/t.json;id" ] || fail "no timeline"
	run -0 "$MEMSTATE" convert --to perfetto "$weird/t.json;id" -o "$weird/p \$(id).json"
	[ -s "$weird/p \$(id).json" ] || fail "no conversion"
	[ ! -e "$HOME-pwned" ] || fail "a shell ran"
	run -0 bash -c "grep -rlE '\\b(system|popen)\\(' '$ROOT'/lib '$ROOT'/tracer '$ROOT'/export '$ROOT'/tui '$ROOT'/bpf --include=*.c || true"
	assert_output ""
}

# Transparency: stdout, stderr, exit status and death by signal are the same traced
# and untraced (memstate -q writes nothing of its own), for each capture source.
same() {
	local cap=$1 d=$BATS_TEST_TMPDIR want=0 got=0
	shift
	need_cap "$cap"
	"$@" >"$d/plain.out" 2>"$d/plain.err" </dev/null || want=$?
	"$MEMSTATE" run -q --capture "$cap" -o "$d/t.json" -- "$@" >"$d/traced.out" \
		2>"$d/traced.err" </dev/null || got=$?
	assert_equal "status $got" "status $want"
	# (digits masked: a few programs print their own addresses or pids)
	assert_equal "$(sed 's/[0-9]/N/g' "$d/traced.out" | md5sum)" \
		"$(sed 's/[0-9]/N/g' "$d/plain.out" | md5sum)"
	assert_equal "$(sed 's/[0-9]/N/g' "$d/traced.err")" "$(sed 's/[0-9]/N/g' "$d/plain.err")"
}

py_both='
import os, signal, sys
x = [bytearray(4096) for i in range(20000)]
print("out", len(x)); sys.stdout.flush()
print("err", sum(len(b) for b in x), file=sys.stderr)
got = []
signal.signal(signal.SIGUSR1, lambda s, f: got.append(s))
os.kill(os.getpid(), signal.SIGUSR1)
print("signal", got)
sys.exit(7)'

transparent() {
	local cap=$1
	same "$cap" "$PY" -c "$py_both"
	same "$cap" sort -n "$ROOT/tests/data/known.json"
	same "$cap" "$PROGS/rawseq_static"
	same "$cap" "$PROGS/mthreads"
	same "$cap" "$PROGS/segv"
	same "$cap" sh -c 'echo child >&2; kill -TERM $$'
}

@test "ptrace: traced programs behave the same (output, status, signals)" {
	transparent ptrace
}
@test "ebpf: traced programs behave the same (output, status, signals)" {
	transparent ebpf
}

# Least privilege: -u USER runs the program as USER, with USER's groups and no capability,
# while memstate keeps its own to capture; both sources. Root only (switching users).
run_as_user() {
	local cap=$1 d=$BATS_TEST_TMPDIR
	[ "$(id -u)" -eq 0 ] || skip "needs root (-u switches users)"
	id nobody >/dev/null 2>&1 || skip "no user 'nobody' here"
	need_cap "$cap"
	run -0 --separate-stderr "$MEMSTATE" run -q --capture "$cap" -u nobody -o "$d/t.json" -- \
		sh -c 'id -u; id -g; grep -E "^Cap(Prm|Eff|Amb):" /proc/self/status'
	assert_line --index 0 "$(id -u nobody)"
	assert_line --index 1 "$(id -g nobody)"
	assert_line --regexp '^CapPrm:[[:space:]]+0+$'
	assert_line --regexp '^CapEff:[[:space:]]+0+$'
	assert_line --regexp '^CapAmb:[[:space:]]+0+$'
	valid_timeline "$d/t.json"
	# the program's memory was traced as a normal run's
	run -0 json_query "$d/t.json" 'len(d["events"]) > 10 and d["processes"][0]["exit_code"] == 0'
	assert_output True
}
@test "ptrace: -u USER runs the program as USER, without capabilities, still traced" {
	run_as_user ptrace
}
@test "ebpf: -u USER runs the program as USER, without capabilities, still traced" {
	run_as_user ebpf
}

@test "-u: an unknown user is one line and exit 2, and nothing runs" {
	run -2 --separate-stderr "$MEMSTATE" run -u no-such-user-here -- touch "$BATS_TEST_TMPDIR/ran"
	assert_equal "${#stderr_lines[@]}" 1
	assert_equal "${stderr_lines[0]}" "memstate: -u: no user 'no-such-user-here'"
	[ ! -e "$BATS_TEST_TMPDIR/ran" ]
}

# Under sudo the timeline belongs to the user who ran sudo, not to root (still 0600).
@test "under sudo, the files memstate creates belong to the invoking user" {
	local d=$BATS_TEST_TMPDIR
	[ "$(id -u)" -eq 0 ] || skip "needs root (sudo's situation)"
	chmod 755 "$d"
	run -0 env SUDO_UID=65534 SUDO_GID=65534 "$MEMSTATE" run -q --capture ptrace \
		-o "$d/t.json" -- "$PROGS/rawseq"
	run -0 stat -c '%u:%g %a' "$d/t.json"
	assert_output "65534:65534 600"
}
