#!/usr/bin/env bash
# Every output memstate derives from a saved timeline (check, report, report --json,
# convert to perfetto-json, perfetto-json --ops, svg, json, jsonl), for every timeline under
# tests/data and the sample runs recorded in tests/data/golden/in (samples/zoo, goheap 40;
# the malformed ones through check and jsonl only), into OUT:
# OUT/<input>.<kind> holds stdout, then "--- stderr", stderr, and "--- exit N".
#
#   tests/data/golden/make.sh MEMSTATE OUT [KIND...]
#
# tests/data/golden/out/ was made with this script from the code before the folders were
# reorganised (commit d705075); tests/bats/golden.bats runs it with today's memstate and
# wants the same bytes. Regenerate the goldens only for a deliberate change of an output.
set -u
cd "$(dirname "$0")/../../.." || exit 2
memstate=$1 out=$2
shift 2
kinds=${*:-check report report_json perfetto perfetto_ops svg json jsonl}
mkdir -p "$out"

run_kind() { # KIND INPUT
	case $1 in
	check) "$memstate" check "$2" ;;
	report) "$memstate" report "$2" ;;
	report_json) "$memstate" report --json "$2" ;;
	perfetto) "$memstate" convert --to perfetto-json "$2" ;;
	perfetto_ops) "$memstate" convert --to perfetto-json --ops "$2" ;;
	svg) "$memstate" convert --to svg "$2" ;;
	json) "$memstate" convert --to json "$2" ;;
	jsonl) "$memstate" convert --to jsonl "$2" ;;
	esac
}

for input in tests/data/*.json tests/data/*.jsonl tests/data/malformed/* tests/data/golden/in/*; do
	[ -f "$input" ] || continue
	name=${input#tests/data/}
	name=${name//\//_}
	for kind in $kinds; do
		# Malformed inputs: the reader's error, through two commands, is enough.
		case $input:$kind in
		*/malformed/*:check | */malformed/*:jsonl) ;;
		*/malformed/*) continue ;;
		esac
		{
			run_kind "$kind" "$input" 2>"$out/.stderr"
			status=$?
			echo "--- stderr"
			cat "$out/.stderr"
			echo "--- exit $status"
		} >"$out/$name.$kind"
	done
done
rm -f "$out/.stderr"
