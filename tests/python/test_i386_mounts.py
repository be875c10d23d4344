"""Mounts of 32-bit x86 guests (issue 18) with no configuration: Debian's
686 and 686-pae kernels have no BTF and list no data symbols, so where
task_struct keeps its nsproxy and fs, where the mount namespace keeps its
mount list and where struct mount, vfsmount and super_block keep what
/proc/PID/mountinfo shows are inferred from the guest's memory
(os/linux/mounts32.c). Compared with the guest's own mountinfo of pid 1 and
of the workload's process in a mount namespace of its own; then a copy of
the dump whose mount list loops."""
import json
import os
import shutil

import pytest

import xa_py  # noqa: F401  (sets sys.path for the package)
import xenaccess
from test_i386 import KINDS, guest32  # noqa: F401  (the dump sets)
from views_compare import check_mounts, files_pid
from xatest import DUMPS, json_lines, require, run_tool

pytest_plugins = ["xa_py"]


def mounts(target, *args, check=True):
    return run_tool("xa-mounts", target, "--json", *args, check=check, timeout=120)


def test_mounts_match_guest(guest32):
    """xa-mounts of pid 1, of the workload's own namespace and of init_task
    (no --pid) equal the guest's mountinfo, field by field."""
    t = guest32["truth"]
    mi = t["files"]["mountinfo"]
    fp = files_pid(t)
    for pid in ("1", str(fp)):
        p = mounts(guest32["target"], "--pid", pid)
        assert p.stderr == ""
        check_mounts(json_lines(p.stdout), mi[pid], "pid " + pid)
    check_mounts(json_lines(mounts(guest32["target"]).stdout), mi["1"], "init_task")
    # the workload's namespace: one mount more, ids of their own
    ids = {r["mnt_id"] for r in json_lines(mounts(guest32["target"], "--pid", str(fp)).stdout)}
    assert len(ids) == len(mi[str(fp)]) == len(mi["1"]) + 1


def list_offset(vm, addrs):
    """The offset of mount.mnt_list: the one whose next pointer leads each
    listed mount to the next (found from the dump, as a reader could)."""
    fits = [o for o in range(0, 512, 4)
            if all(vm.read_u32(a + o) == b + o for a, b in zip(addrs, addrs[1:]))]
    assert len(fits) == 1, fits
    return fits[0]


def patched_raw(tmp_path, kind, patches):
    """A copy of @kind's raw dump with (physical address, bytes) written."""
    copy = tmp_path / "raw.img"
    shutil.copyfile(os.path.join(DUMPS, kind, "raw.img"), copy)
    with open(copy, "r+b") as f:
        for pa, data in patches:
            f.seek(pa)
            f.write(data)
    return "file:%s" % copy


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_mount_list_loop(tmp_path, kind):
    """The workload namespace's last mount links back to its second: the
    walk of that namespace stops at the mount met twice (the mounts before
    it listed, one line, exit 3, no hang) and pid 1's mounts are intact."""
    d = os.path.join(DUMPS, kind)
    require(os.path.exists(os.path.join(d, "truth.json")), f"no {kind} dump set in {DUMPS}")
    with open(os.path.join(d, "truth.json")) as f:
        t = json.load(f)
    target = "file:" + os.path.join(d, "raw.img")
    fp = str(files_pid(t))
    rows = json_lines(mounts(target, "--pid", fp).stdout)
    addrs = [int(r["mount"], 16) for r in rows]
    with xenaccess.open(target) as vm:
        off = list_offset(vm, addrs)
        patch = [(vm.translate(addrs[-1] + off), (addrs[1] + off).to_bytes(4, "little"))]
    bad = patched_raw(tmp_path, kind, patch)
    p = mounts(bad, "--pid", fp, check=False)
    assert p.returncode == 3, (p.returncode, p.stderr)
    *got, last = json_lines(p.stdout)
    assert [r["mnt_id"] for r in got] == [r["mnt_id"] for r in rows][:len(got)] and got
    assert last.get("partial") is True, last
    assert p.stderr.count("\n") == 1, p.stderr
    check_mounts(json_lines(mounts(bad, "--pid", "1").stdout), t["files"]["mountinfo"]["1"],
                 "pid 1 beside a looping namespace")
