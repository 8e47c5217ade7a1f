#!/usr/bin/env bash
# Run every test suite (C unit tests, then bats files) and count their TAP results.
# Prints failures and skips as they come, one count line per suite, and last of all
# "N passed, N failed[, N skipped]". Full logs of failing suites stay in $BUILD/test-logs.
#
#   tests/run.sh [FILTER]     only suites whose name contains FILTER
#
# MEMSTATE_REQUIRE_BPF=1 (set by CI) turns skips for missing root/BPF into failures;
# the tests themselves do that, so a skip counted here is always a legitimate one.
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
filter=${1:-}
logs=$BUILD/test-logs
mkdir -p "$logs" # each suite replaces its own log, and removes it when it passes
export MEMSTATE_BUILD=$PWD/$BUILD
pass=0 fail=0 skip=0

# count_tap NAME LOG STATUS: tally one suite's TAP output.
count_tap() {
	local name=$1 log=$2 status=$3 p f s plan seen
	p=$(grep -cE '^ok [0-9]+' "$log" | tr -d ' ')
	s=$(grep -cE '^ok [0-9]+.*# (skip|SKIP)' "$log" | tr -d ' ')
	f=$(grep -cE '^not ok [0-9]+' "$log" | tr -d ' ')
	p=$((p - s))
	plan=$(sed -nE 's/^1\.\.([0-9]+).*/\1/p' "$log" | head -1)
	seen=$((p + s + f))
	# A suite that died before reporting every planned test fails the rest.
	if [ -n "$plan" ] && [ "$seen" -lt "$plan" ]; then
		echo "not ok - $name stopped after $seen of $plan tests (exit $status)"
		f=$((f + plan - seen))
	elif [ -z "$plan" ] && [ "$status" -ne 0 ]; then
		echo "not ok - $name did not run (exit $status)"
		f=$((f + 1))
	fi
	grep -E '^not ok|# (skip|SKIP)|^#' "$log" | grep -vE '^# (bats|Ran)' | head -60
	printf '%-28s %3d passed, %d failed, %d skipped\n' "$name" "$p" "$f" "$s"
	[ "$f" -eq 0 ] && rm -f "$log"
	pass=$((pass + p))
	fail=$((fail + f))
	skip=$((skip + s))
}

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	name=unit/$(basename "$t")
	[[ -n $filter && $name != *"$filter"* ]] && continue
	"$t" >"$logs/${name//\//_}.tap" 2>&1
	count_tap "$name" "$logs/${name//\//_}.tap" $?
done

if command -v bats >/dev/null; then
	for b in tests/bats/*.bats; do
		[ -f "$b" ] || continue
		name=bats/$(basename "$b" .bats)
		[[ -n $filter && $name != *"$filter"* ]] && continue
		bats --tap "$b" >"$logs/${name//\//_}.tap" 2>&1
		count_tap "$name" "$logs/${name//\//_}.tap" $?
	done
else
	echo "not ok - bats is not installed (make deps installs it)"
	fail=$((fail + 1))
fi

line="$pass passed, $fail failed"
[ "$skip" -gt 0 ] && line="$line, $skip skipped"
echo "$line"
[ "$fail" -eq 0 ]
