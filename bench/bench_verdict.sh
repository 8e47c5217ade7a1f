#!/usr/bin/env bash
# Issue 17's targets, measured side by side in one run: `diff` of two N-event timelines
# against `report` of one (<= 2x), and the HTML page of N events (<= 5 MB, opened by
# headless Chromium in <= 3 s). Usage: bench/bench_verdict.sh [EVENTS] [ROUNDS]
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
N=${1:-1000000}
R=${2:-3}
M=$BUILD/bin/memstate
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT

"$BUILD/bench/bench_export" -n "$N" -o "$d/t.json" >/dev/null
# median wall seconds of R runs of a command
median() {
	for _ in $(seq "$R"); do
		/usr/bin/time -f %e "$@" 2>&1 >/dev/null | tail -1
	done | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}
rep=$(median "$M" report "$d/t.json")
dif=$(median "$M" diff "$d/t.json" "$d/t.json")
html=$(median "$M" report --html -o "$d/t.html" "$d/t.json")
size=$(stat -c %s "$d/t.html")
printf '%-34s %8s s\n' "report, $N events" "$rep"
printf '%-34s %8s s  ratio %.2f (target <= 2)\n' "diff of two" "$dif" \
	"$(awk -v a="$dif" -v b="$rep" 'BEGIN { print (b > 0 ? a / b : 0) }')"
printf '%-34s %8s s  %d bytes (target <= 5 MB)\n' "report --html" "$html" "$size"
if command -v node >/dev/null && command -v chromium >/dev/null; then
	printf '%-34s %8s ms (target <= 3000)\n' "opened in headless Chromium" \
		"$(node tests/data/tools/html_check.js "$d/t.html" |
			python3 -c 'import json, sys; print(json.load(sys.stdin)["load_ms"])')"
fi
