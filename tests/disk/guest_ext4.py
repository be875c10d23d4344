#!/usr/bin/env python3
"""Real-guest disk monitoring test (issue 5).

An ext4 image made on the host (mkfs.ext4, a few files added with debugfs
before anything runs) is served through xa-disk-tap to a QEMU guest.  A
monitor (xa-disk-monitor --json) runs on the host.  The guest does a script
of creates, deletes, renames, appends, truncates, mkdir/rmdir, chmod, links,
with `sync` after each step; after each step the events the monitor printed
must contain what the step did (net effect, full paths), and nothing else of
the create/delete/rename/link kinds.

Then: the monitor is stopped (SIGSTOP) while the guest writes more than the
tap's 1 MiB ring holds; after SIGCONT it must report a resync and the files
made meanwhile.  Then the monitor is SIGKILLed while the guest writes files
in batches, and a new one is started 2 s later (issue 21): every file
is reported by one of the monitors, the guest carries on, its files'
checksums match what the host reads from the image, and `e2fsck -fn`
passes.

    python3 tests/disk/guest_ext4.py --build build-disk [--fs ext2] [--keep]
Exit status 0 when everything matched.
"""
import argparse, hashlib, json, os, shutil, signal, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "guest"))
from harness import Guest  # noqa: E402

STEPS = [
    ("create file, mkdir", "echo hello > /mnt/a.txt; mkdir /mnt/d",
     [("create", "/a.txt"), ("create", "/d")]),
    ("rename into dir", "mv /mnt/a.txt /mnt/d/b.txt",
     [("rename", "/d/b.txt", "/a.txt")]),
    ("append", "echo more >> /mnt/d/b.txt",
     [("write", "/d/b.txt")]),
    ("truncate", "truncate -s 3 /mnt/d/b.txt",
     [("truncate", "/d/b.txt")]),
    ("chmod", "chmod 600 /mnt/d/b.txt",
     [("attrib", "/d/b.txt")]),
    ("hard link", "ln /mnt/d/b.txt /mnt/hl",
     [("link", "/hl")]),
    ("symlink, fifo, device", "ln -s /target /mnt/sym; mknod /mnt/fifo p; mknod /mnt/null c 1 3",
     [("create", "/sym"), ("create", "/fifo"), ("create", "/null")]),
    ("delete pre-existing file", "rm /mnt/pre/old1",
     [("delete", "/pre/old1")]),
    ("delete, rmdir", "rm /mnt/d/b.txt /mnt/hl; rmdir /mnt/d",
     [("delete", "/d/b.txt"), ("delete", "/hl"), ("delete", "/d")]),
    ("deep mkdir + file", "mkdir -p /mnt/x/y/z; echo z > /mnt/x/y/z/f",
     [("create", "/x"), ("create", "/x/y"), ("create", "/x/y/z"), ("create", "/x/y/z/f")]),
    ("move a tree", "mv /mnt/x /mnt/x2",
     [("rename", "/x2", "/x")]),
    ("append with a sync after each line", "for i in 1 2 3; do date >> /mnt/app.log; sync; done",
     [("create", "/app.log"), ("write", "/app.log")]),
    ("write 64 KiB in the middle of a file",
     "dd if=/dev/zero of=/mnt/big bs=4096 count=64 2>/dev/null; sync; "
     "dd if=/dev/urandom of=/mnt/big bs=4096 seek=16 count=16 conv=notrunc 2>/dev/null",
     [("create", "/big"), ("write", "/big")]),
]
STRUCTURAL = {"create", "delete", "rename", "link"}


class Events:
    def __init__(self, path):
        self.path, self.pos, self.all = path, 0, []

    def poll(self):
        with open(self.path) as f:
            f.seek(self.pos)
            data = f.read()
        lines = data.split("\n")
        self.pos += len(data) - len(lines[-1])
        new = [json.loads(l) for l in lines[:-1] if l.strip()]
        self.all += new
        return new


def match(ev, want):
    if ev["type"] != want[0] or ev["path"] != want[1]:
        return False
    return len(want) < 3 or ev.get("old_path") == want[2]


def wait_for(events, wants, timeout):
    got, deadline = [], time.time() + timeout
    while True:
        got += events.poll()
        missing = [w for w in wants if not any(match(e, w) for e in got)]
        if not missing or time.time() > deadline:
            time.sleep(1.0)  # let stragglers of the same step arrive
            got += events.poll()
            return got, missing
        time.sleep(0.2)


