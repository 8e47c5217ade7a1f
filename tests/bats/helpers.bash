# Shared set-up for the bats suites: paths, assertions, and the root/BPF gate.
bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load.bash'
load '/usr/lib/bats/bats-assert/load.bash'

ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
BUILD=${MEMSTATE_BUILD:-$ROOT/build}
SAMPLES=$BUILD/samples
MEMSTATE=$BUILD/bin/memstate
BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-120}

# require_root_bpf: skip (or fail under MEMSTATE_REQUIRE_BPF=1) without root and BTF.
require_root_bpf() {
	local why=
	[ "$(id -u)" -eq 0 ] || why="needs root"
	[ -r /sys/kernel/btf/vmlinux ] || why="${why:+$why, }needs BTF (/sys/kernel/btf/vmlinux)"
	[ -z "$why" ] && return 0
	if [ "${MEMSTATE_REQUIRE_BPF:-0}" = 1 ]; then
		fail "MEMSTATE_REQUIRE_BPF=1 but this test $why"
	fi
	skip "$why"
}

# json_query FILE CODE: run Python over the parsed timeline `d` and print the value of the
# last line (earlier lines may be statements).
json_query() {
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
code = sys.argv[2].strip()
try:
    print(eval("(" + code + "\n)"))
except SyntaxError:
    lines = code.splitlines()
    exec("\n".join(lines[:-1]))
    print(eval(lines[-1]))' "$1" "$2"
}
