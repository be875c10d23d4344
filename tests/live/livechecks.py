"""Checks shared by the shared-RAM and /proc/PID/mem live tests."""

import queue
import subprocess
import threading
import time

from livecommon import binary, parse_kv


def attach_and_check(lg, method, unflushed_fresh):
    """Open, layout, registers, kernel banner by virtual address, reads while
    running, pause/resume (live_attach does the checks)."""
    busy = lg.busy()
    try:
        rc, out = lg.attach("--banner-va", lg.syms["linux_banner"], "--banner", lg.version[:60],
                            "--jiffies-va", lg.syms["jiffies"], "--expect-method", method)
    finally:
        lg.g.run("kill %d" % busy)
    print(out)
    assert rc == 0, out
    kv = parse_kv(out)
    assert kv["failures"] == ["0"]
    if unflushed_fresh is not None:
        assert kv["unflushed_read_fresh"] == ["1" if unflushed_fresh else "0"], out
    return kv


def ranges_cover_guest_ram(lg, kv):
    """Every "System RAM" range the guest kernel knows lies in our RAM ranges."""
    ours = []
    for v in kv["range"]:
        start, size = (int(x, 16) for x in v.split())
        ours.append((start, start + size))
    ram = lg.g.truth["phys"].get("System RAM", [])
    assert ram, "no System RAM in the guest's /proc/iomem"
    for s, e in ram:
        s, e = int(s, 16), int(e, 16) + 1
        assert any(a <= s and e <= b for a, b in ours), \
            "guest RAM %#x-%#x not inside %s" % (s, e, [(hex(a), hex(b)) for a, b in ours])
    total = sum(b - a for a, b in ours)
    assert total <= lg.g.mem_mb << 20
    assert total >= (lg.g.mem_mb << 20) - (1 << 20)


def regs_match_hmp(lg):
    """Registers through the library equal the harness's own HMP reading,
    with the guest stopped so that both see the same state."""
    lg.g.qmp("stop")
    try:
        rc, out = lg.attach()
        truth = lg.g.regs()
    finally:
        lg.g.qmp("cont")
    assert rc == 0, out
    seen = 0
    for v in parse_kv(out).get("vcpu", []):
        f = v.split()
        cpu = int(f[0])
        got = dict(zip(f[1::2], f[2::2]))
        want = truth[cpu]
        for ours, theirs in (("rip", "RIP"), ("cr0", "CR0"), ("cr3", "CR3"), ("cr4", "CR4"),
                             ("efer", "EFER")):
            assert int(got[ours], 16) == want[theirs], (cpu, ours, got[ours], hex(want[theirs]))
        seen += 1
    assert seen == len(truth) == lg.g.smp


class Lines:
    """Lines of a child's stdout, read in a thread."""

    def __init__(self, proc):
        self.q = queue.Queue()
        self.proc = proc
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.q.put(line.rstrip("\n"))
        self.q.put(None)

    def wait_for(self, pred, timeout):
        deadline = time.time() + timeout
        seen = []
        while time.time() < deadline:
            try:
                line = self.q.get(timeout=max(0.05, deadline - time.time()))
            except queue.Empty:
                break
            if line is None:
                break
            seen.append(line)
            if pred(line):
                return line
        raise AssertionError("no matching line within %ss; got %r" % (timeout, seen[-5:]))


def start(lg, *args):
    return subprocess.Popen([binary("tests/live/live_attach"), lg.sock] + list(args),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, bufsize=1)


def memory_changes_seen(lg, flush):
    """Change the guest's hostname (init_uts_ns.name.nodename, at +65) and see
    each new value from one long-lived instance."""
    va = "%x" % (int(lg.syms["init_uts_ns"], 16) + 65)
    before = lg.g.run("hostname").strip()
    p = start(lg, "--watch-str", va, *(["--flush"] if flush else []))
    lines = Lines(p)
    try:
        lines.wait_for(lambda l: l == "str " + before, 60)
        for name in ("xa-fresh-1", "xa-fresh-2"):
            lg.g.run("hostname " + name)
            lines.wait_for(lambda l, n=name: l == "str " + n, 10)
    finally:
        lg.g.run("hostname " + before)
        p.stdin.close()
        p.wait(timeout=30)


def _procs(line):
    out = {}
    for item in line.split()[2:]:
        pid, _, comm = item.partition(":")
        out[int(pid)] = comm
    return out


