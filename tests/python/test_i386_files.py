"""Open files of 32-bit x86 guests (issue 18) with no configuration:
Debian's 686 and 686-pae kernels have no BTF, so task->files, the fd table,
struct file, inode and super_block are found from the guest's memory
(os/linux/files32.c). xa-files is compared exactly with the guest's own
/proc/PID/fd, fdinfo and stat (the truth's "files" section) for every
process; then copies of the dump whose fd tables lie."""
import json
import os
import re
import sys
import time

import pytest

import xa_py  # noqa: F401  (sets sys.path for the package)
import xenaccess
from test_i386 import guest32  # noqa: F401  (dump sets)
from test_i386_procs import patched_copy
from xatest import DUMPS, json_lines, require, run_tool

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import views_compare as vc  # noqa: E402

pytest_plugins = ["xa_py"]

EMBEDDED_FDS = 32  # the embedded fdtable of a 32-bit kernel: BITS_PER_LONG


def test_files_every_process(guest32):
    """xa-files --json is the guest's view of every process's fds: path,
    inode, position, flags (with O_CLOEXEC), device and mode."""
    t = guest32["truth"]
    require("files" in t, "the %s dumps predate the files truth: remake them" % guest32["kind"])
    p = run_tool("xa-files", guest32["target"], "--json")
    rows = json_lines(p.stdout)
    assert p.stderr == ""
    assert not any(r.get("partial") for r in rows)
    pids = {q["pid"] for q in t["procs"]}
    want = vc.files_truth(t, pids)
    vc.check_files(t, rows, pids, want)
    assert len(want) > 600  # every process, not a handful
    # the workload's kinds, named as /proc names them: a deleted file, one on
    # a tmpfs mounted in a namespace of its own (mount crossing), an eventfd
    vc.check_workload_files(rows, vc.files_pid(t))
    kinds = {r["type"] for r in rows}
    assert {"REG", "FIFO", "CHR", "SOCK", "anon"} <= kinds, kinds
    assert any(re.fullmatch(r"pipe:\[\d+\]", r["path"]) for r in rows)
    assert any(r["flags"] & 0o2000000 for r in rows)  # close_on_exec read


def test_files_one_pid(guest32):
    t = guest32["truth"]
    require("files" in t, "the %s dumps predate the files truth" % guest32["kind"])
    fp = vc.files_pid(t)
    rows = json_lines(run_tool("xa-files", guest32["target"], "--json", "--pid", str(fp)).stdout)
    assert {r["pid"] for r in rows} == {fp}
    want = {k: v for k, v in vc.files_truth(t, {fp}).items()}
    vc.check_files(t, rows, {fp}, want)
    assert json_lines(run_tool("xa-files", guest32["target"], "--json", "--pid", "2").stdout) == []


# ---- hostile fd tables ------------------------------------------------------

def embedded_table(vm, task):
    """(files_struct, its embedded fdtab) of @task, found the way the kernel
    lays them out (fdt points just past itself, max_fds 32) - independently
    of the library's inference."""
    found = set()
    for off in range(0, 4096, 4):
        files = int.from_bytes(vm.read(task + off, 4), "little")
        if files < 0xC0000000 or files & 3 or files > 0xFFFFF000:
            continue
        try:
            w = vm.read(files, 64)
        except Exception:
            continue
        for f in range(0, 60, 4):
            if int.from_bytes(w[f:f + 4], "little") == files + f + 4 and \
                    int.from_bytes(w[f + 4:f + 8], "little") == EMBEDDED_FDS:
                found.add((files, files + f + 4))
    assert len(found) == 1, found
    return found.pop()


