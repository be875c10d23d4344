"""The Python bindings and the example monitors on ONE live guest (QEMU TCG,
shared RAM) with a disk served through the xadisk tap."""
import os
import select
import shutil
import subprocess
import sys
import threading
import time

import pytest

import xa_py  # noqa: F401  (sets sys.path for the package)
import xenaccess
from xatest import skip_or_fail

pytest_plugins = ["xa_py"]


def _tap_binary():
    path = os.path.join(os.path.dirname(xenaccess.library_path()), "tools", "xa-disk-tap")
    return path if os.path.exists(path) and shutil.which("nbdkit") else None


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """{"guest", "target" (for this process), "example_target" (for examples), "events"}."""
    from harness import Guest  # tests/conftest.py puts tests/guest on sys.path
    work = tmp_path_factory.mktemp("pylive")
    socks = [str(work / "xa.qmp"), str(work / "ex.qmp")]
    extra = []
    for s in socks:  # QEMU serves one client per QMP socket: one each for us and the examples
        extra += ["-qmp", "unix:%s,server=on,wait=off" % s]
    tap, events = _tap_binary(), None
    tap_pid = None
    if tap:
        img = str(work / "disk.img")
        subprocess.run(["mkfs.ext4", "-q", "-F", img, "64M"], check=True)
        # the tap filter of a sanitizer build needs the ASan runtime in nbdkit too
        out = subprocess.run([tap, img, "--socket", str(work / "nbd.sock"), "--background"],
                             capture_output=True, text=True, env=xa_py.example_env(), timeout=60)
        if out.returncode == 0:
            info = dict(l.split(": ", 1) for l in out.stdout.splitlines() if ": " in l)
            tap_pid, events = int(info["PID"]), info["EVENTS"]
            extra += info["QEMU"].split()
        else:
            print("no disk tap:", out.stderr)
    try:
        with Guest("py", nproc=20, mem_mb=384, extra_qemu_args=extra) as g:
            if events:
                g.run("mkdir -p /mnt && mount -t ext4 /dev/vda /mnt && sync")
                assert g.last_rc == 0, "mount failed"
            yield {"guest": g, "target": "qemu:" + socks[0], "example_target": "qemu:" + socks[1],
                   "events": events}
    finally:
        if tap_pid:
            try:
                os.kill(tap_pid, 15)
            except ProcessLookupError:
                pass


@pytest.fixture(scope="module")
def vm(live):
    with xenaccess.open(live["target"]) as v:
        yield v


def test_live_info_and_registers(live, vm):
    info = vm.info
    assert info.live and vm.live and info.backend == "qemu" and info.vcpus == 2
    assert info.release == live["guest"].truth["kernel_release"]
    assert info.page_mode == "IA-32e 4-level" and info.dtb > 0
    regs = vm.regs(0)
    assert regs["cr3"] & ~0xfff and regs["cr0"] & 1 and regs["efer"] & (1 << 10)
    with pytest.raises(xenaccess.XenaccessError):
        vm.regs(7)


def test_live_processes_match_guest(live, vm):
    with vm.paused():
        got = {p.pid: p for p in vm.processes()}
    workload = [p for p in live["guest"].truth["procs"] if p["kcomm"].startswith("xa")]
    assert len(workload) >= 20
    for w in workload:
        g = got[w["pid"]]
        assert (g.comm, g.ppid, g.uid, g.gid) == (w["kcomm"], w["ppid"], w["uid"], w["gid"])
    for m in live["guest"].truth["markers"]:
        assert vm.read(int(m["va"], 16), len(m["str"]), pid=m["pid"]) == m["str"].encode()


def test_live_listing_is_one_snapshot(live, vm):
    """On a live target a listing of every process's files and threads, from
    the Processes the walk handed out, is one walk and one flush (the walk's
    own), not one of each per process (issue 14: O(processes^2) walks from
    cold caches); a call by pid still starts fresh: a flush, and a walk to
    find the pid (xa_os_stats)."""
    s0 = vm.os_stats()
    procs = list(vm.processes())
    nfiles = nthreads = exited = 0
    for p in procs:
        try:
            nfiles += len(list(vm.files(p)))
            nthreads += len(list(vm.threads(p)))
        except xenaccess.NotFound:  # exited since the walk (a kworker, a shell)
            exited += 1
    s1 = vm.os_stats()
    assert s1["process_walks"] - s0["process_walks"] == 1
    assert s1["os_flushes"] - s0["os_flushes"] == 1
    assert nthreads >= len(procs) - exited and len(procs) > 20 and nfiles > 0 and exited < 5
    list(vm.files(1))
    s2 = vm.os_stats()
    assert s2["process_walks"] - s1["process_walks"] == 1
    assert s2["os_flushes"] - s1["os_flushes"] == 1


