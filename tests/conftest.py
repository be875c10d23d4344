"""Shared pytest fixtures. Helper functions live in tests/xatest.py."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xatest import (BUILD, DUMPS, json_lines, load_dumps, run_tool,  # noqa: E402,F401
                    require, skip_or_fail, strict, tool_path)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI=true / XA_REQUIRE=all a skip from anywhere (a plain pytest.skip,
    a skip marker, a skipping plugin) is reported as a failure, with its reason."""
    outcome = yield
    rep = outcome.get_result()
    if strict() and rep.skipped and not hasattr(rep, "wasxfail"):
        reason = rep.longrepr[2] if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
        rep.outcome = "failed"
        rep.longrepr = "skipped, and CI=true / XA_REQUIRE=all forbids skips: %s" % reason


XEN_TESTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "xen")


def pytest_collection_finish(session):
    """The Xen test bed (tests/xen, last in the run) boots beside the tests
    before it: one QEMU vCPU for ~3 minutes, where those tests leave a core
    idle much of the time (XA_XEN_EARLY=0 runs it when its tests come)."""
    if os.environ.get("XA_XEN_EARLY", "1") == "0":
        return
    if not any(os.path.dirname(str(item.fspath)) == XEN_TESTS for item in session.items):
        return
    sys.path.insert(0, XEN_TESTS)
    import xenbed
    if xenbed.skip_reason() is None:  # else its fixture says why, as before
        xenbed.start_early()


def pytest_sessionfinish(session, exitstatus):
    xenbed = sys.modules.get("xenbed")
    if xenbed:
        xenbed.stop_early()


@pytest.fixture(scope="session")
def dumps():
    """The dump sets made by tests/guest/harness.py (scripts/test.sh makes them)."""
    sets = load_dumps()
    if not sets:
        skip_or_fail(f"no guest dumps in {DUMPS} (run: python3 tests/guest/harness.py make-dumps)")
    return sets



# Files this large in a test's tmp_path are copies of guest dumps (patched to
# play a hostile guest): a whole suite's worth fills tens of GB, so each goes
# when its test ends. A failed test's copy can be made again from its patch.
BIG_COPY = 64 << 20


@pytest.fixture(autouse=True)
def _drop_dump_copies(request):
    yield
    tmp = request.node.funcargs.get("tmp_path") if hasattr(request.node, "funcargs") else None
    if tmp is None:
        return
    for root, _dirs, files in os.walk(tmp):
        for name in files:
            path = os.path.join(root, name)
            try:
                if not os.path.islink(path) and os.path.getsize(path) >= BIG_COPY:
                    os.unlink(path)
            except OSError:
                pass
