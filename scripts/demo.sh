#!/usr/bin/env bash
# make demo: trace the bundled goheap sample with memstate and show what happened to its
# memory. As root the eBPF probe adds page faults; otherwise the ptrace fallback runs.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
MEMSTATE=$BUILD/bin/memstate
out=$BUILD/demo
mkdir -p "$out"
echo "== memstate run -o $out/goheap.json -- goheap   (a Go-style heap on libmemstate)"
"$MEMSTATE" run -o "$out/goheap.json" -- "$BUILD/samples/goheap"
echo
echo "== memstate check $out/goheap.json   (replay the timeline through the checker)"
"$MEMSTATE" check "$out/goheap.json"
if "$MEMSTATE" report --help >/dev/null 2>&1; then
	echo
	echo "== memstate report $out/goheap.json"
	"$MEMSTATE" report "$out/goheap.json"
fi
echo
echo "Next: memstate view $out/goheap.json   (replay it in the state map)"
