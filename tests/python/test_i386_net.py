"""Sockets of 32-bit x86 guests (issue 18) with no configuration: Debian's
686 kernels have no BTF and no data symbols (no tcp_hashinfo, udp_table,
init_net), so the socket layout is inferred from the sockets the processes
hold (os/linux/sock32.c) and the TCP established hashes are found from
their sockets. xa-net --json is compared with the guest's own /proc/net of
every namespace (truth.sh), less what cannot be known there: queues (null)
and a packet socket's protocol and ifindex (null). Then copies of the dump
that lie."""
import os
import time

import pytest

import xa_py  # noqa: F401  (sets sys.path for the package)
import xenaccess
from net_truth import expected, inet_sockets, sections, socket_owners, unix_sockets
from test_i386 import guest32  # noqa: F401  (dump sets)
from test_i386_procs import patched_copy
from views_compare import netns_view
from xatest import DUMPS, json_lines, require, run_tool

pytest_plugins = ["xa_py"]

NOTE = "note: 32-bit kernel without BTF: queues unknown"


def truth_sections(d):
    with open(os.path.join(d, "truth.txt"), errors="surrogateescape") as f:
        sec = sections(f.read())
    require("netns_ehash_tcp" in sec, "the dump set in %s predates the net truth (remake it)" % d)
    return sec


def reduced_want(sec, prefix, protos):
    """The truth's sockets without the columns a 32-bit kernel without BTF
    leaves unknown (inet: rx/tx queues; packet: protocol, ifindex, rmem)."""
    want = {}
    for p in protos:
        if p == "unix":
            want[p] = sorted(unix_sockets(sec.get(prefix + "unix", "")))
        elif p == "packet":
            want[p] = sorted(t[0] for t in expected(sec)["packet"])
        else:
            want[p] = sorted(t[:5] for t in inet_sockets(sec.get(prefix + p, ""), p))
    return want


def reduced_got(rows, protos):
    got = {p: [] for p in protos}
    for r in rows:
        p = r["proto"]
        assert r["rx_queue"] is None and r["tx_queue"] is None, r  # never a made-up 0
        if p == "unix":
            got[p].append((r["state"], r["inode"], r["type"], r["local"]))
        elif p == "packet":
            assert r["protocol"] is None and r["ifindex"] is None, r
            got[p].append(r["inode"])
        elif p in got:
            got[p].append((p, r["state"], r["local"], r["remote"], r["inode"]))
        else:
            raise AssertionError("unexpected socket %r" % r)
    return {p: sorted(v) for p, v in got.items()}


ALL = ("tcp", "tcp6", "udp", "udp6", "raw", "raw6", "unix", "packet")


def test_sockets_of_every_namespace(guest32):
    sec = truth_sections(guest32["dir"])
    p = run_tool("xa-net", guest32["target"], "--json")
    assert p.stderr.startswith(NOTE) and len(p.stderr.splitlines()) == 1, p.stderr
    rows = json_lines(p.stdout)
    init, others = netns_view(sec)
    (pid2, second), = others.items()
    third = int(sec["netns_ehash"].split("net:[")[1].split("]")[0])
    assert {r["netns"] for r in rows} == {init, second, third}
    # the first namespace: its /proc/net, each socket with the pids holding it
    mine = [r for r in rows if r["netns"] == init]
    assert reduced_got(mine, ALL) == reduced_want(sec, "net_", ALL)
    owners = socket_owners(sec["net_fds"])
    for r in rows:
        if r["inode"]:
            assert r["pids"] == owners.get(r["inode"], []), r
    # the server end of the unaccepted connection: only the kernel holds it,
    # found in the established hash the fd tables' sockets lead to
    orphans = [r for r in mine if r["proto"] == "tcp" and r["inode"] == 0]
    assert len(orphans) == 1 and orphans[0]["pids"] == [] and orphans[0]["in_table"]
    assert orphans[0]["local"].endswith(":7002")
    # every TCP and UDP socket /proc/net shows is in a table the kernel
    # hashes it in: established ones in an ehash, listeners in lhash2, UDP
    # in udp_table's hash (each found from a socket an fd holds)
    hashed = [r for r in rows if r["proto"] in ("tcp", "tcp6", "udp", "udp6")]
    assert {"LISTEN", "CLOSE"} <= {r["state"] for r in hashed}
    assert all(r["in_table"] for r in hashed), [r for r in hashed if not r["in_table"]]
    # the second namespace (global hash): what /proc/PID/net showed
    two = [r for r in rows if r["netns"] == second]
    assert reduced_got(two, ("tcp", "unix")) == reduced_want(sec, "netns_", ("tcp", "unix"))
    assert all(r["pids"] == [pid2] for r in two)
    # the third: a TCP established hash of its own (tcp_child_ehash_entries)
    three = [r for r in rows if r["netns"] == third]
    protos = ("tcp", "tcp6", "udp", "udp6")
    assert reduced_got(three, protos) == reduced_want(sec, "netns_ehash_", protos)
    assert any(r["inode"] == 0 for r in three)  # its kernel-only end too
    # every kind is there: a test that cannot pass on an empty list
    assert all(reduced_want(sec, "net_", ALL)[k] for k in ALL if k != "raw6")


