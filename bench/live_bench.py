#!/usr/bin/env python3
"""Boot a harness guest, dump it, and run live_bench on the live guest and the
dump in one run: 8-byte and bulk reads, pause/resume, attach to first ps.

    python3 bench/live_bench.py [--build build] [--anon] [--mem 512]

--anon boots the guest without a shared RAM file (the /proc/PID/mem path).
"""

import argparse
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "guest"))
from harness import Guest  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.environ.get("XA_BUILD_DIR", os.path.join(ROOT, "build")))
    ap.add_argument("--anon", action="store_true", help="anonymous RAM: /proc/PID/mem path")
    ap.add_argument("--mem", type=int, default=512)
    a = ap.parse_args()
    exe = os.path.join(a.build, "bench", "live_bench")
    g = Guest("bench-live", shared_ram=not a.anon, mem_mb=a.mem, nproc=300, boot=False)
    sock = os.path.join(g.workdir, "xa.sock")
    g.extra_qemu_args += ["-qmp", "unix:%s,server=on,wait=off" % sock]
    g.boot()
    try:
        va = g.run("grep ' linux_banner$' /proc/kallsyms").split()[0]
        with tempfile.TemporaryDirectory(dir="/var/tmp") as d:
            g.dump(d, refresh=False)
            print("guest: %d MiB, %s RAM, %d processes at boot; dump %s" %
                  (a.mem, "anonymous" if a.anon else "shared-file", len(g.truth["procs"]),
                   os.path.join(d, "core.elf")))
            sys.stdout.flush()
            subprocess.run([exe, "--va", va, "qemu:" + sock, "file:" + os.path.join(d, "core.elf"),
                            "file:" + os.path.join(d, "raw.img")], check=True)
    finally:
        g.shutdown()


if __name__ == "__main__":
    main()
