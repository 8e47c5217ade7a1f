#!/usr/bin/env bash
# make bench-quick: instruction counts of the hot paths under callgrind, compared with
# bench/baseline.txt. Instruction counts repeat exactly for the same binary and input
# whatever else the machine does, so CI can hold them: it fails only when a path costs
# more than twice its baseline (a regression), never on wall time.
#
#   bench/quick.sh            check against the baseline
#   UPDATE=1 bench/quick.sh   write the current counts as the new baseline
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
M=$BUILD/bin/memstate
base=bench/baseline.txt
tmp=$(mktemp -d /tmp/bench-quick-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
command -v valgrind >/dev/null || { echo "bench-quick: valgrind is not installed" >&2; exit 2; }

# instructions NAME UNITS [VAR=value...] CMD...: Ir of CMD divided by UNITS.
instructions() {
	local name=$1 units=$2
	shift 2
	valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$name" "$@" >/dev/null 2>"$tmp/err" ||
		{ echo "bench-quick: $name failed:"; tail -3 "$tmp/err"; exit 2; } >&2
	local ir
	ir=$(sed -n 's/^summary: //p' "$tmp/cg.$name")
	echo "$name $((ir / units))"
}

MEMSTATE_OUT=$tmp/g.json "$BUILD/samples/goheap" >/dev/null
events=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["events"])' "$tmp/g.json")
{
	instructions tree_op 170000 "$BUILD/bench/bench_lib" count
	instructions api_op 200000 "$BUILD/bench/bench_lib" count-api
	instructions check_event "$events" "$M" check -q "$tmp/g.json"
	instructions convert_event "$events" "$M" convert --to jsonl "$tmp/g.json" -o "$tmp/g.jsonl"
} >"$tmp/now"

if [ "${UPDATE:-0}" = 1 ]; then
	cp "$tmp/now" "$base"
	echo "bench-quick: baseline written to $base"
	cat "$base"
	exit 0
fi
fail=0
printf '%-16s %14s %14s %7s\n' path "instr/unit" baseline ratio
while read -r name now; do
	was=$(awk -v n="$name" '$1 == n { print $2 }' "$base" 2>/dev/null)
	if [ -z "$was" ]; then
		printf '%-16s %14s %14s %7s\n' "$name" "$now" "-" "new"
		continue
	fi
	ratio=$(awk -v a="$now" -v b="$was" 'BEGIN { printf "%.2f", a / b }')
	printf '%-16s %14s %14s %7s\n' "$name" "$now" "$was" "$ratio"
	awk -v r="$ratio" 'BEGIN { exit !(r > 2.0) }' && { echo "bench-quick: $name costs ${ratio}x its baseline" >&2; fail=1; }
done <"$tmp/now"
exit $fail
