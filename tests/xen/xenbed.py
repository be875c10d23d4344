#!/usr/bin/env python3
"""Xen test bed: real Xen 4.17 booted inside QEMU (TCG), the xenaccess tools
run in its dom0 against a PV and a PVH domU (stdlib only; see README.md).

    xenbed.py build            # build everything (cached), print the paths
    xenbed.py run [--log F]    # build, boot once, print the parsed results

Pieces (all cached under $XA_CACHE/xen):
  * Debian's xen-hypervisor-4.17-amd64 / xen-utils-4.17 / xenstore-utils
    .debs (apt-get download, dpkg-deb -x): the hypervisor (ELF32 multiboot,
    booted with qemu -kernel) and the toolstack binaries for dom0.
  * The Debian 6.1 kernel of tests/guest, as an uncompressed ELF vmlinux
    (decompressing under TCG costs tens of seconds), for dom0 and domUs.
  * The domU initramfs: busybox, tests/guest's workload and truth.sh,
    domu-init.sh.
  * The dom0 initramfs: busybox, xl, xenstored, xenconsoled, xen-init-dom0,
    the xen kernel modules, and (appended as a second cpio, rebuilt with the
    project) the xa-* tools, xa-xen-check, their shared libraries, the domU
    kernel, initramfs and configs, dom0-run.sh.
QEMU exits 0 even when Xen panics, so results are judged only from the
markers and blobs dom0 prints on the serial log.
"""

import argparse
import base64
import contextlib
import fcntl
import gzip
import hashlib
import lzma
import os
import re
import shutil
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "guest"))
import harness  # noqa: E402  (tests/guest: kernel fetch, cpio writer, workload)

CACHE = os.path.join(os.environ.get("XA_CACHE", "/var/tmp/xenaccess-cache"), "xen")
XEN_DEBS = ["xen-hypervisor-4.17-amd64", "xen-utils-4.17", "xenstore-utils"]
DOM0_MODULES = ["xen_evtchn", "xen_gntdev", "xen_gntalloc", "xen_privcmd", "xenfs"]
DOM0_BINARIES = ["usr/lib/xen-4.17/bin/xl", "usr/lib/xen-4.17/bin/xenstored",
                 "usr/lib/xen-4.17/bin/xenconsoled", "usr/lib/xen-4.17/bin/xen-init-dom0",
                 "usr/bin/xenstore"]
TOOLS = ["xa-ps", "xa-info", "xa-read", "xa-sym", "xa-modules", "xa-maps", "xa-files",
         "xa-mounts", "xa-net", "xa-dmesg"]
CONFORMANCE = "tests/conformance/conformance"  # the backend conformance cases, run in dom0
XEN_MODULE = "backends/backend-xen.so"  # the tools load it from /xa/backends (XA_BACKEND_DIR)
XEN_CMDLINE = ("console=com1 com1=115200,8n1 dom0_mem=512M,max:512M dom0_max_vcpus=1 "
               "smap=false bootscrub=false serial_tx_buffer=4M loglvl=warning guest_loglvl=none")
DOM0_CMDLINE = "console=hvc0 quiet"
DOMU_MEM_MB = 192
DOMU_NPROC = 60


class BedError(Exception):
    pass


_log_lock = threading.Lock()
_log_to = None  # a file while the bed runs beside other tests (start_early)


def log(msg):
    with _log_lock:
        out = _log_to or sys.stderr
        out.write("[xenbed] %s\n" % msg)
        out.flush()


def _sha(*parts):
    h = hashlib.sha256()
    for p in parts:
        h.update(hashlib.sha256(p if isinstance(p, bytes) else p.encode()).digest())
    return h.hexdigest()[:16]


def _read(path):
    with open(path, "rb") as f:
        return f.read()


# ------------------------------------------------------------ Xen itself ---

