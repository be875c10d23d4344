"""xa-ps --pid, --threads, --tree and its cmdline/start_time keys on real guest
dumps, checked against the guest's /proc (the truth's "procview" section)."""
import datetime
import os

import pytest

from xatest import dump_set, json_lines, run_tool

KINDS = [("l4", "raw.img"), ("l5", "core.elf")]


def target(dumps, kind, fname):
    d = dump_set(dumps, kind)
    return "file:" + os.path.join(d["dir"], fname), d["truth"]


def as_ps_cmdline(hexbytes):
    raw = bytes.fromhex(hexbytes).rstrip(b"\0").replace(b"\0", b" ")
    return raw.decode("utf-8", "replace"), raw


@pytest.mark.parametrize("kind,fname", KINDS)
def test_ps_pid_cmdline_start(dumps, kind, fname):
    tgt, truth = target(dumps, kind, fname)
    pv = truth["procview"]
    for key, w in pv["procs"].items():
        got = json_lines(run_tool("xa-ps", tgt, "--json", "--pid", key).stdout)
        assert len(got) == 1 and got[0]["pid"] == int(key)
        text, raw = as_ps_cmdline(w["cmdline"])
        assert got[0]["cmdline"] == text, key
        if "cmdline_hex" in got[0]:  # not UTF-8: the raw bytes come in hex
            assert bytes.fromhex(got[0]["cmdline_hex"]) == raw
        else:
            raw.decode("utf-8")
        assert got[0]["start_boot_ns"] // 10**7 == w["start_ticks"], key
        wall = datetime.datetime.fromisoformat(got[0]["start_time"][:26] + "+00:00")
        want = pv["btime"] + got[0]["start_boot_ns"] / 1e9
        assert abs(wall.timestamp() - want) < 1.0, key
    # the long command line (not UTF-8: it has \xe9) is escaped in text output
    big = max(pv["procs"], key=lambda k: len(pv["procs"][k]["cmdline"]))
    out = run_tool("xa-ps", tgt, "--pid", big).stdout.splitlines()
    assert len(out) == 2
    assert "\\351\\011" in out[1] and "\t" not in out[1]
    assert out[1].endswith("-0123456789abcdefghijklmnopqrstuv")


@pytest.mark.parametrize("kind,fname", KINDS)
def test_ps_threads(dumps, kind, fname):
    tgt, truth = target(dumps, kind, fname)
    for key, w in truth["procview"]["procs"].items():
        got = json_lines(run_tool("xa-ps", tgt, "--json", "--threads", "--pid", key).stdout)
        got.sort(key=lambda t: t["tid"])
        assert [(t["pid"], t["tid"], t["comm"], t["state"]) for t in got] == \
            [(int(key), t["tid"], t["comm"], t["state"]) for t in w["threads"]]
        # init wakes every second, kthreadd whenever a kernel thread is made
        # (a kworker, after the boot's view): either may have moved since
        if key not in ("1", "2"):
            assert [t["cpu"] for t in got] == [t["cpu"] for t in w["threads"]]
    # all threads of all processes: at least one more line than processes
    procs = json_lines(run_tool("xa-ps", tgt, "--json").stdout)
    threads = json_lines(run_tool("xa-ps", tgt, "--json", "--threads").stdout)
    assert {t["pid"] for t in threads} == {p["pid"] for p in procs}
    assert len(threads) > len(procs)


@pytest.mark.parametrize("kind,fname", KINDS)
def test_ps_tree(dumps, kind, fname):
    tgt, truth = target(dumps, kind, fname)
    rows = json_lines(run_tool("xa-ps", tgt, "--json", "--tree").stdout)
    flat = json_lines(run_tool("xa-ps", tgt, "--json").stdout)
    assert sorted(r["pid"] for r in rows) == sorted(p["pid"] for p in flat)
    # each process comes after its parent, one level deeper
    seen = {}
    stack = []
    for r in rows:
        while stack and stack[-1]["depth"] >= r["depth"]:
            stack.pop()
        if r["depth"] == 0:
            assert r["ppid"] not in seen or r["ppid"] == r["pid"]
        else:
            assert stack and stack[-1]["pid"] == r["ppid"], r
        stack.append(r)
        seen[r["pid"]] = r
    want = {p["pid"]: p["ppid"] for p in truth["procs"]}
    assert all(seen[pid]["ppid"] == ppid for pid, ppid in want.items())
    assert max(r["depth"] for r in rows) >= 4  # the workload's tree is deep


def test_ps_option_combinations(dumps):
    tgt, _ = target(dumps, "l4", "raw.img")
    for args in (["--tree", "--threads"], ["--tree", "--pid", "1"], ["--watch", "1", "--pid", "1"]):
        p = run_tool("xa-ps", tgt, *args, check=False)
        assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1, args
    p = run_tool("xa-ps", tgt, "--pid", "4000000", check=False)
    assert p.returncode == 1 and "4000000" in p.stderr
