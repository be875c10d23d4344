#!/usr/bin/env python3
"""Seeds for fuzz_netread.c (tests/fuzz/corpus/netread/): a ring of records
across a wrap with a gap, a 32-bit ring to be found by its shape, a chain of sockets and a cycle, a UNIX and a TCPv6
socket, a table of nulls buckets. Layouts as tests/unit/test_netread.c.
Run: python3 tests/fuzz/make_seeds_netread.py (keeps regress-* files)."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "netread")
BASE = 0xffff888000000000
NODE = 0x10


def header(mode, where, extra=0, count=0, stride=0, kind=0):
    return struct.pack("<BHHHBB", mode, where, extra, count, stride, kind)


def ring():
    mem = bytearray(0x2000)
    rb, descs, infos, data = 0x100, 0x200, 0x400, 0x1000
    cbits, sbits = 3, 8
    struct.pack_into("<I", mem, rb, cbits)
    struct.pack_into("<QQ", mem, rb + 8, BASE + descs, BASE + infos)
    struct.pack_into("<I", mem, rb + 0x40, sbits)
    struct.pack_into("<Q", mem, rb + 0x48, BASE + data)
    lpos = 0
    for seq in range(12):
        text = b"record number %02d" % seq
        blk = (8 + len(text) + 7) & ~7
        begin, nxt, at = lpos, lpos + blk, lpos % 256
        if begin // 256 != (nxt - 1) // 256:
            nxt, at = (begin // 256 + 1) * 256 + blk, 0
        lpos = nxt
        idx, ident = seq & 7, seq + 800
        state = 3 if seq == 6 else 2
        struct.pack_into("<Q", mem, data + at, ident)
        mem[data + at + 8:data + at + 8 + len(text)] = text
        struct.pack_into("<QQQ", mem, descs + idx * 24, state << 62 | ident, begin, nxt)
        struct.pack_into("<QQHBBI", mem, infos + idx * 0x58, seq, seq * 1000, len(text),
                         seq & 1, (seq & 7) << 5, seq)
    struct.pack_into("<QQ", mem, rb + 0x18, 811, 804)
    return header(0, rb) + bytes(mem)


def ring32():
    """A 32-bit kernel's ring (i386 layout, text ring at +24) among junk,
    for the search by shape (mode 0 with bit 7)."""
    base32 = 0xC1000000
    mem = bytearray(0x3000)
    for i in range(0, 0x100, 4):  # decoys: count_bits-like words, pointers
        struct.pack_into("<II", mem, i, 5 + i % 20, base32 + i)
    rb, descs, infos, data = 0x200, 0x300, 0x600, 0x2000
    cbits, sbits = 5, 10
    struct.pack_into("<III", mem, rb, cbits, base32 + descs, base32 + infos)
    struct.pack_into("<II", mem, rb + 24, sbits, base32 + data)
    lpos = 0
    for seq in range(8):
        text = b"r32 record %d" % seq
        blk = (4 + len(text) + 3) & ~3
        ident = seq + 0x100
        struct.pack_into("<I", mem, data + lpos, ident)
        mem[data + lpos + 4:data + lpos + 4 + len(text)] = text
        struct.pack_into("<III", mem, descs + seq * 12, 2 << 30 | ident, lpos, lpos + blk)
        struct.pack_into("<QQHBBI", mem, infos + seq * 88, seq, seq * 1000, len(text), 0,
                         6 << 5, seq)
        lpos += blk
    struct.pack_into("<II", mem, rb + 12, 7 + 0x100, 0x100)
    return header(0x80, 0) + bytes(mem)


def chain(cycle):
    mem = bytearray(0x800)
    head, socks = 0x40, [0x100, 0x200, 0x300]
    link = head
    for s in socks:
        struct.pack_into("<Q", mem, link, BASE + s + NODE)
        struct.pack_into("<Q", mem, s + NODE + 8, BASE + link)
        link = s + NODE
    struct.pack_into("<Q", mem, link, BASE + socks[0] + NODE if cycle else 0x2b)
    return header(1, head, kind=1) + bytes(mem)


def unix_sock():
    mem = bytearray(0x400)
    sk, ua = 0x100, 0x300
    struct.pack_into("<HB", mem, sk + 12, 1, 10)
    struct.pack_into("<HH", mem, sk + 0x48, 1, 0)
    struct.pack_into("<Q", mem, sk + 0x70, BASE + ua)
    struct.pack_into("<i", mem, ua + 4, 2 + 7)
    mem[ua + 10:ua + 17] = b"\0ab\0c\n\0"
    return header(2, sk, kind=4) + bytes(mem)


def tcp6_sock():
    mem = bytearray(0x400)
    sk, sa = 0x100, 0x200
    struct.pack_into("<HHHB", mem, sk + 8, 0x5b1b, 7003, 10, 1)
    mem[sk + 0x2f] = 1
    mem[sk + 0x3f] = 1
    struct.pack_into("<QHH", mem, sk + 0x40, BASE + sa, 1, 6)
    struct.pack_into("<Q", mem, sa + 0x48, 4242)
    return header(2, sk, kind=1) + bytes(mem)


def table():
    mem = bytearray(0x1400)
    tab, s = 0x40, 0x1000
    for i in range(64):
        struct.pack_into("<Q", mem, tab + 8 * i, 1 | i << 1)
    struct.pack_into("<Q", mem, tab + 8 * 17, BASE + s + NODE)
    struct.pack_into("<QQ", mem, s + NODE, 0x23, BASE + tab + 8 * 17)
    return header(3, tab, 0, 64, 8, 1) + bytes(mem)


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if not f.startswith("regress-"):
            os.unlink(os.path.join(OUT, f))
    seeds = {"ring-wrap-gap": ring(), "ring32-by-shape": ring32(), "chain": chain(False), "chain-cycle": chain(True),
             "unix-abstract": unix_sock(), "tcp6": tcp6_sock(), "nulls-table": table()}
    for name, blob in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(blob)


if __name__ == "__main__":
    main()
