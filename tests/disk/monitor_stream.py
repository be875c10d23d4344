#!/usr/bin/env python3
"""xa-disk-monitor against a fake tap that breaks the stream (issue 21).

A fake tap (a unix socket served from here) speaks the protocol of
disk/proto.h for an ext4 image made with mkfs.ext4.  Each connection follows
a script:

  * a stream broken by a bad magic (the bytes of a write: 0x85), an
    impossible length, a payload larger than half the ring, or a sequence
    gap: the monitor says so on stderr (one line), reconnects, rescans and
    reports a resync with the reason and the file that was made in the image
    while the stream was broken; it does not exit;
  * HELLO but no READY: the monitor never says "active" and exits 1 with
    one line (records never flowed);
  * a tap that breaks every stream: the monitor gives up after 5 in a row
    with exit 1 and one line;
  * a protocol-1 tap: exit 1, one line.

    python3 tests/disk/monitor_stream.py --build BUILD
"""
import argparse, json, os, queue, shutil, signal, socket, struct, subprocess, sys, tempfile, threading
import time

MAGIC, HELLO, WRITE, FLUSH, READY = 0x4B444158, 1, 2, 5, 7
HDR = struct.Struct("<IHHQQII")
RING = 1 << 20


def frame(type_, seq, offset=0, length=0, payload=b"", magic=MAGIC, payload_len=None):
    plen = len(payload) if payload_len is None else payload_len
    pad = (-len(payload)) % 8
    return HDR.pack(magic, type_, 0, seq, offset, length, plen) + payload + b"\0" * pad


def hello(seq, image, version=2):
    body = struct.pack("<IIQQQ", version, 0, os.path.getsize(image), RING, 0)
    return frame(HELLO, seq, payload=body + image.encode() + b"\0")


class FakeTap:
    """Serves connection i with scripts[i] (the last one for all later ones)."""

    def __init__(self, path, image, scripts):
        self.path, self.image, self.scripts = path, image, scripts
        self.connections, self.stop = 0, False
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(path)
        self.srv.listen(4)
        self.srv.settimeout(0.2)
        self.conns = []
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while not self.stop:
            try:
                c, _ = self.srv.accept()
            except socket.timeout:
                continue
            except OSError:  # closed
                return
            i = self.connections
            seq = 100 * (i + 1)  # each connection starts somewhere else
            script = self.scripts[min(i, len(self.scripts) - 1)]
            try:
                c.sendall(script(seq, self.image))
            except OSError:
                pass
            self.conns.append(c)  # kept open: the monitor must hang up itself
            self.connections += 1

    def send(self, data):
        """More bytes on the newest connection."""
        try:
            self.conns[-1].sendall(data)
        except OSError:
            pass

    def close(self):
        self.stop = True
        for c in self.conns:
            c.close()
        self.srv.close()


def good(seq, image):
    return hello(seq, image) + frame(READY, seq + 1) + frame(FLUSH, seq + 2)


# What breaks a stream whose next frame is due at seq.
BROKEN = {
    "bad magic": lambda seq: b"\x85" * 4096,
    "impossible length": lambda seq: frame(WRITE, seq, offset=4096, length=4096,
                                           payload=b"\x85" * 8),
    "payload larger than half the ring": lambda seq: frame(WRITE, seq, offset=0, length=RING,
                                                           payload_len=RING),
    "sequence gap": lambda seq: frame(FLUSH, seq + 2),
}
REASON = {"bad magic": "bad magic 0x85858585",
          "impossible length": "impossible frame: type 2, offset 4096, length 4096, payload 8",
          "payload larger than half the ring": "impossible frame: type 2, offset 0, length "
                                               "1048576, payload 1048576",
          "sequence gap": "sequence gap"}


