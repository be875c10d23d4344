"""The backend conformance cases (conformance.c) on the guest dumps: the file
backend's raw, ELF and LiME readers. The live backends run the same cases from
their own tests (tests/live, tests/libvirt, tests/xen) with conformance_facts."""
import os
import struct
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import conformance_facts as cf  # noqa: E402
from xatest import BUILD  # noqa: E402

CACHE = os.environ.get("XA_CACHE", "/var/tmp/xenaccess-cache")
LIME_MAGIC = 0x4C694D45


def dump_facts(d, vcpus):
    t = d["truth"]
    return cf.facts_args(t, t["symbols"]["linux_banner"], "file",
                         vcpus=vcpus, pause=False)


def lime_ranges(truth):
    """Two ranges with a hole between them, around the guest's low 1 MiB hole:
    every System RAM byte is kept."""
    ram = truth["dump"]["ram_bytes"]
    return [(0, 0xa0000), (0x100000, ram)]


def make_lime(raw, path, ranges):
    """A LiME image of @ranges of the raw dump (rebuilt when the dump is newer)."""
    if os.path.exists(path) and os.path.getmtime(path) >= os.path.getmtime(raw):
        return
    tmp = path + ".tmp"
    with open(raw, "rb") as src, open(tmp, "wb") as out:
        for start, end in ranges:
            out.write(struct.pack("<IIQQQ", LIME_MAGIC, 1, start, end - 1, 0))
            src.seek(start)
            left = end - start
            while left:
                chunk = src.read(min(left, 8 << 20))
                assert chunk, "raw dump shorter than its truth says"
                out.write(chunk)
                left -= len(chunk)
    os.replace(tmp, path)


@pytest.mark.parametrize("kind", ["l4", "l5"])
def test_raw(dumps, kind):
    if kind not in dumps:
        pytest.skip(f"no {kind} dump")
    d = dumps[kind]
    args = dump_facts(d, vcpus=0) + ["--ram-bytes", str(d["truth"]["dump"]["ram_bytes"])]
    cf.run(cf.program(BUILD), "file:" + os.path.join(d["dir"], "raw.img"), args)


@pytest.mark.parametrize("kind", ["l4", "l5"])
def test_elf(dumps, kind):
    if kind not in dumps:
        pytest.skip(f"no {kind} dump")
    d = dumps[kind]
    args = dump_facts(d, vcpus=len(d["truth"]["dump"]["cpus"]))
    cf.run(cf.program(BUILD), "file:" + os.path.join(d["dir"], "core.elf"), args)


@pytest.mark.parametrize("kind", ["l4", "l5"])
def test_lime(dumps, kind):
    if kind not in dumps:
        pytest.skip(f"no {kind} dump")
    d = dumps[kind]
    ranges = lime_ranges(d["truth"])
    os.makedirs(os.path.join(CACHE, "conformance"), exist_ok=True)
    path = os.path.join(CACHE, "conformance", kind + ".lime")
    make_lime(os.path.join(d["dir"], "raw.img"), path, ranges)
    args = dump_facts(d, vcpus=0) + ["--ram-bytes", str(sum(e - s for s, e in ranges))]
    out = cf.run(cf.program(BUILD), "file:" + path, args)
    assert "ok read-edges" in out
