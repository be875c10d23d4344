#!/usr/bin/env python3
"""The rootkit test bed: real rootkit techniques in a harness guest.

Builds small kernel modules (modules/*.c) against the test kernel's own
Debian headers (linux-headers-<ver>-{amd64,common} and linux-kbuild, fetched
with `apt-get download` into $XA_CACHE and unpacked, never installed),
appends them and rkuser.c's static binary to the harness initramfs as a
second cpio archive, boots the harness guest and makes two dumps:

  $XA_TEST_DUMPS/rootkit/clean  the guest with 20+ ordinary Debian modules
                                loaded on top of the harness's own
  $XA_TEST_DUMPS/rootkit/rk     the same guest a moment later, after each
                                technique was applied (rootkit.json says
                                which pid and module did what)

CLI: rkbed.py make-dumps [--out DIR] [--force]
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "guest"))
import harness  # noqa: E402

CACHE = harness.CACHE
# Ordinary modules a distribution kernel loads; they must not be reported.
CLEAN_MODULES = ["loop", "dm_mod", "tun", "bridge", "veth", "dummy", "vfat", "isofs", "udf",
                 "nls_utf8", "nls_cp437", "squashfs", "overlay", "fuse", "zram", "msr",
                 "cpuid", "8021q", "bonding", "iptable_filter", "nf_tables", "sctp",
                 "tcp_bbr", "cryptd", "sha512_generic",
                 # input handlers of their own (keyboards' events): legitimate
                 "evdev", "joydev"]
RK_MODULES = ["rk_hidemod", "rk_hideproc", "rk_syscall", "rk_ftrace", "rk_kprobe", "rk_procfs",
              "rk_hidekobj", "rk_idt", "rk_tty", "rk_input"]
RK_USER = ["xa_inject", "xa_bpf", "xa_hideme", "xa_preload", "xa_deleted", "xa_rtspin"]


def log(msg):
    sys.stderr.write("[rkbed] %s\n" % msg)
    sys.stderr.flush()


def _hash_files(paths, extra=b""):
    h = hashlib.sha256(extra)
    for p in sorted(paths):
        with open(p, "rb") as f:
            h.update(os.path.basename(p).encode() + b"\0" + hashlib.sha256(f.read()).digest())
    return h.hexdigest()[:16]


def fetch_headers(kver):
    """Unpack Debian's headers for @kver into the cache; return the build dir."""
    root = os.path.join(CACHE, "headers", kver)
    build = os.path.join(root, "usr", "src", "linux-headers-" + kver)
    if os.path.isfile(os.path.join(root, ".done")):
        return build
    flavour_pkg = "linux-headers-" + kver
    common_pkg = re.sub(r"-[a-z0-9]+$", "-common", flavour_pkg)
    dep = subprocess.run(["apt-cache", "show", flavour_pkg], stdout=subprocess.PIPE,
                         text=True).stdout
    m = re.search(r"^Depends:.*?(linux-kbuild-[0-9.]+)", dep, re.M)
    if not m:
        raise harness.HarnessError("apt-cache knows no %s (apt-get update?)" % flavour_pkg)
    tmp = root + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.join(tmp, "debs"))
    subprocess.run(["apt-get", "download", "-q", flavour_pkg, common_pkg, m.group(1)],
                   cwd=os.path.join(tmp, "debs"), check=True, stdout=subprocess.DEVNULL)
    for deb in os.listdir(os.path.join(tmp, "debs")):
        subprocess.run(["dpkg-deb", "-x", os.path.join(tmp, "debs", deb), tmp], check=True)
    shutil.rmtree(os.path.join(tmp, "debs"))
    shutil.rmtree(root, ignore_errors=True)
    os.rename(tmp, root)
    # The flavour's Makefile includes the common tree by its installed path.
    mk = os.path.join(build, "Makefile")
    with open(mk) as f:
        text = f.read()
    with open(mk, "w") as f:
        f.write(text.replace("/usr/src/", os.path.join(root, "usr", "src") + "/"))
    open(os.path.join(root, ".done"), "w").close()
    return build


