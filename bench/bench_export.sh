#!/usr/bin/env bash
# Export benchmarks: write, read and replay 1M events (bench_export), then time the CLI
# on that timeline with /usr/bin/time -v (seconds and peak RSS). Targets: write >= 1M
# events/s; read + convert 1M events <= 3 s with <= 256 MiB peak RSS.
#
#   bench/bench_export.sh [EVENTS]      (BUILD=build by default; keeps nothing)
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
N=${1:-1000000}
M=$BUILD/bin/memstate
tmp=$(mktemp -d /tmp/bench-export-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

"$BUILD/bench/bench_export" -n "$N" -o "$tmp/t.json"
"$BUILD/bench/bench_export" -n "$N" -o "$tmp/t.jsonl" --jsonl | grep -E '^(write|read)' |
	sed 's/^/jsonl /'
printf '%-44s %8s %8s %10s\n' "command ($N events, $(du -m "$tmp/t.json" | cut -f1) MB)" seconds user "peak RSS"
run() {
	local what=$1
	shift
	/usr/bin/time -v -o "$tmp/time" "$@" >/dev/null 2>"$tmp/err" || {
		[ $? -eq 1 ] || { cat "$tmp/err"; exit 1; }
	}
	printf '%-44s %8s %8s %7s MiB\n' "$what" \
		"$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$tmp/time" | awk -F: '{ print $NF + 60 * $(NF - 1) }')" \
		"$(sed -n 's/.*User time (seconds): //p' "$tmp/time")" \
		"$(($(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/time") / 1024))"
}
run "check" "$M" check "$tmp/t.json"
run "check (jsonl)" "$M" check "$tmp/t.jsonl"
run "report" "$M" report "$tmp/t.json"
run "report --json" "$M" report --json "$tmp/t.json"
run "convert --to perfetto" "$M" convert --to perfetto "$tmp/t.json" -o "$tmp/p.json"
run "convert --to perfetto --ops" "$M" convert --to perfetto --ops "$tmp/t.json" -o "$tmp/p2.json"
run "convert --to svg (two passes)" "$M" convert --to svg "$tmp/t.json" -o "$tmp/t.svg"
run "convert --to json (copy)" "$M" convert --to json "$tmp/t.json" -o "$tmp/c.json"
run "convert --to jsonl" "$M" convert --to jsonl "$tmp/t.json" -o "$tmp/c.jsonl"
cmp -s "$tmp/t.json" "$tmp/c.json" && echo "round trip: byte-identical" || echo "round trip: DIFFERS"
