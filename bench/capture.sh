#!/usr/bin/env bash
# Capture cost: each workload untraced, under memstate with each capture source, and under
# the tools users would pick instead (strace, strace --seccomp-bpf, perf trace, ltrace),
# side by side in one invocation. Every figure is the median wall time of ROUNDS runs
# taken in rotation (so a slow moment hits every configuration alike) and its ratio to
# the untraced median; the spread is min..max of the per-round ratios.
#
#   bench/capture.sh [ROUNDS]            (root for eBPF and perf trace)
#
# SYSLOOP=N sets the syscall-heavy workload's rounds (default 250000, 1M syscalls: under
# plain strace and ptrace that is minutes a run).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
ROUNDS=${1:-5}
SYSLOOP=${SYSLOOP:-250000}
M=$BUILD/bin/memstate
P=$BUILD/tests/progs
tmp=$(mktemp -d /tmp/bench-capture-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
root=$([ "$(id -u)" -eq 0 ] && echo 1 || echo 0)
# perf trace reads syscall tracepoints from tracefs, which is not mounted at boot here.
[ "$root" = 1 ] && ! mountpoint -q /sys/kernel/tracing &&
	mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null

now() { date +%s%N; }

# configs: name and command prefix ("" = untraced). Tools missing here are left out.
configs=("untraced|")
[ "$root" = 1 ] && configs+=("memstate ebpf|$M run -q --capture ebpf -o $tmp/t.json --")
configs+=("memstate ptrace|$M run -q --capture ptrace -o $tmp/t.json --")
configs+=("strace -f mem|strace -f -qq -e trace=memory -o /dev/null")
configs+=("strace -f seccomp mem|strace -f -qq --seccomp-bpf -e trace=memory -o /dev/null")
[ "$root" = 1 ] && command -v perf >/dev/null &&
	configs+=("perf trace -F all|perf trace -F all -o /dev/null --")

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# bench NAME CMD...: every config ROUNDS times, in rotation.
bench() {
	local name=$1
	shift
	local i r t0 c prefix
	local n=${#configs[@]} k
	rm -f "$tmp"/times.*
	"$@" >/dev/null 2>&1 # warm-up: the first run pays for the host handing memory back
	for ((r = 0; r < ROUNDS; r++)); do
		for ((k = 0; k < n; k++)); do
			i=$(((k + r) % n)) # each round starts with another configuration
			prefix=${configs[$i]#*|}
			t0=$(now)
			# shellcheck disable=SC2086 # the prefix is a word list on purpose
			$prefix "$@" >/dev/null 2>&1 || echo "  ($name: ${configs[$i]%%|*} exited $?)" >&2
			echo $(($(now) - t0)) >>"$tmp/times.$i"
		done
	done
	local base
	base=$(median <"$tmp/times.0")
	printf '%s\n' "$name"
	for i in "${!configs[@]}"; do
		c=${configs[$i]%%|*}
		local med lo hi
		med=$(median <"$tmp/times.$i")
		read -r lo hi < <(paste "$tmp/times.$i" "$tmp/times.0" | awk '{ r = $1 / $2 } NR == 1 || r < lo { lo = r } NR == 1 || r > hi { hi = r } END { printf "%.2f %.2f\n", lo, hi }')
		printf '  %-24s %9.3f s  %6.2fx  (%s..%s)\n' "$c" "$(awk -v m="$med" 'BEGIN { print m / 1e9 }')" \
			"$(awk -v m="$med" -v b="$base" 'BEGIN { print m / b }')" "$lo" "$hi"
	done
}

echo "== capture cost: median of $ROUNDS rounds, ratio to untraced (min..max)"
bench "fault-heavy: touch 1 GiB in 4 KiB pages" "$P/touchmem" 1024
bench "syscall-heavy: $SYSLOOP rounds of mmap/touch/madvise/munmap" "$P/sysloop" "$SYSLOOP"
bench "python3: build and drop a 5M-element list" /usr/bin/python3 -c 'x = [str(i) for i in range(5000000)]; del x'
bench "goheap (libmemstate API channel)" "$BUILD/samples/goheap" 600
