#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the hand-made seeds of tests/fuzz/corpus/ (run from anywhere; rewrites them).

  reader, convert  timelines from tests/data (valid, malformed, cut short at a few
                   places); the captured ones (cap_*) were written by `memstate run`
                   and are kept as files, not made here
  space            operation scripts for fuzz_space.c (6 bytes an operation)
  infer            syscall scripts for fuzz_infer.c (a selector byte, then its arguments)
  chan             hostile-program scripts for fuzz_chan.c (an op byte, a slot byte, ...)

The byte layouts are those the harnesses read; see the comment above each function.
Fixed crash reproducers (crash-*, minimised) are not made here, nor the regression inputs
of reader/*.lines<N> (a timeline's first N lines, cut in its closing sections).
"""
import os
import shutil
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
DATA = os.path.join(ROOT, "tests", "data")
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ------------------------------------------------------------------ timelines

MALFORMED = """bad_escape.json bad_utf8.json deep_nesting.json duplicate_member.json
duplicate_section.json huge_number.json jsonl_after_summary.jsonl jsonl_bad_line.jsonl
jsonl_header_not_first.jsonl jsonl_second_header.jsonl jsonl_two_on_a_line.jsonl
lone_surrogate.json long_number.json nul_escape.json page_size_not_pow2.json
pid_too_big.json region_wraps.json truncated_header.jsonl truncated_in_string.json
unknown_op.json used_without_prepared.json""".split()


def timelines():
    for name in ("known.json", "fork_exec.jsonl"):
        with open(os.path.join(DATA, name), "rb") as f:
            data = f.read()
        for t in ("reader", "convert"):
            put(t, name, data)
        # Cut short: inside the header, between items, inside a string, one byte short.
        for cut in (60, len(data) // 3, len(data) // 2 + 7, len(data) - 1):
            put("reader", "%s.cut%d" % (name, cut), data[:cut])
        if name.endswith(".jsonl"):  # a JSONL timeline cut between lines is accepted
            nl = data.rfind(b"\n", 0, len(data) // 2) + 1
            put("convert", name + ".cut_line", data[:nl])
    for name in MALFORMED:
        shutil.copyfile(os.path.join(DATA, "malformed", name),
                        os.path.join(CORPUS, "reader", "malformed_" + name))


# ------------------------------------------------------------------ space
# An operation: kind (op 0-12; 13 fork, 14 exec, 15 compare), first page, count
# (1 + cnt%8, or 1 + cnt%128 when cnt & 0x80), flags (source fl%4: 0 syscall, 1 uprobe,
# 2 api; stat (fl>>2)%4; ENOMEM when (fl>>4)%16 == 0; sysUsed's count exact when fl>>6),
# range mutation (>= 0xf0: misaligned, zero, NULL, wrapping, far away), extra.

ALLOC, RESERVE, MAP, USED, UNUSED, FREE, FAULT, HUGE, NOHUGE, COLLAPSE, PFAULT, THP, FILE = range(13)
FORK, EXEC, CHECK = 13, 14, 15
API_HEAP = 2 | 1 << 2 | 1 << 4 | 1 << 6
API_STACK = 2 | 2 << 2 | 1 << 4 | 1 << 6
SYSCALL = 0 | 1 << 4 | 1 << 6
UPROBE = 1 | 1 << 2 | 1 << 4 | 1 << 6


def op(kind, page=0, count=1, fl=API_HEAP, mut=0, extra=0):
    c = count - 1 if count <= 8 else 0x80 | (count - 1)
    return bytes([kind, page, c, fl, mut, extra])


def space():
    go = [op(RESERVE, 0, 64), op(MAP, 0, 16), op(USED, 0, 16), op(UNUSED, 4, 4),
          op(USED, 4, 4), op(HUGE, 0, 16), op(COLLAPSE, 0, 16), op(NOHUGE, 8, 8),
          op(FAULT, 8, 4), op(MAP, 8, 4), op(CHECK), op(FREE, 0, 64), op(CHECK)]
    put("space", "go_lifecycle", b"".join(go))
    faults = [op(ALLOC, 10, 4), op(PFAULT, 10, fl=1), op(MAP, 20, 4, fl=SYSCALL),
              op(PFAULT, 21, extra=7), op(RESERVE, 30, 4), op(PFAULT, 31, fl=1),
              op(MAP, 30, 2), op(PFAULT, 30), op(THP, 20, 4), op(CHECK)]
    put("space", "faults", b"".join(faults))
    procs = [op(RESERVE, 0, 32), op(MAP, 0, 8), op(FORK), op(USED, 0, 8), op(EXEC),
             op(ALLOC, 100, 8, fl=API_STACK), op(FORK), op(FREE, 100, 8, fl=API_STACK)]
    put("space", "fork_exec", b"".join(procs))
    bad = [op(RESERVE, 0, 16)]
    for m in range(8):
        bad.append(op([MAP, FREE, USED, RESERVE, HUGE, ALLOC, UNUSED, FAULT][m], 0, 4,
                      mut=0xf0 | m, extra=33))
    put("space", "bad_ranges", b"".join(bad))
    files = [op(FILE, 40, 8, fl=SYSCALL), op(USED, 40, 4), op(UNUSED, 42, 4, fl=SYSCALL),
             op(COLLAPSE, 40, 8), op(HUGE, 40, 8), op(FREE, 40, 8, fl=SYSCALL), op(CHECK)]
    put("space", "file_maps", b"".join(files))
    wrong = [op(RESERVE, 0, 8), op(RESERVE, 4, 8), op(USED, 0, 4), op(MAP, 0, 4),
             op(USED, 0, 4, fl=API_HEAP & ~(3 << 6), extra=1), op(FREE, 0, 4, fl=API_STACK),
             op(FREE, 0, 8), op(FREE, 0, 8), op(HUGE, 60, 2), op(UNUSED, 0, 2),
             op(RESERVE, 50, 4, fl=2 | 1 << 2), op(MAP, 200, 100, fl=UPROBE), op(CHECK)]
    put("space", "violations", b"".join(wrong))


# ------------------------------------------------------------------ infer
# First byte: bit 0 = ignore file mappings. Then a selector (%12) and its bytes:
#  0/1 mmap, 2 mmap fixed: b (prot b%4: none, rw, r, rwx; type (b>>2)%4: anon, anon,
#      file, shared; 0x40 hint/noreplace), page/2, count-1 (%48), odd length
#  3 munmap: page/2, count-1 (%64), odd     4/5 mprotect/pkey_mprotect: page/2, count-1, prot
#  6 madvise: page/2, count-1, advice (dontneed, free, huge, nohuge, collapse, willneed)
#  7 mremap: b (1 maymove, 2 dontunmap), page/2, old-1, new-1, [destination/2]
#  8 brk: x, y                    9/10 page fault: page/2, +1
#  11: a byte; over 0xf0 a garbage record: b, ret and 5 arguments (u64 each)

def infer():
    none, rw, anon_rw, file_r, shared = 0, 1, 1, 2 << 2 | 2, 3 << 2 | 1
    s = [0,
         2, none, 0, 31, 0,        # reserve 32 pages at 0
         4, 0, 7, rw,              # sysMap the first 8
         9, 0, 0, 9, 1, 1,         # touch two of them
         6, 0, 3, 0,               # dontneed
         6, 0, 7, 2, 6, 0, 7, 4,   # hugepage, collapse
         5, 4, 3, 0,               # pkey_mprotect back to none
         7, 1, 0, 31, 47,          # mremap grow in place (maymove)
         3, 0, 63, 0]              # munmap all
    put("infer", "reserve_map_free", bytes(s))
    s = [0, 8, 0, 0, 8, 10, 0, 8, 0x85, 7, 8, 2, 0, 9, 224, 0, 8, 63, 201]
    put("infer", "brk", bytes(s))
    for ign in (0, 1):
        s = [ign,
             0, file_r, 10, 3, 0,      # private file mapping
             1, shared, 40, 7, 100,    # shared anonymous, odd length
             4, 10, 3, 1,              # mprotect over the file
             7, 1, 10, 3, 7, 80,       # mremap the file, moving
             2, file_r | 0x40, 60, 0, 0,  # noreplace over free pages
             3, 10, 40, 0]
        put("infer", "files_ignore%d" % ign, bytes(s))
    s = [0,
         2, anon_rw, 5, 7, 0,          # 8 pages at page 10
         7, 3, 5, 7, 7, 100,           # mremap DONTUNMAP to about page 200
         2, anon_rw | 0x40, 5, 3, 0,   # noreplace over it: EEXIST
         0, anon_rw | 0x80, 0, 3, 251,  # refused mmap
         4, 100, 3, 1,                 # mprotect a hole: ENOMEM
         6, 0, 63, 0,                  # madvise over holes
         7, 0, 100, 3, 9,              # mremap of nothing: EFAULT
         3, 5, 7, 4095 % 256]
    put("infer", "refusals", bytes(s))
    g = [0, 2, rw, 0, 15, 0, 11, 0xff, 0x50] + list(struct.pack("<6Q", 4096, 3, 8192, 3, 0x22, 0))
    g += [11, 0xf8, 0x41] + list(struct.pack("<6Q", 5, 0x40000000, 1 << 40, 7, 0, 0))
    g += [11, 0xf1, 0x06] + list(struct.pack("<6Q", 0, 0x40001000, 0x2000, 4, 0, 0))
    put("infer", "garbage", bytes(g))


# ------------------------------------------------------------------ chan
# A step: op (%9), a (slot: a%64 when a & 0x40, else a%3; owner (a>>2)%5: our child, the
# tracer, init, a gone pid, not a pid). Ops: 0 claim; 1 push: u8 (0xff floods the ring),
# then an event (b: odd -> raw bytes, else op b>>1, and addr, len, arg, stat, tid bytes);
# 2 stat name: index, 32 bytes; 3 scribble on the ring header: field, u64; 4/5 poll;
# 6 scribble while the tracer reads: field, u64; 7 raw record: u16 index, bytes; 8 give up.

def chan_event(opn, addr=0, ln=1, arg=0, stat=1, note=False):
    """A plausible event: op, page, length-1 (%16), prepared pages, stat, no tid."""
    return [opn << 1 | (0x80 if note else 0), addr, ln, arg, stat, 0]


def chan():
    s = [0, 0,                                          # claim slot 0 as our child
         2, 0, 1] + list(b"heap".ljust(32, b"\0"))      # stat 1 = "heap"
    s += [1, 4, 0] + chan_event(1, 0, 15)               # 5 sysReserve
    s += [1, 0, 0] + chan_event(2, 0, 3, stat=1)        # sysMap
    s += [4, 0]
    s += [1, 0, 0] + chan_event(3, 0, 3, arg=4)         # sysUsed
    s += [1, 0, 0] + chan_event(5, 0, 15, note=True)    # sysFree, a note
    s += [5, 0]
    put("chan", "child_ops", bytes(s))
    s = []
    for owner in range(5):  # a slot each, claimed in someone else's name
        a = owner << 2 | (owner % 3)
        s += [0, a, 1, a, 0] + chan_event(1, owner, 2)
    s += [4, 0, 8, 1, 4, 0]
    put("chan", "owners", bytes(s))
    s = [0, 0, 1, 0, 0xff] + chan_event(0, 0, 1) + [4, 0, 4, 0]
    put("chan", "flood", bytes(s))
    s = [0, 0, 1, 7, 0] + chan_event(1)
    for field in range(8):
        s += [3, 0, field] + list(struct.pack("<Q", 0xffffffff00000000 | field * 977))
        s += [1, 1, 0] + chan_event(0) + [4, 0]
    s += [0, 1, 1, 9, 0] + chan_event(2) + [6, 1, 2] + list(struct.pack("<Q", 12345)) + [4, 1]
    put("chan", "scribble", bytes(s))
    s = [0, 0, 2, 0, 1] + [0x41] * 32 + [1, 0, 0] + chan_event(0, stat=1) + [4, 0]
    s += [7, 0, 1, 0] + [0xff] * 64 + [1, 3, 0, 1] + [0x5a] * 64 + [4, 0]
    put("chan", "raw_bytes", bytes(s))


if __name__ == "__main__":
    timelines()
    space()
    infer()
    chan()
