"""Helpers shared by the Python tests: where the build and the dumps are, and
how to run the xa-* tools. (A module of its own: each test folder may have a
conftest.py, and `from conftest import` would pick whichever came first.)"""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "guest"))

BUILD = os.environ.get("XA_BUILD", os.path.join(ROOT, "build-test"))
DUMPS = os.environ.get("XA_TEST_DUMPS", "/var/tmp/xenaccess-cache/dumps")


def tool_path(name):
    import pytest
    path = os.path.join(BUILD, "tools", name)
    if not os.path.exists(path):
        pytest.fail(f"{path} not built (set XA_BUILD to the build directory)")
    return path


def run_tool(name, *args, check=True, timeout=120):
    """Run an xa-* tool; returns CompletedProcess with text output."""
    p = subprocess.run([tool_path(name), *map(str, args)], capture_output=True, text=True,
                       timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"{name} {' '.join(map(str, args))} exited {p.returncode}: {p.stderr}")
    return p


def json_lines(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def load_dumps():
    """{kind: {"dir": ..., "truth": {...}}} for the dump sets that exist."""
    sets = {}
    for kind in ("l4", "l5"):
        d = os.path.join(DUMPS, kind)
        if os.path.exists(os.path.join(d, "truth.json")):
            with open(os.path.join(d, "truth.json")) as f:
                sets[kind] = {"dir": d, "truth": json.load(f)}
    return sets
