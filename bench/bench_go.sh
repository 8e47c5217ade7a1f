#!/usr/bin/env bash
# Go uprobe tracing overhead: a Go program's wall time untraced, traced by `memstate run`
# with the runtime uprobes (the default for a Go program; eBPF syscalls and page faults
# included: the whole cost of tracing it), and traced with --no-go (eBPF alone, to see
# what the uprobes add). Two programs:
#
#   gophases   the Go sample (samples/go): allocation, GC, FreeOSMemory and reuse and
#              nothing else, about 30k page faults and 10k runtime calls a second: the
#              worst case. Its own time, from main's start to its end, as it prints it.
#   gofmt      cmd/gofmt, built here from the toolchain's sources with symbols (Debian's
#              is stripped), formatting the runtime's and net's sources: a real program.
#              It prints no time of its own: only the whole command is timed, so its
#              ratio also carries memstate's set-up and drain (the `true` line: memstate
#              run on /bin/true, the fixed cost).
#
# Rounds are interleaved, rotating the order; medians. "command" is the whole
# `memstate run` (its set-up, and its drain after the program ends, included).
#
#   bench/bench_go.sh [ROUNDS]     default 21
#
# Needs root (eBPF) and the Go toolchain (golang-1.19-go): skipped otherwise.
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
rounds=${1:-21}
M=$BUILD/bin/memstate
G=$BUILD/samples/go/gophases
GOBIN=${GO:-$(command -v /usr/lib/go-1.19/bin/go || command -v go)}

if [ "$(id -u)" -ne 0 ] || [ ! -r /sys/kernel/btf/vmlinux ]; then
	echo "bench_go: skipped (needs root and kernel BTF)"
	exit 0
fi
if [ ! -x "$G" ] || [ ! -x "$M" ] || [ -z "$GOBIN" ]; then
	echo "bench_go: skipped (needs $M, $G and a Go toolchain: golang-1.19-go, then make)"
	exit 0
fi
GOROOT_SRC=$("$GOBIN" env GOROOT)/src
GOFMT=$BUILD/go/gofmt
if [ ! -x "$GOFMT" ]; then
	GOCACHE=$PWD/$BUILD/go/cache GOPATH=$PWD/$BUILD/go/path GOPROXY=off GOFLAGS=-mod=mod \
		GOTOOLCHAIN=local CGO_ENABLED=0 "$GOBIN" build -o "$GOFMT" cmd/gofmt || exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

now_us() {
	echo $(($(date +%s%N) / 1000))
}

# run PROGRAM KIND: one run; appends "program-seconds command-seconds" to $tmp/PROGRAM.KIND.
run() {
	local prog=$1 kind=$2 t0 t1 self pre=()
	case $kind in
	uprobes) pre=("$M" run -q --) ;;
	ebpf) pre=("$M" run -q --no-go --) ;;
	esac
	t0=$(now_us)
	case $prog in
	gophases) "${pre[@]}" "$G" -quiet 2>"$tmp/err" ;;
	gofmt) "${pre[@]}" "$GOFMT" -l "$GOROOT_SRC/runtime" "$GOROOT_SRC/net" >/dev/null \
		2>"$tmp/err" ;;
	true) "${pre[@]}" /bin/true 2>"$tmp/err" ;;
	esac
	t1=$(now_us)
	case $prog in
	gophases) self=$(sed -n 's/^gophases: .* \([0-9.]*\) s$/\1/p' "$tmp/err") ;;
	*) self=$(echo "($t1 - $t0) / 1000000" | bc -l) ;;
	esac
	if [ -z "$self" ]; then
		echo "bench_go: $prog $kind failed:" >&2
		cat "$tmp/err" >&2
		exit 1
	fi
	echo "$self $((t1 - t0))" >>"$tmp/$prog.$kind"
}

# median COLUMN FILE
median() {
	awk -v c="$1" '{print $c}' "$2" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'
}

kinds=(untraced uprobes ebpf)
echo "Go tracing overhead: $rounds interleaved rounds, medians ($(nproc) CPUs, $(uname -r))"
printf '%-9s %-9s %10s %10s %8s %10s\n' program run "program s" "command s" ratio "cmd ratio"
for prog in gophases gofmt true; do
	for ((r = 0; r < rounds; r++)); do
		for ((k = 0; k < 3; k++)); do
			run "$prog" "${kinds[$(((r + k) % 3))]}"
		done
	done
	base=$(median 1 "$tmp/$prog.untraced")
	cbase=$(median 2 "$tmp/$prog.untraced")
	for k in untraced ebpf uprobes; do
		[ "$prog" = true ] && [ "$k" != uprobes ] && continue
		p=$(median 1 "$tmp/$prog.$k")
		c=$(median 2 "$tmp/$prog.$k")
		if [ "$prog" = true ]; then
			printf '%-9s %-9s %10s %10.3f\n' "$prog" "memstate" - "$(echo "$c / 1000000" | bc -l)"
			continue
		fi
		printf '%-9s %-9s %10.3f %10.3f %8.3f %10.3f\n' "$prog" "$k" "$p" \
			"$(echo "$c / 1000000" | bc -l)" "$(echo "$p / $base" | bc -l)" \
			"$(echo "$c / $cbase" | bc -l)"
	done
done
echo "(uprobes: memstate run as it traces a Go program by default; ebpf: --no-go;"
echo " ratio: the program's wall time over untraced; cmd ratio: the whole command's.)"