def test_python_sockets(guest32):
    """The Python binding says the same: unknown queues are None, not 0."""
    rows = json_lines(run_tool("xa-net", guest32["target"], "--json").stdout)
    with xenaccess.open(guest32["target"]) as vm:
        socks = list(vm.sockets())
    assert sorted((s.proto, s.inode, s.sk) for s in socks) == \
        sorted((r["proto"], r["inode"], int(r["sk"], 16)) for r in rows)
    assert all(s.rx_queue is None and s.tx_queue is None for s in socks)
    assert all(s.protocol is None for s in socks if s.proto == "packet")
    assert any(s.protocol == 6 for s in socks)


def test_text_output(guest32):
    p = run_tool("xa-net", guest32["target"])
    lines = p.stdout.splitlines()
    assert lines[0].split()[:4] == ["PROTO", "STATE", "RECV-Q", "SEND-Q"]
    assert any(ln.split()[:4] == ["tcp", "LISTEN", "-", "-"] for ln in lines)
    assert any("proto=?,if=?" in ln for ln in lines)


def node_of(vm, sk):
    """(offset, pprev) of the established socket @sk's hash node, found the
    way the kernel links it (next odd or a pointer, *pprev == the node),
    independently of the library: the candidate whose chain ends in a nulls
    value."""
    found = []
    for off in range(0, 160, 4):
        nxt, pprev = (int.from_bytes(vm.read(sk + off + k, 4), "little") for k in (0, 4))
        if pprev < 0xC0000000 or pprev & 3 or not nxt & 1:
            continue
        if int.from_bytes(vm.read(pprev, 4), "little") == sk + off:
            found.append((off, pprev))
    assert len(found) == 1, found
    return found[0]


def back_links(vm, sk):
    """Offsets in @sk of pointers to another object that points back at @sk
    (sk_socket; a queued skb's sk too)."""
    found = set()
    for off in range(0, 1024, 4):
        v = int.from_bytes(vm.read(sk + off, 4), "little")
        if v < 0xC0000000 or v & 3 or v > 0xFFFFF000 or sk <= v < sk + 1024:
            continue  # not a kernel object apart from the sock
        try:
            back = vm.read(v, 64)
        except xenaccess.XenaccessError:
            continue
        if any(int.from_bytes(back[k:k + 4], "little") == sk for k in range(0, 64, 4)):
            found.add(off)
    return found


def socket_back_link(vm, sks):
    """Offset of sk_socket: the back-link every socket an fd holds has."""
    common = set.intersection(*(back_links(vm, sk) for sk in sks))
    assert len(common) == 1, common
    return common.pop()


