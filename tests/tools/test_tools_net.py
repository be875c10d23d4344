"""xa-net and xa-dmesg on real guest dumps (4- and 5-level, raw and ELF),
checked against the guest's own /proc/net/*, socket fds and /dev/kmsg
(truth.sh xa_truth_net)."""
import os

import pytest

from net_truth import expected, kmsg_records, sections
from views_compare import check_kmsg, check_sockets, netns_view
from xatest import dump_set, json_lines, require, run_tool

KINDS = [("l4", "raw.img"), ("l4", "core.elf"), ("l5", "raw.img"), ("l5", "core.elf")]


def target(dumps, kind, fname):
    d = dump_set(dumps, kind)
    with open(os.path.join(d["dir"], "truth.txt"), errors="surrogateescape") as f:
        sec = sections(f.read())
    require("net_tcp" in sec, f"the {kind} dump set predates the net truth (remake it)")
    return "file:" + os.path.join(d["dir"], fname), sec


@pytest.mark.parametrize("kind,fname", KINDS)
def test_net_matches_proc(dumps, kind, fname):
    tgt, sec = target(dumps, kind, fname)
    rows = json_lines(run_tool("xa-net", tgt, "--json").stdout)
    check_sockets(sec, rows)
    # the workload's kinds are all there: a test that cannot be empty
    want = expected(sec)
    assert all(len(want[p]) >= 1 for p in ("tcp", "tcp6", "udp", "udp6", "raw", "unix", "packet"))
    assert all(r["in_table"] is True for r in rows)  # every one is in a kernel table too
    # the server end of the unaccepted connection: only the kernel holds it
    # (the first namespace's; test_tools_netns.py checks the others')
    init, _ = netns_view(sec)
    orphans = [r for r in rows if r["proto"] == "tcp" and r["state"] == "ESTABLISHED"
               and r["inode"] == 0 and (init is None or r["netns"] == init)]
    assert len(orphans) == 1 and orphans[0]["pids"] == [] and orphans[0]["local"].endswith(":7002")
    # sockets shared by the workload and its child list both
    assert max(len(r["pids"]) for r in rows) >= 2


@pytest.mark.parametrize("kind,fname", KINDS)
def test_dmesg_matches_kmsg(dumps, kind, fname):
    tgt, sec = target(dumps, kind, fname)
    want = kmsg_records(sec["kmsg"])
    rows = json_lines(run_tool("xa-dmesg", tgt, "--json").stdout)
    got = {r["seq"]: r for r in rows}
    assert [r["seq"] for r in rows] == sorted(got), "records out of order"
    check_kmsg(want, rows)
    # no gap: what the ring kept since the boot, each record once
    first = min(got)
    assert rows[0].get("dropped", 0) == first
    assert all("dropped" not in r for r in rows[1:])
    assert sorted(got) == list(range(first, first + len(got)))
    # the user-space line: facility user, level notice, its tab escaped in text output
    mine = [r for r in rows if "xa-init: a line from user space" in r["text"]]
    assert len(mine) == 1 and (mine[0]["facility"], mine[0]["level"]) == (1, 5)
    assert "\t" in mine[0]["text"]
    text = run_tool("xa-dmesg", tgt).stdout
    assert "a line from user space, escaped: tab\\011end" in text and "\t" not in text


def test_dmesg_follow_on_a_dump_is_refused(dumps):
    tgt, _ = target(dumps, "l4", "raw.img")
    p = run_tool("xa-dmesg", tgt, "--follow", check=False)
    assert p.returncode == 2 and p.stdout == ""
    assert len(p.stderr.strip().splitlines()) == 1 and "--follow" in p.stderr
