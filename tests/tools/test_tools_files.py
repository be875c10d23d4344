"""xa-files and xa-mounts on real guest dumps (4- and 5-level, raw and ELF),
checked EXACTLY against the guest's own view taken just before the dump
(the truth's "files" section: /proc/PID/fd links, stat, fdinfo, and the
mountinfo of pid 1 and of the xa-files process, which has a mount namespace
of its own; tests/guest/truth.sh xa_truth_files)."""
import os
import re

import pytest

from xatest import dump_set, json_lines, require, run_tool

KINDS = [("l4", "raw.img"), ("l4", "core.elf"), ("l5", "raw.img"), ("l5", "core.elf")]


def target(dumps, kind, fname):
    d = dump_set(dumps, kind)
    require("files" in d["truth"], "the %s dumps predate the files truth: remake them" % kind)
    return "file:" + os.path.join(d["dir"], fname), d["truth"]


def got_path(row):
    return bytes.fromhex(row["path_hex"]) if "path_hex" in row else row["path"].encode()


def command_server(truth):
    """The guest's command server (init.sh serve: fds 3 and 4 on ttyS1). It ran
    the truth's command (stdin from /dev/null) and waits in `read <&3` (stdin
    from ttyS1) at the dump; busybox sh keeps saved copies of redirected fds
    at 10 and above. So its fd 0 and fds from 10 on differ between the two
    moments and are left out; 1 to 9 must match."""
    links = {(f["pid"], f["fd"]): bytes.fromhex(f["path_hex"]) for f in truth["files"]["fds"]}
    return {pid for (pid, fd), path in links.items()
            if fd == 3 and path == b"/dev/ttyS1" and links.get((pid, 4)) == b"/dev/ttyS1"}


def compared(truth, pid, fd):
    return not (pid in command_server(truth) and (fd == 0 or fd >= 10))


def files_truth(truth):
    """{(pid, fd): facts} of the processes the dump holds."""
    pids = {p["pid"] for p in truth["procs"]}
    want = {}
    for f in truth["files"]["fds"]:
        if f["pid"] in pids and compared(truth, f["pid"], f["fd"]):
            want[(f["pid"], f["fd"])] = (bytes.fromhex(f["path_hex"]), f["inode"], f["pos"],
                                         f["flags"], f["dev"], f["mode"])
    return pids, want


def check_files(truth, rows, pids, want):
    rows = [r for r in rows if r["pid"] in pids and compared(truth, r["pid"], r["fd"])]
    got = {(r["pid"], r["fd"]): (got_path(r), r["inode"], r["pos"], r["flags"], r["dev"],
                                 r["mode"])
           for r in rows}
    assert len(got) == len(rows)  # no fd twice
    missing = sorted(set(want) - set(got))
    extra = sorted(set(got) - set(want))
    assert not missing and not extra, (missing[:10], extra[:10])
    wrong = [(k, got[k], want[k]) for k in want if got[k] != want[k]]
    assert not wrong, wrong[:10]


def files_pid(truth):
    return int([p for p in truth["files"]["mountinfo"] if p != "1"][0])


@pytest.mark.parametrize("kind,fname", KINDS)
def test_files_every_process(dumps, kind, fname):
    tgt, truth = target(dumps, kind, fname)
    p = run_tool("xa-files", tgt, "--json")
    rows = json_lines(p.stdout)
    assert not any(r.get("partial") for r in rows)
    pids, want = files_truth(truth)
    check_files(truth, rows, pids, want)
    # the workload's kinds are all there and named as /proc names them
    fp = files_pid(truth)
    mine = {r["fd"]: r for r in rows if r["pid"] == fp}
    kinds = {r["type"] for r in mine.values()}
    assert {"REG", "FIFO", "anon", "CHR"} <= kinds, kinds
    paths = [r["path"] for r in mine.values()]
    assert "/tmp/xa-files/deleted.txt (deleted)" in paths
    assert "/tmp/xa-files/ns/inside.txt" in paths  # on the namespace's own tmpfs
    assert "anon_inode:[eventfd]" in paths
    assert sum(1 for x in paths if re.fullmatch(r"pipe:\[\d+\]", x)) == 2
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


def unescape(field):
    """mountinfo's octal escapes (space, tab, newline, backslash) undone."""
    return re.sub(rb"\\([0-7]{3})", lambda m: bytes([int(m.group(1), 8)]), field)


def parse_mountinfo(lines_hex):
    out = []
    for h in lines_hex:
        f = bytes.fromhex(h).split(b" ")
        sep = f.index(b"-")
        out.append({"mnt_id": int(f[0]), "parent_id": int(f[1]), "dev": f[2].decode(),
                    "root": unescape(f[3]), "mount_point": unescape(f[4]),
                    "options": f[5].decode(), "propagation": b" ".join(f[6:sep]).decode(),
                    "fstype": f[sep + 1].decode(), "source": unescape(f[sep + 2]),
                    "super_ro": f[sep + 3].split(b",")[0] == b"ro"})
    return out


def as_mountinfo(rows):
    keys = ("mnt_id", "parent_id", "dev", "options", "propagation", "fstype", "super_ro")
    out = []
    for r in rows:
        m = {k: r[k] for k in keys}
        for k in ("root", "mount_point", "source"):
            m[k] = bytes.fromhex(r[k + "_hex"]) if k + "_hex" in r else r[k].encode()
        out.append(m)
    return out


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