@pytest.mark.parametrize("lie", ["chain_loops", "no_back_link"])
def test_hostile_sockets(tmp_path, lie):
    """A hash chain that loops back on itself ends its walk at once: one
    line, exit 3, the sockets found so far. One socket whose struct sock no
    longer points back at its struct socket does not hide the others (the
    layout is what 7/8 of the sockets fit): every other socket is listed as
    before, its fd is left out in one line naming it, exit 3 (partial)."""
    d = os.path.join(DUMPS, "i386")
    require(os.path.exists(os.path.join(d, "truth.json")), f"no i386 dump set in {DUMPS}")
    rows = json_lines(run_tool("xa-net", "file:" + os.path.join(d, "raw.img"), "--json").stdout)
    orphan = next(r for r in rows if r["proto"] == "tcp" and r["inode"] == 0)
    held = next(r for r in rows if r["proto"] == "tcp" and r["state"] == "ESTABLISHED"
                and r["inode"])
    with xenaccess.open("file:" + os.path.join(d, "raw.img")) as vm:
        if lie == "chain_loops":
            sk = int(orphan["sk"], 16)
            off, _ = node_of(vm, sk)
            patches = [(vm.translate(sk + off), (sk + off).to_bytes(4, "little"))]
        else:
            sk = int(held["sk"], 16)
            off = socket_back_link(vm, [int(r["sk"], 16) for r in rows if r.get("inode")])
            patches = [(vm.translate(sk + off), bytes(4))]
    target = patched_copy(tmp_path, patches)
    start = time.monotonic()
    p = run_tool("xa-net", target, "--json", check=False)
    assert time.monotonic() - start < 60
    err = [ln for ln in p.stderr.splitlines() if not ln.startswith(NOTE)]
    assert len(err) == 1, p.stderr
    if lie == "chain_loops":
        assert p.returncode == 3 and "hash chain" in err[0], p.stderr
        got = json_lines(p.stdout)
        assert got and got[-1].get("partial")
        assert len([r for r in got if "proto" in r]) < len(rows)
    else:
        assert p.returncode == 3 and "does not fit the inferred 32-bit socket layout" in err[0], \
            p.stderr
        got = json_lines(p.stdout)
        assert got and got[-1].get("partial")
        socks = {r["sk"]: r for r in got if "proto" in r}
        for r in rows:  # the others as they were, with their owners
            if r["sk"] != held["sk"]:
                assert socks.get(r["sk"]) == r, r
        # still in the established hash, but no process holds it now
        assert held["sk"] not in socks or socks[held["sk"]]["pids"] == []


def test_refusal_is_retried_after_a_flush(tmp_path):
    """A socket layout that refused is not kept: once the guest's memory
    fits again (on a live guest: the sockets came, the damage went), the
    next listing after a flush infers it afresh (docs/live.md: every
    listing on a live target starts with one). Here a writable copy of the
    dump loses every struct sock's back-link, then gets them back."""
    d = os.path.join(DUMPS, "i386")
    require(os.path.exists(os.path.join(d, "truth.json")), f"no i386 dump set in {DUMPS}")
    target = patched_copy(tmp_path, [])
    with xenaccess.open(target) as vm:
        want = sorted((s.proto, s.inode, s.sk, tuple(s.pids)) for s in vm.sockets())
        sks = sorted({s.sk for s in vm.sockets() if s.inode})
        off = socket_back_link(vm, sks)
    with xenaccess.open(target, write=True) as vm:
        saved = [(sk + off, vm.read(sk + off, 4)) for sk in sks]
        for va, _ in saved:
            vm.write(va, bytes(4))
        with pytest.raises(xenaccess.XenaccessError, match="32-bit kernel without BTF"):
            list(vm.sockets())
        for va, old in saved:
            vm.write(va, old)
        vm.flush("os")
        assert sorted((s.proto, s.inode, s.sk, tuple(s.pids)) for s in vm.sockets()) == want


