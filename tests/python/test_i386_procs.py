"""Processes of 32-bit x86 guests (issue 18) with no configuration: Debian's
686 and 686-pae kernels have no BTF and no init_task in kallsyms, so the
task_struct layout and init_task are inferred from the guest's memory
(os/linux/task32.c). Compared with the guest's own ps (truth.json of the
dump sets made by tests/guest/harness.py make-dumps --arch i386 / i386pae):
the exact process set, parents, names, ids, kernel threads, one page-table
root per process (a CPU's CR3 among them), and user memory read by pid
against the markers the guest printed.
"""
import os
import shutil

import pytest

import xa_py  # noqa: F401  (sets sys.path for the package)
from xa_py import check_process_view
import xenaccess
from test_i386 import guest32  # noqa: F401  (the dump sets: i386 and i386pae, raw and ELF)
from xatest import DUMPS, json_lines, require, run_tool

pytest_plugins = ["xa_py"]

PF_KTHREAD = 0x00200000


def states(truth):
    """Each pid's ps state, before and after the truth was taken."""
    return {s["pid"]: {s["state"], s.get("state_after", s["state"])} for s in truth["stat"]}


def test_processes_match_guest(guest32):
    t = guest32["truth"]
    with xenaccess.open(guest32["target"]) as vm:
        assert vm.info.types_from.startswith("no BTF; task_struct layout inferred from memory")
        got = {p.pid: p for p in vm.processes()}
        kernel_dtb = vm.info.dtb
        want = {p["pid"]: p for p in t["procs"]}
        assert len(want) > 300
        assert set(got) - {0} == set(want)
        st = states(t)
        for pid, w in want.items():
            g = got[pid]
            assert (g.ppid, g.comm, g.uid, g.gid) == (w["ppid"], w["kcomm"], w["uid"], w["gid"]), pid
            assert g.tgid == pid and g.state in st[pid], (pid, g.state, st[pid])
            assert 0xC0000000 <= g.task < 1 << 32
        swapper = got[0]
        assert swapper.comm == "swapper/0" and swapper.kthread and swapper.ppid == 0
        user = [p for p in got.values() if not p.kthread]
        kthreads = [p for p in got.values() if p.kthread]
        # the guest's own ps shows kernel threads as children of kthreadd
        assert {p.pid for p in kthreads} - {0, 2} == {p for p, w in want.items() if w["ppid"] == 2}
        assert len({p.dtb for p in user}) == len(user) > 300
        assert all(p.mm != 0 and p.mm >= 0xC0000000 for p in user)
        assert all(p.mm == 0 and p.dtb == kernel_dtb for p in kthreads)
        assert len({p.uid for p in got.values()}) >= 5
        # a CPU that was running a user process had its root loaded
        cr3s = {int(c["CR3"], 16) for c in t["dump"]["cpus"].values()}
        assert cr3s & {p.dtb for p in user} or cr3s == {kernel_dtb}, sorted(map(hex, cr3s))
        if guest32["kind"] == "i386pae":  # PAE roots are 32-byte slab objects
            assert any(p.dtb % 4096 for p in user)
        for pid in list(want)[::40]:
            assert vm.process(pid) == got[pid]
            assert vm.dtb_of(pid) == got[pid].dtb