def process_list_follows_guest(lg):
    """One instance, several walks: a process started after attach shows up
    in the next walk, one that exited disappears (live cache policy)."""
    p = start(lg, "--list-procs")
    lines = Lines(p)
    try:
        def walk():
            p.stdin.write("\n")
            p.stdin.flush()
            line = lines.wait_for(lambda l: l.startswith("procs"), 120)
            assert line.startswith("procs "), line
            return _procs(line)

        first = walk()
        # kcomm: task->comm as /proc's name gives it ("kworker/0:0-events"
        # without its work item), compared whole
        truth = {q["pid"]: q["kcomm"] for q in lg.g.refresh_procs()}
        missing = set(truth) - set(first)
        extra = set(first) - set(truth) - {0}
        # only the short-lived helpers of g.run() may differ
        assert len(missing) <= 3 and len(extra) <= 3, (missing, extra)
        for pid in set(truth) & set(first):
            assert first[pid] == truth[pid], (pid, first[pid], truth[pid])

        # A parent that waits, so the killed child is reaped, not a zombie.
        lg.g.run("sh -c 'sleep 4321 & echo $! > /tmp/xa-child; wait' >/dev/null 2>&1 </dev/null &")
        child = None
        deadline = time.monotonic() + 60
        while child is None and time.monotonic() < deadline:
            out = lg.g.run("cat /tmp/xa-child 2>/dev/null").strip()
            if out.isdigit():
                child = int(out)
            else:
                time.sleep(0.1)
        assert child, "guest did not start the child"
        # busybox runs an applet by exec'ing /proc/self/exe (comm "exe") and
        # then renames itself: wait until the guest itself says "sleep".
        while (lg.g.run("cat /proc/%d/comm 2>/dev/null" % child).strip() != "sleep"
               and time.monotonic() < deadline):
            time.sleep(0.1)
        second = walk()
        assert second.get(child) == "sleep", (child, second.get(child))
        assert child not in first

        lg.g.run("kill %d" % child)
        deadline = time.monotonic() + 60
        while lg.g.run("test -d /proc/%d && echo yes || echo no" % child).strip() != "no":
            assert time.monotonic() < deadline, "pid %d did not exit in 60 s" % child
            time.sleep(0.1)
        third = walk()
        assert child not in third, "exited process %d still listed" % child
    finally:
        p.stdin.close()
        p.wait(timeout=60)


def survives_qemu_quit(lg, read_after):
    """QEMU quits while the monitor reads: no crash, XA_EGONE from QMP calls,
    memory reads keep working (shared file) or fail with XA_EGONE."""
    p = start(lg, "--until-gone", "--banner-va", lg.syms["linux_banner"])
    lines = Lines(p)
    lines.wait_for(lambda l: l == "ready", 60)
    lines.wait_for(lambda l: l == "reading", 60)  # QEMU quits while it reads
    try:
        lg.g.qmp("quit")
    except Exception:  # the reply may be lost as QEMU exits
        pass
    rc = p.wait(timeout=60)
    rest = []
    while True:
        line = lines.q.get(timeout=10)
        if line is None:
            break
        rest.append(line)
    out = "\n".join(rest)
    print(out)
    assert rc == 0, out
    kv = parse_kv(out)
    assert kv["gone_rc"][0].startswith("-1007 "), out
    assert kv["read_after_gone"][0].split()[0] == read_after, out


