"""Open files and mounts through the Python bindings, on real guest dumps:
every process's files and the mountinfo of pid 1 and of the namespaced
xa-files process must equal what the guest's /proc said (the truth's "files"
section, taken just before the dump; see tests/tools/test_tools_files.py for
the command server's fds left out)."""
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
            for f in vm.files(p.pid):
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
