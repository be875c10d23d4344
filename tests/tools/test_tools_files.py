"""xa-files and xa-mounts on real guest dumps (4- and 5-level, raw and ELF),
checked EXACTLY against the guest's own view taken just before the dump
(the truth's "files" section: /proc/PID/fd links, stat, fdinfo, and the
mountinfo of pid 1 and of the xa-files process, which has a mount namespace
of its own; tests/guest/truth.sh xa_truth_files)."""
import os

import pytest

import views_compare as vc
# other tests import these from here
from views_compare import (as_mountinfo, check_files, command_server, compared,  # noqa: F401
                           files_pid, parse_mountinfo)
from xatest import dump_set, json_lines, require, run_tool

KINDS = [("l4", "raw.img"), ("l4", "core.elf"), ("l5", "raw.img"), ("l5", "core.elf")]


def target(dumps, kind, fname):
    d = dump_set(dumps, kind)
    require("files" in d["truth"], "the %s dumps predate the files truth: remake them" % kind)
    return "file:" + os.path.join(d["dir"], fname), d["truth"]


def files_truth(truth):
    """{(pid, fd): facts} of the processes the dump holds."""
    pids = {p["pid"] for p in truth["procs"]}
    return pids, vc.files_truth(truth, pids)


@pytest.mark.parametrize("kind,fname", KINDS)
def test_files_every_process(dumps, kind, fname):
    tgt, truth = target(dumps, kind, fname)
    p = run_tool("xa-files", tgt, "--json")
    rows = json_lines(p.stdout)
    assert not any(r.get("partial") for r in rows)
    pids, want = files_truth(truth)
    check_files(truth, rows, pids, want)
    # the workload's kinds are all there and named as /proc names them
    vc.check_workload_files(rows, files_pid(truth))
    assert len(want) > 600  # every process, not a handful
    assert len(command_server(truth)) == 1


@pytest.mark.parametrize("kind,fname", KINDS[:2])
def test_files_one_pid_and_table(dumps, kind, fname):
    tgt, truth = target(dumps, kind, fname)
    pids, want = files_truth(truth)
    fp = files_pid(truth)
    rows = json_lines(run_tool("xa-files", tgt, "--json", "--pid", str(fp)).stdout)
    assert {r["pid"] for r in rows} == {fp}
    check_files(truth, rows, {fp}, {k: v for k, v in want.items() if k[0] == fp})
    table = run_tool("xa-files", tgt, "--pid", str(fp)).stdout.splitlines()
    assert table[0].split() == ["PID", "FD", "TYPE", "FLAGS", "POS", "DEV", "INODE", "PATH"]
    assert len(table) == 1 + len(rows)
    assert any(line.endswith(" /tmp/xa-files/on tmpfs.txt") for line in table)
    # a kernel thread has no files; an absent pid is an error
    assert json_lines(run_tool("xa-files", tgt, "--json", "--pid", "2").stdout) == []
    p = run_tool("xa-files", tgt, "--pid", "4000000", check=False)
    assert p.returncode == 1 and "4000000" in p.stderr


@pytest.mark.parametrize("kind,fname", KINDS)
def test_mounts(dumps, kind, fname):
    tgt, truth = target(dumps, kind, fname)
    mi = truth["files"]["mountinfo"]
    fp = files_pid(truth)
    for pid in ("1", str(fp)):
        rows = json_lines(run_tool("xa-mounts", tgt, "--json", "--pid", pid).stdout)
        assert as_mountinfo(rows) == parse_mountinfo(mi[pid]), pid
    # the namespace of its own: one mount more than pid 1's, ids all different
    ns = json_lines(run_tool("xa-mounts", tgt, "--json", "--pid", str(fp)).stdout)
    init = json_lines(run_tool("xa-mounts", tgt, "--json").stdout)
    assert len(ns) == len(init) + 1
    assert not {m["mnt_id"] for m in ns} & {m["mnt_id"] for m in init}
    assert any(m["mount_point"] == "/tmp/xa-files/ns" and m["options"] == "rw,nosuid,nodev,relatime"
               for m in ns)
    # the initial namespace, seen from its top, is pid 1's here (no chroot)
    assert as_mountinfo(init) == parse_mountinfo(mi["1"])
