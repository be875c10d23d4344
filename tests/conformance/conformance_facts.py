"""Run tests/conformance/conformance.c against one target with the facts the
guest's truth gives (tests/guest/init.sh): guest RAM from /proc/iomem, the
kernel's _text with its physical address, linux_banner with its text.

Used by the dump tests here and by the live, libvirt and Xen tests, so every
backend runs the same cases with the same facts."""
import os
import subprocess

CASES = ["layout", "read-edges", "read-paths", "translate", "vcpus", "pause", "write-refused",
         "faults"]


def _hex(v):
    """An address written with or without 0x, as conformance reads it."""
    return hex(int(str(v), 16))


def facts_args(truth, banner_va, backend, ram_bytes=None, vcpus=None, pause=False):
    """Command-line facts for conformance from a guest truth dict."""
    args = ["--backend", backend, "--pause", "yes" if pause else "no"]
    if ram_bytes is not None:
        args += ["--ram-bytes", str(ram_bytes)]
    if vcpus is not None:
        args += ["--vcpus", str(vcpus)]
    for start, last in truth["phys"]["System RAM"]:
        args += ["--covers", "%s-%s" % (_hex(start), _hex(last))]
    text_va = truth["kaslr"]["_text"]
    text_pa = truth["phys"]["Kernel code"][0][0]
    args += ["--kv2p", "%s=%s" % (_hex(text_va), _hex(text_pa))]
    args += ["--kstr", "%s=%s" % (_hex(banner_va), truth["version"])]
    return args


def program(build):
    return os.path.join(build, "tests", "conformance", "conformance")


def run(exe, target, args, timeout=300, env=None):
    """Run the program; fail with its whole output unless every case passed."""
    if not os.path.exists(exe):
        raise AssertionError("%s is not built" % exe)
    p = subprocess.run([exe, target] + args, capture_output=True, text=True, timeout=timeout,
                       env=env)
    out = p.stdout + p.stderr
    assert p.returncode == 0, "conformance %s failed:\n%s" % (target, out)
    passed = [line.split()[1] for line in p.stdout.splitlines() if line.startswith("ok ")]
    assert passed == CASES, out
    return out


def run_qemu(lg, exe):
    """The cases on a live QEMU guest (tests/live LiveGuest) through its QMP socket."""
    t = lg.g.truth
    # QEMU's ROMs and the legacy VGA window take a few hundred KiB of the RAM block
    mem = t["boot"]["mem_mb"] << 20
    args = facts_args(t, lg.syms["linux_banner"], "qemu", ram_bytes="%d-%d" % (mem - (1 << 20), mem),
                      vcpus=t["boot"]["smp"], pause=True)
    return run(exe, "qemu:" + lg.sock, args)


def banner_va(guest):
    """linux_banner's address, from the running guest's /proc/kallsyms."""
    for line in guest.run("grep ' linux_banner$' /proc/kallsyms").splitlines():
        f = line.split()
        if len(f) == 3 and f[2] == "linux_banner":
            return "0x" + f[0]
    raise AssertionError("the guest's /proc/kallsyms has no linux_banner")


def run_libvirt(domain, exe, env=None):
    """The cases on a libvirt domain (tests/libvirt LibvirtGuest)."""
    mem = domain.mem_mb << 20
    args = facts_args(domain.truth, banner_va(domain), "libvirt", vcpus=domain.smp, pause=True,
                      ram_bytes="%d-%d" % (mem - (1 << 20), mem))
    return run(exe, domain.target, args, env=env)
