"""Every xa-* tool on a live QEMU guest (qemu: target), checked against what
the guest itself says; xa-ps --watch sees a process start and exit."""
from harness import kernel_comm
from xatest import ToolStream, json_lines, run_tool


def guest_procs(g):
    """pid -> (ppid, name) from the guest's /proc/PID/comm (for kernel threads
    with a long name or a work item, more than task_struct.comm)."""
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
        # the whole name, as task_struct.comm holds it
        assert got[pid]["comm"] == kernel_comm(before[pid][1]), (pid, got[pid], before[pid])


def test_watch_sees_start_and_exit(live):
    g, tgt = live
    w = ToolStream("xa-ps", tgt, "--watch", "0.5", "--count", "100000", "--json")
    try:
        # the first list is out: the process below starts after it
        w.wait_for(lambda e: "pid" in e and "event" not in e, "process list")
        pid = int(g.run("sleep 1000 >/dev/null 2>&1 & echo $!").strip())
        start = w.wait_for(lambda e: e.get("event") == "START" and e["pid"] == pid,
                           f"START {pid}")
        g.run(f"kill {pid}")
        end = w.wait_for(lambda e: e.get("event") == "EXIT" and e["pid"] == pid, f"EXIT {pid}")
        assert start["time"] <= end["time"]
    finally:
        rc, errors = w.stop()
    assert rc == 0, errors


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


def test_ps_procview_matches_guest(live):
    """--pid, --threads, cmdline and start time on the running guest, against
    what its /proc said at boot (init.sh's procview section) for processes that
    sleep for good (init and kthreadd wake now and then: their state and CPU
    are left out)."""
    g, tgt = live
    pv = g.truth["procview"]
    for key, w in pv["procs"].items():
        got = json_lines(run_tool("xa-ps", tgt, "--json", "--pid", key).stdout)
        assert len(got) == 1
        want = bytes.fromhex(w["cmdline"]).rstrip(b"\0").replace(b"\0", b" ")
        assert got[0]["cmdline"] == want.decode("utf-8", "replace"), key
        assert got[0]["start_boot_ns"] // 10**7 == w["start_ticks"], key
        assert got[0]["start_time"].endswith("Z")
        threads = json_lines(run_tool("xa-ps", tgt, "--json", "--threads", "--pid", key).stdout)
        threads.sort(key=lambda t: t["tid"])
        assert [(t["tid"], t["comm"]) for t in threads] == \
            [(t["tid"], t["comm"]) for t in w["threads"]], key
        if key not in ("1", "2"):
            assert [(t["state"], t["cpu"]) for t in threads] == \
                [(t["state"], t["cpu"]) for t in w["threads"]], key
    assert max(len(w["threads"]) for w in pv["procs"].values()) > 1


def test_files_and_mounts_live(live):
    """xa-files and xa-mounts on the running guest against its own /proc
    (truth.sh xa_truth_files) read just before and just after: every fd the
    guest showed the same both times must be seen from outside exactly (but
    the command server's, see test_tools_files.command_server); the
    mountinfo of pid 1 and of the namespaced xa-files process exactly."""
    from harness import parse_files
    from views_compare import check_mounts, compared, file_facts, row_facts
    g, tgt = live
    view = ". /xa/truth.sh; xa_truth_files"

    def facts(files):
        return {(f["pid"], f["fd"]): file_facts(f) for f in files["fds"]}
    before = parse_files(g.run(view, timeout=300))
    rows = json_lines(run_tool("xa-files", tgt, "--json").stdout)
    after = parse_files(g.run(view, timeout=300))
    b, a = facts(before), facts(after)
    # the command server's stdin and saved fds change with each command it runs
    stable = {k: v for k, v in b.items() if a.get(k) == v and compared({"files": before}, *k)}
    assert len(stable) > 100
    got = {(r["pid"], r["fd"]): row_facts(r) for r in rows}
    wrong = {k: (got.get(k), v) for k, v in stable.items() if got.get(k) != v}
    assert not wrong, list(wrong.items())[:10]
    fp = [p for p in before["mountinfo"] if p != "1"][0]
    assert any(k[0] == int(fp) for k in stable)
    for pid in ("1", fp):
        m = json_lines(run_tool("xa-mounts", tgt, "--json", "--pid", pid).stdout)
        check_mounts(m, before["mountinfo"][pid], pid)
