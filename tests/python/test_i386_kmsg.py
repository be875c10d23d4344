"""The kernel log of 32-bit x86 guests (issue 18) with no configuration:
Debian's 686 and 686-pae kernels have neither BTF nor a prb symbol, so the
printk ring is found by its shape in the kernel image (os/linux/kmsg32.c).
xa-dmesg must give every record the guest's /dev/kmsg gave (truth.txt's kmsg
section), and on a copy of a dump whose ring header is damaged it must say
so in one line, never invent records.
"""
import os
import shutil
import struct
import subprocess
import tempfile

import pytest

from net_truth import kmsg_records, sections
from test_i386 import PAGE_OFFSET, guest32  # noqa: F401  (the dump sets)
from views_compare import check_kmsg
from xatest import DUMPS, json_lines, require, run_tool, tool_path


def truth_kmsg(d):
    with open(os.path.join(d, "truth.txt"), errors="surrogateescape") as f:
        return kmsg_records(sections(f.read())["kmsg"])


def test_kernel_log_matches_guest(guest32):
    want = truth_kmsg(guest32["dir"])
    rows = json_lines(run_tool("xa-dmesg", guest32["target"], "--json").stdout)
    check_kmsg(want, rows)
    assert [r["seq"] for r in rows] == list(range(len(rows)))  # nothing lost, nothing made up
    assert rows[0]["text"].startswith("Linux version ")


# ---- a damaged ring, on a copy of the raw dump -------------------------------

def ring_header(raw):
    """The ring's header in a raw 32-bit dump, found independently of
    kmsg32.c: the first record's block ([id][\"Linux version ...\"]) starts the
    data ring, and the header's text ring points at it, its size_bits being
    count_bits + 5. Returns (physical address of the header, text ring offset)."""
    hits = []
    with open(raw, "rb") as f:
        mem = f.read()
    at = mem.find(b"Linux version ")
    while at >= 0:
        data_va = at - 4 + PAGE_OFFSET
        ptr = struct.pack("<I", data_va)
        p = mem.find(ptr)
        while p >= 0:
            for tr in (20, 24):
                h = p - 4 - tr
                if h >= 0 and p % 4 == 0:
                    cbits, = struct.unpack_from("<I", mem, h)
                    sbits, = struct.unpack_from("<I", mem, h + tr)
                    if 5 <= cbits <= 26 and sbits == cbits + 5:
                        hits.append((h, tr))
            p = mem.find(ptr, p + 1)
        at = mem.find(b"Linux version ", at + 1)
    assert len(set(hits)) == 1, hits
    return hits[0]


@pytest.fixture(scope="module")
def damaged():
    """A writable copy of the 686 raw dump and its ring header."""
    src = os.path.join(DUMPS, "i386", "raw.img")
    require(os.path.exists(src), "no i386 dump set in %s" % DUMPS)
    tmp = tempfile.mkdtemp(prefix="xa-kmsg32-", dir="/var/tmp")
    path = os.path.join(tmp, "raw.img")
    shutil.copyfile(src, path)
    yield path, ring_header(path)
    shutil.rmtree(tmp)


def dmesg(path):
    return subprocess.run([tool_path("xa-dmesg"), "file:" + path, "--json"],
                          capture_output=True, text=True, timeout=120)


def patched(path, pa, data):
    with open(path, "r+b") as f:
        f.seek(pa)
        old = f.read(len(data))
        f.seek(pa)
        f.write(data)
    return old


def head_tail_swapped(path, hdr):
    with open(path, "rb") as f:
        f.seek(hdr + 12)
        head, tail = f.read(4), f.read(4)
    return tail + head


@pytest.mark.parametrize("what", ["count_bits 40", "head before tail", "descs in user space"])
def test_damaged_ring_is_refused(damaged, what):
    path, (hdr, _) = damaged
    before = dmesg(path)
    assert before.returncode == 0 and len(json_lines(before.stdout)) > 100, before.stderr
    offset, data = {
        "count_bits 40": (0, struct.pack("<I", 40)),  # no ring that large
        "head before tail": (12, head_tail_swapped(path, hdr)),  # seqs disagree with the ids
        "descs in user space": (4, struct.pack("<I", 0x1000)),
    }[what]
    old = patched(path, hdr + offset, data)
    try:
        r = dmesg(path)
    finally:
        patched(path, hdr + offset, old)
    assert r.returncode == 1 and r.stdout.strip() == "", (what, r.stdout[:300])
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and "no printk ring" in lines[0], (what, r.stderr)


def test_text_ring_size_must_match(damaged):
    """A text ring whose size is not count_bits + 5 is not the kernel's
    shape: refused, not read with a guessed size."""
    path, (hdr, tr) = damaged
    sbits, = struct.unpack("<I", patched(path, hdr + tr, b"\0\0\0\0"))
    patched(path, hdr + tr, struct.pack("<I", sbits))
    old = patched(path, hdr + tr, struct.pack("<I", sbits + 1))
    try:
        r = dmesg(path)
    finally:
        patched(path, hdr + tr, old)
    assert r.returncode == 1 and "no printk ring" in r.stderr, r.stderr
