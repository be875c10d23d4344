"""Hostile guests against the socket list and the kernel log: a TCP hash
chain that loops, a UNIX bucket pointing into nowhere, a printk ring whose
sizes or positions are impossible. Same method as test_hostile.py: a working
copy of the l4 raw dump, patched and restored per case; every tool held to
the hostile-input contract (bounded time and memory, one-line errors)."""
import collections
import struct

from test_hostile import image, run_bounded  # noqa: F401 (fixture)
from xatest import json_lines, require


def sockets(img):
    r = run_bounded("xa-net", img.target, "--json")
    assert r.returncode == 0, r.stderr
    return json_lines(r.stdout)


def test_tcp_chain_that_loops(image):
    socks = sockets(image)
    est = [s for s in socks if s["proto"] == "tcp" and s["state"] == "ESTABLISHED"
           and s["inode"]]
    require(est, "the dump has no established TCP socket (an older guest?)")
    cut_short = False
    # A socket in the table's last non-empty bucket has nothing past its loop,
    # and where each one lands depends on the dump: every one is tried.
    for victim in est[:8]:
        node = int(victim["sk"], 16) + image.q("off:sock_common.skc_nulls_node")
        with image.patched({image.q(f"pa:{node:#x}"): struct.pack("<Q", node)}):  # next = itself
            r = run_bounded("xa-net", image.target, "--json")
        assert r.returncode == 3, r.stderr
        assert "does not point back" in r.stderr, r.stderr
        lines = json_lines(r.stdout)
        assert lines[-1].get("partial") is True
        got = [s for s in lines if "proto" in s]
        # the other tables, and every socket a process holds, are still listed
        assert {(s["proto"], s["inode"]) for s in got if s["inode"]} == \
            {(s["proto"], s["inode"]) for s in socks if s["inode"]}
        # those past the loop came from the fd tables only (or, unheld, are missing)
        cut_short |= any(not s["in_table"] for s in got) or len(got) < len(socks)
    assert cut_short, "no loop cut the table walk short"


def test_unix_bucket_into_nowhere(image):
    info = run_bounded("xa-info", image.target, "--json")
    require(b"6." in info.stdout.encode(), "a 6.x guest (net.unx.table)")
    net = image.q("sym:init_net")
    buckets = image.q(f"u64:{net + image.q('off:net.unx.table.buckets'):#x}")
    socks = sockets(image)
    # every bucket: a user-space pointer (a guest cannot make the kernel's own)
    with image.patched({image.q(f"pa:{buckets:#x}"): struct.pack("<Q", 0x7fff0000) * 512}):
        r = run_bounded("xa-net", image.target, "--json")
    assert r.returncode == 3, r.stderr
    assert "unix table" in r.stderr and "bad link" in r.stderr, r.stderr
    got = json_lines(r.stdout)
    # UNIX sockets the processes hold still come, found through their fds
    assert {s["inode"] for s in got if s.get("proto") == "unix"} == \
        {s["inode"] for s in socks if s["proto"] == "unix"}


def ring(img):
    rb = img.q(f"u64:{img.q('sym:prb'):#x}")
    desc = rb + img.q("off:printk_ringbuffer.desc_ring")
    text = rb + img.q("off:printk_ringbuffer.text_data_ring")
    return desc, text


def test_ring_sizes_out_of_range(image):
    desc, text = ring(image)
    count_bits = image.q(f"pa:{desc + image.q('off:prb_desc_ring.count_bits'):#x}")
    size_bits = image.q(f"pa:{text + image.q('off:prb_data_ring.size_bits'):#x}")
    for at in (count_bits, size_bits):
        for bad in (0, 63, 0xffffffff):
            with image.patched({at: struct.pack("<I", bad)}):
                r = run_bounded("xa-dmesg", image.target, "--json")
            assert r.returncode == 1 and r.stdout == "", r.stderr
            assert "implausible ring sizes" in r.stderr, r.stderr


def test_ring_head_before_tail(image):
    desc, _ = ring(image)
    head = image.q(f"pa:{desc + image.q('off:prb_desc_ring.head_id'):#x}")
    tail = image.q(f"pa:{desc + image.q('off:prb_desc_ring.tail_id'):#x}")
    h, t = image.read(head, 8), image.read(tail, 8)
    with image.patched({head: t, tail: h}):
        r = run_bounded("xa-dmesg", image.target)
    assert r.returncode == 1 and "disagree" in r.stderr, r.stderr


def test_ring_text_positions_wild(image):
    """Every descriptor's text positions beyond the data ring: no record can
    be read (each is lost), none is invented, nothing is read out of bounds."""
    desc, _ = ring(image)
    descs = image.q(f"u64:{desc + image.q('off:prb_desc_ring.descs'):#x}")
    before = [r for r in json_lines(run_bounded("xa-dmesg", image.target, "--json").stdout)]
    dsize = image.q("size:prb_desc")
    begin = image.q("off:prb_desc.text_blk_lpos")
    patches = {}
    for i in range(64):
        va = descs + i * dsize + begin
        patches[image.q(f"pa:{va:#x}")] = struct.pack("<QQ", 8, 1 << 40)
    with image.patched(patches):
        r = run_bounded("xa-dmesg", image.target, "--json")
    assert r.returncode == 0, r.stderr
    after = json_lines(r.stdout)
    lost = {b["seq"] for b in before} - {a["seq"] for a in after}
    assert len(lost) >= 60  # (the ring holds more slots than records)
    key = lambda r: (r["seq"], r["ts_ns"], r["level"], r["text"])  # noqa: E731
    assert {key(a) for a in after} <= {key(b) for b in before}
    # the gaps are reported, never silent
    assert sum(a.get("dropped", 0) for a in after) == after[-1]["seq"] + 1 - len(after)


def test_namespace_list_that_loops(image):
    """net_namespace_list whose first namespace links to itself: the walk
    ends at the repeat (exit 3, one line); init_net's sockets all come as
    before, and another namespace's (past the break) through the fds that
    hold them, their namespace still read from each socket."""
    socks = sockets(image)
    node = image.q("sym:init_net") + image.q("off:net.list")
    with image.patched({image.q(f"pa:{node:#x}"): struct.pack("<Q", node)}):  # next = itself
        r = run_bounded("xa-net", image.target, "--json")
    assert r.returncode == 3, r.stderr
    assert "network namespace list loops" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    lines = json_lines(r.stdout)
    assert lines[-1].get("partial") is True
    got = [s for s in lines if "proto" in s]
    # init_net holds the workload's many sockets; a second one, a few
    init = collections.Counter(s["netns"] for s in socks).most_common(1)[0][0]
    assert init and [s for s in got if s["netns"] == init] == \
        [s for s in socks if s["netns"] == init]
    held = {(s["proto"], s["inode"], s["netns"]) for s in socks if s["pids"]}
    assert held <= {(s["proto"], s["inode"], s["netns"]) for s in got}