BATCHES, PER_BATCH, KILL_BATCH = 8, 10, 4
# The guest writes BATCHES batches of files (128 KiB each, a sync after every
# second file).  Before each batch it waits at a gate the host opens, so that
# the host knows which monitor must see which batch.  A batch has PER_BATCH
# files, except batch KILL_BATCH, which goes on (up to 300 files) until the
# host says stop: the monitor is killed and restarted while it runs.
HEAVY = ("mkdir /mnt/heavy; sync; "
         "for b in $(seq 1 %d); do "
         "while [ ! -e /tmp/gate$b ]; do sleep 0.2; done; "
         "i=1; while { [ ! -e /tmp/stop$b ] || [ $i -le %d ]; } && [ $i -le 300 ]; do "
         "dd if=/dev/urandom of=/mnt/heavy/b${b}_$i bs=64k count=2 2>/dev/null; "
         "[ $((i %% 2)) = 0 ] && sync; i=$((i + 1)); done; "
         "sync; touch /tmp/batch$b.done; done; echo done > /tmp/heavy.done" % (BATCHES, PER_BATCH))


def batch_paths(b):
    return ["/heavy/b%d_%d" % (b, i) for i in range(1, PER_BATCH + 1)]


def wait_all(events, wants, timeout):
    """Wait until events (all so far) match every want; the wants missing."""
    deadline = time.time() + timeout
    while True:
        events.poll()
        missing = [w for w in wants if not any(match(e, w) for e in events.all)]
        if not missing or time.time() > deadline:
            return missing
        time.sleep(0.3)


def guest_flag(g, path):
    return "yes" in g.run("[ -e %s ] && echo yes" % path)


def wait_guest_flag(g, path, timeout):
    deadline = time.time() + timeout
    while not guest_flag(g, path):
        if time.time() > deadline:
            return False
        time.sleep(1)
    return True


