#!/usr/bin/env python3
"""Write the malformed-timeline corpus: make_malformed.py [--big] DIR

Each file is a memstate timeline broken in one way; `memstate check` must exit 2 with
exactly one line on stderr for every one of them (tests/bats/export.bats). The small files
are kept in tests/data/malformed/; --big writes the large ones (giant string, giant file
of nesting) that are not worth keeping in git, for the tests to make in a temp dir.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BASE = open(os.path.join(HERE, "known.json"), "rb").read()
LINES = BASE.split(b"\n")
JSONL_HEADER = (b'{"type":"header","format":"memstate-timeline","version":1,'
                b'"command":["x"],"page_size":4096}\n')
JSONL_EVENT = (b'{"type":"event","seq":0,"t_ns":0,"pid":1,"tid":1,"source":"api",'
               b'"op":"sysReserve","addr":268435456,"len":65536,"to":"Reserved",'
               b'"from":{"None":65536},"violation":null,"result":0}\n')
JSONL_SUMMARY = (b'{"type":"summary","bytes":{"Reserved":65536,"Prepared":0,"Ready":0},'
                 b'"peak_bytes":{"Reserved":65536,"Prepared":0,"Ready":0},"events":1,'
                 b'"violations":0,"page_faults":0,"thp_collapses":0,"dropped_events":0}\n')


def sub(old, new, count=1):
    assert old in BASE, old
    return BASE.replace(old, new, count)


def small():
    ev0 = LINES[2]
    yield "truncated.json", BASE[:len(BASE) // 2]
    yield "truncated_in_string.json", BASE[:BASE.index(b'"sysMap"') + 4]
    yield "truncated_header.jsonl", JSONL_HEADER[:40]
    yield "empty.json", b""
    yield "only_whitespace.json", b"  \n\t\n"
    yield "not_json.txt", b"hello, this is not a timeline\n"
    yield "array_top.json", b"[" + BASE + b"]"
    yield "empty_object.json", b"{}"
    yield "wrong_version.json", sub(b'"version":1', b'"version":2')
    yield "version_string.json", sub(b'"version":1', b'"version":"1"')
    yield "wrong_format.json", sub(b'"format":"memstate-timeline"', b'"format":"chrome-trace"')
    yield "no_format.json", sub(b'"format":"memstate-timeline",', b"")
    yield "huge_number.json", sub(b'"addr":268435456', b'"addr":184467440737095516160')
    yield "huge_exponent.json", sub(b'"addr":268435456', b'"addr":1e400')
    yield "long_number.json", sub(b'"addr":268435456', b'"addr":' + b"9" * 200)
    yield "fraction.json", sub(b'"len":65536', b'"len":65536.5')
    yield "negative.json", sub(b'"addr":268435456', b'"addr":-4096')
    yield "pid_too_big.json", sub(b'"pid":100', b'"pid":4294967296')
    yield "leading_zero.json", sub(b'"seq":1,', b'"seq":01,')
    yield "deep_nesting.json", sub(b'"capture":"api"', b'"capture":"api","x":' + b"[" * 40 + b"]" * 40)
    yield "nesting_bomb.json", b'{"format":"memstate-timeline","x":' + b"[" * 100000
    yield "bad_utf8.json", sub(b'"known"', b'"kn\xffown"')
    yield "overlong_utf8.json", sub(b'"known"', b'"kn\xc0\xafown"')
    yield "surrogate_utf8.json", sub(b'"known"', b'"kn\xed\xa0\x80own"')
    yield "truncated_utf8.json", sub(b'"known"', b'"kn\xe2\x82"')
    yield "lone_surrogate.json", sub(b'"known"', b'"kn\\ud800own"')
    yield "nul_in_string.json", sub(b'"known"', b'"kn\x00own"')
    yield "nul_escape.json", sub(b'"known"', b'"kn\\u0000own"')
    yield "nul_between_tokens.json", sub(b'"version":1,', b'"version":1,\x00')
    yield "raw_newline_in_string.json", sub(b'"known"', b'"kn\nown"')
    yield "bad_escape.json", sub(b'"known"', b'"kn\\xown"')
    yield "single_quotes.json", sub(b'"known"', b"'known'")
    yield "bom.json", b"\xef\xbb\xbf" + BASE
    yield "giant_key.json", sub(b'"capture":"api"', b'"capture":"api","' + b"k" * 1000 + b'":1')
    yield "events_not_array.json", sub(b'"events":[', b'"events":{"x":[').replace(b"\n],\n\"violations\"", b"\n]},\n\"violations\"", 1)
    yield "event_not_object.json", sub(ev0, b"1,")
    yield "addr_is_string.json", sub(b'"addr":268435456', b'"addr":"0x10000000"')
    yield "op_is_number.json", sub(b'"op":"sysReserve"', b'"op":1')
    yield "missing_op.json", sub(b'"op":"sysReserve",', b"")
    yield "unknown_op.json", sub(b'"op":"sysReserve"', b'"op":"sysExplode"')
    yield "unknown_state.json", sub(b'"from":{"None":65536}', b'"from":{"Gone":65536}')
    yield "unknown_violation.json", sub(b'"kind":"double-free","message":"sysFree', b'"kind":"triple-free","message":"sysFree')
    yield "used_without_prepared.json", sub(b',"prepared":16384', b"")
    yield "duplicate_member.json", sub(b'"addr":268435456,', b'"addr":268435456,"addr":0,')
    yield "duplicate_section.json", sub(b'\n"violations":[', b'\n"events":[],\n"violations":[')
    yield "trailing_comma.json", sub(b'"write":true}\n]', b'"write":true},\n]')
    yield "missing_comma.json", sub(b'"seq":1,"t_ns"', b'"seq":1 "t_ns"')
    yield "trailing_garbage.json", BASE + b"{}"
    yield "header_after_events.json", sub(b'"page_size":4096,', b"").replace(b'"summary":{', b'"page_size":4096,"summary":{', 1)
    yield "page_size_not_pow2.json", sub(b'"page_size":4096', b'"page_size":3000')
    yield "region_wraps.json", sub(b'"addr":268468224,"len":32768', b'"addr":18446744073709547520,"len":32768')
    yield "region_state_none.json", sub(b'"state":"Reserved"', b'"state":"None"')
    yield "summary_not_object.json", sub(b'"summary":{"bytes"', b'"summary":[{"bytes"').replace(b'"lost_ops":0}}\n', b'"lost_ops":0}]}\n')
    yield "jsonl_bad_line.jsonl", JSONL_HEADER + b"{oops}\n" + JSONL_SUMMARY
    yield "jsonl_second_header.jsonl", JSONL_HEADER + JSONL_HEADER + JSONL_SUMMARY
    yield "jsonl_after_summary.jsonl", JSONL_HEADER + JSONL_EVENT + JSONL_SUMMARY + JSONL_EVENT
    yield "jsonl_two_on_a_line.jsonl", JSONL_HEADER + JSONL_EVENT.rstrip(b"\n") + JSONL_EVENT + JSONL_SUMMARY
    yield "jsonl_no_type.jsonl", JSONL_HEADER + JSONL_EVENT.replace(b'"type":"event",', b"") + JSONL_SUMMARY
    yield "jsonl_not_object.jsonl", JSONL_HEADER + b"[1,2,3]\n" + JSONL_SUMMARY
    yield "jsonl_header_not_first.jsonl", JSONL_EVENT + JSONL_HEADER + JSONL_SUMMARY
    yield "jsonl_wrong_version.jsonl", JSONL_HEADER.replace(b'"version":1', b'"version":7') + JSONL_SUMMARY


def big():
    yield "giant_string.json", sub(b'"known"', b'"' + b"A" * (2 << 20) + b'"')
    yield "giant_item.json", sub(b'"capture":"api"', b'"capture":"api","x":[' + b",".join([b'"' + b"B" * 60000 + b'"'] * 300) + b"]")


def main():
    args = sys.argv[1:]
    make = big if args and args[0] == "--big" else small
    out = args[-1] if args and args[-1] != "--big" else os.path.join(HERE, "malformed")
    os.makedirs(out, exist_ok=True)
    for name, data in make():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
