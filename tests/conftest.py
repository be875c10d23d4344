"""Shared pytest fixtures. Helper functions live in tests/xatest.py."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from xatest import (BUILD, DUMPS, json_lines, load_dumps, run_tool,  # noqa: E402,F401
                    tool_path)


@pytest.fixture(scope="session")
def dumps():
    """The dump sets made by tests/guest/harness.py (scripts/test.sh makes them)."""
    sets = load_dumps()
    if not sets:
        pytest.skip(f"no guest dumps in {DUMPS} (run: python3 tests/guest/harness.py make-dumps)")
    return sets
