"""Hostile dump files (issue 20, items 2, 3, 12): files a tool is pointed at
that claim far more memory than they hold, are not files at all, or have a
layout made to defeat lookups. Built from the real l4 dump where its bytes
matter, synthetic where they do not.

Every tool must end within its timeout with a one-line error or a result
(the contract of test_hostile.run_bounded). Where cost is the defect, the
child's own CPU time and peak RSS are measured (os.wait4), not wall time:
the machine may be loaded, CPU seconds are what the input costs.
"""
import os
import signal
import struct
import subprocess
import sys

import pytest

from test_hostile import TOOL_TIMEOUT, run_bounded, sanitizer_env
from xatest import tool_path, skip_or_fail

TOOLS = (("xa-info",), ("xa-ps",), ("xa-modules",), ("xa-sym", "init_task"))


# Runs the tool from a fresh, small interpreter and reports its rusage. The
# peak RSS of a process forked straight from pytest would include pytest's
# own (Linux carries the pre-exec peak over into ru_maxrss).
MEASURE = r"""
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
_, status, ru = os.wait4(pid, 0)
sys.stderr.write("\nXA-MEASURE %d %f %d\n" % (os.waitstatus_to_exitcode(status),
                                             ru.ru_utime + ru.ru_stime, ru.ru_maxrss))
"""