def xa_ps_matches_guest(lg):
    """The lead's xa-ps on a qemu: target lists the guest's processes."""
    import json
    p = subprocess.run([binary("tools/xa-ps"), "qemu:" + lg.sock, "--json"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    ours = {}
    for line in p.stdout.splitlines():
        line = line.strip().rstrip(",")
        if line.startswith("{"):
            o = json.loads(line)
            ours[o["pid"]] = o["comm"]
    truth = {q["pid"]: q["kcomm"] for q in lg.g.refresh_procs()}
    missing = set(truth) - set(ours)
    assert len(missing) <= 3, missing
    assert len(set(ours) - set(truth) - {0}) <= 3
    for pid in set(truth) & set(ours):
        assert ours[pid] == truth[pid], (pid, ours[pid], truth[pid])


# Starts `env XA_MARK=$2 sleep 4322` with pid $1 (a pid freed just before):
# ns_last_pid makes the next fork get $1, unless some other fork (a kernel
# worker) takes it first, so try again. The pid lands in /tmp/xa-reuse.
_REUSE_SH = r"""cat > /tmp/xa-reuse.sh <<'EOF'
P=$1
i=0
rm -f /tmp/xa-reuse
while [ $i -lt 200 ]; do
  echo $((P - 1)) > /proc/sys/kernel/ns_last_pid || break
  env XA_MARK=$2 sleep 4322 &
  c=$!
  if [ "$c" -eq "$P" ]; then echo $c > /tmp/xa-reuse; wait; exit 0; fi
  kill $c; wait $c 2>/dev/null
  i=$((i + 1))
done
echo fail > /tmp/xa-reuse
EOF"""


def _wait_file(lg, path, deadline):
    while time.monotonic() < deadline:
        out = lg.g.run("cat %s 2>/dev/null" % path).strip()
        if out:
            return out
        time.sleep(0.1)
    raise AssertionError("guest did not write %s" % path)


def _wait_comm(lg, pid, comm, deadline):
    # busybox runs applets by exec'ing itself, then renames: wait for the name
    while lg.g.run("cat /proc/%d/comm 2>/dev/null" % pid).strip() != comm:
        assert time.monotonic() < deadline, "pid %d never became %s" % (pid, comm)
        time.sleep(0.1)


def _end(lg, pid, deadline):
    lg.g.run("kill %d" % pid)
    while lg.g.run("test -d /proc/%d && echo yes || echo no" % pid).strip() != "no":
        assert time.monotonic() < deadline, "pid %d did not exit" % pid
        time.sleep(0.1)


def pid_cache_follows_reuse(lg):
    """One instance: xa_pid_to_dtb / xa_read_pid_va for a pid whose process
    exited and whose pid went to a new process give the new process's answer
    after the next flush point: a process walk, then an explicit
    xa_cache_flush (the pid -> page-table cache follows docs/live.md)."""
    p = start(lg, "--pid-reads")
    lines = Lines(p)

    def ask(cmd, prefix):
        p.stdin.write(cmd + "\n")
        p.stdin.flush()
        line = lines.wait_for(lambda l: l.split(" ")[0] in (prefix, "walk_error",
                                                            "walk_missing", "bad_command"), 120)
        assert line.startswith(prefix + " "), (cmd, line)
        return line.split(" ", 2)[2]

    def read(pid):
        p.stdin.write("read %d\n" % pid)
        p.stdin.flush()
        line = lines.wait_for(lambda l: l.startswith(("pid_dtb", "pid_error")), 120)
        assert line.startswith("pid_dtb %d " % pid), line
        dtb = line.split()[2]
        line = lines.wait_for(lambda l: l.startswith(("pid_mark", "pid_error")), 120)
        assert line.startswith("pid_mark %d " % pid), line
        return dtb, line.split(" ", 2)[2]

    lg.g.run(_REUSE_SH)
    try:
        deadline = time.monotonic() + 300
        lg.g.run("rm -f /tmp/xa-first; sh -c 'env XA_MARK=first sleep 4321 & "
                 "echo $! > /tmp/xa-first; wait' >/dev/null 2>&1 </dev/null &")
        pid = int(_wait_file(lg, "/tmp/xa-first", deadline))
        _wait_comm(lg, pid, "sleep", deadline)
        walk_dtb = ask("walk %d" % pid, "walk_dtb")
        assert read(pid) == (walk_dtb, "first")
        assert read(pid) == (walk_dtb, "first")  # now from the cache

        for mark, flush_point in (("second", "walk"), ("third", "flush")):
            _end(lg, pid, deadline)
            lg.g.run("sh /tmp/xa-reuse.sh %d %s >/dev/null 2>&1 </dev/null &" % (pid, mark))
            got = _wait_file(lg, "/tmp/xa-reuse", deadline)
            assert got == str(pid), "guest could not reuse pid %d (%s)" % (pid, got)
            _wait_comm(lg, pid, "sleep", deadline)
            if flush_point == "walk":
                walk_dtb = ask("walk %d" % pid, "walk_dtb")
                assert read(pid) == (walk_dtb, mark)
            else:
                p.stdin.write("flush\n")
                p.stdin.flush()
                assert lines.wait_for(lambda l: l == "flushed", 120) == "flushed"
                dtb, got_mark = read(pid)
                assert got_mark == mark
                assert dtb == ask("walk %d" % pid, "walk_dtb")
        _end(lg, pid, deadline)
    finally:
        p.stdin.close()
        p.wait(timeout=60)
