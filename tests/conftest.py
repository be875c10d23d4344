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


@pytest.fixture(scope="session")
def dumps():
    """The dump sets made by tests/guest/harness.py (scripts/test.sh makes them)."""
    sets = load_dumps()
    if not sets:
        skip_or_fail(f"no guest dumps in {DUMPS} (run: python3 tests/guest/harness.py make-dumps)")
    return sets