def test_pause_resume(live, vm):
    g = live["guest"]
    vm.pause()
    assert g.qmp("query-status")["status"] == "paused"
    vm.resume()
    assert g.qmp("query-status")["status"] == "running"
    with vm.paused():
        assert g.qmp("query-status")["status"] == "paused"
    assert g.qmp("query-status")["status"] == "running"


def test_process_start_and_exit_seen_after_flush(live, vm):
    g = live["guest"]
    pid = int(g.run("sleep 300 >/dev/null 2>&1 & echo $!").strip())
    deadline = time.monotonic() + 60
    while True:  # the shell's child may not have exec'd sleep yet
        vm.flush()
        p = vm.process(pid)
        if p.comm == "sleep" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert p.comm == "sleep" and not p.kthread and p.dtb != vm.info.dtb
    assert any(m.perms.startswith("r-x") for m in vm.maps(pid))
    g.run("kill %d" % pid)
    deadline = time.time() + 30
    while time.time() < deadline:
        vm.flush()
        try:
            if vm.process(pid).state in "ZX":
                break
        except xenaccess.NotFound:
            break
        time.sleep(0.5)
    else:
        pytest.fail("pid %d still running after kill" % pid)
    with pytest.raises(xenaccess.NotMapped):
        vm.read(0x10, 8)


def _reader(proc, lines):
    for line in proc.stdout:
        lines.append(line.rstrip("\n"))


