#!/usr/bin/env python3
"""The cost of the Python layer: the same operations through Python (ctypes)
and through C, in one run, on one target.

    XA_BUILD=build-bench /usr/bin/python3 bench/bench_python.py [TARGET]

TARGET defaults to the l4 ELF dump of the test guest.  The C side is
bench_python_helper.c, compiled here against the same library.  Operations:
a full process list; a kernel-symbol read (look up "jiffies", read 8 bytes);
a 1 MiB read of kernel text.
"""
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
import xenaccess  # noqa: E402
from xenaccess import _lib  # noqa: E402

REPS = {"proclist": 50, "symread": 50000, "read1m": 250}
DEFAULT = "file:" + os.path.join(os.environ.get("XA_CACHE", "/var/tmp/xenaccess-cache"),
                                 "dumps", "l4", "core.elf")


ROUNDS = 5  # each figure is the best of ROUNDS rounds: the machine is shared and noisy


def python_side(target):
    best = {k: float("inf") for k in REPS}
    with xenaccess.open(target) as vm:
        stext = vm.symbol("_stext")
        nprocs = len(list(vm.processes()))
        ops = {"proclist": lambda: [p for p in vm.processes()],
               "symread": lambda: vm.read_u64(vm.symbol("jiffies")),
               "read1m": lambda: vm.read(stext, 1 << 20)}
        for _ in range(ROUNDS):
            for k, op in ops.items():
                t0 = time.perf_counter_ns()
                for _ in range(REPS[k] // ROUNDS):
                    op()
                best[k] = min(best[k], (time.perf_counter_ns() - t0) / (REPS[k] // ROUNDS))
    return best, nprocs


def c_side(target, lib):
    libdir = os.path.dirname(os.path.abspath(lib))
    with tempfile.TemporaryDirectory() as tmp:
        exe = os.path.join(tmp, "helper")
        subprocess.run(["cc", "-std=c11", "-O2", "-D_GNU_SOURCE", "-I",
                        os.path.join(HERE, "..", "include"), os.path.join(HERE,
                        "bench_python_helper.c"), "-o", exe, "-L", libdir, "-l:" +
                        os.path.basename(lib), "-Wl,-rpath," + libdir], check=True)
        best = {}
        for _ in range(ROUNDS):
            out = subprocess.run([exe, target] + [str(REPS[k] // ROUNDS) for k in
                                                  ("proclist", "symread", "read1m")],
                                 capture_output=True, text=True, check=True).stdout
            for k, v in (line.split() for line in out.splitlines()):
                best[k] = min(best.get(k, float("inf")), float(v))
    return best


def fmt(ns):
    if ns >= 1e6:
        return "%.2f ms" % (ns / 1e6)
    return "%.2f us" % (ns / 1e3) if ns >= 1e3 else "%.0f ns" % ns


def main():
    target = sys.argv[1] if len(sys.argv) > 1 else DEFAULT
    lib = xenaccess.library_path()
    if _lib.needs_asan(lib):
        sys.exit("bench_python: %s is a sanitizer build; set XA_BUILD to an optimised build" % lib)
    c = c_side(target, lib)
    py, nprocs = python_side(target)
    print("Python (ctypes) vs C, same library (%s), target %s; best of %d rounds"
          % (lib, target, ROUNDS))
    print("%-34s %12s %12s %8s" % ("operation", "C", "Python", "Py/C"))
    names = {"proclist": "process list (%d processes)" % nprocs,
             "symread": "kernel symbol read (jiffies, 8 B)", "read1m": "1 MiB read (kernel text)"}
    for k in ("proclist", "symread", "read1m"):
        print("%-34s %12s %12s %7.2fx" % (names[k], fmt(c[k]), fmt(py[k]), py[k] / c[k]))


if __name__ == "__main__":
    main()
