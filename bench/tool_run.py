#!/usr/bin/env python3
"""A whole tool run on a dump (issue 13's last rows; docs/bench.md).

    python3 bench/tool_run.py [--build build-rel] [--runs 30] DUMP [TOOL]

Runs `TOOL file:DUMP` (xa-ps by default) --runs times, each beside a run of
the same binary with --help (the same executable and libraries loaded, no
target: what any process costs to start here), in alternating order, and
prints a table: wall time (median, and the mean as `perf stat -r` gives
it), CPU time (user + system, from wait4), peak RSS, and the shared objects
the run loaded (ld.so's own count, LD_DEBUG=files, dlopen()ed backends
included), each beside the baseline measured in the same run and its
target. Processes are started with posix_spawn and reaped with wait4, so
the wall time is the child's life plus a spawn, not Python's.
"""

import argparse
import os
import re
import statistics
import sys
import tempfile
import time

TARGETS = {"wall": 30.0, "rss": 64.0, "libs": 12}


def run_once(argv, env=None):
    """(wall ms, cpu ms, peak RSS MiB, exit status) of one run, output discarded."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        acts = [(os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)]
        t0 = time.perf_counter()
        pid = os.posix_spawn(argv[0], argv, env if env is not None else os.environ,
                             file_actions=acts)
        _, status, ru = os.wait4(pid, 0)
        wall = (time.perf_counter() - t0) * 1000
    finally:
        os.close(devnull)
    return wall, (ru.ru_utime + ru.ru_stime) * 1000, ru.ru_maxrss / 1024, status


def shared_objects(argv):
    """The shared objects ld.so initialised in one run (LD_DEBUG=files)."""
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, LD_DEBUG="files", LD_DEBUG_OUTPUT=os.path.join(d, "ld"))
        _, _, _, status = run_once(argv, env)
        text = "".join(open(os.path.join(d, f)).read() for f in os.listdir(d))
    objs = set(re.findall(r"calling init: (\S+)", text))
    return len(objs), status


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.environ.get("XA_BENCH_BUILD", "build-rel"))
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("dump")
    ap.add_argument("tool", nargs="?", default="xa-ps")
    a = ap.parse_args()
    exe = os.path.abspath(os.path.join(a.build, "tools", a.tool))
    if not os.path.exists(a.dump):
        sys.exit("tool_run: no dump at %s" % a.dump)
    work, base = [exe, "file:" + a.dump], [exe, "--help"]
    status = run_once(work)[3]  # also warms the page cache
    if status != 0:
        sys.exit("tool_run: %s exited with status %d" % (" ".join(work), status))
    runs = {"work": [], "base": []}
    for r in range(a.runs):
        for kind in (("work", "base") if r % 2 == 0 else ("base", "work")):
            runs[kind].append(run_once(work if kind == "work" else base))
    libs, _ = shared_objects(work)
    base_libs, _ = shared_objects(base)

    def col(kind, i):
        return [x[i] for x in runs[kind]]

    print("%s file:%s, %d runs each beside `%s --help` (alternating; posix_spawn + wait4)\n"
          % (a.tool, a.dump, a.runs, a.tool))
    print("| %-36s | %10s | %-34s | %9s | %-4s |" % ("row", "measured", "baseline, same run",
                                                   "target", "met"))
    print("|%s|%s|%s|%s|%s|" % ("-" * 38, "-" * 12, "-" * 36, "-" * 11, "-" * 6))

    def row(name, value, unit, baseline, target):
        met = "yes" if target is None or value <= target else "no"
        tgt = "<= %g %s" % (target, unit) if target is not None else ""
        print("| %-36s | %6.1f %-3s | %-34s | %9s | %-4s |" % (name, value, unit, baseline, tgt,
                                                             met if target is not None else ""))

    wall, bwall = col("work", 0), col("base", 0)
    row("whole run, wall, median", statistics.median(wall), "ms",
        "--help %.1f ms" % statistics.median(bwall), TARGETS["wall"])
    row("whole run, wall, mean", statistics.mean(wall), "ms",
        "--help %.1f ms" % statistics.mean(bwall), TARGETS["wall"])
    row("whole run, CPU (user + sys), median", statistics.median(col("work", 1)), "ms",
        "--help %.1f ms" % statistics.median(col("base", 1)), None)
    row("peak RSS, largest", max(col("work", 2)), "MiB",
        "--help %.1f MiB" % max(col("base", 2)), TARGETS["rss"])
    print("| %-36s | %10d | %-34s | %9s | %-4s |" % (
        "shared objects loaded (ld.so's)", libs, "--help %d" % base_libs,
        "<= %d" % TARGETS["libs"], "yes" if libs <= TARGETS["libs"] else "no"))
    print("\nwall, ms (sorted): %s" % " ".join("%.1f" % w for w in sorted(wall)))


if __name__ == "__main__":
    main()
