#!/usr/bin/env python3
"""Guest-side cost of disk monitoring: the paper's disk figure (issue 5, item 6).

One guest boot with five ext4 disks attached at once, one per mode:

  raw       QEMU on the raw image file (no NBD)
  nbdkit    QEMU -> NBD -> nbdkit file plugin (no filter)
  tap       + the xadisk filter, no monitor (mode 3 of the paper)
  mon       + xa-disk-monitor, no watches: every event (mode 2)
  mon+watch + xa-disk-monitor with a watch on the directory (mode 1)

The guest creates N files (a shell loop, `echo $i > f$i`) in a fresh
directory and runs `sync`; the time is measured inside the guest.  N = 10
.. 2000.  Modes are interleaved (the order rotates), each (N, mode) is
repeated REPS times, and the table reports medians and the medians of the
paired ratios (same rep, same N).  The monitors must report every file (the
'events' check): a mode that drops events would be cheating.

    /usr/bin/python3 bench/disk_guest.py --build BUILD [--reps 5] [--sizes 10,50,...]
"""
import argparse, json, os, shutil, signal, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "guest"))
from harness import Guest  # noqa: E402

MODES = ["raw", "nbdkit", "tap", "mon", "monw"]
LABEL = {"raw": "QEMU raw file", "nbdkit": "nbdkit, no filter", "tap": "tap, no monitor (3)",
         "mon": "monitor, no watch (2)", "monw": "monitor + watch (1)"}


STAMP = "a=$(adjtimex | grep tv_ | tr -d ' ')"


def guest_stamps(out):
    """Seconds from lines 'T time.tv_sec:S time.tv_usec:U ...' printed by STAMP."""
    for line in out.splitlines():
        if line.startswith("T "):
            nums = [int(f.split(":")[1]) for f in line.split()[1:] if ":" in f]
            return [nums[i] + nums[i + 1] / 1e6 for i in range(0, len(nums) - 1, 2)]
    return []


