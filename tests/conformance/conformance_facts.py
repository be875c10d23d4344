"""Run tests/conformance/conformance.c against one target with the facts the
guest's truth gives (tests/guest/init.sh): guest RAM from /proc/iomem, the
kernel's _text with its physical address, linux_banner with its text.

Used by the dump tests here and by the live, libvirt and Xen tests, so every
backend runs the same cases with the same facts."""
import os
import subprocess

CASES = ["layout", "read-edges", "read-paths", "translate", "vcpus", "pause", "write-refused",
         "faults"]


def facts_args(truth, banner_va, backend, ram_bytes=None, vcpus=None, pause=False):
    """Command-line facts for conformance from a guest truth dict."""
    args = ["--backend", backend, "--pause", "yes" if pause else "no"]
    if ram_bytes is not None:
        args += ["--ram-bytes", str(ram_bytes)]
    if vcpus is not None:
        args += ["--vcpus", str(vcpus)]
    for start, last in truth["phys"]["System RAM"]:
        args += ["--covers", "%s-%s" % (start, last)]
    text_va = truth["kaslr"]["_text"]
    text_pa = truth["phys"]["Kernel code"][0][0]
    args += ["--kv2p", "%s=%s" % (text_va, text_pa)]
    args += ["--kstr", "%s=%s" % (banner_va, truth["version"])]
    return args


def run(build, target, args, timeout=300):
    """Run the program; fail with its whole output unless every case passed."""
    exe = os.path.join(build, "tests", "conformance", "conformance")
    if not os.path.exists(exe):
        raise AssertionError("%s is not built" % exe)
    p = subprocess.run([exe, target] + args, capture_output=True, text=True, timeout=timeout)
    out = p.stdout + p.stderr
    assert p.returncode == 0, "conformance %s failed:\n%s" % (target, out)
    passed = [line.split()[1] for line in p.stdout.splitlines() if line.startswith("ok ")]
    assert passed == CASES, out
    return out
