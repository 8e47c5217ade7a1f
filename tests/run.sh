#!/usr/bin/env bash
# Run every test suite (C unit tests, then bats files) and count their TAP results.
# Prints failures and skips as they come, one count line per suite, and last of all
# "N passed, N failed[, N skipped]". Full logs of failing suites stay in $BUILD/test-logs.
#
#   tests/run.sh [FILTER]     only suites whose name contains FILTER
#
# MEMSTATE_REQUIRE_BPF=1 (set by CI) turns skips for missing root/BPF into failures;
# the tests themselves do that, so a skip counted here is always a legitimate one.
#
# With a sanitized build (make SANITIZE=1, or make test-sanitize), every ASan, LSan or
# UBSan report of any process a suite starts goes to a file in $BUILD/test-logs/sanitizer/
# SUITE/, and each file fails the suite: a report is never lost in a test's captured
# output, nor in a process whose exit status no test looks at.
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
filter=${1:-}
logs=$BUILD/test-logs
mkdir -p "$logs" # each suite replaces its own log, and removes it when it passes
export MEMSTATE_BUILD=$PWD/$BUILD
pass=0 fail=0 skip=0 san_fail=0

sanitized=
if ldd "$BUILD/bin/memstate" 2>/dev/null | grep -q libasan; then
	sanitized=$PWD/$logs/sanitizer
	asan_options=${ASAN_OPTIONS:-} ubsan_options=${UBSAN_OPTIONS:-}
	rm -rf "$sanitized"
	# A test's timeout guards against a hang. Sanitized, every fresh page is shadowed too,
	# and on a VM where a first touch costs tens of microseconds a test runs 3-10x longer
	# (test_reader's 20k-event timelines: 12 s plain, 115 s under ASan on a loaded machine).
	export BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-400}
fi

# san_begin NAME: send the sanitizer reports of the suite NAME to their own folder.
san_begin() {
	[ -n "$sanitized" ] || return 0
	san_dir=$sanitized/${1//\//_}
	mkdir -p "$san_dir"
	export ASAN_OPTIONS="${asan_options:+$asan_options:}log_path=$san_dir/asan"
	export UBSAN_OPTIONS="${ubsan_options:+$ubsan_options:}print_stacktrace=1:log_path=$san_dir/ubsan"
}

# san_end NAME: one failure (in san_fail) per report file the suite left, with its first
# lines.
san_end() {
	local f
	san_fail=0
	[ -n "$sanitized" ] || return 0
	for f in "$san_dir"/*; do
		[ -f "$f" ] || continue
		san_fail=$((san_fail + 1))
		echo "not ok - $1: sanitizer report in $f"
		grep -m1 -E 'ERROR|runtime error' "$f" | sed 's/^/#   /'
		grep -m1 -E '^SUMMARY' "$f" | sed 's/^/#   /'
	done
	[ "$san_fail" -eq 0 ] && rmdir "$san_dir"
	return 0
}

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
	elif [ "$status" -ne 0 ] && [ "$f" -eq 0 ] && [ "$san_fail" -eq 0 ]; then
		# every test passed, yet the suite failed (a leak found at exit...)
		echo "not ok - $name exited with status $status after its last test"
		f=$((f + 1))
	fi
	f=$((f + san_fail))
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
	san_begin "$name"
	"$t" >"$logs/${name//\//_}.tap" 2>&1
	status=$?
	san_end "$name"
	count_tap "$name" "$logs/${name//\//_}.tap" $status
done

if command -v bats >/dev/null; then
	for b in tests/bats/*.bats; do
		[ -f "$b" ] || continue
		name=bats/$(basename "$b" .bats)
		[[ -n $filter && $name != *"$filter"* ]] && continue
		san_begin "$name"
		bats --tap "$b" >"$logs/${name//\//_}.tap" 2>&1
		status=$?
		san_end "$name"
		count_tap "$name" "$logs/${name//\//_}.tap" $status
	done
else
	echo "not ok - bats is not installed (make deps installs it)"
	fail=$((fail + 1))
fi

[ -n "$sanitized" ] && rmdir "$sanitized" 2>/dev/null
line="$pass passed, $fail failed"
[ "$skip" -gt 0 ] && line="$line, $skip skipped"
echo "$line"
[ "$fail" -eq 0 ]