def test_xa_ps_matches_guest(guest32):
    """xa-ps lists the guest's processes and exits 0, with the command lines
    and start times inferred without BTF (os/linux/proc32.c): nothing is
    said to be missing."""
    t = guest32["truth"]
    p = run_tool("xa-ps", guest32["target"], "--json")
    rows = json_lines(p.stdout)
    assert all("partial" not in r for r in rows)
    got = {r["pid"]: (r["ppid"], r["comm"], r["uid"], r["gid"]) for r in rows}
    want = {w["pid"]: (w["ppid"], w["kcomm"], w["uid"], w["gid"]) for w in t["procs"]}
    assert {k: v for k, v in got.items() if k != 0} == want
    assert p.stderr == "", p.stderr
    pv = t["procview"]["procs"]
    by_pid = {r["pid"]: r for r in rows}
    for key, w in pv.items():
        r, args = by_pid[int(key)], bytes.fromhex(w["cmdline"])
        if args.isascii():  # the tool joins arguments with spaces
            assert r["cmdline"] == args.rstrip(b"\0").replace(b"\0", b" ").decode(), key
        assert r["start_boot_ns"] // 10**7 == w["start_ticks"], key  # USER_HZ 100
    assert all(r["cmdline"] == "" for r in rows if r["kthread"])
    assert sum(r["cmdline"].startswith("/xa/workload") for r in rows) >= 300
    kt = {r["pid"] for r in rows if r["kthread"]}
    assert {pid for pid, w in want.items() if w[0] == 2} <= kt and 1 not in kt
    text = run_tool("xa-ps", guest32["target"]).stdout.splitlines()
    assert len(text) == len(want) + 2  # header, swapper/0
    # threads: every process's own, and the multi-threaded ones as the guest listed them
    p = run_tool("xa-ps", guest32["target"], "--threads", "--json")
    threads = {}
    for r in json_lines(p.stdout):
        threads.setdefault(r["pid"], []).append((r["tid"], r["comm"], r["state"], r["cpu"]))
    assert set(threads) - {0} == set(want)
    assert all(pid in {th[0] for th in ths} for pid, ths in threads.items())
    for key, w in pv.items():
        got = sorted(threads[int(key)])
        assert [g[:3] for g in got] == [(x["tid"], x["comm"], x["state"]) for x in w["threads"]]
        if key != "1":  # init wakes every second and may change CPU after the truth
            assert [g[3] for g in got] == [x["cpu"] for x in w["threads"]], key
    assert max(len(ths) for ths in threads.values()) > 1


def test_user_memory_markers(guest32):
    """The markers the guest's workload printed, read by pid (the process's
    own page tables) through the API and xa-read --pid."""
    markers = guest32["truth"]["markers"]
    assert {m["kind"] for m in markers} == {"heap", "mmap", "stack"}
    with xenaccess.open(guest32["target"]) as vm:
        for m in markers:
            va, want = int(m["va"], 16), m["str"].encode()
            assert vm.read(va, len(want), pid=m["pid"]) == want, m["kind"]
            pa = vm.translate(va, pid=m["pid"])
            n = min(len(want), 4096 - va % 4096)
            assert vm.read_pa(pa, n) == want[:n]
            # another process's root does not map it to the marker
            other = next(p.pid for p in vm.processes() if not p.kthread and p.pid != m["pid"])
            try:
                assert vm.read(va, len(want), pid=other) != want
            except xenaccess.XenaccessError:
                pass
    m = markers[0]
    p = run_tool("xa-read", guest32["target"], "--pid", m["pid"], "--va", m["va"],
                 "--len", len(m["str"]), "--raw")
    assert p.stdout == m["str"]


def tasks_offset(vm, a, b):
    """The offset of the list_head linking task a to task b (found here
    from the memory, independently of the library's inference)."""
    for off in range(0, 4096, 4):
        if vm.read_u32(a + off) == b + off and vm.read_u32(b + off + 4) == a + off:
            return off
    raise AssertionError("no list_head links 0x%x to 0x%x" % (a, b))