def _wait_lines(lines, pred, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred(list(lines)):
            return True
        time.sleep(0.2)
    return False


def test_live_procview_matches_guest(live, vm):
    """Threads, creds, start time, environ and paths of the boot-time procview
    process, and of a process started now in a directory on tmpfs."""
    g = live["guest"]
    pv = g.truth["procview"]
    key, w = max(pv["procs"].items(), key=lambda kv: len(kv[1]["threads"]))
    pid = int(key)
    vm.flush()
    assert sorted((t.tid, t.comm) for t in vm.threads(pid)) == \
        [(t["tid"], t["comm"]) for t in w["threads"]]
    c = vm.creds(pid)
    assert [c.uid, c.euid, c.suid, c.fsuid] == w["uid"] and list(c.groups) == w["groups"]
    assert (c.cap_effective, c.cap_permitted) == (w["capeff"], w["capprm"])
    assert vm.boot_time() // 10**9 == pv["btime"]
    assert vm.start_time(pid).boot_ns // 10**7 == w["start_ticks"]
    assert vm.cmdline(pid) == bytes.fromhex(w["cmdline"])
    assert vm.environ(pid) == bytes.fromhex(w["environ"])
    assert (vm.exe(pid), vm.cwd(pid), vm.root(pid)) == (w["exe"], w["cwd"], w["root"])

    out = g.run("cd /tmp/xa-pv && XA_LIVE_MARK=42 tail -f /dev/null </dev/null >/dev/null "
                "2>&1 & echo $!")
    new = int(out.split()[-1])
    try:
        want_env = bytes.fromhex(g.run("od -An -tx1 -v /proc/%d/environ | tr -d ' \\n'"
                                       % new).strip())
        assert b"XA_LIVE_MARK=42\0" in want_env
        deadline = time.monotonic() + 60
        while True:  # the guest may not have exec'd tail yet
            vm.flush()
            try:
                if vm.cmdline(new) == b"tail\0-f\0/dev/null\0":
                    break
            except xenaccess.NotFound:
                pass
            assert time.monotonic() < deadline, "the new process never showed up"
            time.sleep(0.5)
        assert vm.environ(new) == want_env
        assert vm.cwd(new) == "/tmp/xa-pv" and vm.exe(new) == "/bin/busybox"
        assert [t.tid for t in vm.threads(new)] == [new]
    finally:
        g.run("kill %d" % new)


def test_ps_watch_example(live):
    g = live["guest"]
    proc = subprocess.Popen([sys.executable, xa_py.example("ps_watch.py"), live["example_target"],
                             "--interval", "0.5", "--count", "2000"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=xa_py.example_env())
    lines = []
    threading.Thread(target=_reader, args=(proc, lines), daemon=True).start()
    try:
        assert _wait_lines(lines, lambda ls: any(l.startswith("watching") for l in ls), 60), \
            lines
        # the process lives until the watcher has seen it start
        pid = int(g.run("sleep 1000 >/dev/null 2>&1 & echo $!").strip())
        start = lambda ls: any(l.startswith("+ %d " % pid) for l in ls)  # comm: before exec?
        stop = lambda ls: any(l.startswith("- %d " % pid) and l.endswith(" sleep") for l in ls)
        assert _wait_lines(lines, start, 120), lines
        g.run("kill %d" % pid)
        assert _wait_lines(lines, stop, 120), lines
    finally:
        proc.kill()
        proc.wait()
    assert lines.index(next(l for l in lines if start([l]))) < \
        lines.index(next(l for l in lines if stop([l])))


def test_integrity_example_live_twice(live):
    p = xa_py.run_example("kernel_integrity.py", live["example_target"], "--interval", "1")
    assert p.returncode in (0, 1), p.stderr
    assert "syscall table: 451 entries, unchanged" in p.stdout, p.stdout


def test_open_live_errors(tmp_path):
    with pytest.raises(xenaccess.XenaccessError, match="nonexistent"):
        xenaccess.open("qemu:/nonexistent/qmp.sock")


# ---- disk ----

def _need_tap(live):
    if not live["events"]:
        skip_or_fail("no disk tap (nbdkit or libxadisk missing)")


def test_disk_events_in_process(live):
    _need_tap(live)
    g = live["guest"]
    with xenaccess.disk.open("tap:" + live["events"]) as d:
        d.watch("/py", recursive=True)
        d.watch("/other", mask="delete")
        d.activate()
        assert d.fileno() >= 0 and d.active
        g.run("mkdir -p /mnt/py/sub && echo hello > /mnt/py/sub/a.txt && echo x > /mnt/nw; sync")
        readable, _, _ = select.select([d], [], [], 30)
        assert readable
        got = []
        deadline = time.time() + 30
        want = {("create", "/py"), ("create", "/py/sub"), ("create", "/py/sub/a.txt")}
        while time.time() < deadline and not want <= {(e.type, e.path) for e in got}:
            got += list(d.events(timeout=2))
        assert want <= {(e.type, e.path) for e in got}, got
        assert all(e.path.startswith("/py") for e in got if e.type != "resync"), got
        a = next(e for e in got if e.path == "/py/sub/a.txt")
        assert a.file_type == "file" and a.inode > 0
        g.run("mv /mnt/py/sub/a.txt /mnt/py/b.txt; sync")
        got = []
        deadline = time.time() + 30
        while time.time() < deadline and not any(e.type == "rename" for e in got):
            got += list(d.events(timeout=2))
        ren = [e for e in got if e.type == "rename"]
        assert ren and (ren[0].old_path, ren[0].path) == ("/py/sub/a.txt", "/py/b.txt"), got
        assert d.stats()["records"] > 0 and d.stats()["inodes"] >= 5
        d.unwatch("/other")
        with pytest.raises(xenaccess.NotFound):
            d.unwatch("/other")
        d.deactivate()
        with pytest.raises(xenaccess.XenaccessError):
            d.next_event(0)
        with pytest.raises(ValueError):
            d.fileno()
    with pytest.raises(ValueError, match="closed"):
        d.watch("/x")


def test_file_watch_example(live):
    _need_tap(live)
    g = live["guest"]
    proc = subprocess.Popen([sys.executable, xa_py.example("file_watch.py"), "tap:" + live["events"],
                             "/fw", "--timeout", "10"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=xa_py.example_env())
    lines = []
    reader = threading.Thread(target=_reader, args=(proc, lines), daemon=True)
    reader.start()
    try:
        assert _wait_lines(lines, lambda ls: any(l.startswith("watching") for l in ls), 60), lines
        g.run("mkdir /mnt/fw && echo a > /mnt/fw/x && echo b > /mnt/elsewhere; sync")
        g.run("mv /mnt/fw/x /mnt/fw/y; sync")
        g.run("rm /mnt/fw/y; sync")
        assert proc.wait(timeout=90) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    reader.join(timeout=60)  # every line read (it ends at the pipe's end)
    assert not reader.is_alive()
    want = ["create /fw (dir)", "create /fw/x (file)", "rename /fw/x -> /fw/y",
            "delete /fw/y (file)"]
    events = lines[1:]
    assert [l for l in events if l in want] == want, lines
    assert all(" /fw" in l for l in events), lines  # nothing from outside the directory
    assert all(l in want or l.startswith("write /fw/x (2 bytes") for l in events), lines