def run_measured(name, *args):
    """Run a tool; return (exit code, stderr, CPU seconds, peak RSS in KiB)."""
    cmd = [sys.executable, "-c", MEASURE, tool_path(name), *map(str, args)]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         env=sanitizer_env(), start_new_session=True)
    try:
        _, err = p.communicate(timeout=TOOL_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        pytest.fail(f"{name} {' '.join(map(str, args))} did not end within {TOOL_TIMEOUT} s")
    err = err.decode(errors="replace")
    err, _, tail = err.rpartition("XA-MEASURE ")
    rc, cpu, rss = tail.split()
    rc, cpu, rss = int(rc), float(cpu), int(rss)
    assert rc >= 0, f"{name}: killed by signal {-rc}\n{err[-2000:]}"
    return rc, err, cpu, rss


def one_line(err):
    lines = [l for l in err.splitlines() if l.strip()]
    assert len(lines) == 1, err
    return lines[0]


def test_fifo_target(tmp_path):
    """A FIFO never blocks open(): one clear error at once."""
    fifo = tmp_path / "dump.img"
    os.mkfifo(fifo)
    for tool, *args in TOOLS:
        r = run_bounded(tool, f"file:{fifo}", *args)
        assert r.returncode == 1
        assert "is a FIFO, not a regular file" in one_line(r.stderr), r.stderr


def elf_with_loads(dumps, loads):
    """The l4 core's ELF header and notes (its registers) with @loads as the
    only PT_LOADs: [(paddr, filesz, memsz)], file bytes from the real dump."""
    core = os.path.join(dumps["l4"]["dir"], "core.elf")
    raw = os.path.join(dumps["l4"]["dir"], "raw.img")
    with open(core, "rb") as f:
        head = bytearray(f.read(1 << 20))
    phoff, = struct.unpack_from("<Q", head, 32)
    phentsize, phnum = struct.unpack_from("<HH", head, 54)
    phdrs = [bytes(head[phoff + i * phentsize:phoff + (i + 1) * phentsize])
             for i in range(phnum)]
    notes = [p for p in phdrs if struct.unpack_from("<I", p)[0] == 4]
    out = bytearray(head[:64])
    data_at = 64 + 56 * (len(notes) + len(loads))
    table, blobs = b"", b""
    for n in notes:  # keep the notes' bytes, moved after the new table
        off, filesz = struct.unpack_from("<QQ", n, 8)[0], struct.unpack_from("<Q", n, 32)[0]
        n = bytearray(n)
        struct.pack_into("<Q", n, 8, data_at + len(blobs))
        table += bytes(n)
        blobs += bytes(head[off:off + filesz])
    with open(raw, "rb") as f:
        for paddr, filesz, memsz in loads:
            f.seek(0x1000000)  # real guest bytes, wherever the load claims to be
            off = data_at + len(blobs)
            table += struct.pack("<IIQQQQQQ", 1, 7, off, 0, paddr, filesz, memsz, 0x1000)
            blobs += f.read(filesz)
    struct.pack_into("<QH", out, 32, 64, 0)  # e_phoff
    struct.pack_into("<HH", out, 54, 56, len(notes) + len(loads))
    return bytes(out) + table + blobs


@pytest.mark.parametrize("how", ["2^46-zero-fill", "memsz-2^64-1", "zero-fill-summed"])
def test_elf_zero_fill(dumps, tmp_path, how):
    """PT_LOADs that claim terabytes of zero-fill: refused before any walk."""
    if "l4" not in dumps:
        skip_or_fail("no l4 dump")
    if how == "2^46-zero-fill":
        loads = [(0, 0, 1 << 46)]
    elif how == "memsz-2^64-1":
        loads = [(0x100000, 0x1000, (1 << 64) - 1)]
    else:  # each alone is under the limit, together they are not
        loads = [(i << 40, 0x1000, 3 << 30) for i in range(1, 9)]
    path = tmp_path / "core.elf"
    path.write_bytes(elf_with_loads(dumps, loads))
    for tool, *args in TOOLS:
        rc, err, cpu, _ = run_measured(tool, f"file:{path}", *args)
        assert rc == 1, err
        line = one_line(err)
        assert str(path) in line and ("zero-fill" in line or "physical address" in line), line
        assert cpu < 10, f"{tool}: {cpu:.1f} CPU s to refuse a 4 KiB header"


def lime_many_ranges(dumps, path, count=65536):
    """A LiME image of @count 16-byte ranges, one per page, bytes from the l4 dump."""
    raw = os.path.join(dumps["l4"]["dir"], "raw.img")
    with open(raw, "rb") as src, open(path, "wb") as out:
        for i in range(count):
            src.seek(i * 4096 + 0x800)
            start = i * 4096 + 0x800
            out.write(struct.pack("<IIQQQ", 0x4C694D45, 1, start, start + 15, 0))
            out.write(src.read(16))


def test_lime_65536_small_ranges(dumps, tmp_path):
    """65,536 ranges (the limit): lookups are binary searches, not scans, and
    pages only partly RAM are read when needed, not kept."""
    if "l4" not in dumps:
        skip_or_fail("no l4 dump")
    path = tmp_path / "many.lime"
    lime_many_ranges(dumps, path)
    for tool in ("xa-info", "xa-ps"):
        rc, err, cpu, rss = run_measured(tool, f"file:{path}")
        assert rc == 1 and "not recognised" in one_line(err), err
        # Before the range map: 10-12 CPU s with sanitizers.
        assert cpu < 6, f"{tool}: {cpu:.1f} CPU s for 65,536 ranges"
        # Before: a copy kept per partial page, 256 MiB (400 MiB with ASan).
        assert rss < 128 * 1024, f"{tool}: peak RSS {rss // 1024} MiB for a 3 MiB image"


def test_no_kernel_does_not_map_the_whole_file(tmp_path):
    """A 1 GiB image with no kernel: discovery scans it all, but the pages it
    has read are dropped as it goes, so RSS stays far below the file size."""
    path = tmp_path / "empty.img"
    with open(path, "wb") as f:
        f.truncate(1 << 30)  # sparse: costs no disk
        f.seek(123 << 20)
        f.write(b"Linux version 6.1.0 (not a kernel)\0" * 100)
    rc, err, _, rss = run_measured("xa-info", f"file:{path}")
    assert rc == 1 and "not recognised" in one_line(err), err
    # Before: 1.07 GiB (every page of the mapping resident). Now: the
    # resident cap (128 MiB) plus the tool and the sanitizers' own memory.
    assert rss < 512 * 1024, f"peak RSS {rss // 1024} MiB for a 1 GiB image"
