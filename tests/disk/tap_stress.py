#!/usr/bin/env python3
"""Stress test of the disk tap without a VM (issue 21).

A raw image is served by xa-disk-tap (1 MiB ring).  A background writer
(qemu-io over NBD) writes the byte 0x85 all the time, in requests from 4 KiB
to 2 MiB (larger than a quarter of the ring, so they are split).  Bare
subscribers (tap_subscriber, which checks every frame) are started and
SIGKILLed at random moments, hundreds of times: before they are ready,
while they read, or after they stopped reading with the tap's send blocked;
sometimes two at once.  In lossy and in lossless mode:

  * after each (re)start, a probe write made once the subscriber is ready
    reaches it (lossy mode: or its drop is reported by a RESYNC, and then a
    probe made while the background writer holds off reaches it);
  * no subscriber ever sees a frame that is not possible (bad magic, type,
    length, sequence, or a payload that is not all 0x85): nothing the
    writer wrote reaches a subscriber as a frame;
  * no subscriber sees a write made before it subscribed;
  * a probe write made right after the kill completes at once: writers
    never wait on a dead subscriber (in lossless mode the old tap made
    them wait for ever);
  * the background writer keeps going and the tap outlives it all.

    python3 tests/disk/tap_stress.py --build BUILD [--cycles 200] [--seed N]
Exit status 0 when everything held.
"""
import argparse, os, queue, random, shutil, signal, subprocess, sys, tempfile, threading, time

MiB = 1 << 20
IMAGE = 64 * MiB
BG_END = 40 * MiB     # the background writer writes below this
PROBE_BASE = 48 * MiB  # probes above it (the subscribers report only these)
READY_S = 10.0         # generous: the machine may be loaded
DELIVER_S = 10.0
AFTER_KILL_S = 5.0     # a write after the kill must not take longer


class Lines:
    """A process's stdout, line by line, read by a thread."""

    def __init__(self, f):
        self.q, self.seen, self.eof = queue.Queue(), [], False
        threading.Thread(target=self._run, args=(f,), daemon=True).start()

    def _run(self, f):
        for line in f:
            self.q.put(line.rstrip("\n"))
        self.q.put(None)

    def wait_for(self, pred, timeout):
        """The first new line for which pred holds, or None (timeout, EOF)."""
        deadline = time.monotonic() + timeout
        while not self.eof:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                line = self.q.get(timeout=left)
            except queue.Empty:
                return None
            if line is None:
                self.eof = True
                return None
            self.seen.append(line)
            if pred(line):
                return line
        return None

    def rest(self, timeout):
        self.wait_for(lambda line: False, timeout)
        return self.seen


class QemuIo:
    """One NBD connection through the tap; writes the byte 0x85."""

    def __init__(self, sock):
        self.p = subprocess.Popen(["qemu-io", "-f", "raw", "nbd+unix:///?socket=" + sock],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, bufsize=1)
        self.out = Lines(self.p.stdout)

    def write(self, off, length, timeout):
        """Seconds the write took; None if it did not finish in time."""
        t0 = time.monotonic()
        self.p.stdin.write("write -P 0x85 %d %d\n" % (off, length))
        self.p.stdin.flush()
        line = self.out.wait_for(lambda l: "wrote" in l or "error" in l.lower(), timeout)
        if line is None:
            return None
        if "wrote %d/%d bytes at offset %d" % (length, length, off) not in line:
            raise RuntimeError("qemu-io: " + line)
        self.out.wait_for(lambda l: " ops;" in l, timeout)  # the statistics line
        return time.monotonic() - t0

    def close(self):
        try:
            self.p.stdin.close()
        except BrokenPipeError:
            pass
        try:
            self.p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


