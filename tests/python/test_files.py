"""Open files and mounts through the Python bindings, on real guest dumps:
every process's files and the mountinfo of pid 1 and of the namespaced
xa-files process must equal what the guest's /proc said (the truth's "files"
section, taken just before the dump; see tests/tools/test_tools_files.py for
the command server's fds left out)."""
import dataclasses
import os
import sys

import pytest

import xa_py  # noqa: F401  (sets sys.path for the package)
import xenaccess
from xatest import dump_set, require

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from test_tools_files import compared, files_pid, parse_mountinfo  # noqa: E402

pytest_plugins = ["xa_py"]

KINDS = [("l4", "raw.img"), ("l5", "core.elf")]


@pytest.mark.parametrize("kind,fname", KINDS)
def test_files_and_mounts_match_guest(dumps, kind, fname):
    d = dump_set(dumps, kind)
    truth = d["truth"]
    require("files" in truth, "the %s dumps predate the files truth: remake them" % kind)
    pids = {p["pid"] for p in truth["procs"]}
    want = {(f["pid"], f["fd"]): (bytes.fromhex(f["path_hex"]), f["inode"], f["pos"], f["flags"],
                                  tuple(int(x) for x in f["dev"].split(":")), f["mode"])
            for f in truth["files"]["fds"] if f["pid"] in pids and compared(truth, f["pid"], f["fd"])}
    got = {}
    with xenaccess.open("file:" + os.path.join(d["dir"], fname)) as vm:
        for p in vm.processes():
            for f in vm.files(p):  # as the walk found it (xa_file_iter_new_proc)
                assert f.pid == p.pid and f.path == f.raw_path.decode("utf-8", "replace")
                if p.pid in pids and compared(truth, f.pid, f.fd):
                    got[(f.pid, f.fd)] = (f.raw_path, f.inode, f.pos, f.flags, f.dev, f.mode)
        assert got == want
        fp = files_pid(truth)
        kinds = {f.type for f in vm.files(fp)}
        assert {"REG", "FIFO", "anon", "CHR"} <= kinds
        for pid in (1, fp):
            rows = [{"mnt_id": m.mnt_id, "parent_id": m.parent_id, "dev": "%d:%d" % m.dev,
                     "root": m.root.encode(), "mount_point": m.mount_point.encode(),
                     "options": m.options,
                     "propagation": " ".join(x for x in (
                         "shared:%d" % m.shared_id if m.shared_id else "",
                         "master:%d" % m.master_id if m.master_id else "") if x),
                     "fstype": m.fstype, "source": m.source.encode(), "super_ro": m.super_ro}
                    for m in vm.mounts(pid)]
            assert rows == parse_mountinfo(truth["files"]["mountinfo"][str(pid)]), pid
        assert len(list(vm.mounts())) == len(list(vm.mounts(1)))
        with pytest.raises(xenaccess.NotFound):
            list(vm.files(4000000))


@pytest.mark.parametrize("kind,fname", KINDS)
def test_listing_is_one_walk(dumps, kind, fname):
    """Every process's files, threads and mounts, each from the Process the
    walk handed out: one walk of the process list in all and no flush
    (xa_os_stats), with the same files as the calls by pid, which look each
    pid up (a walk to build the pid index)."""
    d = dump_set(dumps, kind)
    with xenaccess.open("file:" + os.path.join(d["dir"], fname)) as vm:
        s0 = vm.os_stats()
        procs = list(vm.processes())
        by_proc = {p.pid: [dataclasses.astuple(f) for f in vm.files(p)] for p in procs}
        nthreads = sum(len(list(vm.threads(p))) for p in procs)
        nmounts = sum(len(list(vm.mounts(p))) for p in procs)
        s1 = vm.os_stats()
        assert s1["process_walks"] - s0["process_walks"] == 1
        assert s1["os_flushes"] == s0["os_flushes"]
        assert nthreads > len(procs) > 300 and nmounts > len(procs)
        by_pid = {p.pid: [dataclasses.astuple(f) for f in vm.files(p.pid)] for p in procs}
        assert by_pid == by_proc and sum(map(len, by_proc.values())) > 1000
        assert vm.os_stats()["process_walks"] > s1["process_walks"]


def test_process_handed_back_is_checked(dumps):
    """A Process given back to files()/threads()/mounts() is re-read at its
    task address: another process's task (as after a pid's exit and reuse)
    is NotFound, a bogus address an error, never another process's data."""
    d = dump_set(dumps, "l4")
    with xenaccess.open("file:" + os.path.join(d["dir"], "raw.img")) as vm:
        procs = [p for p in vm.processes() if not p.kthread]
        a, b = procs[1], procs[2]
        moved = dataclasses.replace(a, task=b.task)
        for call in (vm.files, vm.threads, vm.mounts):
            with pytest.raises(xenaccess.NotFound, match="no longer its leader"):
                list(call(moved))
            with pytest.raises(xenaccess.XenaccessError, match="bad task address") as e:
                list(call(dataclasses.replace(a, task=0x1234)))
            assert e.value.code == xenaccess.errors.EINVAL
        # a thread's task (not the leader) is refused too
        multi = next(p for p in procs if len(list(vm.threads(p))) > 1)
        tid_task = [t.task for t in vm.threads(multi) if t.tid != multi.pid][0]
        with pytest.raises(xenaccess.NotFound):
            list(vm.files(dataclasses.replace(multi, task=tid_task)))
        assert [f.fd for f in vm.files(a)] == [f.fd for f in vm.files(a.pid)]
