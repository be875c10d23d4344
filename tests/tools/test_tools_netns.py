"""xa-net on real guest dumps (4- and 5-level) with a second network
namespace (workload.c netns_run: a TCP listener on the port the first
namespace uses too, a connection to it and a UNIX listener): every
namespace's sockets are listed, each with its namespace's inode number,
and each namespace's equal what /proc/PID/net showed inside it (truth.sh
xa_truth_netns)."""
import os

import pytest

from net_truth import inet_sockets, observed, sections, unix_sockets
from views_compare import check_sockets, netns_view
from xatest import dump_set, json_lines, require, run_tool

KINDS = [("l4", "raw.img"), ("l5", "core.elf")]


def truth(dumps, kind):
    d = dump_set(dumps, kind)
    with open(os.path.join(d["dir"], "truth.txt"), errors="surrogateescape") as f:
        sec = sections(f.read())
    require("netns_tcp" in sec, f"the {kind} dump set predates the netns truth (remake it)")
    return d, sec


@pytest.mark.parametrize("kind,fname", KINDS)
def test_sockets_of_every_namespace(dumps, kind, fname):
    d, sec = truth(dumps, kind)
    init, others = netns_view(sec)
    (pid, second), = others.items()
    assert init and second and init != second
    rows = json_lines(run_tool("xa-net", "file:" + os.path.join(d["dir"], fname), "--json").stdout)
    assert {r["netns"] for r in rows} == {init, second}
    # the first namespace: exactly its /proc/net
    check_sockets(sec, rows)
    # the second: exactly what /proc/PID/net showed, all held by that process
    mine = observed([r for r in rows if r["netns"] == second])
    assert mine["tcp"] == sorted(inet_sockets(sec["netns_tcp"], "tcp"))
    assert mine["unix"] == sorted(unix_sockets(sec["netns_unix"]))
    assert len(mine["tcp"]) == 3 and len(mine["unix"]) == 1
    assert not any(v for p, v in mine.items() if p not in ("tcp", "unix"))
    assert all(r["pids"] == [pid] for r in rows if r["netns"] == second)
    # one port, two listeners: one in each namespace
    listeners = [r["netns"] for r in rows if r["proto"] == "tcp" and r["state"] == "LISTEN"
                 and r["local"] == "127.0.0.1:7001"]
    assert sorted(listeners) == sorted([init, second])


def test_netns_column(dumps):
    d, sec = truth(dumps, "l4")
    init, others = netns_view(sec)
    table = run_tool("xa-net", "file:" + os.path.join(d["dir"], "raw.img")).stdout.splitlines()
    assert table[0].split()[:6] == ["PROTO", "STATE", "RECV-Q", "SEND-Q", "INODE", "NETNS"]
    assert {int(line.split()[5]) for line in table[1:]} == {init, *others.values()}
