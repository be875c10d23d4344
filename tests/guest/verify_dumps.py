#!/usr/bin/env python3
"""Sanity-check a dump set written by `harness.py make-dumps` (stdlib only).

    python3 tests/guest/verify_dumps.py DIR [DIR...]

Checks raw.img size, core.elf PT_LOAD segments, regs.txt (CR3/CR4/EFER of
CPU0), truth.json contents, and that a software page walk from CPU0's CR3
(4- or 5-level, according to CR4.LA57) translates linux_banner to the text
of /proc/version, and finds the heap marker string in raw.img.
Exit status 0 when everything holds.
"""

import json
import os
import re
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import parse_regs  # noqa: E402

PAGE_MASK = 0x000FFFFFFFFFF000


class Phys:
    def __init__(self, path):
        self.f = open(path, "rb")
        self.size = os.path.getsize(path)

    def read(self, pa, n):
        self.f.seek(pa)
        return self.f.read(n)

    def q(self, pa):
        return struct.unpack("<Q", self.read(pa, 8))[0]


def translate(mem, cr3, va, la57):
    """Return the physical address of va, or None."""
    levels = [48, 39, 30, 21, 12] if la57 else [39, 30, 21, 12]
    table = cr3 & PAGE_MASK
    for i, shift in enumerate(levels):
        e = mem.q(table + ((va >> shift) & 0x1FF) * 8)
        if not e & 1:
            return None
        last = i == len(levels) - 1
        if not last and shift in (30, 21) and e & 0x80:  # 1G / 2M page
            return (e & PAGE_MASK & ~((1 << shift) - 1)) | (va & ((1 << shift) - 1))
        table = e & PAGE_MASK
    return table | (va & 0xFFF)


def elf_loads(path):
    with open(path, "rb") as f:
        h = f.read(64)
        if h[:4] != b"\x7fELF" or h[4] != 2:
            raise ValueError("not an ELF64 file")
        phoff, = struct.unpack_from("<Q", h, 32)
        phentsize, phnum = struct.unpack_from("<HH", h, 54)
        loads = []
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            p_type, _fl, off, vaddr, paddr, filesz, memsz, _al = struct.unpack("<IIQQQQQQ", f.read(56))
            if p_type == 1:
                loads.append((paddr, filesz, off))
        return loads


def verify(d):
    errs = []

    def check(cond, msg):
        print(("  ok   " if cond else "  FAIL ") + msg)
        if not cond:
            errs.append(msg)

    print(d)
    t = json.load(open(os.path.join(d, "truth.json")))
    raw = os.path.join(d, "raw.img")
    check(os.path.getsize(raw) == t["dump"]["ram_bytes"],
          "raw.img size %d == RAM %d" % (os.path.getsize(raw), t["dump"]["ram_bytes"]))
    loads = elf_loads(os.path.join(d, "core.elf"))
    low = sum(x[1] for x in loads if x[0] < 0xE0000000)  # (the rest: BIOS ROM at 0xfffc0000)
    check(len(loads) > 0 and low == t["dump"]["ram_bytes"],
          "core.elf: %d PT_LOAD segments, %d bytes of RAM below 3.5G" % (len(loads), low))
    regs = parse_regs(open(os.path.join(d, "regs.txt")).read())
    cpu0 = regs.get(0, {})
    check(all(k in cpu0 for k in ("CR3", "CR4", "EFER")), "regs.txt has CR3/CR4/EFER for CPU0")
    la57 = bool(cpu0.get("CR4", 0) & (1 << 12))
    check(la57 == t["boot"]["la57_requested"], "CR4.LA57=%s as requested" % la57)
    check(len(t["procs"]) > 300, "%d processes in truth" % len(t["procs"]))
    check(sum(p["comm"].startswith("xaw-") for p in t["procs"]) >= t["boot"]["nproc"],
          "all xaw-* workload processes present")
    check(len(t["modules"]) > 0 and all(int(m["addr"], 16) for m in t["modules"]),
          "%d modules with non-zero addresses" % len(t["modules"]))
    check(len(t["kallsyms"]) > 100 and all(int(s["addr"], 16) for s in t["kallsyms"]),
          "%d kallsyms samples, non-zero" % len(t["kallsyms"]))
    check({"init_task", "linux_banner", "_text"} <= set(t["symbols"]), "key symbols present")
    check(len(t["markers"]) == 3, "3 marker lines")
    mem = Phys(raw)
    banner = t["symbols"].get("linux_banner")
    if banner and "CR3" in cpu0:
        pa = translate(mem, cpu0["CR3"], int(banner, 16), la57)
        got = mem.read(pa, 200).split(b"\0")[0].decode(errors="replace").strip() if pa else None
        check(got == t["version"], "page walk: linux_banner -> pa %s matches /proc/version"
              % (hex(pa) if pa else None))
    with open(raw, "rb") as f:
        data = f.read()
    for m in t["markers"]:
        check(m["str"].encode() in data, "marker %s (%s) found in raw.img" % (m["str"], m["kind"]))
    return errs


def main():
    bad = 0
    for d in sys.argv[1:]:
        bad += len(verify(d))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
