"""Helpers for the live QEMU backend tests (tests/live).

A test module boots one guest with tests/guest/harness.py, with a second QMP
socket for xenaccess (a QMP socket serves one client at a time and the
harness keeps its own), and checks what the monitor sees through
build/tests/live/live_attach and build/tools/xa-ps.

Set XA_BUILD_DIR (or XA_BUILD, as scripts/test.sh does) to the Meson build
directory (default: build/, else the newest build*/ holding
tests/live/live_attach).
"""

import glob
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "guest"))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from xatest import skip_or_fail  # noqa: E402


def build_dir():
    env = os.environ.get("XA_BUILD_DIR") or os.environ.get("XA_BUILD")
    if env:
        return os.path.abspath(env)
    default = os.path.join(ROOT, "build")
    if os.path.exists(os.path.join(default, "tests", "live", "live_attach")):
        return default
    found = glob.glob(os.path.join(ROOT, "build*", "tests", "live", "live_attach"))
    if found:
        found.sort(key=os.path.getmtime)
        return os.path.dirname(os.path.dirname(os.path.dirname(found[-1])))
    return default


def binary(rel):
    path = os.path.join(build_dir(), rel)
    if not os.path.exists(path):
        pytest.fail("%s is not built (build with meson/ninja, or set XA_BUILD_DIR)" % path)
    return path


def qemu_can_run():
    """QEMU present and able to start at all; the only reason to skip."""
    if not shutil.which("qemu-system-x86_64"):
        return False
    try:
        subprocess.run(["qemu-system-x86_64", "-accel", "tcg", "-machine", "none", "-nodefaults",
                        "-display", "none", "-S", "-qmp", "stdio"], input=b'{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n',
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30,
                       check=True)
    except (OSError, subprocess.SubprocessError):
        return False
    return True


def parse_kv(out):
    """live_attach output: first word is the key, the rest the value."""
    kv = {}
    for line in out.splitlines():
        k, _, v = line.partition(" ")
        kv.setdefault(k, []).append(v)
    return kv


class LiveGuest:
    def __init__(self, g, sock):
        self.g = g
        self.sock = sock
        syms = {}
        for line in g.run("grep -E ' (linux_banner|jiffies|init_uts_ns)$' /proc/kallsyms").splitlines():
            f = line.split()
            if len(f) == 3:
                syms[f[2]] = f[0]
        self.syms = syms
        self.version = g.truth["version"]

    def attach(self, *args, timeout=120, env=None, stdin=None):
        cmd = [binary("tests/live/live_attach"), self.sock] + list(args)
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=timeout, env=env, input=stdin)
        return p.returncode, p.stdout

    def busy(self):
        """Keep a guest CPU busy so the timer tick (and jiffies) runs."""
        out = self.g.run("(while :; do :; done) >/dev/null 2>&1 </dev/null & echo $!")
        return int(out.split()[-1])


def boot_live_guest(name, shared_ram):
    if not qemu_can_run():
        skip_or_fail("qemu-system-x86_64 cannot run here")
    from harness import Guest
    g = Guest(name, shared_ram=shared_ram, nproc=40, boot=False)
    sock = os.path.join(g.workdir, "xa.sock")
    g.extra_qemu_args += ["-qmp", "unix:%s,server=on,wait=off" % sock]
    g.boot()
    return g, sock
