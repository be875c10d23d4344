#!/usr/bin/env python3
"""Other amd64 kernels (issue 14: Linux 5.10 to 6.12): the harness's amd64
guest (same init.sh, truth.sh, workload.c, 4-level paging) booted with the
newest Debian kernel of another series instead of linux-image-amd64's.

  5.10       Debian 11's linux-image-amd64 (bullseye main);
  6.12       linux-image-6.12-amd64 (bookworm-security);
  6.1-rt     Debian 12's PREEMPT_RT kernel, linux-image-rt-amd64 (bookworm
             main): another task_struct, another scheduler's locks;
  6.1-cloud  Debian 12's cloud kernel, linux-image-cloud-amd64 (bookworm
             main): another configuration, few drivers and modules.

Each comes from one apt source whose package lists are fetched into the
cache with a private apt configuration (APT_CONFIG): bullseye is not in a
Debian 12 machine's sources, and the machine's own sources and lists are
never changed. (Small lists of one suite and one architecture also make
apt-cache fast: the machine's own take seconds a call in a container whose
apt keeps no package cache.)

The package is resolved on every run (a newer one gives new dumps), and
without the network the newest unpacked one in the cache is used. The one
that ran is truth.json's boot.kernel_pkg.

CLI:
    kernels.py make-dumps --series 5.10 --out DIR [--force]
    kernels.py boot --series 6.12 --dir DIR
"""

import argparse
import functools
import glob
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402
from harness import CACHE, Guest, HarnessError, log  # noqa: E402

SOURCES = harness.SOURCES + ["kernels.py"]

LISTS_FRESH_S = 3600
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
BOOKWORM = "deb [signed-by=%s] http://deb.debian.org/debian bookworm main" % KEYRING
# series ("VERSION" or "VERSION-FLAVOUR"): (meta package, the one apt source it comes from)
SERIES = {
    "5.10": ("linux-image-amd64",
             "deb [signed-by=%s] http://deb.debian.org/debian bullseye main" % KEYRING),
    "6.12": ("linux-image-6.12-amd64",
             "deb [signed-by=%s] http://deb.debian.org/debian-security bookworm-security main"
             % KEYRING),
    "6.1-rt": ("linux-image-rt-amd64", BOOKWORM),
    "6.1-cloud": ("linux-image-cloud-amd64", BOOKWORM),
}


def version_flavour(series):
    """("6.1", "rt") for "6.1-rt", ("5.10", "") for "5.10"."""
    version, _, flavour = series.partition("-")
    return version, flavour


def is_package_of(series, pkg):
    """Whether @pkg (linux-image-6.1.0-50-rt-amd64) is a kernel of @series:
    its version, and its flavour or none."""
    version, flavour = version_flavour(series)
    tail = (re.escape(flavour) + "-amd64") if flavour else "amd64"
    if not re.fullmatch(r"linux-image-%s[.-][0-9][0-9A-Za-z.+~-]*-%s" % (re.escape(version), tail), pkg):
        return False
    return bool(flavour) or not re.search(r"-(rt|cloud)-amd64$", pkg)


def dump_kind(series):
    """The dump set's name under XA_TEST_DUMPS (scripts/test.sh)."""
    return "linux-" + series


def private_apt(series, source):
    """An APT_CONFIG file whose only source is @source, with its lists and
    archives in the cache (the machine's apt state is left alone)."""
    top = os.path.join(CACHE, "apt-" + series)
    for d in ("lists/partial", "archives/partial", "cache"):
        os.makedirs(os.path.join(top, d), exist_ok=True)
    with open(os.path.join(top, "sources.list"), "w") as f:
        f.write(source + "\n")
    conf = os.path.join(top, "apt.conf")
    with open(conf, "w") as f:
        f.write('Dir::Etc::SourceList "%s/sources.list";\n' % top)
        f.write('Dir::Etc::SourceParts "%s/none";\n' % top)
        f.write('Dir::State::Lists "%s/lists";\n' % top)
        f.write('Dir::Cache::Archives "%s/archives";\n' % top)
        f.write('Dir::Cache "%s/cache";\n' % top)
        f.write('APT::Architectures { "amd64"; };\n')
    return conf


def _depends(meta, env):
    # with a package cache, which a container's apt.conf.d may turn off (it
    # outranks APT_CONFIG; -o outranks both)
    out = subprocess.run(["apt-cache", "-o", "Dir::Cache::pkgcache=pkgcache.bin", "depends", meta],
                         env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True).stdout
    m = re.search(r"Depends: (linux-image-\S+)", out)
    return m.group(1) if m else None


