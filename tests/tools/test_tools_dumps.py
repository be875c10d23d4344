"""The xa-* tools on real guest dumps, checked against what the guest itself said."""
import os

import pytest

from xatest import dump_set, json_lines, run_tool

KINDS = [("l4", "raw.img"), ("l4", "core.elf"), ("l5", "raw.img"), ("l5", "core.elf")]


def target(dumps, kind, fname):
    d = dump_set(dumps, kind)
    return "file:" + os.path.join(d["dir"], fname), d["truth"]


@pytest.mark.parametrize("kind,fname", KINDS)
def test_ps_matches_guest(dumps, kind, fname):
    tgt, truth = target(dumps, kind, fname)
    got = {p["pid"]: p for p in json_lines(run_tool("xa-ps", tgt, "--json").stdout)}
    want = {p["pid"]: p for p in truth["procs"]}
    assert len(want) > 300
    # every process, and none but those of the guest's lists just before
    # and just after the pause (harness.dump: a kworker may come or go)
    after = {p["pid"]: p for p in truth.get("procs_after", truth["procs"])}
    both = set(want) & set(after)
    assert len(set(want) ^ set(after)) <= 4, "the lists before and after the pause differ a lot"
    assert both <= set(got) - {0} <= set(want) | set(after), "pid sets differ"
    want = {pid: want.get(pid) or after[pid] for pid in set(got) - {0}}
    for pid, w in want.items():
        g = got[pid]
        assert g["ppid"] == w["ppid"], pid
        assert g["comm"] == w["kcomm"], pid
        assert g["uid"] == w["uid"], pid
        assert g["gid"] == w["gid"], pid
        assert int(g["dtb"], 16) > 0
    # The workload sets varied uids; make sure they really came out varied.
    assert len({p["uid"] for p in got.values()}) >= 5
    # Processes with an mm have their own page tables; kernel threads share the kernel's.
    user = [g for g in got.values() if not g["kthread"]]
    assert len({g["dtb"] for g in user}) == len(user)


@pytest.mark.parametrize("kind,fname", KINDS)
def test_info(dumps, kind, fname):
    tgt, truth = target(dumps, kind, fname)
    info = json_lines(run_tool("xa-info", tgt, "--json").stdout)[0]
    assert info["version"] == truth["version"].strip()
    assert info["release"] == truth["kernel_release"]
    assert info["paging"] == ("IA-32e 5-level (LA57)" if kind == "l5" else "IA-32e 4-level")
    assert int(info["kaslr_slide"], 16) == int(truth["kaslr"]["slide"], 16)
    assert int(info["text"], 16) == int(truth["kaslr"]["_text"], 16)
    assert info["symbols"] > 50000 and info["btf_types"] > 50000


@pytest.mark.parametrize("kind,fname", KINDS[:3])
def test_symbols_both_ways(dumps, kind, fname):
    tgt, truth = target(dumps, kind, fname)
    # Well-known (unique) names: name -> address, in one xa-sym run each.
    for name, addr in truth["symbols"].items():
        out = json_lines(run_tool("xa-sym", tgt, name, "--json", check=False).stdout)
        if name in ("swapper_pg_dir", "kallsyms_num_syms"):
            continue  # not in the guest's /proc/kallsyms either
        assert out and int(out[0]["address"], 16) == int(addr, 16), name
    # A sample of /proc/kallsyms: address -> a symbol starting exactly there,
    # every one one of the names the guest gives that address (aliases).
    # (Each xa-sym run opens the dump again: a spread-out sample of 16 is enough.)
    aliases = truth["kallsyms_aliases"]
    core = [s for s in truth["kallsyms"] if "module" not in s and s["type"] not in "aA"]
    sample = core[::max(1, len(core) // 16)]
    assert len(sample) >= 16
    for s in sample:
        back = json_lines(run_tool("xa-sym", tgt, s["addr"], "--json").stdout)[0]
        assert back["offset"] == 0 and back["symbol"] in aliases[s["addr"]], \
            (s, back, aliases.get(s["addr"]))


@pytest.mark.parametrize("kind,fname", KINDS)
def test_user_memory_markers(dumps, kind, fname):
    tgt, truth = target(dumps, kind, fname)
    for m in truth["markers"]:
        n = len(m["str"])
        p = run_tool("xa-read", tgt, "--va", m["va"], "--pid", m["pid"], "--len", n, "--raw")
        assert p.stdout == m["str"], m["kind"]


@pytest.mark.parametrize("kind,fname", KINDS[:2])
def test_modules(dumps, kind, fname):
    tgt, truth = target(dumps, kind, fname)
    got = {m["name"]: m for m in json_lines(run_tool("xa-modules", tgt, "--json").stdout)}
    want = {m["name"]: m for m in truth["modules"]}
    assert set(got) == set(want)
    for name, w in want.items():
        assert got[name]["refcount"] == w["refcount"], name
        assert int(got[name]["base"], 16) == int(w["addr"], 16), name


@pytest.mark.parametrize("kind,fname", KINDS[:2])
def test_maps(dumps, kind, fname):
    tgt, truth = target(dumps, kind, fname)
    pid = truth["maps"]["pid"]
    got = json_lines(run_tool("xa-maps", tgt, "--pid", pid, "--json").stdout)
    want = truth["maps"]["regions"]
    assert [(int(g["start"], 16), int(g["end"], 16), g["perms"]) for g in got] == \
           [(int(w["start"], 16), int(w["end"], 16), w["perms"]) for w in want]
    for g, w in zip(got, want):
        assert g["path"] == w["path"], (g, w)


def test_read_kernel_banner_by_symbol(dumps):
    tgt, truth = target(dumps, "l4", "core.elf")
    p = run_tool("xa-read", tgt, "--sym", "linux_banner", "--len", 64, "--raw")
    assert truth["version"].startswith(p.stdout.split("\0")[0][:60])


# ---- bad input: one clear line, non-zero exit ----

def one_line_error(p):
    assert p.returncode != 0
    assert p.stdout == ""
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    return lines[0]


def test_missing_file():
    msg = one_line_error(run_tool("xa-ps", "file:/nonexistent/guest.img", check=False))
    assert "/nonexistent/guest.img" in msg


def test_not_a_dump(tmp_path):
    f = tmp_path / "disk.qcow2"
    f.write_bytes(b"QFI\xfb" + b"\0" * 8192)
    msg = one_line_error(run_tool("xa-ps", f"file:{f}", check=False))
    assert "qcow2" in msg


def test_not_linux(tmp_path):
    f = tmp_path / "zeros.img"
    with open(f, "wb") as fh:
        fh.truncate(64 << 20)
    msg = one_line_error(run_tool("xa-ps", f"file:{f}", check=False))
    assert "no Linux kernel found in guest memory" in msg, msg


def test_unknown_pid(dumps):
    tgt, _ = target(dumps, "l4", "raw.img")
    msg = one_line_error(run_tool("xa-read", tgt, "--va", "0x400000", "--pid", 99999, "--len", 8,
                                  check=False))
    assert "99999" in msg
    msg = one_line_error(run_tool("xa-maps", tgt, "--pid", 99999, check=False))
    assert "99999" in msg


def test_unknown_symbol(dumps):
    tgt, _ = target(dumps, "l4", "raw.img")
    msg = one_line_error(run_tool("xa-sym", tgt, "no_such_symbol_xyz", check=False))
    assert "no_such_symbol_xyz" in msg


def test_bad_target_kind():
    msg = one_line_error(run_tool("xa-ps", "floppy:/dev/fd0", check=False))
    assert "floppy" in msg