def wait_until(cond, timeout):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def debugfs_write(image, name):
    subprocess.run(["debugfs", "-w", "-R", "write /etc/hostname " + name, image], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run_monitor(mon, events, timeout):
    p = subprocess.Popen([mon, "tap:" + events, "--json"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        return None, out, err
    return p.returncode, out, err


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    a = ap.parse_args()
    mon = os.path.join(os.path.abspath(a.build), "disk", "lib", "xa-disk-monitor")
    work = tempfile.mkdtemp(prefix="xadisk-stream-")
    img = os.path.join(work, "disk.img")
    subprocess.run(["mkfs.ext4", "-q", "-F", img, "16M"], check=True)
    failures = []

    def check(ok, what):
        print("%-4s %s" % ("ok" if ok else "FAIL", what))
        if not ok:
            failures.append(what)

    # 1. each kind of broken stream on a connection where records flowed; a
    #    file is made in the image meanwhile (as if its records were lost)
    events = os.path.join(work, "tap1.sock")
    tap = FakeTap(events, img, [good])
    p = subprocess.Popen([mon, "tap:" + events, "--json"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    err_lines = []
    threading.Thread(target=lambda: err_lines.extend(p.stderr), daemon=True).start()
    evs, lines = [], queue.Queue()
    threading.Thread(target=lambda: [lines.put(l) for l in p.stdout], daemon=True).start()

    def wait_event(pred, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                e = json.loads(lines.get(timeout=0.2))
            except queue.Empty:
                continue
            evs.append(e)
            if pred(e):
                return e
        return None

    wait_until(lambda: any("active" in l for l in err_lines), 30)
    for k, (n, broken) in enumerate(BROKEN.items()):
        name = "lost%d" % k
        debugfs_write(img, name)
        conns = tap.connections
        tap.send(broken(100 * conns + 3))  # good() sent frames up to seq + 2
        reconnected = wait_until(lambda: tap.connections > conns, 30)
        ev = wait_event(lambda e: e["type"] == "resync", 30)
        created = wait_event(lambda e: e["type"] == "create" and e["path"] == "/" + name, 30)
        said = [l for l in err_lines if "resync: broken stream" in l and REASON[n] in l]
        check(reconnected and ev is not None and REASON[n] in ev.get("reason", "") and
              len(said) == 1, "%s: reconnected, reported on stderr and as a resync event (%s)"
              % (n, (ev or {}).get("reason")))
        check(created is not None, "%s: the rescan reported create /%s" % (n, name))
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=30)
    tap.close()
    check(p.returncode == 0, "monitor ran on through %d broken streams (exit %s)" % (
        len(BROKEN), p.returncode))
    check(sum("active" in l for l in err_lines) == 1, "said active once")
    resyncs = [e for e in evs if e["type"] == "resync"]
    check(len(resyncs) == len(BROKEN), "%d resyncs for %d broken streams" % (
        len(resyncs), len(BROKEN)))

    # 2. HELLO without READY: never "active", exit 1 with one line
    events = os.path.join(work, "tap2.sock")
    tap = FakeTap(events, img, [lambda seq, image: hello(seq, image)])
    rc, out, err = run_monitor(mon, events, 60)
    tap.close()
    check(rc == 1 and "active" not in err and len(err.splitlines()) == 1 and
          "READY" in err, "HELLO without READY: exit %s, %r" % (rc, err.strip()))

    # 3. every stream broken: gives up after 5 in a row
    events = os.path.join(work, "tap3.sock")
    tap = FakeTap(events, img, [lambda seq, image: hello(seq, image) + frame(READY, seq + 1) +
                                BROKEN["bad magic"](seq + 2)])
    rc, out, err = run_monitor(mon, events, 60)
    tap.close()
    last = [l for l in err.splitlines() if "in a row" in l]
    check(rc == 1 and len(last) == 1 and "5 times in a row" in last[0] and
          tap.connections == 5,
          "always broken: exit %s after %d connections, %r" % (rc, tap.connections, last))

    # 4. a protocol-1 tap
    events = os.path.join(work, "tap4.sock")
    tap = FakeTap(events, img, [lambda seq, image: hello(seq, image, version=1)])
    rc, out, err = run_monitor(mon, events, 30)
    tap.close()
    check(rc == 1 and len(err.splitlines()) == 1 and "protocol 1" in err,
          "protocol-1 tap: exit %s, %r" % (rc, err.strip()))

    if not failures:
        shutil.rmtree(work, ignore_errors=True)
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
