"""Inside processes through the Python bindings, on real guest dumps: threads,
credentials, start time, command line, environment and exe/cwd/root must equal
what the guest's /proc said (the truth's "procview" section, see init.sh)."""
import os

import pytest

import xa_py  # noqa: F401  (sets sys.path for the package)
from xa_py import check_process_view
import xenaccess
from xatest import dump_set

pytest_plugins = ["xa_py"]

KINDS = [("l4", "raw.img"), ("l4", "core.elf"), ("l5", "raw.img"), ("l5", "core.elf")]


@pytest.mark.parametrize("kind,fname", KINDS)
def test_procview_matches_guest(dumps, kind, fname):
    d = dump_set(dumps, kind)
    pv = d["truth"].get("procview")
    assert pv, "truth has no procview section: remake the dumps"
    threaded = 0
    with xenaccess.open("file:" + os.path.join(d["dir"], fname)) as vm:
        assert vm.boot_time() // 10**9 == pv["btime"]
        for key, w in pv["procs"].items():
            pid = int(key)
            got = check_process_view(vm, pid, w)
            threaded += len(got) > 1
            st = vm.start_time(pid)
            assert st.wall_ns == vm.boot_time() + st.boot_ns
    assert threaded >= 1, "no multi-threaded process in the truth"


def test_ps_tree_survives_a_parent_cycle(dumps, tmp_path):
    """Two processes made each other's parent (in a copy of the dump): --tree
    still prints every process exactly once, the cycle after the real trees."""
    import json
    import shutil

    from xatest import run_tool
    d = dump_set(dumps, "l4")
    orig = os.path.join(d["dir"], "raw.img")
    copy = tmp_path / "raw.img"
    shutil.copyfile(orig, copy)
    with xenaccess.open("file:" + orig) as vm:
        all_pids = [p.pid for p in vm.processes()]
        procs = {p.comm: p for p in vm.processes() if p.comm.startswith("xaw-")}
        a, b = procs["xaw-1"], procs["xaw-7"]  # xaw-7 is a child of xaw-1
        assert b.ppid == a.pid
        off = vm.type_offset("task_struct", "real_parent")
        patch = (vm.translate(a.task + off), b.task.to_bytes(8, "little"))
    with open(copy, "r+b") as f:
        f.seek(patch[0])
        f.write(patch[1])
    p = run_tool("xa-ps", "file:%s" % copy, "--tree", "--json")
    rows = [json.loads(line) for line in p.stdout.splitlines()]
    pids = [r["pid"] for r in rows]
    assert sorted(pids) == sorted(all_pids)  # each once
    by_pid = {r["pid"]: r for r in rows}
    assert by_pid[a.pid]["ppid"] == b.pid and by_pid[b.pid]["ppid"] == a.pid
    # the cycle is printed after every tree that has a real root
    assert pids.index(a.pid) > pids.index(1) and by_pid[a.pid]["depth"] in (0, 1)
