"""Other amd64 kernels (issue 14: Linux 5.10 to 6.12): every view of the
tools on dumps of the newest Debian 5.10 and 6.12 kernels and of 6.1's
PREEMPT_RT and cloud flavours (tests/guest/
kernels.py; scripts/test.sh makes them as XA_TEST_DUMPS/linux-<series>),
checked against the guest's own truth by the same checks the 6.1 dumps
get: the tests of tests/tools are called on these sets as their "l4"
(4-level, same workload and truth), so a fix to a check holds here too."""
import json
import os
import sys

import pytest

from xatest import DUMPS, json_lines, require, run_tool

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tools"))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "guest"))
import kernels  # noqa: E402
import test_tools_dumps as dumps_checks  # noqa: E402
import test_tools_files as files_checks  # noqa: E402
import test_tools_net as net_checks  # noqa: E402
import test_tools_netns as netns_checks  # noqa: E402
import test_tools_procview as procview_checks  # noqa: E402

SERIES = sorted(kernels.SERIES)
FILES = ["raw.img", "core.elf"]


def kernel_set(series):
    """{"l4": {"dir", "truth"}}: the @series dump set in the shape the
    tests/tools checks take (a `dumps` fixture holding it as "l4")."""
    d = os.path.join(DUMPS, kernels.dump_kind(series))
    require(os.path.exists(os.path.join(d, "truth.json")),
            f"no {series} dump set in {DUMPS} (make it: python3 tests/guest/kernels.py "
            f"make-dumps --series {series} --out {d})")
    with open(os.path.join(d, "truth.json")) as f:
        truth = json.load(f)
    # the series asked for, on 4-level paging (not linux-image-amd64's 6.1)
    version, flavour = kernels.version_flavour(series)
    assert truth["kernel_release"].startswith(version + "."), truth["kernel_release"]
    assert truth["kernel_release"].endswith("-%s-amd64" % flavour if flavour else "-amd64")
    assert kernels.is_package_of(series, truth["boot"]["kernel_pkg"]), truth["boot"]
    assert truth["dump"]["la57"] is False
    return {"l4": {"dir": d, "truth": truth}}


@pytest.mark.parametrize("fname", FILES)
@pytest.mark.parametrize("series", SERIES)
def test_info_and_symbols(series, fname):
    dumps = kernel_set(series)
    dumps_checks.test_info(dumps, "l4", fname)
    if fname == "raw.img":
        dumps_checks.test_symbols_both_ways(dumps, "l4", fname)
        dumps_checks.test_read_kernel_banner_by_symbol(dumps)


@pytest.mark.parametrize("fname", FILES)
@pytest.mark.parametrize("series", SERIES)
def test_processes(series, fname):
    """xa-ps: every process, then command lines, start times and threads."""
    dumps = kernel_set(series)
    dumps_checks.test_ps_matches_guest(dumps, "l4", fname)
    procview_checks.test_ps_pid_cmdline_start(dumps, "l4", fname)
    procview_checks.test_ps_threads(dumps, "l4", fname)


@pytest.mark.parametrize("fname", FILES)
@pytest.mark.parametrize("series", SERIES)
def test_modules_maps_markers(series, fname):
    """xa-modules, xa-maps of the workload, and xa-read of the heap, mmap
    and stack markers by pid."""
    dumps = kernel_set(series)
    dumps_checks.test_modules(dumps, "l4", fname)
    dumps_checks.test_maps(dumps, "l4", fname)
    heap = [m for m in dumps["l4"]["truth"]["markers"] if m["kind"] == "heap"]
    assert heap, "the truth has no heap marker"
    dumps_checks.test_user_memory_markers(dumps, "l4", fname)


@pytest.mark.parametrize("fname", FILES)
@pytest.mark.parametrize("series", SERIES)
def test_files_and_mounts(series, fname):
    dumps = kernel_set(series)
    files_checks.test_files_every_process(dumps, "l4", fname)
    files_checks.test_mounts(dumps, "l4", fname)


@pytest.mark.parametrize("fname", FILES)
@pytest.mark.parametrize("series", SERIES)
def test_sockets_and_kernel_log(series, fname):
    """xa-net (every network namespace, one with hash tables of its own
    where the kernel has them) and xa-dmesg."""
    dumps = kernel_set(series)
    net_checks.test_net_matches_proc(dumps, "l4", fname)
    netns_checks.test_sockets_of_every_namespace(dumps, "l4", fname)
    netns_checks.test_namespace_with_hash_tables_of_its_own(dumps, "l4", fname)
    net_checks.test_dmesg_matches_kmsg(dumps, "l4", fname)


@pytest.mark.parametrize("fname", FILES)
@pytest.mark.parametrize("series", SERIES)
def test_check_is_clean(series, fname):
    """xa-check finds nothing on an ordinary guest: exit 0, no finding, and
    every check ran to its end."""
    d = kernel_set(series)["l4"]["dir"]
    p = run_tool("xa-check", "file:" + os.path.join(d, fname), "--json", check=False)
    lines = json_lines(p.stdout)
    findings = [x for x in lines if "technique" in x]
    summary = [x for x in lines if "complete" in x]
    notes = [x for x in lines if "note" in x]  # what a check could not judge (no registers)
    assert p.returncode == 0 and findings == [], (p.returncode, findings, p.stderr)
    assert len(summary) == 9 and all(s["complete"] for s in summary), summary
    assert len(summary) + len(notes) == len(lines), lines
    assert all(n["check"] == "idt" for n in notes) and (fname == "raw.img") == bool(notes), notes
