# Shared by the reliability_*.bats suites: run memstate under a fault and check what it
# left behind: its exit and last line, a timeline that validates and that `check`
# agrees with, every call the program logged present (burst's LOG), drops counted, and
# no traced process left running or stopped.

load helpers

PROGS=$BUILD/tests/progs
SCHEMA=$ROOT/docs/timeline.schema.json
TOOLS=$ROOT/tests/data/tools

# caps: the capture sources to try here (ebpf only as root with BTF).
caps() {
	echo ptrace
	[ "$(id -u)" -eq 0 ] && [ -r /sys/kernel/btf/vmlinux ] && echo ebpf
	return 0
}

# need_cap CAP: skip (or fail under MEMSTATE_REQUIRE_BPF=1) when CAP cannot run here.
need_cap() {
	[ "$1" = ebpf ] && require_root_bpf
	return 0
}

# valid_timeline FILE: the JSON Schema holds and `memstate check` agrees with every event.
valid_timeline() {
	local out rc=0
	out=$(python3 "$TOOLS/validate_timeline.py" "$SCHEMA" "$1" 2>&1) || rc=$?
	[ "$rc" -eq 77 ] && out="" rc=0 # python3-jsonschema missing: deps.sh installs it
	[ "$rc" -eq 0 ] || fail "schema: $out"
	rc=0
	out=$("$MEMSTATE" check -q "$1" 2>&1) || rc=$?
	[ "$rc" -le 1 ] || fail "check could not read $1: $out"
	[[ $out == *"agrees with the recorded timeline"* ]] || fail "check: $out"
}

# burst_complete TIMELINE LOG: every call burst logged is in the timeline (one event
# each), printed as "logged N missing M dropped D". Addresses repeat: matched as a
# multiset.
burst_complete() {
	python3 - "$1" "$2" <<'PY'
import collections, json, sys
path, log = sys.argv[1], sys.argv[2]
if path.endswith(".jsonl"):
    events, summary = [], {}
    for line in open(path):
        o = json.loads(line)
        if o["type"] == "event":
            events.append(o)
        elif o["type"] == "summary":
            summary = o
else:
    d = json.load(open(path))
    events, summary = d["events"], d["summary"]
kinds = {("sysAlloc", "mmap"): "mmap", ("sysUnused", "madvise"): "unused",
         ("sysFault", "mprotect"): "fault", ("sysFree", "munmap"): "free",
         ("sysReserve", "mmap"): "reserve"}
have = collections.Counter()
for e in events:
    k = kinds.get((e["op"], e.get("syscall")))
    if k and e["source"] == "syscall" and not e.get("result"):
        have[(k, e["addr"], e["len"])] += 1
logged = missing = 0
for line in open(log):
    w = line.split()
    if len(w) != 3:
        continue  # a line cut by the kill: the call may not have returned
    logged += 1
    key = (w[0], int(w[1]), int(w[2]))
    if have[key] > 0:
        have[key] -= 1
    else:
        missing += 1
print("logged %d missing %d dropped %d" % (logged, missing, summary.get("dropped_events", -1)))
PY
}

# no_leftovers MARKER: no process whose command line holds MARKER is alive or stopped.
no_leftovers() {
	local left i
	for i in $(seq 20); do # an exiting process may take a moment to leave
		# (by command name: MARKER is often under bats' own temporary directory)
		left=$(pgrep -af -- "$1" | awk '$2 !~ /(^|\/)(bats[^ ]*|bash|pgrep)$/' || true)
		[ -z "$left" ] && return 0
		sleep 0.1
	done
	pkill -9 -f -- "$1" || true
	fail "left behind: $left"
}

# state_of PID: its state letter (t: stopped by a tracer), empty when gone.
state_of() {
	sed -nE 's/^State:\s+(\S).*/\1/p' "/proc/$1/status" 2>/dev/null || true
}

# log_grows_past LOG N: wait (up to 5 s) until the program has logged more than N calls.
log_grows_past() {
	for _ in $(seq 100); do
		[ "$(wc -l <"$1" 2>/dev/null || echo 0)" -gt "$2" ] && return 0
		sleep 0.05
	done
}
