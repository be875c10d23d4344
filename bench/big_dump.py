#!/usr/bin/env python3
"""Make a sparse raw image of a 16 GiB guest whose kernel sits high in
physical memory, for the discovery-scaling test and bench (issue 13, item 2).

    python3 bench/big_dump.py --out DIR [--mem-gib 16]

How, and why this way: a kernel cannot be moved inside a dump (its page
tables hold physical addresses), so a real guest is booted with 16 GiB under
TCG, its RAM in a sparse memory-backend-file (RAM the guest never touches is
never allocated). The kernel's physical KASLR picks a random 2 MiB slot;
`memmap=2944M$16M` marks [16 MiB, 2960 MiB) reserved, which the decompressor
avoids, so the slot is almost surely above 4 GiB (112 MiB of slots are left
below 3 GiB for swiotlb and DMA32, 13 GiB above 4 GiB). The script checks
where "Kernel code" landed (/proc/iomem) and says so.

The raw image is guest-physical from 0: the pc machine puts the first 3 GiB
of RAM at [0, 3 GiB) and the rest at [4 GiB, 4 GiB + rest), so the RAM file
is copied in two parts, holes kept (SEEK_DATA/SEEK_HOLE). Writes DIR/raw.img
(sparse, 17 GiB long) and DIR/meta.json (kernel_code physical range, sizes).
"""

import argparse
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "guest"))
from harness import Guest  # noqa: E402

LOW_RAM = 3 << 30      # pc machine: RAM below the PCI hole when RAM >= 3.5 GiB
HIGH_START = 4 << 30   # where the rest of RAM starts
RESERVE = "memmap=2944M$16M"


class HighKernelGuest(Guest):
    """A harness guest whose kernel command line also reserves low memory."""

    def qemu_cmdline(self, kernel, initrd):
        args = super().qemu_cmdline(kernel, initrd)
        i = args.index("-append")
        args[i + 1] += " " + RESERVE
        return args


def copy_sparse(src, dst, src_off, dst_off, length):
    """Copy [src_off, src_off + length) of src to dst at dst_off, data only."""
    end = src_off + length
    pos = src_off
    copied = 0
    while pos < end:
        try:
            data = os.lseek(src, pos, os.SEEK_DATA)
        except OSError:
            break
        if data >= end:
            break
        hole = min(os.lseek(src, data, os.SEEK_HOLE), end)
        off = data
        while off < hole:
            n = min(hole - off, 8 << 20)
            buf = os.pread(src, n, off)
            # Skip whole zero chunks too: tmpfs may hold zero pages as data.
            if buf.count(0) != len(buf):
                os.pwrite(dst, buf, dst_off + (off - src_off))
                copied += len(buf)
            off += n
        pos = hole
    return copied


def kernel_code(iomem):
    for line in iomem.splitlines():
        if "Kernel code" in line:
            lo, hi = line.split(":")[0].strip().split("-")
            return int(lo, 16), int(hi, 16)
    raise SystemExit("no 'Kernel code' line in /proc/iomem")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--mem-gib", type=int, default=16)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    mem = a.mem_gib << 30
    t0 = time.time()
    g = HighKernelGuest("big%d" % a.mem_gib, mem_mb=mem >> 20, nproc=100, boot_timeout=1800)
    try:
        code = kernel_code(g.run("cat /proc/iomem"))
        g.qmp("stop")
        raw = os.path.join(a.out, "raw.img")
        if os.path.exists(raw):
            os.unlink(raw)
        src = os.open(g.ram_path, os.O_RDONLY)
        dst = os.open(raw, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            os.ftruncate(dst, HIGH_START + mem - LOW_RAM)
            n = copy_sparse(src, dst, 0, 0, LOW_RAM)
            n += copy_sparse(src, dst, LOW_RAM, HIGH_START, mem - LOW_RAM)
        finally:
            os.close(src)
            os.close(dst)
    finally:
        g.shutdown()
    meta = {"mem_bytes": mem, "file_bytes": HIGH_START + mem - LOW_RAM, "data_bytes": n,
            "kernel_code": [code[0], code[1]], "cmdline_extra": RESERVE,
            "seconds": round(time.time() - t0, 1)}
    with open(os.path.join(a.out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print("raw image %s: %d GiB RAM, %d MiB of data, kernel code at 0x%x (%s 4 GiB)"
          % (raw, a.mem_gib, n >> 20, code[0], "above" if code[0] >= HIGH_START else "BELOW"))


if __name__ == "__main__":
    main()
