"""Modules of 32-bit x86 guests (issue 18) with no configuration: Debian's
686 and 686-pae kernels have no `modules` symbol (no data symbols in
kallsyms) and no BTF, so the module list is found from struct module
headers in the kernel's module area, followed to its head in the kernel's
data, and core_layout and refcnt are inferred from the modules themselves
(os/linux/module32.c, modscan32.c). Compared with the guest's own
/proc/modules (truth.json of the i386 / i386pae dump sets): names in list
order, sizes, addresses, reference counts and states.
"""
import os
import shutil

import pytest

import xa_py  # noqa: F401  (sets sys.path for the package)
import xenaccess
from test_i386 import guest32  # noqa: F401  (the dump sets: i386 and i386pae, raw and ELF)
from xatest import DUMPS, json_lines, require, run_tool

pytest_plugins = ["xa_py"]

STATES = {"Live": 0, "Loading": 1, "Unloading": 2}


def want_rows(truth):
    mods = truth["modules"]
    assert len(mods) >= 5  # the guest's initramfs loads virtio, ext4 and their dependencies
    return [(m["name"], m["size"], m["refcount"], int(m["addr"], 16), m["state"]) for m in mods]


def test_modules_match_proc_modules(guest32):
    t = guest32["truth"]
    with xenaccess.open(guest32["target"]) as vm:
        got = list(vm.modules())
    state_of = {v: k for k, v in STATES.items()}
    assert [(m.name, m.size, m.refcount, m.base, state_of[m.state]) for m in got] == want_rows(t)
    for m in got:  # struct module lies in its own core region
        assert m.base <= m.module < m.base + m.size, m.name


def test_xa_modules_matches_proc_modules(guest32):
    p = run_tool("xa-modules", guest32["target"], "--json")
    rows = json_lines(p.stdout)
    assert all("partial" not in r for r in rows) and p.stderr == ""
    assert [(r["name"], r["size"], r["refcount"], int(r["base"], 16), r["state"]) for r in rows] \
        == want_rows(guest32["truth"])
    text = run_tool("xa-modules", guest32["target"]).stdout.splitlines()
    assert len(text) == len(rows) + 1 and text[0].split()[0] == "NAME"


def patched(tmp_path, kind, patches):
    """A copy of a raw dump with (physical address, u32) written."""
    copy = tmp_path / "raw.img"
    shutil.copyfile(os.path.join(DUMPS, kind, "raw.img"), copy)
    with open(copy, "r+b") as f:
        for pa, value in patches:
            f.seek(pa)
            f.write(value.to_bytes(4, "little"))
    return "file:%s" % copy


@pytest.mark.parametrize("kind", ["i386", "i386pae"])
@pytest.mark.parametrize("damage", ["back_link", "loop"])
def test_damaged_module_list_is_partial(tmp_path, kind, damage):
    """A copy of the dump whose module ring is damaged after the sixth
    module: a prev pointer rewritten, or a next pointer looping back to the
    third module (the walk has seen it: a loop, although its prev names
    the second). The head is still found (from the modules before the damage),
    and xa-modules lists those six and exits 3 saying the list is partial."""
    d = os.path.join(DUMPS, kind)
    require(os.path.exists(os.path.join(d, "truth.json")), f"no {kind} dump set in {DUMPS}")
    with xenaccess.open("file:" + os.path.join(d, "raw.img")) as vm:
        mods = list(vm.modules())
        assert len(mods) >= 8
        node = [m.module + 4 for m in mods]  # struct module.list
        if damage == "back_link":  # the seventh's prev no longer names the sixth
            patches = [(vm.translate(node[6] + 4), node[1])]
        else:  # the sixth's next goes back to the third
            patches = [(vm.translate(node[5]), node[2])]
    p = run_tool("xa-modules", patched(tmp_path, kind, patches), "--json", check=False)
    assert p.returncode == 3, p.stderr
    rows = json_lines(p.stdout)
    assert [r["name"] for r in rows if "name" in r] == [m.name for m in mods[:6]]
    said = {"back_link": "module list broken after 6 entries: 0x%x links to 0x%x" % (
        node[5], node[6]), "loop": "module list loops (at 0x%x)" % node[2]}[damage]
    assert rows[-1]["partial"] is True and said in rows[-1]["error"], rows[-1]


def test_hidden_head_is_refused(tmp_path):
    """Both links of every module that touch the head rewritten (the list
    unhooked from the kernel's data): the module headers lead to no head,
    and xa-modules refuses in one line rather than list a ring it cannot
    anchor."""
    d = os.path.join(DUMPS, "i386")
    require(os.path.exists(os.path.join(d, "truth.json")), f"no i386 dump set in {DUMPS}")
    with xenaccess.open("file:" + os.path.join(d, "raw.img")) as vm:
        mods = list(vm.modules())
        first, last = mods[0].module + 4, mods[-1].module + 4
        patches = [(vm.translate(first + 4), last), (vm.translate(last), first)]
    p = run_tool("xa-modules", patched(tmp_path, "i386", patches), check=False)
    assert p.returncode == 1 and p.stdout == "", p.stdout
    assert "no list from them reaches a head" in p.stderr and p.stderr.count("\n") == 1, p.stderr


def test_check_cannot_judge_without_data_symbols(guest32):
    """Every xa-check section that finds its tables by name stops early on a
    kernel whose kallsyms lists no data symbols: a table it cannot find must
    not read as clean. (processes, modules and user compare views found from
    memory: test_i386_check_views.py.)"""
    p = run_tool("xa-check", guest32["target"], "--json", check=False)
    assert p.returncode == 3, p.stderr
    rows = [r for r in json_lines(p.stdout) if "complete" in r]
    assert [r["check"] for r in rows] == ["processes", "modules", "syscalls", "idt", "ftrace",
                                          "kprobes", "bpf", "user", "ops"]
    # found by shape (test_i386_check.py) or from views found in memory
    # (test_i386_check_views.py)
    judged = {"syscalls", "idt", "processes", "modules", "user", "ftrace"}
    assert all(r["complete"] is (r["check"] in judged) for r in rows), rows
    # ops judges its tables by shape (test_i386_check.py) and refuses only
    # for the terminals; the others refuse as a whole
    errors = {r["check"]: r["error"] for r in rows if not r["complete"]}
    assert errors["ops"].startswith("ops: tables judged; terminals not"), errors
    assert all("kallsyms lists no data symbols" in errors[k]
               for k in ("kprobes", "bpf")), errors
