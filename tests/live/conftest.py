"""Fixtures for the live QEMU backend tests: one guest per test module."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from livecommon import LiveGuest, boot_live_guest  # noqa: E402


@pytest.fixture(scope="module")
def shared_guest():
    g, sock = boot_live_guest("live-shm", True)
    try:
        yield LiveGuest(g, sock)
    finally:
        g.shutdown()


@pytest.fixture(scope="module")
def procmem_guest():
    g, sock = boot_live_guest("live-anon", False)
    try:
        yield LiveGuest(g, sock)
    finally:
        g.shutdown()
