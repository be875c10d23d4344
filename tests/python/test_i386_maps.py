"""Memory maps of 32-bit x86 guests (issue 18) with no configuration:
Debian's 686 and 686-pae kernels have no BTF, so where mm_struct keeps its
maple tree and where vm_area_struct, struct file, dentry and mount keep
what /proc/PID/maps shows are inferred from the guest's memory
(os/linux/vma32.c). Compared with the guest's own /proc/PID/maps, the exe
links it showed and the markers its workload printed; then copies of the
dump whose tree or VMAs lie."""
import json
import os
import time

import pytest

import xa_py  # noqa: F401  (sets sys.path for the package)
import xenaccess
from test_i386 import guest32, start_sleep  # noqa: F401  (dump sets)
from test_i386_procs import patched_copy
from xatest import DUMPS, json_lines, require, run_tool

pytest_plugins = ["xa_py"]

PAGE_OFFSET = 0xC0000000
MAPLE_RANGE_64 = 2  # enode type bits 3..6 (include/linux/maple_tree.h)


def want_regions(truth):
    return [(int(w["start"], 16), int(w["end"], 16), w["perms"], int(w["offset"], 16), w["path"])
            for w in truth["maps"]["regions"]]


def test_maps_match_guest(guest32):
    """The API and xa-maps give the guest's /proc/PID/maps: every region,
    its permissions, file offset and path."""
    t = guest32["truth"]
    pid = t["maps"]["pid"]
    want = want_regions(t)
    assert len(want) >= 10 and any(w[4].startswith("/") for w in want)
    with xenaccess.open(guest32["target"]) as vm:
        got = [(m.start, m.end, m.perms, m.pgoff * 4096, m.path) for m in vm.maps(pid)]
    assert got == want
    p = run_tool("xa-maps", guest32["target"], "--pid", pid, "--json")
    rows = json_lines(p.stdout)
    assert [(int(r["start"], 16), int(r["end"], 16), r["perms"], r["offset"], r["path"])
            for r in rows] == want
    assert p.stderr == ""


def test_maps_of_every_process(guest32):
    """Every user process's map walks to its end, in order, below
    PAGE_OFFSET, with one stack, the vDSO and its vvar; its first region is
    the executable the guest's /proc/PID/exe names."""
    t = guest32["truth"]
    exes = {int(pid): v["exe"] for pid, v in t["procview"]["procs"].items() if v.get("exe")}
    with xenaccess.open(guest32["target"]) as vm:
        user = [p for p in vm.processes() if not p.kthread]
        assert len(user) > 300
        for p in user:
            maps = list(vm.maps(p.pid))
            assert all(a.end <= b.start for a, b in zip(maps, maps[1:])), p.pid
            assert all(0 < m.start < m.end <= PAGE_OFFSET for m in maps), p.pid
            names = [m.path for m in maps]
            assert names.count("[stack]") == 1 and "[vdso]" in names and "[vvar]" in names, \
                (p.pid, names)
        assert len(exes) >= 3
        for pid, exe in exes.items():
            assert next(vm.maps(pid)).path == exe, pid


def test_markers_lie_in_their_regions(guest32):
    """The workload's heap, mmap and stack markers, read by pid, lie in the
    [heap], an anonymous writable mapping and the [stack] that the map
    shows for that process."""
    t = guest32["truth"]
    kind_path = {"heap": "[heap]", "mmap": "", "stack": "[stack]"}
    with xenaccess.open(guest32["target"]) as vm:
        for m in t["markers"]:
            va, want = int(m["va"], 16), m["str"].encode()
            [region] = [r for r in vm.maps(m["pid"]) if r.start <= va < r.end]
            assert region.path == kind_path[m["kind"]] and region.perms.startswith("rw"), m
            assert va + len(want) <= region.end
            assert vm.read(va, len(want), pid=m["pid"]) == want


