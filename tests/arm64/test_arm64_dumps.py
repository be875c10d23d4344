"""AArch64 guests (issue 18): the xa-* tools on the arm64 dumps made by
tests/guest/arm64.py, checked against what the guest itself said. Zero
configuration: no option tells the tools the architecture, the RAM base of
the raw image or where the kernel is."""
import json
import os

import pytest

from xatest import DUMPS, json_lines, require, run_tool

FILES = ["raw.img", "core.elf"]


@pytest.fixture(scope="module")
def arm64():
    d = os.path.join(DUMPS, "arm64")
    require(os.path.exists(os.path.join(d, "truth.json")),
            f"no arm64 dump set in {DUMPS} (make it: python3 tests/guest/arm64.py make-dumps "
            f"--out {DUMPS}/arm64)")
    with open(os.path.join(d, "truth.json")) as f:
        return d, json.load(f)


def tgt(arm64, fname):
    return "file:" + os.path.join(arm64[0], fname)


@pytest.mark.parametrize("fname", FILES)
def test_info(arm64, fname):
    truth = arm64[1]
    info = json_lines(run_tool("xa-info", tgt(arm64, fname), "--json").stdout)[0]
    assert info["version"] == truth["version"].strip()
    assert info["release"] == truth["kernel_release"]
    assert info["paging"] == "AArch64 4 KiB granule"
    # RAM where the guest has it (virt: 1 GiB up), for the raw image too.
    assert [int(r["start"], 16) for r in info["ranges"]] == [int(truth["ram_base"], 16)]
    # kimage_voffset two ways: ours (_text VA - its PA) and the guest's
    # (_stext from /proc/kallsyms - "Kernel code" in /proc/iomem).
    stext = int(truth["symbols"]["_stext"], 16)
    code_pa = int(truth["phys"]["Kernel code"][0][0], 16)
    assert int(info["text"], 16) - int(info["phys_base"], 16) == stext - code_pa
    assert info["symbols"] > 40000 and info["btf_types"] > 50000


@pytest.mark.parametrize("fname", FILES)
def test_ps_matches_guest(arm64, fname):
    truth = arm64[1]
    got = {p["pid"]: p for p in json_lines(run_tool("xa-ps", tgt(arm64, fname), "--json").stdout)}
    want = {p["pid"]: p for p in truth["procs"]}
    assert len(want) > 100
    assert set(got) - {0} == set(want), "pid sets differ"
    for pid, w in want.items():
        g = got[pid]
        assert (g["ppid"], g["comm"], g["uid"], g["gid"]) == \
            (w["ppid"], w["kcomm"], w["uid"], w["gid"]), pid
    user = [g for g in got.values() if not g["kthread"]]
    assert len({g["dtb"] for g in user}) == len(user), "each process has its own TTBR0 table"


@pytest.mark.parametrize("fname", FILES)
def test_kallsyms_sample(arm64, fname):
    truth = arm64[1]
    aliases = truth["kallsyms_aliases"]
    core = [s for s in truth["kallsyms"] if "module" not in s and s["type"] not in "aA"]
    sample = core[::max(1, len(core) // 12)]
    assert len(sample) >= 12
    for s in sample:
        back = json_lines(run_tool("xa-sym", tgt(arm64, fname), s["addr"], "--json").stdout)[0]
        assert back["offset"] == 0 and back["symbol"] in aliases[s["addr"]], s
    out = json_lines(run_tool("xa-sym", tgt(arm64, fname), "_stext", "--json").stdout)[0]
    assert int(out["address"], 16) == int(truth["symbols"]["_stext"], 16)


@pytest.mark.parametrize("fname", FILES)
def test_modules(arm64, fname):
    truth = arm64[1]
    got = {m["name"]: m for m in json_lines(run_tool("xa-modules", tgt(arm64, fname),
                                                     "--json").stdout)}
    want = {m["name"]: m for m in truth["modules"]}
    assert want and set(got) == set(want)
    for name, w in want.items():
        assert got[name]["refcount"] == w["refcount"], name
        assert int(got[name]["base"], 16) == int(w["addr"], 16), name


@pytest.mark.parametrize("fname", FILES)
def test_user_memory_markers(arm64, fname):
    truth = arm64[1]
    assert {m["kind"] for m in truth["markers"]} >= {"heap", "stack", "mmap"}
    for m in truth["markers"]:
        p = run_tool("xa-read", tgt(arm64, fname), "--va", m["va"], "--pid", m["pid"],
                     "--len", len(m["str"]), "--raw")
        assert p.stdout == m["str"], m["kind"]


def test_maps(arm64):
    truth = arm64[1]
    got = json_lines(run_tool("xa-maps", tgt(arm64, "core.elf"), "--pid", truth["maps"]["pid"],
                              "--json").stdout)
    want = truth["maps"]["regions"]
    assert [(int(g["start"], 16), int(g["end"], 16), g["perms"], g["path"]) for g in got] == \
           [(int(w["start"], 16), int(w["end"], 16), w["perms"], w["path"]) for w in want]


def test_banner_by_symbol(arm64):
    p = run_tool("xa-read", tgt(arm64, "raw.img"), "--sym", "linux_banner", "--len", 64, "--raw")
    assert arm64[1]["version"].startswith(p.stdout.split("\0")[0][:60])


def test_check_never_clean_unseen(arm64):
    """Debian's arm64 kallsyms lists no data symbols; discovery adds init_task
    (found by its shape), which the checks took for a sign that data symbols
    were there: kprobes, bpf, ops and ftrace then found none of their tables
    and said "clean" without having looked. Each must stop early saying why,
    and idt (x86's table) must say there is none to check."""
    p = run_tool("xa-check", tgt(arm64, "core.elf"), "--json", check=False)
    assert p.returncode == 3, p.stderr
    rows = {r["check"]: r for r in json_lines(p.stdout) if "complete" in r}
    for name in ("ftrace", "kprobes", "bpf", "ops"):
        assert rows[name]["complete"] is False, rows[name]
        assert "kallsyms lists no data symbols" in rows[name]["error"], rows[name]
    assert rows["idt"]["complete"] is False and "AArch64" in rows["idt"]["error"], rows["idt"]
    # one line per check that stopped, nothing else
    assert len(p.stderr.strip().splitlines()) == sum(not r["complete"] for r in rows.values())
