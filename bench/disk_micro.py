#!/usr/bin/env python3
"""Host-only microbenchmark of the disk tap (issue 5, item 6).

What does the tap add to one synchronous write?  qemu-img bench sends
COUNT writes one at a time (queue depth 1) over NBD to three servers on the
same ext4 image, interleaved round by round:

  nbdkit       nbdkit's file plugin alone
  tap          + the xadisk filter, nobody subscribed (records nothing)
  tap+monitor  + the xadisk filter with xa-disk-monitor attached

The writes overwrite the data blocks of a 64 MiB file, so the monitor maps
them to that file (real work, not a null subscriber).  The machine is shared
and busy, so each tap run goes side by side with a plain nbdkit run (same
load), and two numbers per run:
  wall  µs per write as qemu-img bench measures it (noisy),
  cpu   µs of nbdkit CPU time (user+sys, all threads) per write: the tap's
        cost is CPU work inside nbdkit, and this is far less noisy.
'added' is the median of the paired differences against plain nbdkit.

    /usr/bin/python3 bench/disk_micro.py --build BUILD [--rounds 5]
"""
import argparse, os, re, shutil, signal, statistics, subprocess, sys, tempfile, time
from concurrent.futures import ThreadPoolExecutor

TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid):
    """user+sys seconds of a process, all threads (incl. exited ones)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def wait_socket(path, timeout=10):
    deadline = time.time() + timeout
    while not os.path.exists(path):
        if time.time() > deadline:
            raise SystemExit("no socket %s" % path)
        time.sleep(0.05)


def make_image(work):
    img = os.path.join(work, "disk.img")
    subprocess.run(["mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0",
                    img, "512M"], check=True)
    data = os.path.join(work, "big")
    with open(data, "wb") as f:
        f.write(os.urandom(64 << 20))
    subprocess.run(["debugfs", "-w", "-R", "write %s big" % data, img], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.unlink(data)
    ex = subprocess.run(["debugfs", "-R", "ex /big", img], check=True, capture_output=True,
                        text=True).stdout
    m = re.search(r"^\s*0/\s*0\s+1/\s*1\s+0 -\s*16383\s+(\d+) -", ex, re.M)
    if not m:
        raise SystemExit("/big is not one extent:\n" + ex)
    return img, int(m.group(1)) * 4096


def bench(sock, size, count, offset):
    out = subprocess.run(["qemu-img", "bench", "-w", "-f", "raw", "-d", "1", "-c", str(count),
                          "-s", str(size), "-S", str(size), "-o", str(offset),
                          "nbd+unix:///?socket=" + sock],
                         check=True, capture_output=True, text=True).stdout
    m = re.search(r"Run completed in ([0-9.]+) seconds", out)
    return float(m.group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--count4k", type=int, default=10000)
    ap.add_argument("--count64k", type=int, default=2000)
    a = ap.parse_args()
    bindir = os.path.join(os.path.abspath(a.build), "tools")
    work = tempfile.mkdtemp(prefix="xadisk-micro-")
    procs, pids = [], {}
    try:
        img, data_off = make_image(work)
        socks = {n: os.path.join(work, n + ".sock") for n in ("nbdkit", "tap", "tapmon")}
        pidf = os.path.join(work, "plain.pid")
        subprocess.run(["nbdkit", "-P", pidf, "-U", socks["nbdkit"], "file", img], check=True)
        wait_socket(socks["nbdkit"])
        wait_socket(pidf)
        while not os.path.getsize(pidf):
            time.sleep(0.05)
        with open(pidf) as f:
            pids["nbdkit"] = int(f.read())
        for name in ("tap", "tapmon"):
            out = subprocess.run([os.path.join(bindir, "xa-disk-tap"), img, "--socket",
                                  socks[name], "--background"],
                                 check=True, capture_output=True, text=True).stdout
            info = dict(l.split(": ", 1) for l in out.splitlines() if ": " in l)
            pids[name] = int(info["PID"])
            if name == "tapmon":
                events = info["EVENTS"]
        mon_out = open(os.path.join(work, "events.jsonl"), "w")
        mon = subprocess.Popen([os.path.join(bindir, "xa-disk-monitor"), "tap:" + events,
                                "--json"], stdout=mon_out, stderr=subprocess.DEVNULL)
        procs.append(mon)
        time.sleep(1.0)  # subscribed and initial scan done
        configs = ["nbdkit", "tap", "tapmon"]
        label = {"nbdkit": "nbdkit", "tap": "tap", "tapmon": "tap+monitor"}
        # Each tap config runs at the same time as plain nbdkit (two qemu-img
        # bench processes started together), so both see the same load from
        # the rest of the machine; the per-round difference is the tap's cost.
        res = {}  # (size, config) -> list of (wall_us, cpu_us, base_wall_us, base_cpu_us)
        mon_cpu = {4096: [], 65536: []}
        for r in range(a.rounds):
            for size, count in ((4096, a.count4k), (65536, a.count64k)):
                for c in (["tap", "tapmon"] if r % 2 == 0 else ["tapmon", "tap"]):
                    cpu0 = {x: proc_cpu(pids[x]) for x in ("nbdkit", c)}
                    m0 = proc_cpu(mon.pid)
                    walls = {}
                    with ThreadPoolExecutor(2) as ex:
                        fut = {x: ex.submit(bench, socks[x], size, count, data_off)
                               for x in ("nbdkit", c)}
                        walls = {x: f.result() for x, f in fut.items()}
                    cpu = {x: proc_cpu(pids[x]) - cpu0[x] for x in ("nbdkit", c)}
                    us = lambda v: v / count * 1e6  # noqa: E731
                    res.setdefault((size, c), []).append(
                        (us(walls[c]), us(cpu[c]), us(walls["nbdkit"]), us(cpu["nbdkit"])))
                    if c == "tapmon":
                        mon_cpu[size].append(us(proc_cpu(mon.pid) - m0))
        print("Tap microbenchmark: synchronous writes (queue depth 1) over NBD, qemu-img bench,")
        print("%d rounds of %d x 4 KiB and %d x 64 KiB writes; each tap run side by side with "
              "plain nbdkit; medians." % (a.rounds, a.count4k, a.count64k))
        print("cpu = server CPU time per write (all nbdkit threads); added = median of the "
              "paired differences.")
        print()
        print("| write | server | wall µs/write | nbdkit alongside | added wall µs "
              "| cpu µs/write | nbdkit alongside | added cpu µs | monitor cpu µs/write |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        verdict = {}
        med = statistics.median
        for size in (4096, 65536):
            for c in ("tap", "tapmon"):
                rows = res[(size, c)]
                dw = med(x[0] - x[2] for x in rows)
                dc = med(x[1] - x[3] for x in rows)
                verdict[(size, c)] = (dw, dc)
                mc = "%.2f" % med(mon_cpu[size]) if c == "tapmon" else "-"
                print("| %s | %s | %.1f | %.1f | %+.1f | %.1f | %.1f | %+.1f | %s |" % (
                    "4 KiB" if size == 4096 else "64 KiB", label[c], med(x[0] for x in rows),
                    med(x[2] for x in rows), dw, med(x[1] for x in rows),
                    med(x[3] for x in rows), dc, mc))
        dw, dc = verdict[(4096, "tapmon")]
        print()
        print("Target: at most 2 µs added per 4 KiB write with a monitor attached.")
        print("  added to the write's latency (wall, what the guest sees): %+.1f µs -> %s" % (
            dw, "met" if dw <= 2.0 else "NOT met"))
        print("  added nbdkit CPU (ring copy on the request path, socket send in the shipping "
              "thread): %+.1f µs" % dc)
        spread = [x[1] - x[3] for x in res[(4096, "tapmon")]]
        print("(4 KiB tap+monitor added cpu per round: %s)" % ", ".join(
            "%+.1f" % v for v in spread))
        nev = sum(1 for _ in open(os.path.join(work, "events.jsonl")))
        print("(the monitor printed %d events for the overwritten file)" % nev)
    finally:
        for p in procs:
            p.kill()
            p.wait()
        for pid in pids.values():
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        time.sleep(0.3)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