@pytest.mark.parametrize("damage", ["back_link", "cycle"])
def test_broken_task_list_is_partial(tmp_path, damage):
    """A copy of the i386 dump whose task list is broken in the middle: a
    prev pointer rewritten, or a next pointer looping back to an earlier
    task. The layout is still inferred from the list before the damage, and
    the walk lists the processes up to it and says the list is partial."""
    d = os.path.join(DUMPS, "i386")
    require(os.path.exists(os.path.join(d, "truth.json")), f"no i386 dump set in {DUMPS}")
    orig = os.path.join(d, "raw.img")
    with xenaccess.open("file:" + orig) as vm:
        procs = list(vm.processes())
        a, b, c = procs[150], procs[151], procs[152]
        off = tasks_offset(vm, a.task, b.task)
        if damage == "back_link":  # c's prev no longer names b
            where, value = vm.translate(c.task + off + 4), procs[10].task + off
        else:  # b's next goes back to task 10
            where, value = vm.translate(b.task + off), procs[10].task + off
    copy = tmp_path / "raw.img"
    shutil.copyfile(orig, copy)
    with open(copy, "r+b") as f:
        f.seek(where)
        f.write(value.to_bytes(4, "little"))
    p = run_tool("xa-ps", "file:%s" % copy, "--json", check=False)
    assert p.returncode == 3, p.stderr
    rows = json_lines(p.stdout)
    listed = [r["pid"] for r in rows if "pid" in r]
    assert listed == [q.pid for q in procs[:152]]
    said = {"back_link": "task list broken", "cycle": "task list loops"}[damage]
    assert rows[-1]["partial"] is True and said in rows[-1]["error"], rows[-1]
    with xenaccess.open("file:%s" % copy) as vm:
        assert "list cut" in vm.info.types_from  # inferred from the tasks before the damage
        with pytest.raises(xenaccess.PartialResult):
            list(vm.processes())


def patched_copy(tmp_path, patches):
    """A copy of the i386 raw dump with (physical address, bytes) written."""
    orig = os.path.join(DUMPS, "i386", "raw.img")
    copy = tmp_path / "raw.img"
    shutil.copyfile(orig, copy)
    with open(copy, "r+b") as f:
        for pa, data in patches:
            f.seek(pa)
            f.write(data)
    return "file:%s" % copy


@pytest.mark.parametrize("lie", ["no_init_comm", "second_pid_field"])
def test_misleading_guest_is_refused(tmp_path, lie):
    """A guest that hides init_task's comm, or puts a second pid/tgid pair
    in every task, leaves the layout unknown or ambiguous: xa-ps says why in
    one line and lists nothing (never a guessed layout)."""
    d = os.path.join(DUMPS, "i386")
    require(os.path.exists(os.path.join(d, "truth.json")), f"no i386 dump set in {DUMPS}")
    with xenaccess.open("file:" + os.path.join(d, "raw.img")) as vm:
        procs = list(vm.processes())
        off = tasks_offset(vm, procs[0].task, procs[1].task)
        if lie == "no_init_comm":
            comm = next(o for o in range(0, 4096, 4)
                        if vm.read(procs[0].task + o, 10) == b"swapper/0\0")
            patches = [(vm.translate(procs[0].task + comm), b"swapper/X")]
            said = "no init_task comm"
        else:
            # a word pair in the zeroed scheduler statistics before the list_head
            spare = off - 400
            assert all(vm.read(p.task + spare, 8) == bytes(8) for p in procs)
            patches = []
            for p in procs:
                p32 = p.pid.to_bytes(4, "little")
                patches.append((vm.translate(p.task + spare), p32 + p32))
            said = "more than one pid/tgid pair"
    p = run_tool("xa-ps", patched_copy(tmp_path, patches), check=False)
    assert p.returncode == 1 and p.stdout == "", p.stdout[:200]
    assert said in p.stderr and p.stderr.count("\n") == 1, p.stderr


def test_procview_matches_guest(guest32):
    """Inside processes through the bindings, with the offsets inferred
    without BTF: threads (cpu included), start time, command line and
    environment, credentials (supplementary groups and capabilities too)
    and exe/cwd/root equal what the guest's /proc said."""
    pv = guest32["truth"]["procview"]
    threaded = 0
    with xenaccess.open(guest32["target"]) as vm:
        for key, w in pv["procs"].items():
            pid = int(key)
            got = check_process_view(vm, pid, w)
            assert all(0xC0000000 <= t.task < 1 << 32 for t in got)
            threaded += len(got) > 1
        assert threaded >= 1, "no multi-threaded process in the truth"
    # the truth is not trivial: groups, reduced capabilities, a deep cwd
    assert any(w["groups"] for w in pv["procs"].values())
    assert any(w["capeff"] != w["capprm"] or w["capeff"] < 2**40 for w in pv["procs"].values())
    assert any(w["cwd"].count("/") > 2 for w in pv["procs"].values())


