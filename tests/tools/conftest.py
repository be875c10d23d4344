"""The live guest the tool tests share: test_tools_live and
test_tools_net_live check the tools on one QEMU guest (qemu: target),
booted once for the run and shut down after the last test that uses it
(TCG guests are slow to boot, and an idle one still costs CPU)."""
import os

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
_LAST_USER = pytest.StashKey()
_guests = []  # the booted guest, for the early shutdown below


@pytest.fixture(scope="session")
def live():
    """(guest, "qemu:<monitor socket>")."""
    from harness import Guest
    g = Guest("tools-live", nproc=30, mem_mb=384)
    _guests.append(g)
    try:
        yield g, "qemu:" + g.monitor_path
    finally:
        g.shutdown()


def pytest_collection_modifyitems(config, items):
    users = [item.nodeid for item in items if "live" in getattr(item, "fixturenames", ())
             and str(item.fspath).startswith(HERE + os.sep)]
    config.stash[_LAST_USER] = users[-1] if users else None


def pytest_runtest_teardown(item, nextitem):
    if item.nodeid == item.config.stash.get(_LAST_USER, None):
        for g in _guests:
            g.shutdown()  # the fixture's own shutdown at the session's end is then a no-op
