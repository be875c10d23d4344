"""AArch64 guests (issue 18), live: qemu-system-aarch64 with its RAM in a
shared file and a QMP socket; the xa-* tools on the qemu: target, checked
against the guest's own ps, /proc/kallsyms, /proc/modules and the workload's
heap marker. One guest for the module (about 40 s to boot under TCG)."""
import os
import shutil
import sys

import pytest

from xatest import json_lines, require, run_tool

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "guest"))


@pytest.fixture(scope="module")
def guest():
    require(shutil.which("qemu-system-aarch64"),
            "qemu-system-aarch64 not installed (tests/guest/deps-arm64.sh)")
    from arm64 import Arm64Guest
    g = Arm64Guest("live-arm64", nproc=20, mem_mb=512)
    try:
        yield g, "qemu:" + g.monitor_path
    finally:
        g.shutdown()


def test_info_live(guest):
    g, tgt = guest
    info = json_lines(run_tool("xa-info", tgt, "--json").stdout)[0]
    assert info["live"] and info["paging"] == "AArch64 4 KiB granule"
    assert info["release"] == g.truth["kernel_release"]
    stext = int(g.truth["symbols"]["_stext"], 16)
    code_pa = int(g.truth["phys"]["Kernel code"][0][0], 16)
    assert int(info["text"], 16) - int(info["phys_base"], 16) == stext - code_pa


def test_ps_live(guest):
    g, tgt = guest
    # Processes that live through both lists (the commands the guest runs to
    # answer come and go): the workload's are there all along.
    before = {p["pid"]: p for p in g.refresh_procs()}
    got = {p["pid"]: p for p in json_lines(run_tool("xa-ps", tgt, "--json").stdout)}
    after = {p["pid"] for p in g.refresh_procs()}
    stable = set(before) & after
    assert len(stable) > 50
    assert stable <= set(got), sorted(stable - set(got))
    for pid in stable:
        w, p = before[pid], got[pid]
        assert (p["ppid"], p["comm"], p["uid"]) == (w["ppid"], w["kcomm"], w["uid"]), pid


def test_kallsyms_and_modules_live(guest):
    g, tgt = guest
    core = [s for s in g.truth["kallsyms"] if "module" not in s and s["type"] in "tT"]
    for s in core[::max(1, len(core) // 8)]:
        back = json_lines(run_tool("xa-sym", tgt, s["addr"], "--json").stdout)[0]
        assert back["offset"] == 0, s
    got = {m["name"]: int(m["base"], 16)
           for m in json_lines(run_tool("xa-modules", tgt, "--json").stdout)}
    want = {m["name"]: int(m["addr"], 16) for m in g.truth["modules"]}
    assert want and got == want


def test_heap_marker_live(guest):
    g, tgt = guest
    heap = [m for m in g.truth["markers"] if m["kind"] == "heap"]
    assert heap
    for m in heap:
        p = run_tool("xa-read", tgt, "--va", m["va"], "--pid", m["pid"], "--len", len(m["str"]),
                     "--raw")
        assert p.stdout == m["str"]
