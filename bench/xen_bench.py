#!/usr/bin/env python3
"""The paper's memory-access figures on Xen, as a table (issue 6).

Boots the Xen test bed of tests/xen (Xen 4.17 under QEMU TCG, one PV and one
PVH domU).  In dom0, xa-xen-check times access through a kernel symbol, a
kernel virtual address and a user virtual address, each with the caches
flushed (miss) and warm (hit), and reads of 100..4000 bytes of a mapped page:
on the live domain, then on a raw dump of the same guest taken through the
backend.  The dump column is the baseline of the same run; under TCG on a
shared host read the ratios, not the absolute numbers.

    python3 bench/xen_bench.py [--log SERIAL_LOG] [--iters N]
--log reads the figures from an earlier boot's serial log instead of booting.
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "xen"))
import xenbed  # noqa: E402

DOMS = [("xa-pv", "PV"), ("xa-pvh", "PVH")]


def figures(res, dom, src):
    """{figure: ns} from one xa-xen-check blob; raises SystemExit when absent."""
    name = "%s.%s" % (dom, src)
    b = res["blobs"].get(name)
    if b is None or b["error"]:
        raise SystemExit("xen bench: no result '%s' on the serial log%s" % (
            name, ": " + b["error"] if b else ""))
    if b["rc"] != 0:
        raise SystemExit("xen bench: %s exited %d: %s" % (name, b["rc"], b["text"][-400:]))
    out = {}
    for line in b["text"].splitlines():
        if not line.startswith("{"):
            continue
        x = json.loads(line)
        if "bench" in x:
            if x["failures"]:
                raise SystemExit("xen bench: %s: %d failed calls in '%s'" % (
                    name, x["failures"], x["bench"]))
            out[x["bench"]] = x["ns"]
    if not out:
        raise SystemExit("xen bench: %s printed no figures" % name)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--log", help="serial log of an earlier test-bed boot")
    ap.add_argument("--timeout", type=int, default=900)
    a = ap.parse_args()
    if a.log:
        with open(a.log, errors="replace") as f:
            res = xenbed.parse(f.read())
    else:
        logfile = os.path.join(xenbed.CACHE, "bench-serial.log")
        with xenbed.bed_lock():
            try:
                paths = xenbed.build()
            except xenbed.BedError as e:
                raise SystemExit("xen bench: the test bed cannot be built here: %s" % e)
            res = xenbed.boot_until_sound(paths, logfile, timeout=a.timeout)
    why = xenbed.platform_failed(res)
    if why:
        raise SystemExit("xen bench: the test bed failed: %s" % why)
    cols = {(dom, src): figures(res, dom, src) for dom, _ in DOMS for src in ("check", "dump-check")}
    rows = list(cols[(DOMS[0][0], "check")])
    head = "%-36s" % "ns per call (median batch)"
    for _, label in DOMS:
        head += " %10s %10s %8s" % (label + " live", label + " dump", "ratio")
    print(head)
    for row in rows:
        line = "%-36s" % row
        for dom, _ in DOMS:
            live, dump = cols[(dom, "check")].get(row), cols[(dom, "dump-check")].get(row)
            if live is None or dump is None:
                line += " %10s %10s %8s" % ("-", "-", "-")
            else:
                line += " %10.0f %10.0f %8.1f" % (live, dump, live / dump if dump else 0.0)
        print(line)
    print("(ratio = live Xen / dump of the same guest, both measured in this boot)")


if __name__ == "__main__":
    main()
