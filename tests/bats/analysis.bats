#!/usr/bin/env bats
# docs/analysis.md: every SQL query in it, run by DuckDB (@duckdb/node-api under build/npm,
# installed by `make deps`; no network at test time) on timelines as memstate writes them,
# answers what memstate's own `report --json` and `check` say about the same files:
#   - trace.jsonl.zst: a recorded Go run (tests/data/analysis: samples/go, one round, eBPF
#     and uprobes) with its ReadMemStats marks (marks.jsonl);
#   - fleet/: the bug zoo and goheap through MEMSTATE_OUT, plain and .zst, and a file cut
#     short as a killed run leaves it.

load helpers

# The npm tools are not part of a build (nor sanitized): `make deps` puts them under
# build/npm, which a sanitized build (BUILD=build/asan) uses too.
NPM=$BUILD/npm
[ -d "$NPM/node_modules" ] || NPM=$ROOT/build/npm

setup_file() {
	local d=$BATS_FILE_TMPDIR z
	command -v node >/dev/null && [ -d "$NPM/node_modules/@duckdb/node-api" ] || return 0
	cp "$ROOT/tests/data/analysis/gophases.jsonl.zst" "$d/trace.jsonl.zst"
	cp "$ROOT/tests/data/analysis/gophases.marks.jsonl" "$d/marks.jsonl"
	mkdir -p "$d/fleet"
	for z in double_free misaligned illegal_transition; do
		MEMSTATE_OUT=$d/fleet/$z.jsonl.zst "$SAMPLES/zoo/$z" >/dev/null 2>&1 3>&-
	done
	MEMSTATE_OUT=$d/fleet/accounting_mismatch.jsonl "$SAMPLES/zoo/accounting_mismatch" \
		>/dev/null 2>&1 3>&-
	MEMSTATE_OUT=$d/fleet/goheap.jsonl "$SAMPLES/goheap" 100 >/dev/null 3>&-
	head -c 3000 "$d/fleet/goheap.jsonl" >"$d/fleet/killed.jsonl"
	# every query of the doc, once
	(cd "$d" && node "$ROOT/tests/analysis/run_sql.mjs" "$NPM" "$ROOT/docs/analysis.md") \
		>"$d/answers.json" 2>"$d/answers.err"
}

setup() {
	command -v node >/dev/null || skip "node is not installed (make deps)"
	[ -d "$NPM/node_modules/@duckdb/node-api" ] ||
		skip "@duckdb/node-api is not installed under $NPM (make deps)"
	D=$BATS_FILE_TMPDIR
}

# answer PYTHON: evaluate PYTHON with `a` = the queries' answers (integers as ints).
answer() {
	python3 -c '
import json, sys
def ints(v):
    if isinstance(v, list): return [ints(x) for x in v]
    if isinstance(v, dict): return {k: ints(x) for k, x in v.items()}
    if isinstance(v, str) and v.lstrip("-").isdigit(): return int(v)
    return v
a = ints(json.load(open(sys.argv[1])))
print(eval(sys.argv[2]))' "$D/answers.json" "$1"
}

# report_json FILE PYTHON: PYTHON over `r`, memstate report --json FILE.
report_json() {
	"$MEMSTATE" report --json "$1" | python3 -c '
import json, sys
r = json.load(sys.stdin)
print(eval(sys.argv[1]))' "$2"
}

@test "every query in docs/analysis.md runs" {
	run cat "$D/answers.err"
	assert_output ""
	run -0 answer 'sorted(a)'
	assert_output "['bytes_over_time', 'fleet_by_exe', 'fleet_cut_short', 'fleet_files', 'go_stats_at_marks', 'top_regions_by_faults', 'violations_by_kind']"
}

@test "bytes per state over time: the last row is report's final, the largest its peak" {
	local s
	for s in Reserved Prepared Ready; do
		run -0 answer "(a['bytes_over_time'][-1]['${s,,}'], max(r['${s,,}'] for r in a['bytes_over_time']))"
		assert_output "$(report_json "$D/trace.jsonl.zst" "(r['processes'][0]['bytes']['$s']['final'], r['processes'][0]['bytes']['$s']['peak'])")"
	done
}

@test "top regions by faults: report's top five" {
	run -0 answer '[(r["addr"], r["len"], r["faults"], r["made_by"], r["made_seq"]) for r in a["top_regions_by_faults"]]'
	assert_output "$(report_json "$D/trace.jsonl.zst" '[(t["addr"], t["len"], t["faults"], t["made_by"], t["made_seq"]) for t in r["processes"][0]["top_regions_by_faults"]][:5]')"
}

@test "Go stats at marks add up to MemStats.Sys (+ page rounding) at every mark" {
	run -0 answer 'sorted({m: sum(r["bytes"] for r in a["go_stats_at_marks"] if r["mark"] == m) for m in {r["mark"] for r in a["go_stats_at_marks"]}}.items())'
	local want
	want=$(python3 -c 'import json, sys
print(sorted((m["mark"], m["sys"] + m["rounding"]) for m in map(json.loads, open(sys.argv[1]))))' "$D/marks.jsonl")
	assert_output "$want"
	[ "$(wc -l <"$D/marks.jsonl")" -ge 5 ]
}

@test "violations by kind over the fleet: what check counts file by file" {
	local f want
	want=$(for f in "$D"/fleet/*; do "$MEMSTATE" check "$f" 2>/dev/null | tail -1; done |
		python3 -c 'import re, sys, collections
c = collections.Counter()
for line in sys.stdin:
    m = re.search(r"violations? \(([^)]*)\)", line)
    for part in (m.group(1).split(", ") if m else []):
        k, n = part.rsplit(" ", 1)
        c[k] += int(n)
print(sorted(c.items()))')
	run -0 answer 'sorted((r["kind"], r["violations"]) for r in a["violations_by_kind"])'
	assert_output "$want"
}

@test "fleet roll-up: each file's events and violations as check has them; the cut one listed" {
	local f name want=""
	for f in "$D"/fleet/*; do
		name=fleet/${f##*/}
		run "$MEMSTATE" check "$f"
		[ "$status" -le 1 ] || fail "check $f: $output"
		[[ $output == *"cut short"* ]] && continue
		local last=${lines[${#lines[@]} - 1]}
		local ev=${last#*: } vi
		ev=${ev%% events*}
		vi=${last#*process*, }
		vi=${vi%% violation*}
		want+="('$name', $ev, $vi)"$'\n'
	done
	run -0 answer '"\n".join(str((r["filename"], r["events"], r["violations"])) for r in a["fleet_files"])'
	assert_output "${want%$'\n'}"
	run -0 answer '[r["filename"] for r in a["fleet_cut_short"]]'
	assert_output "['fleet/killed.jsonl']"
	# per executable: the zoo programs one process each, goheap twice (the cut copy has no
	# process line)
	run -0 answer 'sorted((r["exe"].rsplit("/", 1)[-1], r["processes"], r["violations"]) for r in a["fleet_by_exe"])'
	assert_output "[('accounting_mismatch', 1, 1), ('double_free', 1, 1), ('goheap', 1, 0), ('illegal_transition', 1, 1), ('misaligned', 1, 1)]"
}
