#!/usr/bin/env python3
"""Summarise a Perfetto protobuf trace for the tests, from protoc's decoding of it.

    protoc --decode=perfetto.protos.Trace memstate_subset.proto <t.pftrace | pftrace.py QUERY

Reads protoc's text format on stdin (no protobuf library needed), rebuilds the tracks
(uuid -> name, parent, process pid/name, counter unit), the interned names, and the events,
checking on the way what trace_processor relies on: every event's track was described
first; interned ids are defined (once, on sequence 1) before use; slices begin and end in
pairs per track, never before the last one ended. Then prints what QUERY asks:

    tracks              one line per track: "pid name unit" (pid of its process)
    counters PID NAME   "last max n" of that counter track of process PID
    counter-sum PID NAME  the sum of its values
    instants PID TRACK  one line per instant: "name key=value..."
    slices PID          "begun ended" slices under the process's "mappings" lanes
"""
import re
import sys

TOKEN = re.compile(r'\s*(?:(\})|([A-Za-z_0-9]+)\s*\{|([A-Za-z_0-9]+)\s*:\s*("(?:[^"\\]|\\.)*"|[^\s]+))')


def unquote(s):
    if not s.startswith('"'):
        try:
            return int(s)
        except ValueError:
            return s
    out, body, i = bytearray(), s[1:-1], 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out += c.encode("utf-8")
            i += 1
            continue
        n = body[i + 1]
        if n in "01234567":
            j = i + 1
            while j < len(body) and j < i + 4 and body[j] in "01234567":
                j += 1
            out.append(int(body[i + 1:j], 8))
            i = j
            continue
        out += {"n": b"\n", "t": b"\t", "r": b"\r", '"': b'"', "'": b"'", "\\": b"\\"}.get(n, n.encode())
        i += 2
    return out.decode("utf-8")


def parse(text):
    """protoc text format -> nested dicts of lists."""
    root, stack, pos = {}, [], 0
    cur = root
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m:
            if text[pos:].strip():
                raise SystemExit("cannot parse at: %r" % text[pos:pos + 60])
            break
        pos = m.end()
        if m.group(1):
            cur = stack.pop()
        elif m.group(2):
            child = {}
            cur.setdefault(m.group(2), []).append(child)
            stack.append(cur)
            cur = child
        else:
            cur.setdefault(m.group(3), []).append(unquote(m.group(4)))
    if stack:
        raise SystemExit("unbalanced braces")
    return root


def one(d, key, default=None):
    v = d.get(key)
    return v[0] if v else default


def main():
    trace = parse(sys.stdin.read())
    tracks, names, cats, das = {}, {}, {}, {}
    counters, instants, open_slices, slices = {}, {}, {}, {}
    cleared = False
    last_end = {}
    for p in trace.get("packet", []):
        if one(p, "trusted_packet_sequence_id") != 1:
            raise SystemExit("a packet off sequence 1")
        if one(p, "sequence_flags", 0) & 1:
            cleared = True
        for idata in p.get("interned_data", []):
            if not cleared:
                raise SystemExit("interned data before the state was cleared")
            for table, into in (("event_names", names), ("event_categories", cats),
                                ("debug_annotation_names", das)):
                for e in idata.get(table, []):
                    iid = one(e, "iid")
                    if iid in into:
                        raise SystemExit("%s iid %d defined twice" % (table, iid))
                    into[iid] = one(e, "name")
        for td in p.get("track_descriptor", []):
            uuid = one(td, "uuid")
            t = tracks.setdefault(uuid, {})
            parent = one(td, "parent_uuid")
            if parent is not None and parent not in tracks:
                raise SystemExit("track %d's parent %d is not described" % (uuid, parent))
            t.update({"name": one(td, "name", t.get("name")), "parent": parent})
            pr = one(td, "process")
            if pr:
                t["pid"] = one(pr, "pid")
                t["name"] = one(pr, "process_name", t.get("name"))
            c = one(td, "counter")
            if c is not None:
                t["unit"] = one(c, "unit", "UNIT_UNSPECIFIED")
        for te in p.get("track_event", []):
            ts = one(p, "timestamp")
            if ts is None:
                raise SystemExit("an event without a timestamp")
            uuid = one(te, "track_uuid")
            if uuid not in tracks:
                raise SystemExit("event on undescribed track %s" % uuid)
            kind = one(te, "type")
            if kind == "TYPE_COUNTER":
                vals = [(uuid, one(te, "counter_value"))]
                vals += list(zip(te.get("extra_counter_track_uuids", []),
                                 te.get("extra_counter_values", [])))
                for u, v in vals:
                    if "unit" not in tracks[u]:
                        raise SystemExit("counter value on track %d, not a counter" % u)
                    counters.setdefault(u, []).append((ts, v))
                continue
            if one(p, "sequence_flags", 0) & 2 == 0 and (te.get("name_iid") or te.get("debug_annotations")):
                raise SystemExit("interned ids without SEQ_NEEDS_INCREMENTAL_STATE")
            name = None
            if one(te, "name_iid") is not None:
                name = names.get(one(te, "name_iid"))
                if name is None:
                    raise SystemExit("name iid %d not interned" % one(te, "name_iid"))
            for c in te.get("category_iids", []):
                if c not in cats:
                    raise SystemExit("category iid %d not interned" % c)
            args = []
            for a in te.get("debug_annotations", []):
                key = das.get(one(a, "name_iid"))
                if key is None:
                    raise SystemExit("annotation name iid not interned")
                val = [v for k, v in a.items() if k != "name_iid"][0][0]
                args.append("%s=%s" % (key, val))
            if kind == "TYPE_INSTANT":
                instants.setdefault(uuid, []).append(" ".join([name] + args))
            elif kind == "TYPE_SLICE_BEGIN":
                if uuid in open_slices:
                    raise SystemExit("slice begun on track %d while one is open" % uuid)
                if ts < last_end.get(uuid, 0):
                    raise SystemExit("slice begins before the last one ended")
                open_slices[uuid] = ts
                slices.setdefault(uuid, [0, 0])[0] += 1
            elif kind == "TYPE_SLICE_END":
                if uuid not in open_slices or ts < open_slices.pop(uuid):
                    raise SystemExit("slice end without its begin, or before it")
                last_end[uuid] = ts
                slices[uuid][1] += 1
    if open_slices:
        raise SystemExit("slices left open: %d" % len(open_slices))

    def pid_of(u):
        while u is not None and "pid" not in tracks[u]:
            u = tracks[u]["parent"]
        return tracks[u]["pid"] if u is not None else None

    def find(pid, name):
        for u, t in tracks.items():
            if t.get("name") == name and pid_of(u) == pid and "pid" not in t:
                return u
        return None

    q = sys.argv[1:]
    if q[0] == "tracks":
        for u in sorted(tracks):
            t = tracks[u]
            print(pid_of(u), t.get("name"), t.get("unit", "-"))
    elif q[0] in ("counters", "counter-sum"):
        vals = [v for _, v in counters.get(find(int(q[1]), q[2]), [])]
        if q[0] == "counters":
            print(vals[-1] if vals else None, max(vals) if vals else None, len(vals))
        else:
            print(sum(vals))
    elif q[0] == "instants":
        for line in instants.get(find(int(q[1]), q[2]), []):
            print(line)
    elif q[0] == "slices":
        group = find(int(q[1]), "mappings")
        b = e = 0
        for u, t in tracks.items():
            if t.get("parent") == group and group is not None:
                b += slices.get(u, [0, 0])[0]
                e += slices.get(u, [0, 0])[1]
        print(b, e)


main()
