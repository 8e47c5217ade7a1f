#!/usr/bin/env bash
# The whole `memstate run` as a user feels it: set-up, tracing, drain and writing the
# timeline, against the program run alone (issue 14's targets; the probe alone is
# bench_ebpf's). Configurations, rotated round by round so a slow moment hits each alike:
#
#   untraced          the program alone
#   run -q            memstate run with the eBPF probe, no timeline (checks, summary)
#   run -o t.json     the same, writing a JSON timeline (the usual use)
#   run -o t.jsonl.zst  writing a zstd JSON Lines timeline
#
# Workloads:
#   /bin/true         the fixed cost: start-up plus drain, as a difference in ms
#                     (target: <= 60 ms more than /bin/true)
#   madvloop N        N madvise(MADV_DONTNEED) calls, nothing else: the densest event
#                     stream (target: <= 1.15x with -o t.json)
#   touchmem MIB      MIB MiB written in 4 KiB pages, one fault each (target: <= 1.15x)
#
#   bench/bench_run.sh [ROUNDS] [MADV_CALLS] [TOUCH_MIB]    default 7 2000000 2048
#
# Needs root (eBPF): skipped otherwise. Medians; spread is min..max of per-round ratios.
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
ROUNDS=${1:-7}
MADV=${2:-2000000}
TOUCH=${3:-2048}
M=$BUILD/bin/memstate
P=$BUILD/tests/progs

if [ "$(id -u)" -ne 0 ] || [ ! -r /sys/kernel/btf/vmlinux ]; then
	echo "bench_run: skipped (needs root and kernel BTF)"
	exit 0
fi
tmp=$(mktemp -d /tmp/bench-run-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

configs=("untraced|" "run -q|$M run -q --capture ebpf --"
	"run -o t.json|$M run -q --capture ebpf -o $tmp/t.json --"
	"run -o t.jsonl.zst|$M run -q --capture ebpf -o $tmp/t.jsonl.zst --")

now() { date +%s%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# bench NAME delta|ratio CMD...
bench() {
	local name=$1 kind=$2
	shift 2
	local n=${#configs[@]} r k i prefix t0 base med lo hi
	rm -f "$tmp"/times.*
	"$@" >/dev/null 2>&1 # warm-up
	for ((r = 0; r < ROUNDS; r++)); do
		for ((k = 0; k < n; k++)); do
			i=$(((k + r) % n))
			prefix=${configs[$i]#*|}
			t0=$(now)
			# shellcheck disable=SC2086 # the prefix is a word list on purpose
			$prefix "$@" >/dev/null 2>&1 || echo "  ($name: ${configs[$i]%%|*} exited $?)" >&2
			echo $(($(now) - t0)) >>"$tmp/times.$i"
		done
	done
	base=$(median <"$tmp/times.0")
	echo "$name"
	for i in "${!configs[@]}"; do
		med=$(median <"$tmp/times.$i")
		if [ "$kind" = delta ]; then
			read -r lo hi < <(paste "$tmp/times.$i" "$tmp/times.0" |
				awk '{ d = ($1 - $2) / 1e6 } NR == 1 || d < lo { lo = d } NR == 1 || d > hi { hi = d } END { printf "%.0f %.0f\n", lo, hi }')
			printf '  %-20s %8.1f ms  %+7.1f ms  (%s..%s)\n' "${configs[$i]%%|*}" \
				"$(awk -v m="$med" 'BEGIN { print m / 1e6 }')" \
				"$(awk -v m="$med" -v b="$base" 'BEGIN { print (m - b) / 1e6 }')" "$lo" "$hi"
		else
			read -r lo hi < <(paste "$tmp/times.$i" "$tmp/times.0" |
				awk '{ r = $1 / $2 } NR == 1 || r < lo { lo = r } NR == 1 || r > hi { hi = r } END { printf "%.2f %.2f\n", lo, hi }')
			printf '  %-20s %8.3f s  %6.2fx  (%s..%s)\n' "${configs[$i]%%|*}" \
				"$(awk -v m="$med" 'BEGIN { print m / 1e9 }')" \
				"$(awk -v m="$med" -v b="$base" 'BEGIN { print m / b }')" "$lo" "$hi"
		fi
	done
}

echo "== whole command: median of $ROUNDS rounds"
bench "start-up + drain: /bin/true (difference to untraced)" delta /bin/true
bench "syscall-dense: madvloop $MADV" ratio "$P/madvloop" "$MADV"
bench "fault-dense: touchmem $TOUCH MiB in 4 KiB pages" ratio "$P/touchmem" "$TOUCH"
