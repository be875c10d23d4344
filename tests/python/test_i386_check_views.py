"""xa-check's cross-view checks on 32-bit x86 guests (issue 18): Debian's
686 and 686-pae kernels list no data symbols and have no BTF, so the
processes, modules and user checks compare views found from memory
(os/linux/check32_views*.c): the task list against the children lists and
parents of listed tasks and threads; the module list against the module
kset (/sys/module) and a carve of the pages modscan32.c scans; the listed
processes' maps and environments.

On the shared dumps (clean guests) nothing is found and every check is
complete; on copies of the raw dumps with one process unlinked from the
task list and one module from the module list, exactly those are reported
hidden; a looping task list fails the check in one line.
"""
import json
import os
import shutil

import pytest

import xa_py  # noqa: F401  (sets sys.path for the package)
import xenaccess
from test_i386 import guest32  # noqa: F401  (the dump sets: i386 and i386pae, raw and ELF)
from xatest import DUMPS, json_lines, require, run_tool

pytest_plugins = ["xa_py"]

CHECKS = ("--check", "processes", "--check", "modules", "--check", "user")
LIST_POISON1, LIST_POISON2 = 0x100, 0x122  # list_del() on 32-bit


def check(target, *args):
    """(process, findings, {check: summary}, notes)"""
    p = run_tool("xa-check", target, "--json", *args, check=False)
    rows = json_lines(p.stdout)
    findings = [r for r in rows if "technique" in r]
    notes = [r for r in rows if "note" in r]
    summary = {r["check"]: r for r in rows if "technique" not in r and "note" not in r}
    return p, findings, summary, notes


def raw_dump(kind):
    d = os.path.join(DUMPS, kind)
    require(os.path.exists(os.path.join(d, "truth.json")), f"no {kind} dump set in {DUMPS}")
    return os.path.join(d, "raw.img")


def patched(tmp_path, kind, patches):
    """A copy of a raw dump (never the shared one) with (physical address, u32) written."""
    copy = tmp_path / "raw.img"
    shutil.copyfile(raw_dump(kind), copy)
    with open(copy, "r+b") as f:
        for pa, value in patches:
            f.seek(pa)
            f.write(value.to_bytes(4, "little"))
    return "file:%s" % copy


def tasks_offset(vm, procs):
    """task_struct.tasks: the one offset where each listed task's next
    pointer names the next listed task's node (the test's own inference)."""
    fits = [off for off in range(0, 4096, 4)
            if all(vm.read_u32(a.task + off) == b.task + off for a, b in zip(procs, procs[1:12]))]
    assert len(fits) == 1, fits
    return fits[0]


def test_clean_guest(guest32):
    """The clean guest: no finding, every check complete, and the views that
    cannot be had are said in notes (never silently left out). The truth's
    workload maps have no anonymous executable memory either."""
    t = guest32["truth"]
    assert not [r for r in t["maps"]["regions"] if "x" in r["perms"] and
                (r["path"] in ("", "[heap]", "[stack]"))]
    p, findings, summary, notes = check(guest32["target"], *CHECKS)
    assert p.returncode == 0 and findings == [], (findings, p.stderr)
    assert sorted(summary) == ["modules", "processes", "user"]
    assert all(s["complete"] and s["findings"] == 0 for s in summary.values()), summary
    said = [(n["check"], n["note"]) for n in notes]
    # the PID IDR, children lists, group leaders and thread groups were all found
    assert [n for c, n in said if c == "processes"] == [
        "the run queues are not compared: the kernel lists no data symbols (runqueues) and "
        "has no BTF"], said
    # /sys/module is compared (struct module.mkobj found); mod_tree is not
    assert [n for c, n in said if c == "modules"] == [
        "the module address tree (mod_tree) is not compared: the kernel lists no data symbols "
        "and has no BTF"], said
    assert [n for c, n in said if c == "user"] == []  # the exe link is followed too


