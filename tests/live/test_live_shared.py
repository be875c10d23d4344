"""Live guest with RAM in a shared file (/dev/shm): the mmap path."""

import os
import sys

import livechecks as lc
from livecommon import ROOT, binary

sys.path.insert(0, os.path.join(ROOT, "tests", "conformance"))
import conformance_facts as cf  # noqa: E402


def test_attach_read_regs_pause(shared_guest):
    kv = lc.attach_and_check(shared_guest, "shared RAM file /dev/shm/", unflushed_fresh=True)
    lc.ranges_cover_guest_ram(shared_guest, kv)


def test_regs_match_hmp(shared_guest):
    lc.regs_match_hmp(shared_guest)


def test_memory_changes_seen_without_flush(shared_guest):
    # pages are pointers into the guest's RAM: fresh without any flush
    lc.memory_changes_seen(shared_guest, flush=False)


def test_process_list_follows_guest(shared_guest):
    lc.process_list_follows_guest(shared_guest)


def test_xa_ps_tool(shared_guest):
    lc.xa_ps_matches_guest(shared_guest)


def test_pid_cache_follows_pid_reuse(shared_guest):
    lc.pid_cache_follows_reuse(shared_guest)


def test_conformance(shared_guest):
    # the backend conformance cases (tests/conformance), with this guest's facts
    cf.run_qemu(shared_guest, binary("tests/conformance/conformance"))


def test_qemu_quits_while_reading(shared_guest):
    # last: it ends the guest. The mapping keeps the file: reads still work.
    lc.survives_qemu_quit(shared_guest, read_after="0")