def _cached(series):
    """The newest unpacked package of @series in the cache, or None."""
    done = glob.glob(os.path.join(CACHE, "kernel", "linux-image-*-amd64", ".done"))
    pkgs = sorted((p for p in (os.path.basename(os.path.dirname(d)) for d in done)
                   if is_package_of(series, p)),
                  key=lambda p: [int(x) for x in re.findall(r"\d+", p)])
    return pkgs[-1] if pkgs else None


@functools.lru_cache(maxsize=None)
def resolve(series):
    """(package, environment for apt): the newest kernel package of @series
    (once a process: making dumps asks twice)."""
    if series not in SERIES:
        raise HarnessError("unknown kernel series %r (one of %s)"
                           % (series, ", ".join(sorted(SERIES))))
    meta, source = SERIES[series]
    env = dict(os.environ, XA_CACHE=CACHE, APT_CONFIG=private_apt(series, source))
    # Lists younger than LISTS_FRESH_S are newest enough (a CI run asks
    # several times); a failed update (offline) keeps the old ones.
    stamp = os.path.join(CACHE, "apt-" + series, "updated")
    if not os.path.exists(stamp) or time.time() - os.path.getmtime(stamp) > LISTS_FRESH_S:
        if subprocess.run(["apt-get", "update", "-qq"], env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0:
            with open(stamp, "w"):
                pass
    pkg = _depends(meta, env)
    if pkg and not is_package_of(series, pkg):
        raise HarnessError("%s depends on %s, not a %s kernel" % (meta, pkg, series))
    if not pkg:
        pkg = _cached(series)  # offline: what is already unpacked
        if pkg:
            log("cannot resolve %s: using the cached %s" % (meta, pkg))
    if not pkg:
        raise HarnessError("cannot resolve the %s kernel (%s from: %s) and none is cached"
                           % (series, meta, source))
    return pkg, env


def fetch_kernel(series):
    """The newest @series kernel, unpacked in the cache (fetch-kernel.sh):
    {PKG, KVER, VMLINUZ, MODDIR}."""
    pkg, env = resolve(series)
    env = dict(env, XA_KERNEL_PKG=pkg)
    p = subprocess.run(["sh", os.path.join(HERE, "fetch-kernel.sh")], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    info = dict(line.split("=", 1) for line in p.stdout.splitlines() if "=" in line)
    if p.returncode != 0 or not os.path.isfile(info.get("VMLINUZ", "")):
        raise HarnessError("fetch-kernel.sh %s: %s" % (pkg, (p.stderr or p.stdout).strip()))
    return info


def guest_class(series):
    """harness.Guest booting the newest @series kernel (make_dumps wants a
    class with an `arch`: it names the guest)."""
    if series not in SERIES:
        raise HarnessError("unknown kernel series %r (one of %s)"
                           % (series, ", ".join(sorted(SERIES))))

    class KernelGuest(Guest):
        arch = dump_kind(series)

        def __init__(self, name="xa-" + dump_kind(series), **kw):
            kw.setdefault("la57", False)
            super().__init__(name, **kw)

        def fetch_kernel(self):
            return fetch_kernel(series)

    return KernelGuest


def make_dumps(series, out, force=False, mem_mb=512, nproc=300, smp=2):
    """As harness.make_dumps (4-level, raw + ELF), for the newest @series
    kernel: a set made from another package is made again."""
    pkg, _ = resolve(series)
    try:
        with open(os.path.join(out, "truth.json")) as f:
            made = json.load(f)["boot"]["kernel_pkg"]
    except (OSError, ValueError, KeyError):
        made = None
    if made and made != pkg:
        log("%s holds %s dumps; the newest is %s" % (out, made, pkg))
        force = True
    out = harness.make_dumps(out, mem_mb=mem_mb, force=force, nproc=nproc, smp=smp,
                             guest=guest_class(series), sources=SOURCES)
    with open(os.path.join(out, "truth.json")) as f:
        t = json.load(f)
    print("%s: %s (%s)" % (dump_kind(series), t["boot"]["kernel_pkg"], t["kernel_release"]))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("make-dumps", help="boot, dump, shut down")
    p.add_argument("--series", required=True, choices=sorted(SERIES))
    p.add_argument("--out", required=True)
    p.add_argument("--force", action="store_true")
    p = sub.add_parser("boot", help="boot and keep running for manual use")
    p.add_argument("--series", required=True, choices=sorted(SERIES))
    p.add_argument("--dir", required=True)
    a = ap.parse_args(argv)
    if a.cmd == "make-dumps":
        make_dumps(a.series, a.out, force=a.force)
        return 0
    g = guest_class(a.series)(workdir=a.dir)
    return harness.serve_booted(g)


if __name__ == "__main__":
    sys.exit(main())
