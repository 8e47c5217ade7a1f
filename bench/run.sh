#!/usr/bin/env bash
# make bench: every benchmark, each printing ratios or rates measured in its own run.
# Results are copied into BENCHMARKS.md by hand, with the machine and the date.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
quick=${1:-}
echo "== machine: $(nproc) CPUs, $(uname -r), $(date -u +%Y-%m-%d)"
echo
echo "== libmemstate (bench_lib)"
"$BUILD/bench/bench_lib" $quick
echo
echo "== TUI frames (bench_tui)"
"$BUILD/bench/bench_tui" $quick
echo
if [ "$(id -u)" -eq 0 ] && [ -r /sys/kernel/btf/vmlinux ]; then
	echo "== eBPF capture (bench_ebpf)"
	"$BUILD/bench/bench_ebpf" $quick
else
	echo "== eBPF capture: skipped (needs root and kernel BTF)"
fi
echo
echo "== whole memstate run: start-up, drain, timeline (bench/bench_run.sh)"
BUILD=$BUILD bench/bench_run.sh $([ -n "$quick" ] && echo 3 200000 128)
echo
echo "== capture tools side by side (bench/capture.sh)"
BUILD=$BUILD bench/capture.sh $([ -n "$quick" ] && echo 3)
echo
echo "== export (bench/bench_export.sh)"
BUILD=$BUILD bench/bench_export.sh $([ -n "$quick" ] && echo 200000)
echo
echo "== verdicts: diff and the HTML page (bench/bench_verdict.sh)"
BUILD=$BUILD bench/bench_verdict.sh $([ -n "$quick" ] && echo 200000 1)
echo
echo "== Go programs (bench/bench_go.sh)"
BUILD=$BUILD bench/bench_go.sh $([ -n "$quick" ] && echo 3)
echo
echo "== load (bench/load.sh)"
if [ -n "$quick" ]; then
	BUILD=$BUILD bench/load.sh 100000 200000
else
	BUILD=$BUILD bench/load.sh
fi