def test_unsorted_groups_refuse_credentials(tmp_path):
    """init's group list (init_groups, shared by every kernel thread and the
    processes that never called setgroups) made unsorted in a copy of the
    dump: the 32-bit cred inference refuses in one line, it does not guess."""
    with xenaccess.open("file:" + os.path.join(DUMPS, "i386", "raw.img")) as vm:
        init = next(p for p in vm.processes() if p.pid == 1)
        full = (1 << 41) - 1  # CAP_FULL_SET of 6.1
        infos = set()
        for off in range(0, 4096, 4):
            cred = vm.read_u32(init.task + off)
            if not 0xC0000000 <= cred < 0xFFFFF000 or cred & 3:
                continue
            try:
                ids = [vm.read_u32(cred + 4 * i) for i in range(1, 9)]
                caps = [vm.read_u64(cred + o) for o in (48, 56, 64)]
                gi = vm.read_u32(cred + 116)
                if ids == [0] * 8 and caps == [full] * 3 and vm.read_u32(gi + 4) == 0:
                    infos.add(gi)
            except xenaccess.XenaccessError:
                continue
        assert len(infos) == 1, infos  # real_cred and cred: init's one cred
        gi = infos.pop()
        patch = (vm.translate(gi + 4), b"".join(v.to_bytes(4, "little") for v in (2, 9, 3)))
    with xenaccess.open(patched_copy(tmp_path, [patch])) as vm:
        with pytest.raises(xenaccess.NotSupported, match="group_info"):
            vm.creds(1)


def thread_node_offset(vm, tasks):
    """The offset of thread_node in task_struct (found here from the memory,
    independently of the library): the list_head linking each thread to the
    next, closed by a head that is no thread (the signal struct's
    thread_head), unlike thread_group's."""
    nodes = []
    for off in range(0, 4096, 4):
        if all(vm.read_u32(a + off) == b + off and vm.read_u32(b + off + 4) == a + off
               for a, b in zip(tasks, tasks[1:])):
            head = vm.read_u32(tasks[0] + off + 4)  # closes the ring: next, prev
            if head - off not in tasks and vm.read_u32(head) == tasks[0] + off and \
                    vm.read_u32(head + 4) == tasks[-1] + off and \
                    vm.read_u32(tasks[-1] + off) == head:
                nodes.append(off)
    assert len(nodes) == 1, nodes
    return nodes[0]


def test_thread_ring_that_loops_is_partial(tmp_path):
    """A copy of the i386 dump where the multi-threaded process's thread
    ring loops (its third thread's next goes back to its second): the layout
    is still inferred from the other processes, xa-ps --threads lists the
    threads up to the loop, says the list is partial and exits 3; no hang."""
    d = os.path.join(DUMPS, "i386")
    require(os.path.exists(os.path.join(d, "truth.json")), f"no i386 dump set in {DUMPS}")
    with xenaccess.open("file:" + os.path.join(d, "raw.img")) as vm:
        pid = next(p.pid for p in vm.processes() if p.comm == "xa-procview")
        ths = list(vm.threads(pid))
        assert len(ths) >= 4
        tasks = [t.task for t in ths]
        off = thread_node_offset(vm, tasks)
        patch = [(vm.translate(tasks[2] + off), (tasks[1] + off).to_bytes(4, "little"))]
    target = patched_copy(tmp_path, patch)
    p = run_tool("xa-ps", target, "--threads", "--json", "--pid", pid, check=False, timeout=60)
    assert p.returncode == 3, p.stderr
    rows = json_lines(p.stdout)
    assert [r["tid"] for r in rows if "tid" in r] == [t.tid for t in ths[:3]]
    assert rows[-1]["partial"] is True and "thread list" in rows[-1]["error"], rows[-1]
    # every other process's threads are still read
    p = run_tool("xa-ps", target, "--threads", "--json", "--pid", 1)
    assert [r["tid"] for r in json_lines(p.stdout)] == [1]
    with xenaccess.open(target) as vm:
        with pytest.raises(xenaccess.PartialResult):
            list(vm.threads(pid))
