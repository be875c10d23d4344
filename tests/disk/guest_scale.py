#!/usr/bin/env python3
"""Real-guest disk monitoring test, part 2 (issue 5): scale and failures.

One guest boot, two ext4 disks through two taps, one monitor each:

  A (normal tap, QEMU reconnect-delay=10)
    1. 10 000 files in one directory (an htree directory): every create is
       reported with its full path; then one delete + one create in that
       directory: how long the monitor takes (it re-reads the directory).
    2. The tap is SIGKILLed in the middle of a write workload and started
       again: QEMU reconnects, the guest's workload finishes, the monitor
       reconnects, resyncs and reports every file; the files' checksums in the
       image equal the guest's.
  B (lossless tap, 1 MiB ring)
    3. The monitor is stopped (SIGSTOP) while the guest writes 16 MiB: the
       guest's writes wait (backpressure) instead of records being dropped;
       after SIGCONT everything is reported and there is no resync.
  At the end both file systems pass `e2fsck -fn`.

    python3 tests/disk/guest_scale.py --build BUILD [--files 10000] [--keep]
"""
import argparse, hashlib, os, re, shutil, signal, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "guest"))
sys.path.insert(0, HERE)
from harness import Guest  # noqa: E402
from guest_ext4 import Events, wait_for  # noqa: E402


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_tap(bindir, img, sock, *extra):
    out = subprocess.run([os.path.join(bindir, "xa-disk-tap"), img, "--socket", sock,
                          "--background", *extra], check=True, stdout=subprocess.PIPE,
                         text=True).stdout
    return dict(l.split(": ", 1) for l in out.splitlines() if ": " in l)