class EventLog:
    """Counts the create events a monitor printed, per directory."""

    def __init__(self, path):
        self.path, self.pos, self.creates, self.other = path, 0, {}, 0

    def poll(self):
        with open(self.path) as f:
            f.seek(self.pos)
            data = f.read()
        lines = data.split("\n")
        self.pos += len(data) - len(lines[-1])
        for line in lines[:-1]:
            if not line.strip():
                continue
            e = json.loads(line)
            if e["type"] == "create":
                d = os.path.dirname(e["path"])
                self.creates[d] = self.creates.get(d, 0) + 1
            else:
                self.other += 1

    def wait_creates(self, d, n, timeout=60):
        deadline = time.time() + timeout
        while True:
            self.poll()
            if self.creates.get(d, 0) >= n or time.time() > deadline:
                return self.creates.get(d, 0)
            time.sleep(0.05)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--sizes", default="10,50,100,200,500,1000,2000")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    sizes = [int(x) for x in a.sizes.split(",")]
    bindir = os.path.join(os.path.abspath(a.build), "tools")
    work = tempfile.mkdtemp(prefix="xadisk-bench-")
    started, mons, evlogs = [], {}, {}
    qemu_args = []
    t_start = time.time()
    try:
        for m in MODES:
            img = os.path.join(work, m + ".img")
            subprocess.run(["mkfs.ext4", "-q", "-F", "-E",
                            "lazy_itable_init=0,lazy_journal_init=0", img, "128M"], check=True)
            node = "d" + m
            sock = os.path.join(work, m + ".sock")
            if m == "raw":
                qemu_args += ["-blockdev", "driver=raw,node-name=%s,file.driver=file,"
                              "file.filename=%s" % (node, img)]
            elif m == "nbdkit":
                pidf = os.path.join(work, "nbdkit.pid")
                subprocess.run(["nbdkit", "-P", pidf, "-U", sock, "file", img], check=True)
                while not os.path.exists(pidf) or not os.path.getsize(pidf):
                    time.sleep(0.05)
                with open(pidf) as f:
                    started.append(int(f.read()))
            else:
                out = subprocess.run([os.path.join(bindir, "xa-disk-tap"), img, "--socket", sock,
                                      "--background"], check=True, capture_output=True,
                                     text=True).stdout
                info = dict(l.split(": ", 1) for l in out.splitlines() if ": " in l)
                started.append(int(info["PID"]))
                if m in ("mon", "monw"):
                    evlogs[m] = EventLog(os.path.join(work, m + ".jsonl"))
                    watch = ["--watch", "/b"] if m == "monw" else []
                    mons[m] = subprocess.Popen(
                        [os.path.join(bindir, "xa-disk-monitor"), "tap:" + info["EVENTS"],
                         "--json", *watch],
                        stdout=open(evlogs[m].path, "w"), stderr=subprocess.DEVNULL)
            if m != "raw":
                qemu_args += ["-blockdev", "driver=nbd,server.type=unix,server.path=%s,"
                              "node-name=%s" % (sock, node)]
            qemu_args += ["-device", "virtio-blk-pci,drive=%s,serial=%s" % (node, m)]

        with Guest("xadisk-bench", nproc=5, mem_mb=512, extra_qemu_args=qemu_args) as g:
            devs = {}
            for line in g.run("for d in /sys/block/vd*; do echo ${d##*/} $(cat $d/serial); done"
                              ).splitlines():
                parts = line.split()
                if len(parts) == 2:
                    devs[parts[1]] = parts[0]
            if sorted(devs) != sorted(MODES):
                raise SystemExit("guest disks: %r" % devs)
            for m in MODES:
                g.run("mkdir -p /mnt/%s && mount -t ext4 /dev/%s /mnt/%s && mkdir /mnt/%s/b"
                      % (m, devs[m], m, m))
                if g.last_rc != 0:
                    raise SystemExit("mount of %s failed" % m)
            g.run("sync")
            # busybox date has no %N; adjtimex prints the time in microseconds
            if len(guest_stamps(g.run(STAMP + "; echo T $a $a"))) != 2:
                raise SystemExit("cannot read the guest clock with adjtimex")
            times = {}   # (mode, n) -> [seconds per rep]
            seen = {}    # (mode, n) -> [events seen per rep]
            k = 0
            for rep in range(a.reps):
                for n in sizes:
                    order = MODES[k % len(MODES):] + MODES[:k % len(MODES)]
                    k += 1
                    for m in order:
                        d = "/b/r%dn%d" % (rep, n)
                        p = "/mnt/" + m + d
                        out = g.run(
                            "mkdir %s; sync; %s; b=$a; i=0; while [ $i -lt %d ]; do "
                            "echo $i > %s/f$i; i=$((i+1)); done; sync; %s; echo T $b $a"
                            % (p, STAMP, n, p, STAMP), timeout=600)
                        t = guest_stamps(out)
                        if len(t) != 2:
                            raise SystemExit("guest run failed: %r" % out)
                        times.setdefault((m, n), []).append(t[1] - t[0])
                        if m in evlogs:
                            seen.setdefault((m, n), []).append(evlogs[m].wait_creates(d, n))
                        g.run("rm -rf %s; sync" % p, timeout=600)
                        if m in evlogs:  # let the monitor finish the deletes first
                            time.sleep(0.3)
            for m in MODES:
                g.run("umount /mnt/%s" % m)
    finally:
        for p in mons.values():
            p.kill()
            p.wait()
        for pid in started:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)

    print("Guest-side time to create N files and sync (ms), median of %d interleaved reps; "
          "one boot, five disks." % a.reps)
    print()
    print("| N | " + " | ".join(LABEL[m] for m in MODES) + " | events seen (mon, mon+watch) |")
    print("| ---: | " + " | ".join("---:" for _ in MODES) + " | --- |")
    all_ok = True
    for n in sizes:
        cells = ["%.0f" % (statistics.median(times[(m, n)]) * 1000) for m in MODES]
        ok = all(s >= n for m in evlogs for s in seen[(m, n)])
        all_ok &= ok
        ev = "all %d" % n if ok else "MISSING: %s" % {m: seen[(m, n)] for m in evlogs}
        print("| %d | %s | %s |" % (n, " | ".join(cells), ev))
    print()
    print("Paired ratios (median over reps of the ratio within one rep):")
    print()
    pairs = [("monw", "tap"), ("mon", "tap"), ("tap", "nbdkit"), ("nbdkit", "raw")]
    print("| N | " + " | ".join("%s / %s" % (x, y) for x, y in pairs) + " |")
    print("| ---: | " + " | ".join("---:" for _ in pairs) + " |")
    worst = {}
    for n in sizes:
        cells = []
        for x, y in pairs:
            r = statistics.median(a_ / b_ for a_, b_ in zip(times[(x, n)], times[(y, n)]))
            cells.append("%.3f" % r)
            worst.setdefault((x, y), []).append(r)
        print("| %d | %s |" % (n, " | ".join(cells)))
    allr = [r for k in (("monw", "tap"), ("mon", "tap")) for r in worst[k]]
    big = [r for (k, rs) in worst.items() if k in (("monw", "tap"), ("mon", "tap"))
           for n, r in zip(sizes, rs) if n >= 500]
    print()
    print("Target: creation with monitoring within 10%% of the tap alone: median ratio over "
          "all N %.3f, N >= 500: %.3f -> %s" % (
              statistics.median(allr), statistics.median(big),
              "met" if statistics.median(allr) <= 1.10 else "NOT met"))
    print("Whole run: %.0f s" % (time.time() - t_start))
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
