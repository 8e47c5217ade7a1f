#!/usr/bin/env bash
# Run libFuzzer harnesses for a bounded time each (what `make fuzz` and CI call).
#
#   FUZZ_DIR=build/fuzz FUZZ_TIME=60 tests/fuzz/run.sh [TARGET...]
#
# Per target: first every input kept in tests/fuzz/corpus/<target>/ (seeds and the
# reproducers of fixed crashes) runs once, as a regression test; then libFuzzer explores
# for FUZZ_TIME seconds. New inputs go to $FUZZ_DIR/corpus/<target>/, crashes to
# $FUZZ_DIR/crashes/<target>/ (copy a fixed one to tests/fuzz/corpus/<target>/), logs to
# $FUZZ_DIR/logs/. One line per target: executions, exec/s, coverage, corpus size and
# crashes found in this run; exit 1 on any crash (leak, timeout and out-of-memory count).
set -u
cd "$(dirname "$0")/../.." || exit 2
FUZZ_DIR=${FUZZ_DIR:-build/fuzz}
FUZZ_TIME=${FUZZ_TIME:-60}
FUZZ_SEED=${FUZZ_SEED:-0} # 0: a new seed each run; another number repeats a run exactly
[ $# -gt 0 ] || set -- reader convert space infer chan zread
status=0
stamp=$(mktemp) || exit 2
trap 'rm -f "$stamp"' EXIT

for t in "$@"; do
	bin=$FUZZ_DIR/fuzz_$t seeds=tests/fuzz/corpus/$t
	work=$FUZZ_DIR/corpus/$t crashes=$FUZZ_DIR/crashes/$t log=$FUZZ_DIR/logs/$t.log
	dict=tests/fuzz/$t.dict
	case $t in reader | convert) dict=tests/fuzz/timeline.dict ;; esac
	if [ ! -x "$bin" ]; then
		echo "fuzz $t: not built ($bin)"
		status=1
		continue
	fi
	mkdir -p "$work" "$crashes" "$(dirname "$log")" "$seeds"
	touch "$stamp" # what is newer was found by this run
	opts=(-timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1
		-artifact_prefix="$crashes/")
	[ -f "$dict" ] && opts+=(-dict="$dict")
	# Regression: every kept input once.
	if ! "$bin" "${opts[@]}" -runs=0 "$seeds" >"$log" 2>&1; then
		echo "fuzz $t: a kept input fails again (log: $log)"
		grep -E 'ERROR|invariant|SUMMARY' "$log" | head -5
		status=1
		continue
	fi
	kept=$(find "$seeds" -type f | wc -l)
	"$bin" "${opts[@]}" -seed="$FUZZ_SEED" -max_total_time="$FUZZ_TIME" "$work" "$seeds" \
		>>"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	found=$(find "$crashes" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
		-o -name 'oom-*' \) -newer "$stamp" | wc -l)
	cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1)
	corp=$(grep -oE 'corp: [0-9]+/[0-9]+[a-zA-Z]*' "$log" | tail -1)
	printf 'fuzz %-8s %10s executions in %ss (%s/s), %s, %s, %d kept inputs, %d crashes\n' \
		"$t" "${execs:-?}" "$FUZZ_TIME" "${rate:-?}" "${cov:-cov: ?}" "${corp:-corp: ?}" \
		"$kept" "$found"
	if [ "$rc" -ne 0 ] || [ "$found" -gt 0 ]; then
		grep -E 'ERROR|invariant|SUMMARY|^    #[0-9] ' "$log" | head -12
		echo "fuzz $t: failed (log: $log, inputs in $crashes)"
		status=1
	fi
done
exit $status