@pytest.mark.parametrize("lie", ["huge_max_fds", "fd_array_into_itself"])
def test_hostile_fd_table(tmp_path, lie):
    """A process whose embedded fd table claims 2^30 fds, or whose fd array
    points at the table itself: the walk ends at once with one line naming
    the process, and the output is flagged partial (never a made-up file)."""
    d = os.path.join(DUMPS, "i386")
    require(os.path.exists(os.path.join(d, "truth.json")), f"no i386 dump set in {DUMPS}")
    with open(os.path.join(d, "truth.json")) as f:
        truth = json.load(f)
    fp = vc.files_pid(truth)
    with xenaccess.open("file:" + os.path.join(d, "raw.img")) as vm:
        task = vm.process(fp).task
        files, fdtab = embedded_table(vm, task)
        if lie == "huge_max_fds":
            patches = [(vm.translate(fdtab), (1 << 30).to_bytes(4, "little"))]
        else:  # every fd word the array has: fdtab's own words (max_fds 32, pointers)
            # the fd array is the pointer whose target holds the file pointers
            ptrs = [int.from_bytes(vm.read(fdtab + o, 4), "little") for o in range(4, 20, 4)]
            fd_word = 4 + 4 * ptrs.index(max(ptrs))  # fd_array is the last member
            patches = [(vm.translate(fdtab + fd_word), fdtab.to_bytes(4, "little"))]
    target = patched_copy(tmp_path, patches)
    start = time.monotonic()
    p = run_tool("xa-files", target, "--json", check=False)
    assert time.monotonic() - start < 60
    assert p.returncode != 0
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and ("process %d" % fp) in lines[0], p.stderr
    rows = json_lines(p.stdout)
    assert rows and rows[-1].get("partial"), rows[-1:]
    assert not any(r.get("pid") == fp and "fd" in r for r in rows)  # nothing of its table
    # the other processes still read (the layout does not rest on one table)
    ok = run_tool("xa-files", target, "--json", "--pid", "1")
    assert [r["fd"] for r in json_lines(ok.stdout)] == \
        [f["fd"] for f in truth["files"]["fds"] if f["pid"] == 1]


# ---- live: a 686-pae guest -------------------------------------------------

def check_live_pae_open_files(live32):
    """(Run by test_i386.py test_live_pae_open_files, on its guest.)
    The open fds of the running guest's processes are those its own
    /proc/PID/fd lists (before and after the walk), with the same targets."""
    g, target = live32["guest"], live32["target"]
    script = ("for p in /proc/[0-9]*; do n=${p#/proc/}; for f in $p/fd/*; do "
              "[ -e \"$f\" ] || [ -L \"$f\" ] || continue; "
              "echo \"$n ${f##*/} $(printf %s \"$(readlink $f)\" | od -An -tx1 -v | tr -d ' \\n')\"; "
              "done; "
              "done 2>/dev/null")

    def guest_view():
        out = {}
        for line in g.run(script).splitlines():
            f = line.split(" ")
            if len(f) == 3 and f[0].isdigit() and f[1].isdigit():
                out[(int(f[0]), int(f[1]))] = bytes.fromhex(f[2])
        return out
    before = guest_view()
    rows = json_lines(run_tool("xa-files", target, "--json").stdout)
    after = guest_view()
    stable = {k: v for k, v in before.items() if after.get(k) == v}
    pids = {k[0] for k in stable} - {k[0] for k in set(before) ^ set(after)}
    # the command server runs the script in the views but waits in read
    # while xa-files reads it: its fd 0 and saved fds (10 on) differ
    tty = b"/dev/ttyS1"
    server = {p for p in pids if before.get((p, 3)) == tty and before.get((p, 4)) == tty}
    stable = {k: v for k, v in stable.items()
              if not (k[0] in server and (k[1] == 0 or k[1] >= 10))}
    got = {(r["pid"], r["fd"]): vc.got_path(r) for r in rows if r["pid"] in pids and
           not (r["pid"] in server and (r["fd"] == 0 or r["fd"] >= 10))}
    want = {k: v for k, v in stable.items() if k[0] in pids}
    assert len(want) >= 50
    assert got == want