def udp_slot(vm, sk, off):
    """The UDP hash slot whose chain holds @sk (its node at @off): back along
    pprev links while the link is a node (its own pprev points back)."""
    rd = lambda va: int.from_bytes(vm.read(va, 4), "little")  # noqa: E731
    link = rd(sk + off + 4)
    for _ in range(64):
        pp = rd(link + 4)
        if pp < 0xC0000000 or pp & 3 or rd(pp) != link:
            return link
        link = pp
    raise AssertionError("no slot")


def test_udp_slot_count_lies(tmp_path):
    """A UDP hash slot whose count is not its chain's length: the UDP hash is
    not walked (one line naming the slot, exit 3); every socket is still
    listed from the fd tables, the UDP ones no longer in_table."""
    d = os.path.join(DUMPS, "i386")
    require(os.path.exists(os.path.join(d, "truth.json")), f"no i386 dump set in {DUMPS}")
    rows = json_lines(run_tool("xa-net", "file:" + os.path.join(d, "raw.img"), "--json").stdout)
    est = next(r for r in rows if r["proto"] == "tcp" and r["inode"] == 0)
    bound = next(r for r in rows if r["proto"] == "udp" and r["state"] == "CLOSE")
    with xenaccess.open("file:" + os.path.join(d, "raw.img")) as vm:
        off, _ = node_of(vm, int(est["sk"], 16))  # skc_node shares skc_nulls_node's place
        slot = udp_slot(vm, int(bound["sk"], 16), off)
        count = int.from_bytes(vm.read(slot + 4, 4), "little")
        assert 1 <= count < 64
        patches = [(vm.translate(slot + 4), (count + 1).to_bytes(4, "little"))]
    p = run_tool("xa-net", patched_copy(tmp_path, patches), "--json", check=False)
    err = [ln for ln in p.stderr.splitlines() if not ln.startswith(NOTE)]
    assert p.returncode == 3 and len(err) == 1 and "UDP hash" in err[0], p.stderr
    got = json_lines(p.stdout)
    assert got and got[-1].get("partial")
    socks = {r["sk"]: r for r in got if "proto" in r}
    assert set(socks) == {r["sk"] for r in rows}
    for r in rows:
        want = dict(r, in_table=False) if r["proto"] in ("udp", "udp6") else r
        assert socks[r["sk"]] == want, r


# ---- live: a 686-pae guest -------------------------------------------------

def check_live_pae_sockets(live32):
    """(Run by test_i386.py test_live_pae_sockets, on its guest.)
    A TCP listener the test starts in the running guest is listed with the
    address, inode and pid its own /proc/net/tcp and /proc/PID/fd show."""
    g, target = live32["guest"], live32["target"]
    port = 7150
    pid = int(g.run("busybox nc -l -p %d </dev/null >/dev/null 2>&1 & echo $!" % port).strip())
    want = None
    deadline = time.monotonic() + 120
    while want is None:  # busybox listens on IPv6 (any address) when the kernel has it
        for proto in ("tcp", "tcp6"):
            for line in g.run("cat /proc/net/%s" % proto).splitlines()[1:]:
                f = line.split()
                if len(f) > 9 and f[1].endswith(":%04X" % port) and f[3] == "0A":
                    want = (proto, int(f[9]), f[1].split(":")[0])
        assert want or time.monotonic() < deadline, "the guest's listener did not start"
        if want is None:
            time.sleep(0.5)
    proto, inode, addr = want
    assert set(addr) == {"0"}  # the any address
    assert ("socket:[%d]" % inode) in g.run("ls -l /proc/%d/fd/" % pid)
    try:
        p = run_tool("xa-net", target, "--json")
        rows = [r for r in json_lines(p.stdout) if r["inode"] == inode]
        assert len(rows) == 1, rows
        r = rows[0]
        anyaddr = "0.0.0.0" if proto == "tcp" else "[::]"
        assert (r["proto"], r["state"], r["local"]) == (proto, "LISTEN", "%s:%d" % (anyaddr, port))
        assert r["pids"] == [pid] and r["rx_queue"] is None
        assert r["in_table"]  # found in lhash2 from the listener itself
    finally:
        g.run("kill %d" % pid)