@pytest.mark.parametrize("kind", ["i386", "i386pae"])
def test_unlinked_process_is_hidden(tmp_path, kind):
    """The workload's marker process (the truth's maps pid) unlinked from
    the task list (its neighbours' next/prev patched): processes reports it,
    and only it, from the PID IDR and its parent's children list; the module
    and user checks still run over the shorter list."""
    dump = raw_dump(kind)
    with open(os.path.join(DUMPS, kind, "truth.json")) as f:
        pid = json.load(f)["maps"]["pid"]
    with xenaccess.open("file:" + dump) as vm:
        procs = list(vm.processes())
        off = tasks_offset(vm, procs)
        i = next(k for k, p in enumerate(procs) if p.pid == pid)
        assert 0 < i < len(procs) - 1
        prev, victim, nxt = procs[i - 1], procs[i], procs[i + 1]
        patches = [(vm.translate(prev.task + off), nxt.task + off),
                   (vm.translate(nxt.task + off + 4), prev.task + off)]
    target = patched(tmp_path, kind, patches)
    with xenaccess.open(target) as vm:
        assert victim.pid not in [p.pid for p in vm.processes()]
    p, findings, summary, _ = check(target, *CHECKS)
    assert p.returncode == 4, p.stderr
    assert [(f["technique"], f["pid"], f["culprit"]) for f in findings] == \
        [("hidden-process", pid, victim.comm)], findings
    assert "is in the PID IDR and a listed task's child but not on the task list" in \
        findings[0]["detail"], findings
    assert all(s["complete"] for s in summary.values()), summary


@pytest.mark.parametrize("kind", ["i386", "i386pae"])
@pytest.mark.parametrize("how", ["neighbours", "list_del"])
def test_unlinked_module_is_hidden(tmp_path, kind, how):
    """One module unlinked from the module list: its neighbours patched, and
    with list_del() its own links poisoned too. Its kobject in /sys/module
    and the carve of module memory still find its struct module: exactly
    that module is reported, by both views."""
    with xenaccess.open("file:" + raw_dump(kind)) as vm:
        mods = list(vm.modules())
        assert len(mods) >= 5
        k = len(mods) // 2
        prev, victim, nxt = (m.module + 4 for m in mods[k - 1:k + 2])  # struct module.list
        patches = [(vm.translate(prev), nxt), (vm.translate(nxt + 4), prev)]
        if how == "list_del":
            patches += [(vm.translate(victim), LIST_POISON1),
                        (vm.translate(victim + 4), LIST_POISON2)]
    target = patched(tmp_path, kind, patches)
    p, findings, summary, _ = check(target, *CHECKS)
    assert p.returncode == 4, p.stderr
    assert [(f["technique"], f["culprit"], int(f["addr"], 16)) for f in findings] == \
        [("hidden-module", mods[k].name, mods[k].module)], findings
    assert "is in /sys/module and in module memory but not on the module list" in \
        findings[0]["detail"], findings
    assert all(s["complete"] for s in summary.values()), summary


@pytest.mark.parametrize("kind", ["i386", "i386pae"])
def test_looping_task_list_fails_in_one_line(tmp_path, kind):
    """The sixth task's next pointing back at the third (whose prev is
    rewritten to match): the processes check cannot judge and says why in
    one line, instead of a clean verdict; run alone, that is an error (exit
    1, nothing on stdout)."""
    with xenaccess.open("file:" + raw_dump(kind)) as vm:
        procs = list(vm.processes())
        off = tasks_offset(vm, procs)
        a, b = procs[5].task + off, procs[2].task + off
        patches = [(vm.translate(a), b), (vm.translate(b + 4), a)]
    target = patched(tmp_path, kind, patches)
    p, findings, summary, _ = check(target, "--check", "processes")
    assert p.returncode == 1 and p.stdout == "", (p.returncode, p.stdout)
    err = p.stderr.strip()
    assert "\n" not in err and "task list" in err, err
    # beside a check that finishes, the stopped one keeps its record (exit 3)
    p, findings, summary, _ = check(target, "--check", "processes", "--check", "syscalls")
    assert p.returncode == 3 and findings == [], (findings, p.stderr)
    assert summary["processes"]["complete"] is False and summary["syscalls"]["complete"]


