"""xa-net on real guest dumps (4- and 5-level) with a second network
namespace (workload.c netns_run: a TCP listener on the port the first
namespace uses too, a connection to it and a UNIX listener): every
namespace's sockets are listed, each with its namespace's inode number,
and each namespace's equal what /proc/PID/net showed inside it (truth.sh
xa_truth_netns). A third namespace (workload.c netns_ehash_run) was made
with net.ipv4.tcp_child_ehash_entries set (6.1+; udp_child_hash_entries
6.2+): its TCP (and UDP) sockets live in hash tables of its own
(truth.sh xa_truth_netns_ehash)."""
import os
import re

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
    third = ehash_view(sec)[1]
    assert {r["netns"] for r in rows} == {init, second, third}
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


def ehash_view(sec):
    """(pid, namespace inode, {"tcp": 0|1, "udp": 0|1, "ehash_entries": text})
    of the truth's netns_ehash section."""
    require("netns_ehash" in sec, "the dump set predates the netns_ehash truth (remake it)")
    m = re.search(r"^pid (\d+) net:\[(\d+)\]$", sec["netns_ehash"], re.M)
    f = re.search(r"^sysctl tcp=([01]) udp=([01]) ehash_entries=(\S+)$", sec["netns_ehash"], re.M)
    assert m and f, "the guest's netns-ehash workload did not start: %r" % sec["netns_ehash"]
    return int(m.group(1)), int(m.group(2)), {"tcp": int(f.group(1)), "udp": int(f.group(2)),
                                              "ehash_entries": f.group(3)}


@pytest.mark.parametrize("kind,fname", KINDS)
def test_namespace_with_hash_tables_of_its_own(dumps, kind, fname):
    """The namespace whose TCP established hash (and, 6.2+, UDP table) is its
    own: xa-net lists exactly what /proc/PID/net/{tcp,tcp6,udp,udp6} showed in
    it, each inet socket found in a kernel table (not only through the fds:
    the server end of the unaccepted connection is in the namespace's hash
    alone)."""
    d, sec = truth(dumps, kind)
    pid, ns, made = ehash_view(sec)
    release = tuple(int(x) for x in re.findall(r"\d+", sec["uname"])[:2])
    if release >= (6, 1):
        # the kernel has the sysctl, and the namespace got a table of its own
        assert made["tcp"] == 1 and int(made["ehash_entries"]) > 0, made
    if release >= (6, 2):
        assert made["udp"] == 1, made
    rows = json_lines(run_tool("xa-net", "file:" + os.path.join(d["dir"], fname), "--json").stdout)
    mine = [r for r in rows if r["netns"] == ns]
    got = observed(mine)
    for proto in ("tcp", "tcp6", "udp", "udp6"):
        want = sorted(inet_sockets(sec["netns_ehash_" + proto], proto))
        assert got[proto] == want, proto
    assert len(got["tcp"]) == 6 and len(got["tcp6"]) == 3, got
    assert len(got["udp"]) == 2 and len(got["udp6"]) == 2, got
    assert not any(v for p, v in got.items() if p not in ("tcp", "tcp6", "udp", "udp6"))
    # only the namespace's own hash holds the unaccepted server end
    alone = [r for r in mine if r["proto"] == "tcp" and r["inode"] == 0]
    assert len(alone) == 1 and alone[0]["pids"] == [] and alone[0]["local"] == "127.0.0.1:7012"
    assert all(r["in_table"] for r in mine), [r for r in mine if not r["in_table"]]
    assert all(r["pids"] == [pid] for r in mine if r["inode"])


def test_netns_column(dumps):
    d, sec = truth(dumps, "l4")
    init, others = netns_view(sec)
    table = run_tool("xa-net", "file:" + os.path.join(d["dir"], "raw.img")).stdout.splitlines()
    assert table[0].split()[:6] == ["PROTO", "STATE", "RECV-Q", "SEND-Q", "INODE", "NETNS"]
    assert {int(line.split()[5]) for line in table[1:]} == {init, *others.values(),
                                                             ehash_view(sec)[1]}
