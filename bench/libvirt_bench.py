#!/usr/bin/env python3
"""Boot a harness guest as a libvirt domain (a private libvirtd, see
tests/libvirt/lvcommon.py) with a second, plain QMP socket, and run
libvirt_bench on both targets in one run: libvirt:NAME (QMP through libvirt's
passthrough) next to qemu:SOCKET (our own QMP client), same guest, same RAM.

    python3 bench/libvirt_bench.py [--build build] [--backing file|memfd|anon]
                                   [--rounds 7] [--nproc 300]
"""

import argparse
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "libvirt"))
from lvcommon import LibvirtGuest, Libvirtd, Unavailable  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.environ.get("XA_BUILD_DIR", os.path.join(ROOT, "build")))
    ap.add_argument("--backing", default="file", choices=("file", "memfd", "anon"))
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--nproc", type=int, default=300)
    a = ap.parse_args()
    exe = os.path.join(os.path.abspath(a.build), "bench", "libvirt_bench")
    d = Libvirtd()
    try:
        d.start()
    except Unavailable as e:
        print("libvirt bench skipped: %s" % e)
        return 0
    try:
        g = LibvirtGuest(d, "bench-" + a.backing, a.backing, nproc=a.nproc, extra_qmp=True)
        g.boot()
        try:
            print("guest: %d MiB, %s RAM, %d processes at boot, 2 vCPUs (TCG); domain created "
                  "in %.1f s, booted in %.1f s" % (g.mem_mb, a.backing, len(g.truth["procs"]),
                                                   g.created_s, g.boot_s))
            sys.stdout.flush()
            print("libvirt: = %s\nqemu:    = qemu:%s (QMP socket added with <qemu:commandline>)"
                  % (g.target, g.xa_qmp))
            sys.stdout.flush()
            rc = subprocess.run([exe, "--rounds", str(a.rounds),
                                 "--label", "libvirt:%s (passthrough)" % g.domain, g.target,
                                 "--label", "qemu: (own QMP socket)", "qemu:" + g.xa_qmp]
                                ).returncode
        finally:
            g.shutdown()
    finally:
        d.stop()
    return rc


if __name__ == "__main__":
    sys.exit(main())
