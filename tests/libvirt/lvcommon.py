"""A private libvirt for tests and benchmarks, and harness guests run by it.

Libvirtd: a hand-started libvirtd (no systemd, no virtlogd) in a mount
namespace of its own: libvirt's system directories (/etc/libvirt,
/run/libvirt, /var/lib/libvirt, /var/log/libvirt, /var/cache/libvirt) are
bind mounts of a scratch directory, so it never meets a real libvirtd or
leaves state behind. Its sockets are in the scratch directory (clients use
qemu:///system?socket=...), QEMU runs as root (qemu.conf user/group), guest
RAM files go to /dev/shm (memory_backing_dir), outside the private mounts,
where the introspecting tools can see them. A copy of /etc/passwd with a
libvirt-qemu user is mounted too: the driver looks that user up at start
even when qemu.conf says root, and Debian creates it only in
libvirt-daemon-system (which pulls in systemd).

LibvirtGuest: tests/guest/harness.py's guest (kernel, initramfs, truth on
ttyS1, commands over ttyS1) as a transient libvirt domain of type 'qemu'
(TCG) with the chosen memory backing. ttyS1 is a <serial type='unix'> in
mode 'connect': QEMU connects to our socket, so nothing it writes before we
listen is lost.
"""

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "guest"))
from harness import Guest, HarnessError, build_initramfs, fetch_kernel  # noqa: E402

BACKINGS = {
    "file": "<memoryBacking><source type='file'/><access mode='shared'/></memoryBacking>",
    "memfd": "<memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>",
    "anon": "",
}

SYSTEM_DIRS = {"etc": "/etc/libvirt", "run": "/run/libvirt", "lib": "/var/lib/libvirt",
               "log": "/var/log/libvirt", "cache": "/var/cache/libvirt"}


class Unavailable(Exception):
    """libvirt cannot run here (the reason is the message)."""


def build_dir():
    """XA_BUILD / XA_BUILD_DIR, else build-test, build, or the newest build*/."""
    for var in ("XA_BUILD", "XA_BUILD_DIR"):
        if os.environ.get(var):
            return os.path.abspath(os.environ[var])
    for name in ("build-test", "build"):
        d = os.path.join(ROOT, name)
        if os.path.exists(os.path.join(d, "tools", "xa-ps")):
            return d
    found = sorted(glob.glob(os.path.join(ROOT, "build*", "tools", "xa-ps")), key=os.path.getmtime)
    return os.path.dirname(os.path.dirname(found[-1])) if found else os.path.join(ROOT, "build")


def tool(name):
    # the libvirt backend is a module: load it from the build, uninstalled
    os.environ.setdefault("XA_BACKEND_DIR", os.path.join(build_dir(), "backends"))
    return os.path.join(build_dir(), "tools", name)


