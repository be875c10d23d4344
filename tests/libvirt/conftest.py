"""Fixtures for the libvirt backend tests: one private libvirtd for the test
module (lvcommon.Libvirtd; stopped when the module ends, not kept idle for the
rest of a long session), one guest domain at a time (2 cores are shared)."""

import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lvcommon import LibvirtGuest, Libvirtd, Unavailable, tool  # noqa: E402
from xatest import skip_or_fail  # noqa: E402


def _backend_built():
    """The build has the libvirt backend (not "not built in")."""
    exe = tool("xa-info")
    if not os.path.exists(exe):
        pytest.fail("%s is not built (set XA_BUILD to the build directory)" % exe)
    p = subprocess.run([exe, "libvirt:xa-probe?uri=test:///default"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=60)
    return "not built" not in p.stdout, p.stdout


@pytest.fixture(scope="module")
def libvirtd():
    built, out = _backend_built()
    if not built:
        skip_or_fail("this build has no libvirt backend (install libvirt-dev, reconfigure): %s"
                    % out.strip())
    d = Libvirtd()
    try:
        d.start()
    except Unavailable as e:
        skip_or_fail("libvirt cannot start here: %s" % e)
    try:
        yield d
    finally:
        d.stop()


@pytest.fixture(scope="module", params=["file", "memfd"])
def domain(request, libvirtd):
    g = LibvirtGuest(libvirtd, request.param, request.param)
    g.boot()
    try:
        yield g
    finally:
        g.shutdown()
