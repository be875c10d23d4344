"""The Python binding, unchanged, on the real Windows triage dump."""
import os
import struct
import sys

import pytest

import xa_py  # noqa: F401  (sets sys.path for the package)
import xenaccess

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "windows"))
from windump_data import windows_data  # noqa: E402

pytest_plugins = ["xa_py"]


@pytest.fixture(scope="module")
def vm():
    path = os.path.join(windows_data(), "triage_x64.dmp")
    head = open(path, "rb").read(0x2000)
    with xenaccess.open("file:" + path) as v:
        yield v, head


def test_info_says_windows(vm):
    v, head = vm
    assert v.info.os == "windows"
    assert v.info.dtb == struct.unpack_from("<Q", head, 0x10)[0]
    assert v.symbol("PsActiveProcessHead") == struct.unpack_from("<Q", head, 0x28)[0]


def test_processes_partial_and_flagged(vm):
    v, _ = vm
    got = []
    with pytest.raises(xenaccess.PartialResult) as e:
        for p in v.processes():
            got.append(p)
    assert [p.pid for p in got] == [4, -1, 180, 588, 612]
    assert got[0].comm == "System"
    assert "walked back to its head" in str(e.value)


def test_kernel_memory_by_virtual_address(vm):
    v, head = vm
    kdbg = struct.unpack_from("<Q", head, 0x80)[0]
    assert v.read(kdbg + 0x10, 4) == b"KDBG"
    # Another page-table root has nothing to translate through in a triage dump.
    with pytest.raises(xenaccess.XenaccessError):
        v.read(kdbg, 8, dtb=0x12345000)


def test_linux_only_call_says_so(vm):
    v, _ = vm
    with pytest.raises(xenaccess.XenaccessError) as e:
        list(v.maps(180))
    assert "Windows" in str(e.value)
