#!/usr/bin/env python3
"""Kernel discovery on a small and a 16 GiB raw image (issue 13, item 2):
time to a usable handle (xa_init_opts, which runs discovery) and the bytes of
the image file it touched, side by side.

    python3 bench/discovery_scale.py --build build-rel [--small RAW] [--big RAW]

Time: the median of --runs runs of `xa-info` (process start to exit, page
cache warm). Touched bytes: the image's pages dropped from the page cache
(posix_fadvise DONTNEED), one `xa-info` run, then mincore() over the file:
every page the run read (holes included, read-around off: the file backend
maps with MADV_RANDOM). The big image comes from bench/big_dump.py.
"""

import argparse
import ctypes
import mmap
import os
import statistics
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.environ.get("XA_CACHE", "/var/tmp/xenaccess-cache")
_libc = ctypes.CDLL(None, use_errno=True)


def resident_bytes(path):
    """Bytes of @path in the page cache (mincore() over a fresh mapping)."""
    size = os.path.getsize(path)
    _libc.mmap.restype = ctypes.c_void_p
    _libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                           ctypes.c_int, ctypes.c_long]
    _libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    _libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
    fd = os.open(path, os.O_RDONLY)
    try:
        addr = _libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
        if addr in (None, ctypes.c_void_p(-1).value):
            raise OSError(ctypes.get_errno(), "mmap " + path)
        pages = (size + mmap.PAGESIZE - 1) // mmap.PAGESIZE
        vec = (ctypes.c_ubyte * pages)()
        rc = _libc.mincore(addr, size, vec)
        _libc.munmap(addr, size)
    finally:
        os.close(fd)
    if rc != 0:
        raise OSError(ctypes.get_errno(), "mincore")
    return sum(v & 1 for v in bytes(vec)) * mmap.PAGESIZE


def drop_cache(path):
    """Drop @path's clean pages from the page cache (pages mapped elsewhere stay)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def run_info(exe, path):
    t0 = time.perf_counter()
    p = subprocess.run([exe, "file:" + path], capture_output=True, text=True, timeout=600)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit("xa-info %s failed: %s" % (path, p.stderr.strip()))
    return dt, p.stdout


def touched_bytes(exe, path):
    """Bytes of the image one cold discovery touched."""
    drop_cache(path)
    before = resident_bytes(path)
    run_info(exe, path)
    return resident_bytes(path) - before, before


def measure(exe, path, runs):
    touched, left = touched_bytes(exe, path)
    times = [run_info(exe, path)[0] for _ in range(runs)]
    return {"touched": touched, "left_resident": left, "median_s": statistics.median(times),
            "size": os.path.getsize(path)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.environ.get("XA_BUILD", os.path.join(ROOT, "build")))
    ap.add_argument("--small", default=os.path.join(CACHE, "dumps", "l4", "raw.img"))
    ap.add_argument("--big", default=os.path.join(CACHE, "big16", "raw.img"))
    ap.add_argument("--runs", type=int, default=9)
    a = ap.parse_args()
    exe = os.path.join(a.build, "tools", "xa-info")
    rows = [(name, measure(exe, path, a.runs)) for name, path in (("small", a.small),
                                                                   ("big", a.big))]
    print("%-6s %10s %12s %14s  %s" % ("image", "file", "xa-info", "touched", "path"))
    for name, r in rows:
        print("%-6s %7d MiB %9.1f ms %10.1f MiB  %s" % (
            name, r["size"] >> 20, r["median_s"] * 1e3, r["touched"] / 2**20,
            a.small if name == "small" else a.big))
    print("big / small time: %.2fx" % (rows[1][1]["median_s"] / rows[0][1]["median_s"]))


if __name__ == "__main__":
    main()
