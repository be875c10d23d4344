#!/usr/bin/env python3
"""What monitoring costs a live guest (issue 13, item 5; docs/bench.md).

    python3 bench/live_impact.py [--build build-rel] [--rounds 4] [--seconds 4]

For each memory path (a shared RAM file, then anonymous RAM read through
/proc/PID/mem) it boots a harness guest and:

 1. Throughput: a CPU-bound loop in the guest (busybox awk) times itself with
    the guest's /proc/uptime; runs alternate without and with a monitor
    (`xa-ps qemu:SOCK --watch 0.1`: a full process list 10 times a second
    over one handle). Reported: the median with/without ratio, and the host
    CPU the monitor used (it shares this host's cores with QEMU's TCG
    threads; on KVM the guest would not pay for it). Iterations per CPU
    second of QEMU's vCPU threads are reported too: on a loaded host the
    guest's clock runs on while its vCPU thread waits for a core, which that
    ratio leaves out.
 2. Paused snapshots: live_snapshot pauses, lists every process, resumes.
    How long the guest was stopped is QEMU's own: the timestamps of its STOP
    and RESUME events (read on the harness's QMP connection), beside the
    round trips xa_pause() and xa_resume() took and the list time.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "guest"))
from harness import Guest  # noqa: E402

LOOP = "awk 'BEGIN{s=0; for(i=0;i<%d;i++) s+=i; print s}' >/dev/null"


def guest_run_loop(g, n):
    """Run the loop once: iterations per guest second, the guest seconds, and
    iterations per CPU second of QEMU's vCPU threads (host contention aside)."""
    q0 = vcpu_seconds(g.proc.pid)
    out = g.run("read a x < /proc/uptime; %s; read b x < /proc/uptime; echo T $a $b" % (LOOP % n),
                timeout=600)
    line = [ln for ln in out.splitlines() if ln.startswith("T ")][-1]
    a, b = map(float, line.split()[1:3])
    q1 = vcpu_seconds(g.proc.pid)
    return n / (b - a), b - a, n / max(q1 - q0, 1e-3)


def cpu_seconds(pid, tid=None):
    path = "/proc/%d/stat" % pid if tid is None else "/proc/%d/task/%d/stat" % (pid, tid)
    with open(path) as f:
        f = f.read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def vcpu_seconds(pid):
    """CPU time of QEMU's vCPU threads ("CPU n/TCG"): the guest's own running
    time, without QEMU's main loop (which answers the monitor's QMP)."""
    total = 0.0
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
            if "TCG" in f.read():
                total += cpu_seconds(pid, int(tid))
    if total == 0.0 and not any("TCG" in open("/proc/%d/task/%s/comm" % (pid, t)).read()
                                for t in os.listdir("/proc/%d/task" % pid)):
        raise SystemExit("no vCPU thread found (QEMU needs -name ...,debug-threads=on)")
    return total


def throughput(g, sock, build, rounds, seconds):
    n = 200000
    rate = guest_run_loop(g, n)[0]
    n = max(n, int(rate * seconds))
    ps = os.path.join(build, "tools", "xa-ps")
    off, on, mon_cpu, off_cpu, on_cpu = [], [], [], [], []
    for r in range(rounds):
        for mode in (("off", "on") if r % 2 == 0 else ("on", "off")):
            if mode == "off":
                rate, _, per_cpu = guest_run_loop(g, n)
                off.append(rate)
                off_cpu.append(per_cpu)
                continue
            mon = subprocess.Popen([ps, "qemu:" + sock, "--watch", "0.1"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            time.sleep(1.0)  # attached and listing before the loop starts
            if mon.poll() is not None:
                raise SystemExit("monitor exited: " + mon.stderr.read().decode())
            c0, t0 = cpu_seconds(mon.pid), time.time()
            rate, _, per_cpu = guest_run_loop(g, n)
            on.append(rate)
            on_cpu.append(per_cpu)
            c1, t1 = cpu_seconds(mon.pid), time.time()
            mon.terminate()
            mon.wait()
            mon_cpu.append((c1 - c0) / (t1 - t0))
    return {"iterations": n, "off": off, "on": on,
            "ratio": statistics.median(on) / statistics.median(off),
            "off_per_vcpu_cpu": off_cpu, "on_per_vcpu_cpu": on_cpu,
            "ratio_per_vcpu_cpu": statistics.median(on_cpu) / statistics.median(off_cpu),
            "monitor_cpu": statistics.median(mon_cpu)}


def snapshots(g, sock, build, rounds):
    g._qmp.events.clear()
    p = subprocess.run([os.path.join(build, "bench", "live_snapshot"), "qemu:" + sock,
                        str(rounds)], capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise SystemExit("live_snapshot: " + p.stderr)
    g.qmp("query-status")  # the events came before this reply
    ev = [(e["event"], e["timestamp"]["seconds"] + e["timestamp"]["microseconds"] / 1e6)
          for e in g._qmp.events if e.get("event") in ("STOP", "RESUME")]
    stops = []
    for i in range(len(ev) - 1):
        if ev[i][0] == "STOP" and ev[i + 1][0] == "RESUME":
            stops.append((ev[i + 1][1] - ev[i][1]) * 1e6)
    rows = []
    for ln in p.stdout.splitlines():
        f = ln.split()
        rows.append({k: float(f[i + 1]) for i, k in enumerate(f) if k in
                     ("pause_us", "list_us", "resume_us", "procs")})
    if len(stops) != len(rows):
        raise SystemExit("%d snapshots but %d STOP/RESUME pairs" % (len(rows), len(stops)))
    med = lambda k: statistics.median(r[k] for r in rows)  # noqa: E731
    return {"rounds": len(rows), "procs": int(rows[0]["procs"]),
            "stopped_us": statistics.median(stops), "stopped_max_us": max(stops),
            "pause_us": med("pause_us"), "list_us": med("list_us"),
            "resume_us": med("resume_us"),
            "over_rtt_us": statistics.median(s - r["pause_us"] - r["resume_us"]
                                             for s, r in zip(stops, rows))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.environ.get("XA_BUILD", os.path.join(ROOT, "build")))
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--snapshots", type=int, default=20)
    ap.add_argument("--paths", default="shared,procmem")
    a = ap.parse_args()
    results = {}
    for path in a.paths.split(","):
        g = Guest("impact-" + path, shared_ram=(path == "shared"), nproc=300, boot=False)
        g.extra_qemu_args += ["-name", "impact,debug-threads=on"]  # vCPU threads named
        g.boot()
        try:
            sock = g.monitor_path
            results[path] = {"throughput": throughput(g, sock, a.build, a.rounds, a.seconds),
                             "snapshot": snapshots(g, sock, a.build, a.snapshots)}
        finally:
            g.shutdown()
        t, s = results[path]["throughput"], results[path]["snapshot"]
        print("%-8s throughput with/without monitor: %.4f per guest second, %.4f per vCPU-thread "
              "CPU second (monitor %.1f%% of a host CPU; %d+%d runs of %d iterations)"
              % (path, t["ratio"], t["ratio_per_vcpu_cpu"], 100 * t["monitor_cpu"],
                 len(t["off"]), len(t["on"]), t["iterations"]))
        print("%-8s snapshot: guest stopped %.0f us median (max %.0f), pause RTT %.0f us, "
              "list %.0f us (%d procs), resume RTT %.0f us; stopped - RTTs = %.0f us"
              % (path, s["stopped_us"], s["stopped_max_us"], s["pause_us"], s["list_us"],
                 s["procs"], s["resume_us"], s["over_rtt_us"]))
        sys.stdout.flush()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