def guest_sums_match(g, img, cmd):
    """md5sum in the guest vs the file read from the image on the host."""
    out = g.run(cmd, timeout=120)
    n = bad = 0
    for line in out.splitlines():
        parts = line.split()
        if len(parts) != 2:
            continue
        n += 1
        data = subprocess.run(["debugfs", "-R", "cat /" + parts[1], img],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
        bad += hashlib.md5(data).hexdigest() != parts[0]
    return n, bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(HERE, "..", "..", "build"))
    ap.add_argument("--files", type=int, default=10000)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    bindir = os.path.join(os.path.abspath(a.build), "tools")
    mon_bin = os.path.join(bindir, "xa-disk-monitor")
    work = tempfile.mkdtemp(prefix="xadisk-scale-")
    imgs = {d: os.path.join(work, d + ".img") for d in "AB"}
    socks = {d: os.path.join(work, d + ".sock") for d in "AB"}
    for d, size in (("A", "256M"), ("B", "64M")):
        subprocess.run(["mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0",
                        imgs[d], size], check=True)
    taps = {"A": start_tap(bindir, imgs["A"], socks["A"], "--node", "tapA"),
            "B": start_tap(bindir, imgs["B"], socks["B"], "--node", "tapB", "--lossless",
                           "--ring", "1M")}
    qemu_args = []
    for d in "AB":
        qemu_args += ["-blockdev", "driver=nbd,server.type=unix,server.path=%s,node-name=tap%s,"
                      "reconnect-delay=10" % (socks[d], d),
                      "-device", "virtio-blk-pci,drive=tap%s,serial=disk%s" % (d, d)]
    mons, events = {}, {}
    for d in "AB":
        path = os.path.join(work, d + ".jsonl")
        mons[d] = subprocess.Popen([mon_bin, "tap:" + taps[d]["EVENTS"], "--json"],
                                   stdout=open(path, "w"),
                                   stderr=open(os.path.join(work, d + ".err"), "w"))
        events[d] = Events(path)
    failures, report = 0, []

    def check(ok, text):
        nonlocal failures
        failures += not ok
        report.append("%-4s %s" % ("ok" if ok else "FAIL", text))
        print(report[-1], flush=True)

    try:
        with Guest("xadisk-scale", nproc=5, mem_mb=384, extra_qemu_args=qemu_args) as g:
            devs = dict(reversed(l.split()) for l in g.run(
                "for d in /sys/block/vd*; do echo ${d##*/} $(cat $d/serial); done").splitlines()
                if len(l.split()) == 2)
            for d in "AB":
                g.run("mkdir -p /mnt/%s && mount -t ext4 /dev/%s /mnt/%s" % (d, devs["disk" + d], d))
                if g.last_rc != 0:
                    raise SystemExit("mount of disk %s failed" % d)
            g.run("sync")
            wait_for(events["A"], [], 2)

            # 1. many files in one (htree) directory
            n = a.files
            t0 = time.time()
            g.run("mkdir /mnt/A/big; i=0; while [ $i -lt %d ]; do : > /mnt/A/big/f$i; "
                  "i=$((i+1)); done; sync" % n, timeout=600)
            t_guest = time.time() - t0
            want = {"/big/f%d" % i for i in range(n)}
            deadline = time.time() + 120
            seen = set()
            while time.time() < deadline:
                seen |= {e["path"] for e in events["A"].poll() if e["type"] == "create"}
                if want <= seen:
                    break
                time.sleep(0.2)
            t_mon = time.time() - t0
            st = subprocess.run(["debugfs", "-R", "stat /big", imgs["A"]],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                text=True).stdout
            flags = re.search(r"Flags: (0x[0-9a-f]+)", st)
            indexed = bool(flags and int(flags.group(1), 16) & 0x1000)  # EXT4_INDEX_FL
            check(want <= seen and "/big" in seen and indexed,
                  "%d files in one directory (htree: %s): %d/%d creates reported; guest %.1fs, "
                  "all events %.1fs after the start" % (n, indexed, len(want & seen), n,
                                                       t_guest, t_mon))
            # one change in the big directory: the monitor re-reads that directory
            cpu0 = cpu_seconds(mons["A"].pid)
            g.run("rm /mnt/A/big/f%d; : > /mnt/A/big/new; sync" % (n // 2))
            got, missing = wait_for(events["A"], [("delete", "/big/f%d" % (n // 2)),
                                                  ("create", "/big/new")], 30)
            cpu = cpu_seconds(mons["A"].pid) - cpu0
            check(not missing, "one delete + one create in the %d-entry directory reported "
                  "(monitor CPU for it: %s)%s" % (n, "%.0f ms" % (cpu * 1000) if cpu else "< 10 ms",
                                                        " MISSING %r" % missing if missing else ""))

            # 2. tap killed and restarted in the middle of a write workload
            g.run("mkdir /mnt/A/rs; (i=1; while [ $i -le 60 ]; do dd if=/dev/urandom "
                  "of=/mnt/A/rs/f$i bs=4k count=8 2>/dev/null; [ $((i % 10)) = 0 ] && sync; "
                  "i=$((i+1)); done; sync; echo done > /tmp/rs.done) >/dev/null 2>&1 &")
            time.sleep(1.5)
            os.kill(int(taps["A"]["PID"]), signal.SIGKILL)
            time.sleep(1.0)
            taps["A"] = start_tap(bindir, imgs["A"], socks["A"], "--node", "tapA")
            done = False
            for _ in range(120):
                if "done" in g.run("cat /tmp/rs.done 2>/dev/null"):
                    done = True
                    break
                time.sleep(1)
            wants = [("resync", "")] + [("create", "/rs/f%d" % i) for i in range(1, 61)]
            got, missing = wait_for(events["A"], wants, 60)
            nsum, bad = guest_sums_match(g, imgs["A"], "cd /mnt/A && md5sum rs/*")
            dmesg_err = g.run("dmesg | grep -ci 'I/O error'").strip()
            check(done and not missing and nsum == 60 and bad == 0,
                  "tap SIGKILLed and restarted mid-workload: workload finished=%s, monitor "
                  "reported resync + %d/60 files, %d/%d checksums match, guest I/O errors: %s%s"
                  % (done, 60 - len([m for m in missing if m[0] == "create"]), nsum - bad, nsum,
                     dmesg_err, (" MISSING %r" % missing[:5]) if missing else ""))

            # 3. lossless: a stopped monitor holds the guest's writes back
            os.kill(mons["B"].pid, signal.SIGSTOP)
            g.run("(mkdir /mnt/B/ll; for i in 1 2 3 4 5 6 7 8; do dd if=/dev/urandom "
                  "of=/mnt/B/ll/f$i bs=64k count=32 2>/dev/null; done; sync; "
                  "echo done > /tmp/ll.done) >/dev/null 2>&1 &")
            time.sleep(8)
            held = "done" not in g.run("cat /tmp/ll.done 2>/dev/null")
            os.kill(mons["B"].pid, signal.SIGCONT)
            done = False
            for _ in range(120):
                if "done" in g.run("cat /tmp/ll.done 2>/dev/null"):
                    done = True
                    break
                time.sleep(1)
            wants = [("create", "/ll/f%d" % i) for i in range(1, 9)]
            got, missing = wait_for(events["B"], wants, 30)
            resyncs = [e for e in events["B"].all if e["type"] == "resync"]
            nsum, bad = guest_sums_match(g, imgs["B"], "cd /mnt/B && md5sum ll/*")
            check(held and done and not missing and not resyncs and nsum == 8 and bad == 0,
                  "lossless tap, monitor stopped during 16 MiB of writes: guest held back=%s, "
                  "finished after SIGCONT=%s, %d/8 creates, resyncs=%d, %d/%d checksums match" % (
                      held, done, 8 - len(missing), len(resyncs), nsum - bad, nsum))
            for d in "AB":
                g.run("umount /mnt/%s" % d)
                if g.last_rc != 0:
                    check(False, "umount /mnt/%s" % d)
        for d in "AB":
            fsck = subprocess.run(["e2fsck", "-fn", imgs[d]], stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
            check(fsck.returncode == 0, "disk %s: e2fsck -fn rc=%d" % (d, fsck.returncode))
    finally:
        for p in mons.values():
            if p.poll() is None:
                p.send_signal(signal.SIGCONT)
                p.kill()
                p.wait()
        for t in taps.values():
            try:
                os.kill(int(t["PID"]), signal.SIGTERM)
            except ProcessLookupError:
                pass
    for d in "AB":
        with open(os.path.join(work, d + ".err")) as f:
            err = f.read().strip()
        if err:
            print("monitor %s stderr: %s" % (d, err[-600:]))
    print("scale: %d failure(s); work dir %s" % (failures, work))
    if not a.keep and not failures:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