class Libvirtd:
    def __init__(self, base=None):
        self.base = os.path.abspath(base or "/tmp/xa-lv-%d" % os.getpid())
        self.shm = "/dev/shm/xa-lv-%d" % os.getpid()
        self.sockdir = os.path.join(self.base, "sock")
        self.uri = "qemu:///system?socket=%s/libvirt-sock" % self.sockdir
        self.ro_uri = "qemu:///system?socket=%s/libvirt-sock-ro" % self.sockdir
        self.log = os.path.join(self.base, "libvirtd.log")
        self.proc = None

    def _write_config(self):
        b = self.base
        for sub in ("etc", "run", "lib", "log", "sock"):
            os.makedirs(os.path.join(b, sub), exist_ok=True)
        # A cache of our own: daemons of test runs that overlap must not share
        # one (libvirt rewrites its QEMU capability files). Probing costs ~3 s.
        self.cache = os.path.join(b, "cache")
        os.makedirs(self.cache, exist_ok=True)
        os.makedirs(self.shm, exist_ok=True)
        os.chmod(b, 0o755)
        with open(os.path.join(b, "etc", "libvirtd.conf"), "w") as f:
            f.write('unix_sock_dir = "%s"\n' % self.sockdir +
                    'unix_sock_rw_perms = "0700"\nunix_sock_ro_perms = "0777"\n'
                    'auth_unix_rw = "none"\nauth_unix_ro = "none"\n'
                    'log_outputs = "3:file:%s"\n' % self.log)
        with open(os.path.join(b, "etc", "qemu.conf"), "w") as f:
            f.write('user = "root"\ngroup = "root"\ndynamic_ownership = 0\n'
                    'security_driver = "none"\nnamespaces = [ ]\ncgroup_controllers = [ ]\n'
                    'stdio_handler = "file"\nmemory_backing_dir = "%s"\n' % self.shm)
        for name, extra in (("passwd", "libvirt-qemu:x:64055:64055:libvirt:/nonexistent:"
                                       "/usr/sbin/nologin\n"),
                            ("group", "libvirt-qemu:x:64055:\nkvm:x:64056:\n")):
            with open("/etc/" + name) as f:
                text = f.read()
            for line in extra.splitlines():
                if not any(l.split(":")[0] == line.split(":")[0] for l in text.splitlines()):
                    text += line + "\n"
            with open(os.path.join(b, name), "w") as f:
                f.write(text)

    def start(self, timeout=30):
        for exe in ("libvirtd", "virsh", "unshare", "qemu-system-x86_64"):
            if not shutil.which(exe) and not os.path.exists("/usr/sbin/" + exe):
                raise Unavailable("%s not installed (scripts/deps.sh)" % exe)
        if os.geteuid() != 0:
            raise Unavailable("a private system libvirtd needs root")
        self._write_config()
        mounts = ["mount --bind %s/passwd /etc/passwd" % self.base,
                  "mount --bind %s/group /etc/group" % self.base]
        for sub, path in SYSTEM_DIRS.items():
            os.makedirs(path, exist_ok=True)  # mount points (empty on the host)
            src = self.cache if sub == "cache" else os.path.join(self.base, sub)
            mounts.append("mount --bind %s %s" % (src, path))
        script = " && ".join(mounts) + " && exec /usr/sbin/libvirtd -f %s/etc/libvirtd.conf " \
                                       "-p %s/libvirtd.pid" % (self.base, self.base)
        out = open(os.path.join(self.base, "libvirtd.out"), "wb")
        self.proc = subprocess.Popen(["unshare", "-m", "--propagation", "private", "sh", "-c",
                                      script], stdin=subprocess.DEVNULL, stdout=out,
                                     stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise Unavailable("libvirtd exited (rc %s): %s" % (self.proc.returncode,
                                                                   self.tail()))
            if os.path.exists(os.path.join(self.sockdir, "libvirt-sock")):
                p = self.virsh("uri", check=False, timeout=30)
                if p.returncode == 0:
                    return self
            time.sleep(0.1)
        self.stop()
        raise Unavailable("libvirtd did not answer within %ds: %s" % (timeout, self.tail()))

    def tail(self, n=1500):
        text = ""
        for p in (os.path.join(self.base, "libvirtd.out"), self.log):
            try:
                with open(p, errors="replace") as f:
                    text += f.read()[-n:]
            except OSError:
                pass
        return text

    def virsh(self, *args, check=True, timeout=120, uri=None):
        p = subprocess.run(["virsh", "-q", "-c", uri or self.uri] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=timeout)
        if check and p.returncode != 0:
            raise HarnessError("virsh %s: %s %s" % (" ".join(args), p.stdout, p.stderr))
        return p

    def domain_log(self, domain):
        return os.path.join(self.base, "log", "qemu", domain + ".log")

    def qemu_pid(self, domain):
        with open(os.path.join(self.base, "run", "qemu", domain + ".pid")) as f:
            return int(f.read().strip())

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            p = self.virsh("list", "--name", check=False, timeout=60)
            for name in p.stdout.split():
                self.virsh("destroy", name, check=False, timeout=60)
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        shutil.rmtree(self.shm, ignore_errors=True)
        shutil.rmtree(self.base, ignore_errors=True)


def domain_xml(name, backing, kernel, initrd, cmdline, mem_mb, smp, console_log, ttys1_sock,
               extra_qmp=None):
    qemu_ns = ""
    if extra_qmp:
        qemu_ns = ("<qemu:commandline><qemu:arg value='-qmp'/><qemu:arg value='unix:%s,"
                   "server=on,wait=off'/></qemu:commandline>" % extra_qmp)
    return """<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>%(name)s</name>
  <memory unit='MiB'>%(mem)d</memory>
  <vcpu>%(smp)d</vcpu>
  %(backing)s
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>%(kernel)s</kernel>
    <initrd>%(initrd)s</initrd>
    <cmdline>%(cmdline)s</cmdline>
  </os>
  <cpu mode='maximum' check='none'><feature policy='disable' name='la57'/></cpu>
  <on_reboot>destroy</on_reboot>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <serial type='file'><source path='%(console)s'/><target port='0'/></serial>
    <serial type='unix'><source mode='connect' path='%(ttys1)s'/><target port='1'/></serial>
    <memballoon model='none'/>
  </devices>
  %(qemu_ns)s
</domain>
""" % {"name": name, "mem": mem_mb, "smp": smp, "backing": BACKINGS[backing], "kernel": kernel,
       "initrd": initrd, "cmdline": cmdline, "console": console_log, "ttys1": ttys1_sock,
       "qemu_ns": qemu_ns}


class _Running:
    """Stands in for Guest.proc: the harness asks it whether QEMU exited.
    A domain that dies closes ttyS1, which the harness notices itself."""
    returncode = None

    def poll(self):
        return None


class LibvirtGuest(Guest):
    """A harness guest run as a transient libvirt domain."""

    def __init__(self, daemon, name, backing, nproc=40, mem_mb=512, smp=2, extra_qmp=False):
        super().__init__(name="lv-" + name, nproc=nproc, mem_mb=mem_mb, smp=smp, boot=False,
                         workdir=os.path.join(daemon.base, "guest-" + name))
        self.daemon = daemon
        self.domain = "xa-" + name
        self.backing = backing
        self.serial_log = os.path.join(self.workdir, "console.log")
        self.xa_qmp = os.path.join(self.workdir, "xa.sock") if extra_qmp else None
        self.target = "libvirt:%s?uri=%s" % (self.domain, daemon.uri)

    def boot(self):
        kernel = fetch_kernel()
        initrd = build_initramfs(kernel)
        os.makedirs(self.workdir, exist_ok=True)
        for p in (self.serial_path, self.xa_qmp):
            if p and os.path.exists(p):
                os.unlink(p)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(self.serial_path)
        listener.listen(1)
        listener.settimeout(120)
        cmdline = "console=ttyS0 panic=-1 xa_nproc=%d" % self.nproc
        xml = domain_xml(self.domain, self.backing, kernel["VMLINUZ"], initrd, cmdline,
                         self.mem_mb, self.smp, self.serial_log, self.serial_path, self.xa_qmp)
        xml_path = os.path.join(self.workdir, "domain.xml")
        with open(xml_path, "w") as f:
            f.write(xml)
        t0 = time.time()
        try:
            self.daemon.virsh("create", xml_path, timeout=120)
            self.created_s = time.time() - t0
            self.proc = _Running()
            conn, _ = listener.accept()
        except (socket.timeout, HarnessError) as e:
            listener.close()
            self.shutdown()
            raise HarnessError("domain %s did not start: %s\n%s" % (self.domain, e,
                                                                    self._tail_logs()))
        listener.close()
        conn.settimeout(None)
        self._ser = conn
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()
        try:
            self._wait_marker(b"XA-READY\n", self.boot_timeout)
            with self._cv:
                raw = bytes(self._buf)
            end = raw.index(b"XA-READY\n")
            from harness import parse_truth
            self.truth_text = raw[:end].decode("utf-8", "replace")
            self._consumed = end + len(b"XA-READY\n")
            self.truth = parse_truth(self.truth_text)
            self._sync_shell(120)
            self.boot_s = time.time() - t0
        except BaseException:
            self.shutdown()
            raise
        return self

    def _tail_logs(self):
        out = []
        for p in (self.daemon.domain_log(self.domain), self.serial_log):
            try:
                with open(p, "rb") as f:
                    f.seek(0, 2)
                    f.seek(max(0, f.tell() - 2000))
                    out.append("--- %s ---\n%s" % (p, f.read().decode("utf-8", "replace")))
            except OSError:
                pass
        return "\n".join(out)

    def qemu_pid(self):
        return self.daemon.qemu_pid(self.domain)

    def state(self):
        return self.daemon.virsh("domstate", self.domain, check=False).stdout.strip()

    def hmp(self, cmdline):
        return self.daemon.virsh("qemu-monitor-command", "--hmp", self.domain, cmdline).stdout

    def shutdown(self):
        if self.proc is not None:
            self.daemon.virsh("destroy", self.domain, check=False, timeout=60)
            self.proc = None
        if self._ser is not None:
            try:
                self._ser.close()
            except OSError:
                pass
            self._ser = None
