#!/usr/bin/env python3
"""AArch64 test guests: Debian's arm64 6.1 kernel under qemu-system-aarch64
(-machine virt, TCG), with the same init.sh, truth.sh and workload.c as the
amd64 guests (harness.py), cross-built.

Differences from the amd64 guest, and why:
  - virt has one PL011 UART (ttyAMA0, the console); the truth and command
    channel that init.sh opens as /dev/ttyS1 is a virtio console (hvc0)
    here, so init.sh's device name is replaced in the initramfs copy;
  - RAM starts at guest-physical 0x40000000: raw.img is the RAM file (RAM
    only), so file offset 0 is physical RAM_BASE (truth.json "ram_base");
    core.elf's PT_LOADs carry the physical addresses themselves.

CLI:
    arm64.py make-dumps --out DIR [--mem 512] [--force]
    arm64.py boot --dir DIR [--detach]
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402
from harness import CACHE, Guest, HarnessError  # noqa: E402

RAM_BASE = 0x40000000
# _text without KASLR for VA_BITS=48 (MODULES_END: 0xffff8000_00000000 + 128 MiB).
DEFAULT_KERNEL_TEXT = 0xFFFF800008000000
GUEST_MODULES = ["virtio_pci", "virtio_console", "virtio_blk", "ext4"]
SOURCES = harness.SOURCES + ["arm64.py"]
# What the arm64 discovery reads besides truth.sh's named symbols.
EXTRA_SYMBOLS = ("kimage_voffset memstart_addr vabits_actual swapper_pg_dir _text "
                 "init_task linux_banner").split()


def _apt_resolve(meta):
    out = subprocess.run(["apt-cache", "depends", meta], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True).stdout
    m = re.search(r"Depends: (linux-image-\S+)", out)
    return m.group(1) if m else None


def fetch_kernel():
    """Debian's arm64 kernel package, unpacked in the cache (fetch-kernel.sh)."""
    pkg = os.environ.get("XA_ARM64_KERNEL_PKG") or _apt_resolve("linux-image-arm64:arm64")
    if not pkg:
        subprocess.run(["apt-get", "update", "-qq"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        pkg = _apt_resolve("linux-image-arm64:arm64")
    if not pkg:
        raise HarnessError("cannot resolve linux-image-arm64:arm64 "
                           "(run: dpkg --add-architecture arm64; apt-get update)")
    if not pkg.endswith(":arm64"):
        pkg += ":arm64"
    env = dict(os.environ, XA_CACHE=CACHE, XA_KERNEL_PKG=pkg)
    out = subprocess.run(["sh", os.path.join(HERE, "fetch-kernel.sh")], env=env, check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    info = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    if not os.path.isfile(info.get("VMLINUZ", "")):
        raise HarnessError("fetch-kernel.sh gave no arm64 kernel: %r" % out)
    return info


def fetch_busybox():
    """busybox from busybox-static:arm64, unpacked in the cache."""
    return harness.fetch_busybox_deb("arm64", os.path.join(CACHE, "arm64", "busybox"))


def cross_compiler():
    """aarch64-linux-gnu-gcc, or clang with the arm64 cross libc (gcc-multilib,
    which 32-bit x86 builds want, conflicts with Debian's cross gcc)."""
    if shutil.which("aarch64-linux-gnu-gcc"):
        return ["aarch64-linux-gnu-gcc"]
    if shutil.which("clang") and os.path.isdir("/usr/aarch64-linux-gnu/lib"):
        return ["clang", "--target=aarch64-linux-gnu"]
    raise HarnessError("no arm64 cross compiler: run tests/guest/deps-arm64.sh")


def build_workload():
    return harness.build_workload(cross_compiler(), "arm64", " (run tests/guest/deps-arm64.sh)")


def arm64_init(init):
    """init.sh with its truth channel on the virtio console."""
    stty = b"stty -F /dev/ttyS1 raw -echo"
    if stty not in init:
        raise HarnessError("init.sh no longer sets up /dev/ttyS1 as arm64.py expects")
    # hvc resets its settings at the last close (TTY_DRIVER_RESET_TERMIOS):
    # PID 1 keeps it open, so "raw" lasts.
    init = init.replace(stty, b"exec 9<>/dev/ttyS1\n" + stty)
    return init.replace(b"/dev/ttyS1", b"/dev/hvc0")


def build_initramfs(kernel):
    with open(os.path.join(HERE, "init.sh"), "rb") as f:
        init = arm64_init(f.read())
    return harness.build_initramfs(kernel, workload=build_workload(), busybox=fetch_busybox(),
                                   init=init, modules=GUEST_MODULES)


def parse_arm64_regs(text):
    """HMP `info registers -a` on aarch64: {cpu: {"PC": int, "SP": int, ...}}."""
    cpus, cur = {}, None
    for line in text.splitlines():
        m = re.match(r"^CPU#(\d+)", line)
        if m:
            cur = cpus.setdefault(int(m.group(1)), {})
            continue
        if cur is None:
            cur = cpus.setdefault(0, {})
        for k, v in re.findall(r"\b(PC|SP|X\d\d|PSTATE)=([0-9a-fA-F]+)", line):
            cur[k] = int(v, 16)
    return cpus


class Arm64Guest(Guest):
    """A booted arm64 test guest (same interface as harness.Guest)."""

    arch = "arm64"

    def __init__(self, name="xa-arm64", **kw):
        kw.setdefault("la57", False)
        super().__init__(name, **kw)

    # arm64's kernel and initramfs (module functions above)
    fetch_kernel = staticmethod(fetch_kernel)
    build_initramfs = staticmethod(build_initramfs)

    def qemu_cmdline(self, kernel, initrd):
        """The amd64 guest's, on virt: its PL011 UART is the console, and the
        truth channel a virtio console instead of a second UART."""
        args = super().qemu_cmdline(kernel, initrd)
        args[0] = "qemu-system-aarch64"
        args[args.index("-cpu") + 1] = "max,pauth-impdef=on"
        i = args.index("-append") + 1
        args[i] = args[i].replace("console=ttyS0", "console=ttyAMA0")
        i = args.index("-machine") + 1
        args[i] = "virt" + args[i][len("pc"):]
        i = args.index("chardev:ser1")
        args[i - 1:i + 1] = ["-device", "virtio-serial-pci", "-device", "virtconsole,chardev=ser1"]
        return args

    def boot(self):
        super().boot()
        try:
            self.truth_arm64()
        except BaseException:
            self.shutdown()
            raise
        # arm64 has no la57 to request: the boot facts say the arch instead
        facts = self.truth["boot"]
        facts.pop("la57_requested", None)
        self.truth["boot"] = {"name": facts.pop("name"), "arch": "arm64", **facts}
        return self

    def truth_arm64(self):
        """What the amd64 truth computes differently on arm64: the KASLR slide
        from arm64's default _text, the symbols arm64 discovery reads, and
        the kernel image's physical place (/proc/iomem "Kernel code")."""
        t = self.truth
        t["arch"] = "arm64"
        t["ram_base"] = hex(RAM_BASE)
        pat = "|".join(EXTRA_SYMBOLS)
        out = self.run("grep -E ' (%s)$' /proc/kallsyms" % pat)
        syms = {}
        for line in out.splitlines():
            f = line.split()
            if len(f) == 3 and f[2] in EXTRA_SYMBOLS:
                syms.setdefault(f[2], "0x" + f[0])
        t["symbols"].update(syms)
        if "_text" in syms:
            t["kaslr"] = {"_text": syms["_text"],
                          "slide": hex(int(syms["_text"], 16) - DEFAULT_KERNEL_TEXT)}
        code = t.get("phys", {}).get("Kernel code")
        if code and "_text" in syms:
            t["kimage_voffset"] = hex(int(syms["_text"], 16) - int(code[0][0], 16))

    def dump(self, outdir, refresh=True):
        truth = super().dump(outdir, refresh)
        regs_txt = open(os.path.join(outdir, "regs.txt")).read()
        truth["dump"] = {"ram_bytes": self.mem_mb << 20, "ram_base": hex(RAM_BASE),
                         "la57": False,
                         "cpus": {str(c): {k: hex(v) for k, v in r.items() if k in ("PC", "SP")}
                                  for c, r in sorted(parse_arm64_regs(regs_txt).items())}}
        with open(os.path.join(outdir, "truth.json"), "w") as f:
            json.dump(truth, f, indent=1)
        return truth


def make_dumps(out, mem_mb=512, force=False, nproc=100, smp=2):
    """As harness.make_dumps, for an arm64 guest (its own sources hash)."""
    return harness.make_dumps(out, mem_mb=mem_mb, force=force, nproc=nproc, smp=smp,
                              guest=Arm64Guest, sources=SOURCES)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("make-dumps", help="boot, dump, shut down")
    p.add_argument("--out", required=True)
    p.add_argument("--mem", type=int, default=512)
    p.add_argument("--nproc", type=int, default=100)
    p.add_argument("--smp", type=int, default=2)
    p.add_argument("--force", action="store_true")
    p = sub.add_parser("boot", help="boot and keep running for manual use")
    p.add_argument("--dir", required=True)
    p.add_argument("--mem", type=int, default=512)
    p.add_argument("--nproc", type=int, default=100)
    p.add_argument("--smp", type=int, default=2)
    a = ap.parse_args(argv)
    if a.cmd == "make-dumps":
        make_dumps(a.out, mem_mb=a.mem, force=a.force, nproc=a.nproc, smp=a.smp)
        return 0
    g = Arm64Guest("boot-arm64", mem_mb=a.mem, nproc=a.nproc, smp=a.smp, workdir=a.dir)
    return harness.serve_booted(g)


if __name__ == "__main__":
    sys.exit(main())
