"""xa-check on a live guest (qemu: target): clean with 20+ ordinary modules
loaded, then each rootkit technique of tests/rootkit/rkbed.py applied while
the guest runs, and every one reported with its culprit."""
import os
import sys

import pytest

from xatest import json_lines, run_tool, skip_or_fail

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def live():
    import harness
    import rkbed
    try:
        rkbed.build_rk_cpio(harness.fetch_kernel())
    except Exception as e:  # no headers from apt, no compiler...
        skip_or_fail("cannot build the test rootkits: %s" % e)
    g = rkbed.RootkitGuest("rootkit-live", nproc=30, mem_mb=384)
    try:
        yield g, "qemu:" + g.monitor_path
    finally:
        g.shutdown()


def check(tgt, *args):
    p = run_tool("xa-check", tgt, "--json", *args, check=False, timeout=300)
    lines = json_lines(p.stdout)
    # no notes: QEMU gives every vCPU's IDTR
    assert [x for x in lines if "note" in x] == [], lines
    return p, [x for x in lines if "technique" in x], [x for x in lines if "technique" not in x]


def test_live_clean_then_rootkitted(live):
    import rkbed
    g, tgt = live
    mods = rkbed.load_clean_modules(g)
    assert len(mods) >= 20
    p, findings, summary = check(tgt)
    assert p.returncode == 0 and findings == [], (findings, p.stderr)
    assert len(summary) == 9 and all(s["complete"] for s in summary)

    info = rkbed.apply_techniques(g)
    p, findings, summary = check(tgt)
    assert p.returncode == 4, p.stderr
    got = {f["technique"]: f for f in findings}
    assert sorted(got) == sorted(["hidden-module", "hidden-process", "syscall-hook",
                                  "ftrace-hook", "kprobe", "bpf-program", "anon-exec",
                                  "ld-preload", "deleted-exe", "ops-hook", "idtr-replaced",
                                  "tty-hook", "input-handler", "input-hook"]), findings
    assert len(findings) == 16, findings
    pids = info["pids"]
    assert sorted(f["culprit"] for f in findings
                  if f["technique"] == "hidden-module") == ["rk_hidekobj", "rk_hidemod"]
    assert all("in module memory" in f["detail"] for f in findings
               if f["technique"] == "hidden-module"), findings
    assert sorted(f["pid"] for f in findings if f["technique"] == "hidden-process") == sorted(
        [pids["xa_hideme"], pids["xa_rtspin"]])
    rt = [f for f in findings if f["technique"] == "hidden-process" and f["culprit"] == "xa_rtspin"]
    assert "queued on an RT run queue" in rt[0]["detail"], rt
    assert got["syscall-hook"]["culprit"] == "rk_syscall"
    assert got["ftrace-hook"]["culprit"] == "rk_ftrace"
    assert got["kprobe"]["culprit"] == "rk_kprobe"
    assert got["bpf-program"]["culprit"] == "xa_rkfilter"
    assert got["anon-exec"]["pid"] == pids["xa_inject"]
    assert got["ld-preload"]["pid"] == pids["xa_preload"]
    assert got["deleted-exe"]["pid"] == pids["xa_deleted"]
    assert got["ops-hook"]["culprit"] == "rk_procfs"
    assert got["idtr-replaced"]["culprit"] == "rk_idt"
    assert got["idtr-replaced"]["detail"].startswith("CPUs 0, 1 load the IDT at [rk_idt]+0x")
    assert got["tty-hook"]["culprit"] == "rk_tty"
    assert got["input-handler"]["culprit"] == "rk_input"
    assert got["input-hook"]["culprit"] == "rk_input"

    # unloading puts the IDTR, the line discipline and the handlers back
    for name in ("rk_idt", "rk_tty", "rk_input"):
        g.must("rmmod %s" % name)
    assert "alive" in g.must("sleep 1; echo alive")
    p, findings, summary = check(tgt, "--check", "idt", "--check", "ops")
    assert [f["technique"] for f in findings] == ["ops-hook"], findings
    assert all(s["complete"] for s in summary), summary
