"""Kernel discovery does not grow with guest memory (issue 13, item 2;
docs/discovery.md): on the 512 MiB dump and on a 16 GiB sparse raw image
whose kernel physical KASLR put above 4 GiB (bench/big_dump.py), discovery
touches at most 64 MiB of the image file, counted with mincore() after the
file's pages were dropped from the page cache, and finds the kernel where
the guest said it was."""
import os
import re
import shutil
import subprocess
import sys

import pytest

from xatest import CACHE, DUMPS, ROOT, require, skip_or_fail, tool_path

sys.path.insert(0, os.path.join(ROOT, "bench"))
import discovery_scale  # noqa: E402

TOUCH_MAX = 64 << 20
BIG = os.path.join(CACHE, "big16")


def discover(path):
    p = subprocess.run([tool_path("xa-info"), "file:" + path], capture_output=True, text=True,
                       timeout=600)
    assert p.returncode == 0, p.stderr
    field = dict(re.findall(r"^([a-z_ ]+):\s+(\S+)", p.stdout, re.M))
    return int(field["phys_base"], 16), int(field["_text"], 16)


def touched(path):
    """Bytes of @path one cold xa-info run brought into the page cache."""
    n, _ = discovery_scale.touched_bytes(tool_path("xa-info"), path)
    return n


@pytest.fixture(scope="module")
def small_copy():
    raw = os.path.join(DUMPS, "l4", "raw.img")
    require(os.path.exists(raw), "no l4 dump in " + DUMPS)
    # A private copy: other runs may be reading the shared dump right now,
    # and their pages would count as ours. (/var/tmp: tmpfs pages cannot be dropped.)
    d = os.path.join("/var/tmp", "xa-disc-%d" % os.getpid())
    os.makedirs(d, exist_ok=True)
    copy = os.path.join(d, "raw.img")
    shutil.copyfile(raw, copy)
    yield copy
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def big_image():
    raw = os.path.join(BIG, "raw.img")
    if not os.path.exists(raw):
        # Boots a 16 GiB guest under TCG once (about two minutes), cached.
        p = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "big_dump.py"),
                            "--out", BIG], capture_output=True, text=True, timeout=3600)
        if p.returncode != 0:
            skip_or_fail("cannot make the 16 GiB image: " + (p.stdout + p.stderr)[-1500:])
    import json
    with open(os.path.join(BIG, "meta.json")) as f:
        return raw, json.load(f)


def test_small_dump_touches_little(small_copy):
    n = touched(small_copy)
    assert 0 < n <= TOUCH_MAX, "discovery touched %d MiB of a 512 MiB dump" % (n >> 20)


def test_big_sparse_image_kernel_high(big_image):
    raw, meta = big_image
    code = meta["kernel_code"][0]
    assert code >= 4 << 30, "the image's kernel is not high: 0x%x" % code
    assert os.path.getsize(raw) >= 16 << 30
    phys_base, text = discover(raw)
    # _text's physical address is where the guest's /proc/iomem put "Kernel code".
    assert (phys_base + text - 0xffffffff80000000) & (2**64 - 1) == code
    n = touched(raw)
    assert 0 < n <= TOUCH_MAX, "discovery touched %d MiB of the 16 GiB image" % (n >> 20)
