#!/usr/bin/env bash
# Load: sizes memstate must hold with bounded memory and every invariant checked at the
# end (issue 9). Prints, for each, the size, the time, the peak RSS and the verdict.
#   1. 8 threads x ROUNDS operations through the library (real syscalls, racing notes
#      on a shared range), then ms_space_verify and the per-state totals;
#   2. 1M live intervals in the shadow tree (bench_lib's tree at 1M, bytes/interval);
#   3. a timeline of EVENTS events written, checked (replayed through the shadow tree and
#      the checker) and converted to Perfetto, streamed: peak RSS must not grow with it.
#
#   bench/load.sh [ROUNDS [EVENTS]]    (defaults 1000000 and 10000000)
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
ROUNDS=${1:-1000000}
EVENTS=${2:-10000000}
M=$BUILD/bin/memstate
tmp=$(mktemp -d /tmp/memstate-load-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# timed WHAT CMD...: run CMD under /usr/bin/time; print seconds and peak RSS.
timed() {
	local what=$1 rc=0
	shift
	/usr/bin/time -v -o "$tmp/time" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	printf '%-52s %7.1f s %6d MiB  %s\n' "$what" \
		"$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$tmp/time" |
			awk -F: '{ print $NF + 60 * $(NF - 1) }')" \
		"$(($(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/time") / 1024))" \
		"$([ "$rc" -le 1 ] && echo "exit $rc" || echo "FAILED (exit $rc): $(tail -1 "$tmp/err")")"
}

echo "== load: $(nproc) CPUs, $(uname -r), $(date -u +%Y-%m-%d)"
MEMSTATE_LOAD_ROUNDS=$ROUNDS timed "library: 8 threads x $ROUNDS ops, verify at end" \
	"$BUILD/tests/test_sys"
grep -E '^(not ok|ok [0-9]+ - test_threads)' "$tmp/out" | sed 's/^/    /'

timed "tree: 1M live intervals (bench_lib tree)" "$BUILD/bench/bench_lib" tree
grep -E '^ +1000000 ' "$tmp/out" | sed 's/^/    ops\/s random, local, sequential; bytes\/interval:/'

timed "timeline: write $EVENTS events (JSON Lines)" \
	"$BUILD/bench/bench_export" -n "$EVENTS" -o "$tmp/t.jsonl" --jsonl
echo "    $(du -m "$tmp/t.jsonl" | cut -f1) MB"
timed "memstate check ($EVENTS events)" "$M" check -q "$tmp/t.jsonl"
tail -1 "$tmp/out" | cut -c1-160 | sed 's/^/    /'
timed "memstate convert --to perfetto ($EVENTS events)" \
	"$M" convert --to perfetto "$tmp/t.jsonl" -o "$tmp/p.json"
timed "memstate report ($EVENTS events)" "$M" report "$tmp/t.jsonl"
timed "same check on the first 10% (memory must not grow)" \
	bash -c "head -n $((EVENTS / 10 + 1)) '$tmp/t.jsonl' > '$tmp/s.jsonl' && '$M' check -q '$tmp/s.jsonl'"