def build_modules(kver):
    """Build modules/*.ko against the kernel's headers (cached by source
    hash); return {name: path}."""
    src = os.path.join(HERE, "modules")
    files = [os.path.join(src, f) for f in os.listdir(src)]
    key = _hash_files(files, kver.encode())
    out = os.path.join(CACHE, "build", "rk-modules-" + key)
    if not os.path.isdir(out):
        hdr = fetch_headers(kver)
        tmp = out + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(src, tmp)
        r = subprocess.run(["make", "-C", hdr, "M=" + tmp, "modules"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            raise harness.HarnessError("building the test rootkits failed:\n" + r.stdout[-3000:])
        os.rename(tmp, out)
    return {m: os.path.join(out, m + ".ko") for m in RK_MODULES}


def build_rkuser():
    src = os.path.join(HERE, "rkuser.c")
    out = os.path.join(CACHE, "build", "rkuser-" + _hash_files([src]))
    if not os.path.exists(out):
        subprocess.run(["gcc", "-static", "-O2", "-Wall", "-pthread", "-o", out + ".tmp", src],
                       check=True)
        os.replace(out + ".tmp", out)
    return out


def build_rk_cpio(kernel):
    """A second initramfs archive: /xa/rk/ (rootkits, rkuser under its
    three names, clean modules) -- the kernel unpacks concatenated archives."""
    mods = build_modules(kernel["KVER"])
    user = build_rkuser()
    clean = harness.resolve_modules(kernel["MODDIR"], CLEAN_MODULES)
    key = _hash_files(list(mods.values()) + [user], repr(clean).encode())
    out = os.path.join(CACHE, "build", "rk-%s.cpio" % key)
    if os.path.exists(out):
        return out
    with open(out + ".tmp", "wb") as f:
        c = harness.Cpio(f)
        c.dir("xa/rk")
        c.dir("xa/rk/clean")
        for name, path in sorted(mods.items()):
            with open(path, "rb") as k:
                c.file("xa/rk/%s.ko" % name, k.read())
        with open(user, "rb") as u:
            data = u.read()
        for name in RK_USER:
            c.file("xa/rk/" + name, data, 0o755)
        names = []
        for name, rel in clean:
            c.file("xa/rk/clean/%s.ko" % name,
                   harness._read_module(os.path.join(kernel["MODDIR"], rel)))
            names.append(name)
        c.file("xa/rk/clean.list", ("\n".join(names) + "\n").encode())
        c.trailer()
    os.replace(out + ".tmp", out)
    return out


class RootkitGuest(harness.Guest):
    """The harness guest with the rootkit archive after its initramfs."""

    def qemu_cmdline(self, kernel, initrd):
        rk = build_rk_cpio(self.kernel)
        both = os.path.join(self.workdir, "initrd-rk.cpio")
        with open(both, "wb") as out:
            for part in (initrd, rk):
                with open(part, "rb") as f:
                    shutil.copyfileobj(f, out)
        return super().qemu_cmdline(kernel, both)

    def must(self, cmd, timeout=300):
        out = self.run(cmd, timeout=timeout)
        if self.last_rc != 0:
            raise harness.HarnessError("guest command %r failed (%d): %s"
                                       % (cmd, self.last_rc, out[-1000:]))
        return out

    def start_user(self, name, timeout=120):
        """Start /xa/rk/<name> in the background; (pid, its ready line)."""
        if name == "xa_preload":
            self.must("LD_PRELOAD=/tmp/xa_evil.so /xa/rk/xa_preload > /tmp/%s.out 2>&1 &" % name)
        elif name == "xa_deleted":
            self.must("cp /xa/rk/xa_deleted /tmp/xa_deleted && "
                      "/tmp/xa_deleted > /tmp/%s.out 2>&1 &" % name)
        else:
            self.must("/xa/rk/%s > /tmp/%s.out 2>&1 &" % (name, name))
        deadline = time.time() + timeout
        while time.time() < deadline:
            m = re.search(r"XA-RK %s pid=(\d+).*" % name, self.run("cat /tmp/%s.out" % name))
            if m:
                if name == "xa_deleted":
                    self.must("rm /tmp/xa_deleted")
                return int(m.group(1)), m.group(0)
            time.sleep(0.5)
        raise harness.HarnessError("%s did not start" % name)

    def loaded_modules(self):
        return [line.split()[0] for line in self.run("cat /proc/modules").splitlines()
                if line.strip()]


def load_clean_modules(g):
    """insmod the ordinary modules; the names /proc/modules then lists."""
    for name in g.must("cat /xa/rk/clean.list").split():
        g.must("insmod /xa/rk/clean/%s.ko" % name)
    mods = g.loaded_modules()
    log("clean guest: %d modules loaded" % len(mods))
    return mods


def apply_techniques(g):
    """Every technique, one by one; what was done, for the tests."""
    started = {name: g.start_user(name) for name in RK_USER}
    pids = {name: pid for name, (pid, _line) in started.items()}
    g.must("insmod /xa/rk/rk_hideproc.ko target_pid=%d target_pid2=%d"
           % (pids["xa_hideme"], pids["xa_rtspin"]))
    for name in ("rk_syscall", "rk_ftrace", "rk_kprobe", "rk_procfs", "rk_hidemod", "rk_hidekobj",
                 "rk_idt", "rk_tty", "rk_input"):
        g.must("insmod /xa/rk/%s.ko" % name)
    inject_va = re.search(r"va=(0x[0-9a-f]+)", started["xa_inject"][1]).group(1)
    # the guest still runs on the copied IDT: interrupts, timers, a fork
    alive = g.must("sleep 1; echo alive; cat /proc/loadavg")
    rt = g.must("cat /proc/%d/sched 2>/dev/null | grep -E '^policy|^prio' || true"
                % pids["xa_rtspin"])
    return {"visible_modules": g.loaded_modules(), "inject_va": inject_va, "pids": pids,
            "hidden_pid_in_proc_ls": str(pids["xa_hideme"]) in g.run("ls /proc").split(),
            "alive": alive, "rtspin_sched": rt, "dmesg": g.run("dmesg | grep rk_")}


def _sources_hash():
    files = [os.path.join(HERE, f) for f in ("rkbed.py", "rkuser.c")]
    files += [os.path.join(HERE, "modules", f) for f in os.listdir(os.path.join(HERE, "modules"))]
    return _hash_files(files, harness._sources_hash().encode())


def make_dumps(out, force=False):
    out = os.path.abspath(out)
    clean_dir, rk_dir = os.path.join(out, "clean"), os.path.join(out, "rk")
    stamp = os.path.join(out, "sources.sha256")
    want = _sources_hash()

    def up_to_date():
        try:
            with open(stamp) as f:
                return f.read().strip() == want and os.path.isfile(
                    os.path.join(rk_dir, "rootkit.json"))
        except OSError:
            return False

    if not force and up_to_date():
        log("%s is up to date" % out)
        return out
    import fcntl
    os.makedirs(out, exist_ok=True)
    with open(out + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not force and up_to_date():
            return out
        kernel = harness.fetch_kernel()
        build_rk_cpio(kernel)  # fail before booting if the modules do not build
        for d in (clean_dir, rk_dir):
            shutil.rmtree(d, ignore_errors=True)
        with RootkitGuest("rootkit", nproc=100) as g:
            clean_mods = load_clean_modules(g)
            t = g.dump(clean_dir)
            info = apply_techniques(g)
            t = g.dump(rk_dir)
            info["clean_modules"] = clean_mods
            with open(os.path.join(rk_dir, "rootkit.json"), "w") as f:
                json.dump(info, f, indent=1)
            with open(os.path.join(clean_dir, "rootkit.json"), "w") as f:
                json.dump({"clean_modules": clean_mods}, f, indent=1)
        with open(stamp, "w") as f:
            f.write(want + "\n")
    log("wrote %s (kaslr %s)" % (out, t.get("kaslr", {}).get("slide")))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("make-dumps")
    p.add_argument("--out", default=os.path.join(
        os.environ.get("XA_TEST_DUMPS", os.path.join(CACHE, "dumps")), "rootkit"))
    p.add_argument("--force", action="store_true")
    sub.add_parser("build", help="fetch headers, build the modules and the archive")
    a = ap.parse_args(argv)
    if a.cmd == "build":
        print(build_rk_cpio(harness.fetch_kernel()))
        return 0
    make_dumps(a.out, force=a.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
