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
and busy, so two numbers per run:
  wall  µs per write as qemu-img bench measures it (noisy),
  cpu   µs of nbdkit CPU time (user+sys, all threads) per write: the tap's
        cost is CPU work inside nbdkit, and this is far less noisy.
Medians over rounds; 'added' is the median of the per-round paired
differences against plain nbdkit.

    /usr/bin/python3 bench/disk_micro.py --build BUILD [--rounds 5]
"""
import argparse, os, re, shutil, signal, statistics, subprocess, sys, tempfile, time

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
    bindir = os.path.join(os.path.abspath(a.build), "disk", "lib")
    work = tempfile.mkdtemp(prefix="xadisk-micro-")
    procs, pids = [], {}
    try:
        img, data_off = make_image(work)
        socks = {n: os.path.join(work, n + ".sock") for n in ("nbdkit", "tap", "tapmon")}
        pidf = os.path.join(work, "plain.pid")
        subprocess.run(["nbdkit", "-P", pidf, "-U", socks["nbdkit"], "file", img], check=True)
        wait_socket(socks["nbdkit"])
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
        res = {}  # (size, config) -> list of (wall_us, cpu_us)
        mon_cpu = {4096: [], 65536: []}
        for r in range(a.rounds):
            order = configs[r % 3:] + configs[:r % 3]
            for size, count in ((4096, a.count4k), (65536, a.count64k)):
                for c in order:
                    cpu0 = proc_cpu(pids[c])
                    m0 = proc_cpu(mon.pid) if c == "tapmon" else 0
                    wall = bench(socks[c], size, count, data_off)
                    cpu = proc_cpu(pids[c]) - cpu0
                    res.setdefault((size, c), []).append((wall / count * 1e6, cpu / count * 1e6))
                    if c == "tapmon":
                        mon_cpu[size].append((proc_cpu(mon.pid) - m0) / count * 1e6)
        print("Tap microbenchmark: synchronous writes (queue depth 1) over NBD, qemu-img bench,")
        print("%d interleaved rounds of %d x 4 KiB and %d x 64 KiB writes; medians."
              % (a.rounds, a.count4k, a.count64k))
        print("cpu = nbdkit CPU time per write (all threads); added = median of paired "
              "per-round differences vs nbdkit.")
        print()
        print("| write | server | wall µs/write | added wall µs | nbdkit cpu µs/write "
              "| added cpu µs | monitor cpu µs/write |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
        verdict = []
        for size in (4096, 65536):
            base = res[(size, "nbdkit")]
            for c in configs:
                rows = res[(size, c)]
                wall = statistics.median(w for w, _ in rows)
                cpu = statistics.median(u for _, u in rows)
                if c == "nbdkit":
                    dw = dc = "-"
                else:
                    dwv = statistics.median(x[0] - b[0] for x, b in zip(rows, base))
                    dcv = statistics.median(x[1] - b[1] for x, b in zip(rows, base))
                    dw, dc = "%+.1f" % dwv, "%+.2f" % dcv
                    if c == "tapmon" and size == 4096:
                        verdict.append(dcv)
                mc = "%.2f" % statistics.median(mon_cpu[size]) if c == "tapmon" else "-"
                print("| %s | %s | %.1f | %s | %.2f | %s | %s |" % (
                    "4 KiB" if size == 4096 else "64 KiB", label[c], wall, dw, cpu, dc, mc))
        print()
        print("Target: at most 2 µs added per 4 KiB write with a monitor attached: "
              "measured %+.2f µs of tap CPU per write -> %s" % (
                  verdict[0], "met" if verdict[0] <= 2.0 else "NOT met"))
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