def fetch_xen():
    """Download + unpack the Xen .debs; return (xen ELF path, unpacked root)."""
    debdir, root = os.path.join(CACHE, "debs"), os.path.join(CACHE, "root")
    done = os.path.join(root, ".done")
    if not os.path.exists(done):
        os.makedirs(debdir, exist_ok=True)
        have = os.listdir(debdir)
        missing = [p for p in XEN_DEBS if not any(f.startswith(p + "_") for f in have)]
        if missing:
            log("apt-get download %s" % " ".join(missing))
            r = subprocess.run(["apt-get", "download", "-q"] + missing, cwd=debdir,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if r.returncode != 0:
                raise BedError("apt-get download failed: %s" % r.stdout[-500:])
        shutil.rmtree(root, ignore_errors=True)
        for f in sorted(os.listdir(debdir)):
            if any(f.startswith(p + "_") for p in XEN_DEBS):
                subprocess.run(["dpkg-deb", "-x", os.path.join(debdir, f), root], check=True)
        open(done, "w").close()
    xen_elf = os.path.join(CACHE, "xen-4.17.elf")
    if not os.path.exists(xen_elf):
        gz = os.path.join(root, "boot", "xen-4.17-amd64.gz")
        with gzip.open(gz) as f:
            data = f.read()
        if data[:4] != b"\x7fELF":
            raise BedError("%s is not an ELF image" % gz)
        with open(xen_elf + ".tmp", "wb") as f:
            f.write(data)
        os.replace(xen_elf + ".tmp", xen_elf)
    return xen_elf, root


def vmlinux(kernel):
    """The ELF vmlinux inside the bzImage (its xz payload), cached."""
    out = os.path.join(CACHE, "vmlinux-%s" % kernel["KVER"])
    if os.path.exists(out):
        return out
    data = _read(kernel["VMLINUZ"])
    for m in re.finditer(rb"\xfd7zXZ\x00", data):
        try:
            elf = lzma.LZMADecompressor().decompress(data[m.start():])
        except lzma.LZMAError:
            continue
        if elf[:4] == b"\x7fELF":
            with open(out + ".tmp", "wb") as f:
                f.write(elf)
            os.replace(out + ".tmp", out)
            return out
    raise BedError("no xz-compressed ELF found in %s" % kernel["VMLINUZ"])


# ---------------------------------------------------------------- cpios ---

class Tree:
    """Files for a cpio: path -> (mode, bytes) or symlink target."""

    def __init__(self):
        self.files, self.links, self.dirs = {}, {}, set()

    def _parents(self, path):
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            self.dirs.add("/".join(parts[:i]))

    def add(self, path, data, mode=0o644):
        path = path.lstrip("/")
        self._parents(path)
        self.files[path] = (mode, data)

    def link(self, path, target):
        path = path.lstrip("/")
        self._parents(path)
        self.links[path] = target

    def mkdir(self, path):
        self.dirs.add(path.lstrip("/"))
        self._parents(path.lstrip("/") + "/x")

    def write(self, out):
        with open(out + ".tmp", "wb") as f:
            c = harness.Cpio(f)
            for d in sorted(self.dirs):
                if d:
                    c.dir(d)
            for p in sorted(self.files):
                mode, data = self.files[p]
                c.file(p, data, mode)
            for p in sorted(self.links):
                c.symlink(p, self.links[p])
            c.trailer()
        os.replace(out + ".tmp", out)
        return out


def add_busybox(t):
    t.add("bin/busybox", _read(harness._find_busybox()), 0o755)
    t.link("bin/sh", "busybox")


def add_modules(t, kernel, names):
    moddir, kver = kernel["MODDIR"], kernel["KVER"]
    listing = []
    for _name, rel in harness.resolve_modules(moddir, names):
        rel_ko = re.sub(r"\.(xz|gz|zst)$", "", rel)
        t.add("lib/modules/%s/%s" % (kver, rel_ko),
              harness._read_module(os.path.join(moddir, rel)))
        listing.append(rel_ko)
    t.add("xa/modules.list", ("\n".join(listing) + "\n").encode())


def shared_libs(binary, extra_path=()):
    """Absolute paths of the shared libraries @binary needs (ldd)."""
    env = dict(os.environ)
    if extra_path:
        env["LD_LIBRARY_PATH"] = ":".join(extra_path)
    out = subprocess.run(["ldd", binary], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, env=env).stdout
    libs = []
    for line in out.splitlines():
        if "not found" in line:
            raise BedError("%s: %s" % (binary, line.strip()))
        m = re.search(r"(/\S+) \(0x", line)
        if m:
            libs.append(m.group(1))
    return libs


def add_elf_with_libs(t, src, dest, extra_path=()):
    t.add(dest, _read(src), 0o755)
    for lib in shared_libs(src, extra_path):
        name = os.path.basename(lib)
        if name.startswith("ld-linux"):
            t.add("lib64/" + name, _read(os.path.realpath(lib)), 0o755)
        else:
            t.add("lib/x86_64-linux-gnu/" + name, _read(os.path.realpath(lib)), 0o755)


def domu_initramfs(kernel):
    t = Tree()
    add_busybox(t)
    t.add("init", _read(os.path.join(HERE, "domu-init.sh")), 0o755)
    t.add("xa/workload", _read(harness.build_workload()), 0o755)
    t.add("xa/truth.sh", _read(os.path.join(ROOT, "tests", "guest", "truth.sh")))
    add_modules(t, kernel, harness.GUEST_MODULES)
    key = _sha(*[d for _m, d in t.files.values()])
    out = os.path.join(CACHE, "domu-%s.cpio" % key)
    return out if os.path.exists(out) else t.write(out)


def dom0_base_initramfs(kernel, xen_root):
    """busybox, the Xen toolstack and the dom0 modules (changes rarely)."""
    t = Tree()
    add_busybox(t)
    t.add("init", _read(os.path.join(HERE, "dom0-init.sh")), 0o755)
    add_modules(t, kernel, DOM0_MODULES)
    libpath = [os.path.join(xen_root, "usr/lib/x86_64-linux-gnu")]
    for rel in DOM0_BINARIES:
        add_elf_with_libs(t, os.path.join(xen_root, rel), rel, libpath)
    # glibc dlopens libgcc_s for pthread_cancel (xl aborts without it).
    t.add("lib/x86_64-linux-gnu/libgcc_s.so.1",
          _read(os.path.realpath("/lib/x86_64-linux-gnu/libgcc_s.so.1")), 0o755)
    for d in ("var/run/xen", "var/lib/xen", "var/lib/xenstored", "var/log/xen/console",
              "etc/xen"):
        t.mkdir(d)
    t.add("etc/xen/xl.conf", b"autoballoon=\"off\"\n")
    key = _sha(*[d for _m, d in t.files.values()], *sorted(t.files))
    out = os.path.join(CACHE, "dom0-base-%s.cpio" % key)
    return out if os.path.exists(out) else t.write(out)


def domu_config(name, kind):
    lines = ['name = "%s"' % name, 'type = "%s"' % kind, 'kernel = "/xa/vmlinux"',
             'ramdisk = "/xa/domu.cpio"',
             'extra = "console=hvc0 quiet xa_nproc=%d"' % DOMU_NPROC,
             "memory = %d" % DOMU_MEM_MB, "vcpus = 1", 'on_crash = "preserve"',
             # TCG's TSC is not invariant, so Xen would emulate it: RDTSCP
             # emulation kills PVH, and trapping every RDTSC makes PV crawl.
             'tsc_mode = "native"']
    return ("\n".join(lines) + "\n").encode()


def build_tools():
    """A non-sanitizer release build of the project for dom0 (cached)."""
    # One build per checkout: test runs from other clones share the cache.
    bdir = os.path.join(CACHE, "build-" + _sha(ROOT)[:8])
    # Only what dom0 needs: other backends would drag their libraries (libvirt
    # alone is tens of MB) into the dom0 initramfs.
    opts = ["-Dxen=enabled", "-Ddisk=disabled", "-Dlibvirt=disabled", "-Dwerror=true"]
    if not os.path.exists(os.path.join(bdir, "build.ninja")):
        cmd = ["meson", "setup", bdir, ROOT, "--buildtype=release"] + opts
    else:
        cmd = ["meson", "configure", bdir] + opts
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        raise BedError("meson failed:\n" + r.stdout[-2000:])
    r = subprocess.run(["ninja", "-C", bdir] + ["tools/" + t for t in TOOLS] + [CONFORMANCE,
                                                                         XEN_MODULE],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        raise BedError("ninja failed:\n" + r.stdout[-3000:])
    check = os.path.join(bdir, "xa-xen-check")
    src = os.path.join(HERE, "xa-xen-check.c")
    lib = os.path.join(bdir, "libxenaccess.so")
    if (not os.path.exists(check) or os.path.getmtime(check) < os.path.getmtime(src)
            or os.path.getmtime(check) < os.path.getmtime(lib)):
        subprocess.run(["cc", "-std=c11", "-D_GNU_SOURCE", "-O2", "-Wall", "-Wextra", "-Werror",
                        "-I", os.path.join(ROOT, "include"), "-o", check, src,
                        "-L", bdir, "-lxenaccess", "-Wl,-rpath," + bdir], check=True)
    return bdir, check


def dom0_payload(bdir, check, vmlinux_path, domu_cpio):
    """The second cpio: what this checkout tests (rebuilt when it changes)."""
    t = Tree()
    for tool in TOOLS:
        add_elf_with_libs(t, os.path.join(bdir, "tools", tool), "xa/bin/" + tool, [bdir])
    add_elf_with_libs(t, check, "xa/bin/xa-xen-check", [bdir])
    add_elf_with_libs(t, os.path.join(bdir, XEN_MODULE), "xa/" + XEN_MODULE, [bdir])
    add_elf_with_libs(t, os.path.join(bdir, CONFORMANCE), "xa/bin/conformance", [bdir])
    t.add("xa/dom0-run.sh", _read(os.path.join(HERE, "dom0-run.sh")), 0o755)
    t.add("xa/xa-pv.cfg", domu_config("xa-pv", "pv"))
    t.add("xa/xa-pvh.cfg", domu_config("xa-pvh", "pvh"))
    key = _sha(*[d for _m, d in t.files.values()], vmlinux_path, domu_cpio)
    out = os.path.join(CACHE, "dom0-payload-%s.cpio" % key)
    if os.path.exists(out):
        return out
    t.add("xa/vmlinux", _read(vmlinux_path))
    t.add("xa/domu.cpio", _read(domu_cpio))
    for old in os.listdir(CACHE):  # one payload per checkout state is enough
        if old.startswith("dom0-payload-"):
            os.unlink(os.path.join(CACHE, old))
    return t.write(out)


def build():
    """Everything for one boot; returns a dict of paths."""
    t0 = time.time()
    kernel = harness.fetch_kernel()
    xen_elf, xen_root = fetch_xen()
    vml = vmlinux(kernel)
    domu = domu_initramfs(kernel)
    base = dom0_base_initramfs(kernel, xen_root)
    bdir, check = build_tools()
    payload = dom0_payload(bdir, check, vml, domu)
    dom0 = os.path.join(CACHE, "dom0.cpio")
    with open(dom0 + ".tmp", "wb") as f:
        for part in (base, payload):
            f.write(_read(part))
    os.replace(dom0 + ".tmp", dom0)
    log("built in %.1fs" % (time.time() - t0))
    return {"xen": xen_elf, "vmlinux": vml, "dom0_initramfs": dom0, "build": bdir}


# ----------------------------------------------------------------- boot ---

@contextlib.contextmanager
def bed_lock():
    """One test bed at a time per cache (one QEMU; shared images and log)."""
    os.makedirs(CACHE, exist_ok=True)
    with open(os.path.join(CACHE, ".lock"), "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            log("another Xen test bed is running; waiting for it")
            fcntl.flock(f, fcntl.LOCK_EX)
        yield


def boot(paths, logfile, timeout=900):
    """One Xen boot to power-off; returns the serial log text."""
    qemu = shutil.which("qemu-system-x86_64")
    if not qemu:
        raise BedError("qemu-system-x86_64 not installed")
    # QEMU splits -initrd at commas: a comma inside a module's command line is ",,".
    initrd = "%s %s,%s" % (paths["vmlinux"], DOM0_CMDLINE.replace(",", ",,"),
                           paths["dom0_initramfs"])
    # QEMU's file: chardev does not truncate: never read a previous boot's log.
    if os.path.exists(logfile):
        os.unlink(logfile)
    cmd = [qemu, "-accel", "tcg", "-cpu", os.environ.get("XA_XEN_CPU", "max"), "-m", "2048", "-smp", "1",
           "-display", "none", "-monitor", "none", "-no-reboot",
           "-serial", "file:" + logfile,
           "-kernel", paths["xen"], "-append", XEN_CMDLINE, "-initrd", initrd]
    t0 = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    _running["qemu"] = p
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
        log("QEMU killed after %ds" % timeout)
    log("QEMU exited %s after %.1fs" % (p.returncode, time.time() - t0))
    if out:
        log("QEMU said: %s" % out.decode(errors="replace")[-500:])
    with open(logfile, "rb") as f:
        return f.read().decode(errors="replace")


# -------------------------------------------------------------- results ---

_BLOB = re.compile(r"^XA-BLOB-BEGIN (\S+) rc=(-?\d+) secs=(\S+)(?: copy=(\d+))?\r?\n(.*?)"
                   r"^XA-BLOB-END \1\r?$",
                   re.M | re.S)


def parse(text):
    """{'blobs': {name: {'rc', 'secs', 'text'}}, 'markers': [...]} from a serial log."""
    text = text.replace("\r", "")  # Xen's console ends lines with \r\r\n
    blobs = {}
    for m in _BLOB.finditer(text):
        b64 = "".join(m.group(5).split())
        try:
            data = gzip.decompress(base64.b64decode(b64)).decode(errors="replace")
        except Exception as e:  # a lost character: make it visible, never guess
            data = None
            err = str(e)
        if m.group(4) == "2" and blobs.get(m.group(1), {}).get("error", "") is None:
            continue  # dom0 prints each blob twice; the first whole copy counts
        blobs[m.group(1)] = {"rc": int(m.group(2)), "secs": float(m.group(3)),
                             "text": data, "error": None if data is not None else err}
    markers = re.findall(r"^(XA-[A-Z0-9-]+)(?: (.*?))?\r?$", text, re.M)
    return {"blobs": blobs, "markers": [(k, v) for k, v in markers if not k.startswith("XA-BLOB")]}


BOOT_ATTEMPTS = 3
KINDS = ["xa-pv", "xa-pvh"]


def platform_failed(res):
    """Why the boot says nothing about xenaccess, or None when it does: the
    bed fell over before any of our tools ran, or a domU (where none of ours
    runs) did not print its own view of itself or had a program crash, which
    leaves nothing reliable to compare with."""
    blobs = res["blobs"]
    for k in KINDS:
        console = (blobs.get("console-" + k) or {}).get("text") or ""
        if "Segmentation fault" in console or "XA-DOMU-STUCK" in console:
            return "a program inside %s crashed" % k
        if "console-" + k in blobs and "XA-DOMU-READY" not in console:
            # dom0 runs our tools only after this line (or after giving up on it)
            return "%s never printed its own view on its console" % k
    # xl create runs none of ours: a domU that could not be created (after
    # dom0-run.sh's own retries) leaves nothing to compare, whatever else ran
    if any((blobs.get("create-" + k) or {}).get("rc", 0) != 0 for k in KINDS):
        return "xl create failed"
    if any(name.startswith(k + ".") for name in blobs for k in KINDS):
        return None  # our tools ran: whatever happened is judged by the tests
    if "XA-DOM0-DONE" not in dict(res["markers"]):
        return "dom0 did not finish before any xenaccess tool ran"
    return None


def boot_until_sound(paths, logfile, timeout=900):
    """Boot until the bed says something about xenaccess (BOOT_ATTEMPTS at
    most); returns the parsed results of the last boot.  Programs inside the
    domUs or dom0 segfault now and then under Xen on TCG, more on a loaded
    host; a crash of one of our tools alone is never retried."""
    for attempt in range(1, BOOT_ATTEMPTS + 1):
        res = parse(boot(paths, logfile, timeout=timeout))
        why = platform_failed(res)
        if not why or attempt == BOOT_ATTEMPTS:
            return res
        kept = "%s.failed-%d" % (logfile, attempt)
        shutil.copy(logfile, kept)
        log("test bed boot %d: %s (log kept in %s); booting again" % (attempt, why, kept))


# ------------------------------------------------- beside the other tests ---

def skip_reason():
    """Why the bed cannot run here, or None."""
    if os.environ.get("XA_XEN_TESTS", "1") == "0":
        return "XA_XEN_TESTS=0"
    if os.geteuid() != 0:
        return "needs root (apt-get download, QEMU images)"
    if not shutil.which("qemu-system-x86_64"):
        return "qemu-system-x86_64 not installed"
    r = subprocess.run(["pkg-config", "--exists", "xencontrol", "xenforeignmemory"])
    if r.returncode != 0:
        return "libxen-dev not installed (scripts/deps.sh installs it)"
    return None


def run_bed():
    """Build, then boot until sound: the parsed results and the serial log's path."""
    timeout = int(os.environ.get("XA_XEN_TIMEOUT", "900"))
    logfile = os.path.join(CACHE, "serial.log")
    with bed_lock():  # other checkouts' test runs share the cache
        paths = build()
        return boot_until_sound(paths, logfile, timeout=timeout), logfile


_running = {}  # "thread", "result", "error", "qemu": the early run (start_early)


def start_early():
    """Start run_bed() in a thread now. The bed is one QEMU with one vCPU
    (~3 minutes under TCG); the tests before tests/xen leave a core idle much
    of the time, so running it beside them takes it off the suite's length.
    Its log goes to $XA_CACHE/xen/early.log (pytest would capture it into
    whichever test runs meanwhile); take_early() prints it."""
    global _log_to
    if "thread" in _running:
        return
    os.makedirs(CACHE, exist_ok=True)
    _log_to = open(os.path.join(CACHE, "early.log"), "w")

    def work():
        try:
            _running["result"] = run_bed()
        except BaseException as e:  # handed to the fixture, which reports it
            _running["error"] = e

    t = threading.Thread(target=work, name="xen-test-bed", daemon=True)
    _running["thread"] = t
    t.start()


def take_early():
    """run_bed()'s (results, logfile) from start_early(), waiting for it, or
    None when no early run was started. Its exception is raised here."""
    global _log_to
    t = _running.get("thread")
    if t is None:
        return None
    t.join()
    if _log_to:
        _log_to.close()
        _log_to = None
        with open(os.path.join(CACHE, "early.log")) as f:
            sys.stderr.write(f.read())
    _running.pop("thread")
    if "error" in _running:
        raise _running.pop("error")
    return _running.pop("result")


def stop_early():
    """End an early run nobody took (the session stopped before tests/xen)."""
    p = _running.get("qemu")
    if _running.get("thread") is not None and p is not None and p.poll() is None:
        p.kill()


def domu_truth_text(console_text):
    """The text of the domU's own view (tests/guest's section format) on its
    console, or None."""
    m = re.search(r"^XA-TRUTH-BEGIN\n(.*?)^XA-TRUTH-END$", console_text, re.M | re.S)
    return m.group(1) if m else None


def domu_truth(console_text):
    """The domU's own view, parsed (harness.parse_truth)."""
    text = domu_truth_text(console_text)
    return harness.parse_truth(text) if text is not None else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd", choices=["build", "run"])
    ap.add_argument("--log", default=os.path.join(CACHE, "serial.log"))
    a = ap.parse_args()
    with bed_lock():
        paths = build()
        for k, v in paths.items():
            print("%s=%s" % (k.upper(), v))
        text = boot(paths, a.log) if a.cmd == "run" else None
    if a.cmd == "run":
        res = parse(text)
        for k, v in res["markers"]:
            print(k, v)
        for name, b in res["blobs"].items():
            print("== %s rc=%d secs=%.2f%s" % (name, b["rc"], b["secs"],
                                              " CORRUPT" if b["error"] else ""))


if __name__ == "__main__":
    main()