class Background(threading.Thread):
    def __init__(self, sock, rnd):
        super().__init__(daemon=True)
        self.io, self.rnd = QemuIo(sock), rnd
        self.stop, self.writes, self.error = False, 0, None
        self.turn = threading.Lock()  # held for each write; hold() takes it

    def run(self):
        sizes = [4096, 4096, 65536, 65536, 262144, MiB, 2 * MiB]
        try:
            while not self.stop:
                n = self.rnd.choice(sizes)
                off = self.rnd.randrange(0, BG_END - n, 4096)
                with self.turn:
                    t = self.io.write(off, n, 120)
                if t is None:
                    self.error = "a background write took more than 120 s"
                    return
                self.writes += 1
                time.sleep(0)  # let hold() in
        except Exception as e:  # reported by the main thread
            self.error = repr(e)

    def hold(self):
        """Wait for the write in progress, then keep the writer off (release())."""
        self.turn.acquire()

    def release(self):
        self.turn.release()


class Subscriber:
    def __init__(self, exe, events):
        self.p = subprocess.Popen([exe, events, str(PROBE_BASE)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        self.out = Lines(self.p.stdout)
        self.ready = False

    def wait_ready(self):
        line = self.out.wait_for(lambda l: l.startswith(("ready", "BAD")), READY_S)
        self.ready = bool(line) and line.startswith("ready")
        return self.ready

    def kill(self):
        self.p.kill()
        self.p.wait()
        lines = self.out.rest(5)
        err = self.p.stderr.read().strip()
        self.p.stderr.close()
        return lines, err


def run_mode(a, lossless, rnd, bindir, sub_exe, work):
    name = "lossless" if lossless else "lossy"
    img = os.path.join(work, name + ".img")
    with open(img, "wb") as f:
        f.truncate(IMAGE)
    sock = os.path.join(work, name + ".sock")
    cmd = [os.path.join(bindir, "xa-disk-tap"), img, "--socket", sock, "--ring", "1M",
           "--background"] + (["--lossless"] if lossless else [])
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    info = dict(l.split(": ", 1) for l in out.splitlines() if ": " in l)
    tap_pid, events = int(info["PID"]), info["EVENTS"]
    failures = []
    stats = {"cycles": 0, "kills": 0, "early": 0, "stalled": 0, "pairs": 0, "probes": 0,
             "probes dropped": 0}
    worst_after_kill = 0.0
    probe_io = QemuIo(sock)
    bg = Background(sock, random.Random(rnd.random()))
    bg.start()
    probe_off = PROBE_BASE
    old_probes = set()  # writes made while nobody listened

    def next_probe():
        nonlocal probe_off
        n = rnd.randrange(512, 256 * 1024 + 1, 512)
        if probe_off + n > IMAGE:  # offsets are used again: forget the old ones
            probe_off = PROBE_BASE
            old_probes.clear()
        off = probe_off
        probe_off += (n + 4095) // 4096 * 4096
        return off, n

    def probe(subs, cycle):
        """The next write reaches every ready subscriber.  In lossy mode the
        ring may be full of background writes and drop it: then a RESYNC
        must come instead, and once the background writer holds off (and
        the ring drains) a probe must arrive within a few tries.  None: the
        write itself hung."""
        pending = [s for s in subs if s.ready]
        held = False
        try:
            for attempt in range(1 if lossless else 4):
                off, n = next_probe()
                t = probe_io.write(off, n, DELIVER_S)
                stats["probes"] += 1
                if t is None:
                    failures.append("%s cycle %d: a write to a live subscriber took > %.0f s"
                                    % (name, cycle, DELIVER_S))
                    return None
                want, dropped = "write %d " % off, []
                for s in pending:
                    if attempt == 0:  # the write, or a RESYNC (lossy)
                        line = s.out.wait_for(lambda l: l.startswith((want, "resync")),
                                              DELIVER_S)
                    else:  # a RESYNC seen now may be an old one
                        line = s.out.wait_for(lambda l: l.startswith(want), 2.0)
                    if line is None and attempt == 0:
                        failures.append("%s cycle %d: the write at %d did not reach the new "
                                        "subscriber, and no RESYNC came (it saw %s)" % (
                                            name, cycle, off, s.out.seen[-3:]))
                        return False
                    if line is None or line.startswith("resync"):
                        dropped.append(s)
                if not dropped:
                    return True
                if lossless:
                    break
                stats["probes dropped"] += 1
                pending = dropped
                if not held:
                    bg.hold()
                    held = True
                time.sleep(0.1)
            failures.append("%s cycle %d: %s" % (
                name, cycle, "RESYNC in lossless mode" if lossless else
                "probes still do not arrive with the background writer held off"))
            return False
        finally:
            if held:
                bg.release()

    try:
        for cycle in range(a.cycles):
            if len(failures) >= 3 or bg.error:
                break
            stats["cycles"] += 1
            subs = [Subscriber(sub_exe, events)]
            if rnd.random() < 0.2:
                time.sleep(rnd.random() * 0.01)
                subs.append(Subscriber(sub_exe, events))
                stats["pairs"] += 1
            if rnd.random() < 0.15:
                # killed at once: while connecting, joining or getting HELLO
                time.sleep(rnd.random() * 0.004)
                stats["early"] += 1
            else:
                for s in subs:
                    if not s.wait_ready():
                        failures.append("%s cycle %d: subscriber not ready in %.0f s (%s)" % (
                            name, cycle, READY_S, s.out.seen[-3:]))
                ok = probe(subs, cycle)
                if ok is None:
                    break
                if rnd.random() < 0.5:  # stop reading: the tap's send blocks
                    for s in subs:
                        s.p.send_signal(signal.SIGUSR1)
                    stats["stalled"] += 1
                time.sleep(rnd.random() * 0.04)
            for s in subs:
                lines, err = s.kill()
                stats["kills"] += 1
                bad = [l for l in lines if l.startswith("BAD")]
                if bad or err:
                    failures.append("%s cycle %d: subscriber: %s" % (name, cycle, bad or err))
                early = [l for l in lines if l.startswith("write ") and
                         int(l.split()[1]) in old_probes]
                if early:
                    failures.append("%s cycle %d: a write made before it subscribed reached "
                                    "it: %s" % (name, cycle, early[:2]))
            # nobody listens now: a write must not wait (lossless writers
            # waiting on a dead subscriber would stall the guest)
            off, n = next_probe()
            t = probe_io.write(off, n, AFTER_KILL_S)
            stats["probes"] += 1
            if t is None:
                failures.append("%s cycle %d: a write after the kill waited more than %.0f s"
                                % (name, cycle, AFTER_KILL_S))
                break
            old_probes.add(off)
            worst_after_kill = max(worst_after_kill, t)
        bg_before = bg.writes
        bg.stop = True
        bg.join(130)
        if bg.error:
            failures.append("%s: background writer: %s" % (name, bg.error))
        elif bg.is_alive():
            failures.append("%s: the background writer is stuck" % name)
        if bg_before < 10:
            failures.append("%s: the background writer made only %d writes" % (name, bg_before))
        try:
            os.kill(tap_pid, 0)
        except ProcessLookupError:
            failures.append("%s: the tap died" % name)
    finally:
        probe_io.close()
        bg.io.close()
        try:
            os.kill(tap_pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    print("%-8s %s; %d background writes; slowest write after a kill %.3f s; %s" % (
        name, ", ".join("%d %s" % (v, k) for k, v in stats.items()), bg.writes,
        worst_after_kill, "ok" if not failures else "FAIL"))
    return failures, stats


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--cycles", type=int, default=200, help="kill/restart cycles per mode")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--mode", choices=["lossy", "lossless", "both"], default="both")
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    bindir = os.path.join(build, "disk", "lib")
    sub_exe = os.path.join(build, "tests", "disk", "tap_subscriber")
    seed = a.seed if a.seed is not None else int(time.time())
    print("seed %d" % seed)
    rnd = random.Random(seed)
    work = tempfile.mkdtemp(prefix="xadisk-stress-")
    t0 = time.monotonic()
    failures, kills = [], 0
    try:
        for lossless in {"lossy": [False], "lossless": [True], "both": [False, True]}[a.mode]:
            f, stats = run_mode(a, lossless, rnd, bindir, sub_exe, work)
            failures += f
            kills += stats["kills"]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for f in failures:
        print("FAIL " + f)
    print("%d subscribers killed in %.1f s; %d failure(s)" % (kills, time.monotonic() - t0,
                                                              len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
