#!/usr/bin/env bash
# make demo: run the bundled goheap sample with the library's own timeline output and
# show what happened to its memory.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
out=$BUILD/demo
mkdir -p "$out"
echo "== goheap: a Go-style heap driving libmemstate"
MEMSTATE_OUT=$out/goheap.json "$BUILD/samples/goheap"
echo
echo "== transitions recorded in $out/goheap.json"
python3 - "$out/goheap.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["summary"]
moves = {}
for e in d["events"]:
    for src, n in e["from"].items():
        if e["to"] and src != e["to"]:
            k = (src, e["to"])
            moves[k] = moves.get(k, 0) + n
print("%-22s %12s" % ("transition", "bytes"))
for (a, b), n in sorted(moves.items(), key=lambda kv: -kv[1]):
    print("%-22s %12d" % (a + " -> " + b, n))
print("events %d, violations %d, peak Ready %d KiB, peak footprint %d KiB" % (
    s["events"], s["violations"], s["peak_bytes"]["Ready"] >> 10, s["peak_footprint"] >> 10))
PY