def sibling_offset(vm, procs, tasks_off):
    """task_struct.sibling: the one list_head after the tasks list_head whose
    ring, in a dozen user processes, reaches their parent's children head
    (sibling - 8) with every back link holding (the test's own inference)."""
    by_pid = {p.pid: p for p in procs}
    sample = [p for p in procs if p.ppid in by_pid and p.pid > 1][:12]

    def fits(p, off):
        head, node = by_pid[p.ppid].task + off - 8, p.task + off
        for _ in range(4096):
            nxt = vm.read_u32(node)
            try:
                if nxt < 0xC0000000 or nxt & 3 or vm.read_u32(nxt + 4) != node:
                    return False
            except xenaccess.XenaccessError:
                return False
            if nxt == head:
                return True
            node = nxt
        return False

    good = [off for off in range(tasks_off + 8, tasks_off + 512, 4)
            if all(fits(p, off) for p in sample)]
    assert len(good) == 1, good
    return good[0]


@pytest.mark.parametrize("kind", ["i386", "i386pae"])
def test_process_unlinked_from_list_and_parent_is_in_idr(tmp_path, kind):
    """The marker process unlinked from the task list AND from its parent's
    children list: only the PID IDR still holds it, and that is enough."""
    dump = raw_dump(kind)
    with open(os.path.join(DUMPS, kind, "truth.json")) as f:
        pid = json.load(f)["maps"]["pid"]
    with xenaccess.open("file:" + dump) as vm:
        procs = list(vm.processes())
        off = tasks_offset(vm, procs)
        sib = sibling_offset(vm, procs, off)
        i = next(k for k, p in enumerate(procs) if p.pid == pid)
        prev, victim, nxt = procs[i - 1], procs[i], procs[i + 1]
        patches = [(vm.translate(prev.task + off), nxt.task + off),
                   (vm.translate(nxt.task + off + 4), prev.task + off)]
        node = victim.task + sib
        before, after = vm.read_u32(node + 4), vm.read_u32(node)
        patches += [(vm.translate(before), after), (vm.translate(after + 4), before)]
    target = patched(tmp_path, kind, patches)
    p, findings, summary, _ = check(target, "--check", "processes")
    assert p.returncode == 4, p.stderr
    assert [(f["technique"], f["pid"], f["culprit"]) for f in findings] == \
        [("hidden-process", pid, victim.comm)], findings
    assert "is in the PID IDR but not on the task list" in findings[0]["detail"], findings


@pytest.mark.parametrize("kind", ["i386", "i386pae"])
def test_ld_preload_in_environment(tmp_path, kind):
    """The marker process's PATH= rewritten in place (same length) to
    LD_PRELOAD=/xxx: the user check reports it for every process whose
    memory maps that page (a fork shares it until written), and nothing
    else; a wrong or missed process fails the test."""
    dump = raw_dump(kind)
    with open(os.path.join(DUMPS, kind, "truth.json")) as f:
        pid = json.load(f)["maps"]["pid"]
    with xenaccess.open("file:" + dump) as vm:
        env = vm.environ(pid)
        old = next(v for v in env.split(b"\0") if v.startswith(b"PATH="))
        new = b"LD_PRELOAD=/" + b"x" * (len(old) - 12)
        stack = next(m for m in vm.maps(pid) if m.path == "[stack]")
        top = stack.end - 0x2000  # the strings are at the top of the stack
        data = vm.read(top, 0x2000, pid=pid)
        va = top + data.rindex(b"\0" + old + b"\0") + 1
        pas = [vm.translate(va + k, pid=pid) for k in range(len(new))]
        want = []
        for p in vm.processes():
            try:
                if p.mm and vm.translate(va, pid=p.pid) == pas[0]:
                    want.append(p.pid)
            except xenaccess.XenaccessError:
                pass
    copy = tmp_path / "raw.img"
    shutil.copyfile(dump, copy)
    with open(copy, "r+b") as f:
        for pa, byte in zip(pas, new):
            f.seek(pa)
            f.write(bytes([byte]))
    p, findings, summary, _ = check("file:%s" % copy, *CHECKS)
    assert p.returncode == 4, p.stderr
    assert pid in want
    assert sorted((f["technique"], f["pid"]) for f in findings) == \
        [("ld-preload", q) for q in sorted(want)], findings
    assert all(f["detail"].endswith("has LD_PRELOAD=%s" % new[11:].decode()) for f in findings)
    assert all(s["complete"] for s in summary.values()), summary
