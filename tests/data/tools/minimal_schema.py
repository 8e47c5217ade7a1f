#!/usr/bin/env python3
"""Derive docs/timeline.minimal.schema.json from docs/timeline.schema.json.

    minimal_schema.py COMPLETE_SCHEMA [OUT]

The complete schema says what memstate writes; the minimal one what every reader
accepts (SPEC section 7): the header's format, version and page_size, and each event's
seq, t_ns, pid, op, addr, len (prepared on sysUsed, ppid on procFork). Every other
member and section stays optional but, when present, keeps its complete definition:
the two schemas cannot drift apart (tests/bats/minimal.bats regenerates and compares).
"""
import copy
import json
import sys

TOP = ["format", "version", "page_size", "events"]
HEADER = ["format", "version", "page_size"]
EVENT = ["seq", "t_ns", "pid", "op", "addr", "len"]


def main():
    s = copy.deepcopy(json.load(open(sys.argv[1])))
    s["$id"] = "urn:memstate:timeline:1:minimal"
    s["title"] = "memstate timeline, version 1: what readers accept (minimal)"
    s["description"] = (
        "Generated from timeline.schema.json by tests/data/tools/minimal_schema.py. "
        "What every memstate reader (check, report, view, convert) accepts: only the "
        "header's format, version and page_size and each event's seq, t_ns, pid, op, "
        "addr and len are required (prepared on sysUsed). Recorded states, violations, "
        "regions, processes and summary are optional: readers compute what is left out. "
        "A JSON Lines timeline validates line by line against #/$defs/line.")
    s["required"] = TOP
    s["$defs"]["header"]["required"] = HEADER
    s["$defs"]["event"]["required"] = EVENT
    out = json.dumps(s, indent=2) + "\n"
    if len(sys.argv) > 2:
        open(sys.argv[2], "w").write(out)
    else:
        sys.stdout.write(out)


if __name__ == "__main__":
    main()
