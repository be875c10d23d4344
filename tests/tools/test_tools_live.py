"""Every xa-* tool on a live QEMU guest (qemu: target), checked against what
the guest itself says; xa-ps --watch sees a process start and exit."""
import subprocess
import time

import pytest

from xatest import json_lines, run_tool, tool_path


@pytest.fixture(scope="module")
def live():
    from harness import Guest
    g = Guest("tools-live", nproc=30, mem_mb=384)
    try:
        yield g, "qemu:" + g.monitor_path
    finally:
        g.shutdown()


def guest_procs(g):
    """pid -> (ppid, comm) from the guest's /proc (comm is task_struct.comm)."""
    out = g.run("for d in /proc/[0-9]*; do echo ${d#/proc/} $(cut -d' ' -f4 $d/stat) "
                "$(cat $d/comm); done")
    procs = {}
    for line in out.splitlines():
        parts = line.split(None, 2)
        if len(parts) == 3 and parts[0].isdigit():
            procs[int(parts[0])] = (int(parts[1]), parts[2])
    return procs


def test_ps_matches_guest(live):
    g, tgt = live
    before = guest_procs(g)
    got = {p["pid"]: p for p in json_lines(run_tool("xa-ps", tgt, "--json").stdout)}
    after = guest_procs(g)
    # Processes present in the guest both before and after our walk must be seen.
    stable = set(before) & set(after)
    assert len(stable) > 60
    missing = stable - set(got)
    assert not missing, f"not seen from outside: {sorted(missing)}"
    for pid in stable:
        assert got[pid]["ppid"] == before[pid][0], pid
        # /proc shows a kworker's workqueue after its name ("kworker/0:0-rcu").
        assert before[pid][1][:15].startswith(got[pid]["comm"]), pid


def test_watch_sees_start_and_exit(live):
    g, tgt = live
    w = subprocess.Popen([tool_path("xa-ps"), tgt, "--watch", "0.5", "--count", "24", "--json"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(3)
    g.run("sleep 4 & echo $! > /tmp/sleeper")
    pid = int(g.run("cat /tmp/sleeper").strip())
    out, err = w.communicate(timeout=180)
    assert w.returncode == 0, err
    events = [e for e in json_lines(out) if "event" in e]
    starts = [e for e in events if e["event"] == "START" and e["pid"] == pid]
    exits = [e for e in events if e["event"] == "EXIT" and e["pid"] == pid]
    assert starts, f"no START for pid {pid}: {events}"
    assert exits, f"no EXIT for pid {pid}: {events}"
    assert starts[0]["time"] <= exits[0]["time"]


def test_other_tools_live(live):
    g, tgt = live
    info = json_lines(run_tool("xa-info", tgt, "--json").stdout)[0]
    assert info["live"] is True and info["backend"] == "qemu"
    assert info["release"] == g.run("uname -r").strip()
    mods = {m["name"] for m in json_lines(run_tool("xa-modules", tgt, "--json").stdout)}
    assert mods == {line.split()[0] for line in g.run("cat /proc/modules").splitlines()}
    addr = json_lines(run_tool("xa-sym", tgt, "init_task", "--json").stdout)[0]["address"]
    kall = g.run("grep ' init_task$' /proc/kallsyms").split()[0]
    assert int(addr, 16) == int(kall, 16)
    pid = int(g.run("pidof xa-marker").split()[0])
    maps = json_lines(run_tool("xa-maps", tgt, "--pid", pid, "--json").stdout)
    want = [line.split()[0] for line in g.run(f"cat /proc/{pid}/maps").splitlines()
            if "[vsyscall]" not in line]
    assert ["%x-%x" % (int(m["start"], 16), int(m["end"], 16)) for m in maps] == \
           ["%x-%x" % tuple(int(x, 16) for x in w.split("-")) for w in want]