def kill_and_restart(g, mon, events, bindir, info, work):
    """Batches 1..KILL_BATCH-1 must be reported by the first monitor.  It is
    SIGKILLed once it has reported a file of batch KILL_BATCH, while the
    guest still writes that batch; a second monitor starts 2 s later and
    must report every later batch.  Batch KILL_BATCH ends only after that.
    Files of batch KILL_BATCH committed
    while no monitor ran are in the second monitor's initial scan, not
    events: an append to each of them afterwards must be reported by it
    (so it knows every file by its path).  Returns (monitor 2, ok, lines)."""
    lines, ok = [], True

    def say(good, text):
        nonlocal ok
        ok &= bool(good)
        lines.append("%-4s %s" % ("ok" if good else "FAIL", text))

    g.run("(%s) >/dev/null 2>&1 &" % HEAVY)
    for b in range(1, KILL_BATCH):
        g.run("touch /tmp/stop%d /tmp/gate%d" % (b, b))
        missing = wait_all(events, [("create", p) for p in batch_paths(b)], 180)
        say(not missing, "monitor 1 reported batch %d%s" % (b, " MISSING %r" % missing
                                                           if missing else ""))
    g.run("touch /tmp/gate%d" % KILL_BATCH)
    first = batch_paths(KILL_BATCH)[:2]  # the first sync comes after two files
    wait_all(events, [("create", p) for p in first], 180)
    mon.kill()
    mon.wait()
    mid_batch = not guest_flag(g, "/tmp/batch%d.done" % KILL_BATCH)
    say(mid_batch, "monitor 1 SIGKILLed while the guest wrote batch %d" % KILL_BATCH)
    time.sleep(2)
    evfile2 = os.path.join(work, "events2.jsonl")
    err2 = os.path.join(work, "monitor2.err")
    mon2 = subprocess.Popen([os.path.join(bindir, "xa-disk-monitor"), "tap:" + info["EVENTS"],
                             "--json"], stdout=open(evfile2, "w"), stderr=open(err2, "w"))
    events2 = Events(evfile2)
    deadline = time.time() + 120
    while time.time() < deadline and "active" not in open(err2).read() and mon2.poll() is None:
        time.sleep(0.2)
    say("active" in open(err2).read(), "monitor 2 active")
    g.run("touch /tmp/stop%d" % KILL_BATCH)
    say(wait_guest_flag(g, "/tmp/batch%d.done" % KILL_BATCH, 300),
        "batch %d finished" % KILL_BATCH)
    names = g.run("ls /mnt/heavy").split()
    kill_batch = ["/heavy/" + n for n in names if n.startswith("b%d_" % KILL_BATCH)]
    for b in range(KILL_BATCH + 1, BATCHES + 1):
        g.run("touch /tmp/stop%d /tmp/gate%d" % (b, b))
        missing = wait_all(events2, [("create", p) for p in batch_paths(b)], 180)
        say(not missing, "monitor 2 reported batch %d%s" % (b, " MISSING %r" % missing
                                                           if missing else ""))
    say(wait_guest_flag(g, "/tmp/heavy.done", 300), "the guest's workload finished")
    # batch KILL_BATCH: created by one of the monitors, or known to monitor 2
    created1 = {p for p in kill_batch if any(match(e, ("create", p)) for e in events.all)}
    events2.poll()
    created2 = {p for p in kill_batch if any(match(e, ("create", p)) for e in events2.all)}
    g.run("for f in /mnt/heavy/b%d_*; do echo appended >> $f; done; sync" % KILL_BATCH)
    missing = wait_all(events2, [("write", p) for p in kill_batch], 180)
    say(not missing and len(kill_batch) >= PER_BATCH,
        "batch %d (%d files): %d created by monitor 1, %d by monitor 2, the other %d were in "
        "monitor 2's scan; monitor 2 reported an append to each%s" % (
            KILL_BATCH, len(kill_batch), len(created1), len(created2),
            len(kill_batch) - len(created1 | created2),
            " MISSING %r" % missing if missing else ""))
    every = [p for b in range(1, BATCHES + 1) if b != KILL_BATCH for p in batch_paths(b)]
    every += kill_batch
    unreported = [p for p in every if not any(e["path"] == p for e in events.all + events2.all)]
    say(not unreported, "every one of the %d files reported by one of the monitors%s" % (
        len(every), " MISSING %r" % unreported if unreported else ""))
    broken = [l for l in open(err2) if "broken stream" in l]
    say(not broken, "monitor 2 saw no broken stream%s" % (": %r" % broken if broken else ""))
    return mon2, ok, lines, len(every)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(HERE, "..", "..", "build"))
    ap.add_argument("--fs", default="ext4", choices=["ext4", "ext2"])
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    bindir = os.path.join(os.path.abspath(a.build), "disk", "lib")
    work = tempfile.mkdtemp(prefix="xadisk-guest-")
    img, sock = os.path.join(work, "disk.img"), os.path.join(work, "nbd.sock")
    subprocess.run(["mkfs." + a.fs, "-q", "-F", img, "256M"], check=True)
    with open(os.path.join(work, "pre.cmds"), "w") as f:
        f.write("mkdir pre\nwrite /etc/hostname pre/old1\nwrite /etc/hostname pre/old2\n")
    subprocess.run(["debugfs", "-w", "-f", os.path.join(work, "pre.cmds"), img],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = subprocess.run([os.path.join(bindir, "xa-disk-tap"), img, "--socket", sock,
                          "--ring", "1M", "--background"],
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    info = dict(l.split(": ", 1) for l in out.splitlines() if ": " in l)
    tap_pid = int(info["PID"])
    qemu_args = info["QEMU"].split()
    evfile = os.path.join(work, "events.jsonl")
    mon_err = open(os.path.join(work, "monitor.err"), "w")
    mon = subprocess.Popen([os.path.join(bindir, "xa-disk-monitor"), "tap:" + info["EVENTS"],
                            "--json"], stdout=open(evfile, "w"), stderr=mon_err)
    events = Events(evfile)
    failures, report, mon2 = 0, [], None
    try:
        with Guest("xadisk", nproc=5, mem_mb=384, extra_qemu_args=qemu_args) as g:
            g.run("mkdir -p /mnt && mount -t %s /dev/vda /mnt" % a.fs)
            if g.last_rc != 0:
                raise SystemExit("mount failed")
            g.run("sync")
            wait_for(events, [], 3)
            for name, cmd, wants in STEPS:
                t0 = time.time()
                g.run(cmd + "; sync", timeout=120)
                got, missing = wait_for(events, wants, 20)
                lat = time.time() - t0
                extra = [e for e in got if e["type"] in STRUCTURAL and
                         not any(match(e, w) for w in wants)]
                ok = not missing and not extra
                failures += not ok
                report.append("%-4s %-36s %5.1fs  %s%s%s" % (
                    "ok" if ok else "FAIL", name, lat,
                    ", ".join("%s %s" % (e["type"], e["path"]) for e in got),
                    ("  MISSING " + repr(missing)) if missing else "",
                    ("  EXTRA " + repr([(e["type"], e["path"]) for e in extra])) if extra else ""))
                # checks on the details of some events
                writes = [e for e in got if e["type"] == "write"]
                if name == "append" and (not writes or writes[-1]["size"] != 11):
                    failures += 1
                    report.append("FAIL append: sizes %r, want 11 last" % [e["size"] for e in writes])
                for e in got:
                    if name == "truncate" and e["type"] == "truncate":
                        if e["size"] != 3 or e["old_size"] != 11:
                            failures += 1
                            report.append("FAIL truncate sizes %r" % e)
                    if name == "chmod" and e["type"] == "attrib":
                        if e["mode"] & 0o7777 != 0o600:
                            failures += 1
                            report.append("FAIL chmod mode %o" % e["mode"])
                    if name.startswith("symlink") and e["type"] == "create":
                        want_ft = {"/sym": "symlink", "/fifo": "fifo", "/null": "chardev"}
                        if e["file_type"] != want_ft.get(e["path"]):
                            failures += 1
                            report.append("FAIL file type %s %s" % (e["path"], e["file_type"]))
            # the 64 KiB overwrite at block 16..31 must show up as that range, in a
            # write of its own (the whole file's write at creation does not count)
            big_writes = [e for e in events.all if e["type"] == "write" and e["path"] == "/big"]
            covered = any(r[0] <= 16 * 4096 and r[0] + r[1] >= 32 * 4096 and r[1] < 64 * 4096
                          for e in big_writes for r in e.get("ranges", []))
            report.append("%-4s write ranges of /big cover [64K,128K): %s" % (
                "ok" if covered else "FAIL", [e.get("ranges") for e in big_writes]))
            failures += not covered

            # no write is reported twice in one transaction (the commit's size
            # change and the data blocks attributed at the next flush)
            seen, repeats = set(), []
            for e in events.all:
                if e["type"] == "write":
                    key = (e["txn"], e["path"], json.dumps(e.get("ranges")))
                    if key in seen:
                        repeats.append(key)
                    seen.add(key)
            report.append("%-4s no write repeated within a transaction%s" % (
                "ok" if not repeats else "FAIL", (": %r" % repeats) if repeats else ""))
            failures += bool(repeats)

            # ring overflow: the monitor stops reading, the guest writes 16 MiB, more than the
            # 1 MiB ring plus the socket buffers (4 MiB send, 8 MiB receive) hold
            os.kill(mon.pid, signal.SIGSTOP)
            g.run("mkdir /mnt/burst; for i in 1 2 3 4 5 6 7 8; do "
                  "dd if=/dev/urandom of=/mnt/burst/f$i bs=64k count=32 2>/dev/null; done; sync",
                  timeout=300)
            time.sleep(1)
            os.kill(mon.pid, signal.SIGCONT)
            wants = [("resync", "")] + [("create", "/burst/f%d" % i) for i in range(1, 9)]
            got, missing = wait_for(events, wants, 30)
            ok = not missing
            failures += not ok
            report.append("%-4s ring overflow -> resync + rescan: %s%s" % (
                "ok" if ok else "FAIL",
                ", ".join("%s %s" % (e["type"], e["path"]) for e in got if e["type"] != "write"),
                ("  MISSING %r" % missing) if missing else ""))

            # SIGKILL the monitor in the middle of guest writes, start a new
            # one 2 s later (issue 21)
            mon2, ok_kill, lines, nheavy = kill_and_restart(g, mon, events, bindir, info, work)
            failures += not ok_kill
            report += lines
            sums = g.run("cd /mnt && md5sum heavy/* burst/* x2/y/z/f big", timeout=120)
            alive = g.run("echo alive").strip() == "alive"
            g.run("umount /mnt")
            umount_ok = g.last_rc == 0
        fsck = subprocess.run(["e2fsck", "-fn", img], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
        bad_sums = 0
        for line in sums.splitlines():
            parts = line.split()
            if len(parts) != 2:
                continue
            dumped = subprocess.run(["debugfs", "-R", "cat /" + parts[1], img],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
            if hashlib.md5(dumped).hexdigest() != parts[0]:
                bad_sums += 1
        nsums = len([l for l in sums.splitlines() if len(l.split()) == 2])
        ok = alive and umount_ok and fsck.returncode == 0 and bad_sums == 0 and \
            nsums == nheavy + 8 + 2
        failures += not ok
        report.append("%-4s after the monitor was SIGKILLed: guest alive=%s, umount=%s, "
                      "e2fsck -fn rc=%d, %d/%d checksums match" % (
                          "ok" if ok else "FAIL", alive, umount_ok, fsck.returncode,
                          nsums - bad_sums, nsums))
    finally:
        for m in (mon, mon2):
            if m and m.poll() is None:
                m.kill()
                m.wait()
        try:
            os.kill(tap_pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    print("\n".join(report))
    for name in ("monitor.err", "monitor2.err"):
        if os.path.exists(os.path.join(work, name)):
            with open(os.path.join(work, name)) as f:
                print(f.read().strip())
    print("%s: %d failure(s); events in %s" % (a.fs, failures, evfile))
    if not a.keep and not failures:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
