"""Seeds of fuzz_arm64 (called by make_seeds.py; runnable alone):
AArch64 translation tables built here, in fuzz_arm64.c's input format:
flags, VA bits, TTBR0, TTBR1, four VAs, then physical memory from 0."""
import os
import struct
import sys

VALID, TABLE, AF, AP_EL0, AP_RO = 1, 3, 1 << 10, 1 << 6, 1 << 7


def seed(flags, bits, ttbr0, ttbr1, vas, mem):
    return struct.pack("<BBQQ4Q", flags, bits, ttbr0, ttbr1, *vas) + bytes(mem)


def put(mem, table, index, desc):
    struct.pack_into("<Q", mem, table + index * 8, desc)


def idx(va, level):
    return (va >> (12 + 9 * (3 - level))) & 0x1ff


def arm64_seeds(d):
    kva, uva = 0xffff800008123456, 0x0000ffffcf9d2350
    # 48-bit: kernel page, 2 MiB and 1 GiB blocks under TTBR1, a user page under TTBR0.
    mem = bytearray(0x9000)
    put(mem, 0x1000, idx(kva, 0), 0x2000 | TABLE)
    put(mem, 0x2000, idx(kva, 1), 0x3000 | TABLE)
    put(mem, 0x3000, idx(kva, 2), 0x4000 | TABLE)
    put(mem, 0x4000, idx(kva, 3), 0x8000 | TABLE | AF)
    put(mem, 0x3000, idx(kva + (2 << 20), 2), 0x200000 | VALID | AF | AP_RO)
    lin = 0xffff000040000000
    put(mem, 0x1000, idx(lin, 0), 0x2000 | TABLE)
    put(mem, 0x2000, idx(lin, 1), 0x40000000 | VALID | AF)
    put(mem, 0x5000, idx(uva, 0), 0x6000 | TABLE)
    put(mem, 0x6000, idx(uva, 1), 0x7000 | TABLE)
    put(mem, 0x7000, idx(uva, 2), 0x8000 | TABLE)
    put(mem, 0x8000, idx(uva, 3), 0x1000 | TABLE | AF | AP_EL0)
    vas = [kva, kva + (2 << 20), lin + 0x1234, uva]
    with open(os.path.join(d, "va48"), "wb") as f:
        f.write(seed(0, 48, 0x5000, 0x1000, vas, mem))
    with open(os.path.join(d, "va48-wrap"), "wb") as f:
        f.write(seed(2 | 8, 48, 0x5000 | 1, 0x1000 | (5 << 48), vas, mem))
    # 39-bit: three levels from level 1.
    k39 = 0xffffffc008010abc
    m39 = bytearray(0x4000)
    put(m39, 0x1000, idx(k39, 1), 0x2000 | TABLE)
    put(m39, 0x2000, idx(k39, 2), 0x3000 | TABLE)
    put(m39, 0x3000, idx(k39, 3), 0x1000 | TABLE | AF)
    with open(os.path.join(d, "va39"), "wb") as f:
        f.write(seed(0, 39, 0, 0x1000, [k39, k39 + 0x1000, 0xffffffffffffffff, 0], m39))
    # 52-bit with LPA2: five levels, OA bits 51:50 in descriptor bits 9:8.
    k52 = 0xfff0000012345678
    m52 = bytearray(0x6000)
    put(m52, 0x1000, 0, 0x2000 | TABLE)
    put(m52, 0x2000, idx(k52, 0), 0x3000 | TABLE)
    put(m52, 0x3000, idx(k52, 1), 0x4000 | TABLE)
    put(m52, 0x4000, idx(k52, 2), 0x5000 | TABLE)
    put(m52, 0x5000, idx(k52, 3), 0x1000 | (1 << 8) | TABLE | AF)
    with open(os.path.join(d, "va52-lpa2"), "wb") as f:
        f.write(seed(1, 52, 0, 0x1000, [k52, k52 ^ 0x1000, 0xfff8000000000000, 0], m52))
    # A table that maps itself at every level.
    selfmap = bytearray(0x2000)
    for i in range(512):
        put(selfmap, 0x1000, i, 0x1000 | TABLE)
    with open(os.path.join(d, "self-map"), "wb") as f:
        f.write(seed(0, 48, 0x1000, 0x1000, [kva, 0xfffffffffffff000, 0, uva], selfmap))


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus", "arm64")
    os.makedirs(out, exist_ok=True)
    arm64_seeds(out)
