"""Live guest with anonymous RAM (no shared file): the /proc/PID/mem path."""

import os
import sys

import livechecks as lc
from livecommon import ROOT, binary

sys.path.insert(0, os.path.join(ROOT, "tests", "conformance"))
import conformance_facts as cf  # noqa: E402


def test_attach_read_regs_pause(procmem_guest):
    # copied pages are cached by the core until a flush: stale without one
    kv = lc.attach_and_check(procmem_guest, "/proc/", unflushed_fresh=None)
    lc.ranges_cover_guest_ram(procmem_guest, kv)


def test_regs_match_hmp(procmem_guest):
    lc.regs_match_hmp(procmem_guest)


def test_memory_changes_seen_after_flush(procmem_guest):
    lc.memory_changes_seen(procmem_guest, flush=True)


def test_process_list_follows_guest(procmem_guest):
    lc.process_list_follows_guest(procmem_guest)


def test_pid_cache_follows_pid_reuse(procmem_guest):
    lc.pid_cache_follows_reuse(procmem_guest)


def test_conformance(procmem_guest):
    # the backend conformance cases (tests/conformance), with this guest's facts
    cf.run_qemu(procmem_guest, binary("tests/conformance/conformance"))


def test_qemu_quits_while_reading(procmem_guest):
    # last: it ends the guest. QEMU's memory is gone with it: XA_EGONE.
    lc.survives_qemu_quit(procmem_guest, read_after="-1007")