def workload(vm, truth):
    """The workload process, its VMAs (from the library's walk) and the
    offsets a test needs, found here from memory independently of the
    inference: the mm word holding the tree's root node, whose slots hold
    the VMAs, and the VMA word naming the mm."""
    pid = truth["maps"]["pid"]
    proc = vm.process(pid)
    maps = list(vm.maps(pid))
    vmas = {m.vma for m in maps}
    for off in range(0, 64, 4):
        root = vm.read_u32(proc.mm + off)
        node = root & ~0xFF
        if root & 3 == 2 and node >= PAGE_OFFSET and \
                vmas <= {vm.read_u32(node + 128 + 4 * i) for i in range(32)}:
            break
    else:
        raise AssertionError("no mm word leads to a leaf holding the VMAs")
    vm_mm = next(o for o in range(0, 32, 4) if all(vm.read_u32(v + o) == proc.mm for v in vmas))
    return pid, proc, maps, off, vm_mm


@pytest.fixture
def i386_raw():
    d = os.path.join(DUMPS, "i386")
    require(os.path.exists(os.path.join(d, "truth.json")), f"no i386 dump set in {DUMPS}")
    with open(os.path.join(d, "truth.json")) as f:
        truth = json.load(f)
    with xenaccess.open("file:" + os.path.join(d, "raw.img")) as vm:
        yield vm, truth


def test_maple_node_pointing_at_itself(tmp_path, i386_raw):
    """The workload's root node made internal with its first slot pointing
    at itself: the walk stops at the node met twice before any region, so
    one line, exit 1 (nothing to call partial), no hang; the other
    processes' maps are unaffected."""
    vm, truth = i386_raw
    pid, proc, maps, root_off, _ = workload(vm, truth)
    root = vm.read_u32(proc.mm + root_off)
    node = root & ~0xFF
    internal = (root & ~0x78) | MAPLE_RANGE_64 << 3
    patches = [(vm.translate(proc.mm + root_off), internal.to_bytes(4, "little")),
               (vm.translate(node + 128), internal.to_bytes(4, "little"))]
    target = patched_copy(tmp_path, patches)
    p = run_tool("xa-maps", target, "--pid", pid, check=False, timeout=60)
    assert p.returncode == 1 and p.stdout == "", p.stdout
    assert "reached twice" in p.stderr and p.stderr.count("\n") == 1, p.stderr
    p = run_tool("xa-maps", target, "--pid", 1)
    assert "[stack]" in p.stdout


def test_vma_of_another_mm(tmp_path, i386_raw):
    """The workload's heap VMA claims another mm_struct: the regions before
    it are listed, then one line saying which VMA is not the process's,
    exit 3."""
    vm, truth = i386_raw
    pid, proc, maps, _, vm_mm = workload(vm, truth)
    heap = next(i for i, m in enumerate(maps) if m.path == "[heap]")
    other = next(p.mm for p in vm.processes() if p.mm and p.mm != proc.mm)
    target = patched_copy(tmp_path, [(vm.translate(maps[heap].vma + vm_mm),
                                      other.to_bytes(4, "little"))])
    p = run_tool("xa-maps", target, "--pid", pid, "--json", check=False)
    assert p.returncode == 3
    *rows, last = json_lines(p.stdout)
    assert [int(r["start"], 16) for r in rows] == [m.start for m in maps[:heap]]
    assert last["partial"] is True and "is not pid %d's" % pid in last["error"], last
    assert p.stderr.count("\n") == 1 and "is not pid %d's" % pid in p.stderr, p.stderr


def proc_maps(text):
    """/proc/PID/maps lines as (start, end, perms, offset, path)."""
    out = []
    for line in text.splitlines():
        f = line.split(None, 5)
        if len(f) >= 5:
            start, end = (int(x, 16) for x in f[0].split("-"))
            out.append((start, end, f[1], int(f[2], 16), f[5] if len(f) > 5 else ""))
    return out


def check_live_pae_maps(live32):
    """The memory map of a process of the running guest, with no
    configuration: the guest's own /proc/PID/maps, region by region (run by
    test_i386.py test_live_pae_maps, on its guest)."""
    g, target = live32["guest"], live32["target"]
    pid = start_sleep(g)
    want = proc_maps(g.run("cat /proc/%d/maps" % pid))
    assert len(want) >= 5 and any(w[4].startswith("/") for w in want)
    rows = json_lines(run_tool("xa-maps", target, "--pid", pid, "--json").stdout)
    assert [(int(r["start"], 16), int(r["end"], 16), r["perms"], r["offset"], r["path"])
            for r in rows] == want
    g.run("kill %d" % pid)
