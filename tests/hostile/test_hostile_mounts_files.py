"""Hostile guests against the open-file and mount walks (issue 14): the mount
list made to loop or to link forward to a node that does not point back, an
fd table claiming 2^31 - 1 fds, a dentry whose parent chain loops.

Same method as test_hostile.py (whose helpers and image fixture this reuses):
a working copy of the l4 raw dump, patched and restored per case; every run
is held to the hostile-input contract (bounded time and memory, no sanitizer
report, exit 0/1/3 with a one-line reason) and a broken walk must end as a
flagged partial result (exit 3) after exactly what came before the damage.
"""
import struct

import pytest

from test_hostile import image, run_bounded  # noqa: F401 (fixture)
from xatest import json_lines


def rows(p, key):
    return [r for r in json_lines(p.stdout) if key in r]


def clean_mounts(img):
    r = run_bounded("xa-mounts", img.target, "--json", "--pid", "1")
    assert r.returncode == 0, r.stderr
    mounts = rows(r, "mnt_id")
    assert len(mounts) >= 5
    return mounts


def node_pa(img, mount, off):
    return img.q(f"pa:{int(mount['mount'], 16) + off:#x}")


def test_mount_list_loops(image):
    mounts = clean_mounts(image)
    off = image.q("off:mount.mnt_list")
    target = int(mounts[1]["mount"], 16) + off  # the 4th points back at the 2nd
    with image.patched({node_pa(image, mounts[3], off): struct.pack("<Q", target)}):
        r = run_bounded("xa-mounts", image.target, "--json", "--pid", "1")
        assert r.returncode == 3, r.stderr
        assert "mount list loops" in r.stderr, r.stderr
        assert [m["mnt_id"] for m in rows(r, "mnt_id")] == [m["mnt_id"] for m in mounts[:4]]
        assert json_lines(r.stdout)[-1].get("partial") is True


def test_mount_list_link_not_pointing_back(image):
    mounts = clean_mounts(image)
    off = image.q("off:mount.mnt_list")
    skip_to = int(mounts[4]["mount"], 16) + off  # the 3rd skips the 4th: its prev disagrees
    with image.patched({node_pa(image, mounts[2], off): struct.pack("<Q", skip_to)}):
        r = run_bounded("xa-mounts", image.target, "--json")
        assert r.returncode == 3, r.stderr
        assert "mount list broken after 3 entries" in r.stderr, r.stderr
        assert [m["mnt_id"] for m in rows(r, "mnt_id")] == [m["mnt_id"] for m in mounts[:3]]


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_mount_list_broken_before_first(image, json_flag):
    """The first mount's prev does not name the namespace's list head:
    nothing is listed, so exit 1 with one line and no table header (it was
    the header, then "mounts are partial after 0", exit 3)."""
    mounts = clean_mounts(image)
    off = image.q("off:mount.mnt_list")
    wrong = int(mounts[1]["mount"], 16) + off
    with image.patched({node_pa(image, mounts[0], off) + 8: struct.pack("<Q", wrong)}):
        r = run_bounded("xa-mounts", image.target, "--pid", "1", *json_flag)
        assert r.returncode == 1, r.stderr
        assert r.stdout == "", r.stdout
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "mount list broken after 0 entries" in lines[0], r.stderr


def fdtable_of(img, pid):
    procs = {p["pid"]: p for p in json_lines(run_bounded("xa-ps", img.target, "--json").stdout)
             if "pid" in p}
    files = img.q(f"u64:{int(procs[pid]['task'], 16) + img.q('off:task_struct.files'):#x}")
    return img.q(f"u64:{files + img.q('off:files_struct.fdt'):#x}")


def test_fd_table_claims_2_pow_31_fds(image):
    clean = run_bounded("xa-files", image.target, "--json", "--pid", "1")
    assert clean.returncode == 0, clean.stderr
    want = [(f["fd"], f["path"]) for f in rows(clean, "fd")]
    assert want
    fdt = fdtable_of(image, 1)
    at = image.q(f"pa:{fdt + image.q('off:fdtable.max_fds'):#x}")
    with image.patched({at: struct.pack("<I", 0x7fffffff)}):
        r = run_bounded("xa-files", image.target, "--json", "--pid", "1")
        # whatever lies past the real bitmap and array, the walk ends, flagged
        assert r.returncode == 3, r.stderr
        assert "process 1" in r.stderr, r.stderr
        got = [(f["fd"], f["path"]) for f in rows(r, "fd")]
        assert got[:len(want)] == want
        assert json_lines(r.stdout)[-1].get("partial") is True


def test_dentry_parent_loop(image):
    clean = run_bounded("xa-files", image.target, "--json", "--pid", "1")
    files = rows(clean, "fd")
    f0 = files[0]
    assert f0["path"].count("/") >= 2, f0  # a dentry with a real parent
    dentry = image.q(f"u64:{int(f0['file'], 16) + image.q('off:file.f_path') + 8:#x}")
    d_parent = image.q("off:dentry.d_parent")
    parent = image.q(f"u64:{dentry + d_parent:#x}")
    with image.patched({image.q(f"pa:{parent + d_parent:#x}"): struct.pack("<Q", dentry)}):
        # the first file of pid 1 is the damaged one: nothing listed before
        # it, so an error (exit 1, one line, empty stdout), not "partial
        # after 0 files"
        for args in (["--pid", "1"], []):
            for json_flag in ([], ["--json"]):
                r = run_bounded("xa-files", image.target, *json_flag, *args)
                assert r.returncode == 1, (args, r.stderr)
                assert r.stdout == "", r.stdout
                assert len(r.stderr.strip().splitlines()) == 1, r.stderr
                assert f"fd {f0['fd']}" in r.stderr, r.stderr
