"""xa-check against real rootkit techniques (tests/rootkit/rkbed.py): a
harness guest where small kernel modules built against the test kernel's own
headers hide a module and two processes (one sleeping, one real-time and
always runnable), hook a syscall three ways (table entry, ftrace, kprobe),
load a copied IDT on every CPU, hook the tty line discipline and register a
keylogging input handler, and user processes carry injected code, an eBPF
program, LD_PRELOAD and a deleted executable. Each must be reported, naming the
technique and the culprit; the same guest before the techniques (with 20+
ordinary Debian modules loaded) and the shared l4/l5 dumps must be clean."""
import json
import os
import re
import sys

import pytest

from xatest import DUMPS, json_lines, require, run_tool, skip_or_fail

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


@pytest.fixture(scope="module")
def bed():
    """The clean and rootkit dumps, made (once, cached) when missing."""
    import rkbed
    out = os.path.join(DUMPS, "rootkit")
    try:
        rkbed.make_dumps(out)
    except Exception as e:  # no headers from apt, no qemu, ...
        skip_or_fail("cannot make the rootkit dumps: %s" % e)
    with open(os.path.join(out, "rk", "rootkit.json")) as f:
        info = json.load(f)
    return {"dir": out, "info": info}


def check(target, *args):
    """(process, findings, {check: summary line}, notes)"""
    p = run_tool("xa-check", target, "--json", *args, check=False)
    lines = json_lines(p.stdout)
    findings = [x for x in lines if "technique" in x]
    notes = [x for x in lines if "note" in x]
    summary = {x["check"]: x for x in lines if "technique" not in x and "note" not in x}
    return p, findings, summary, notes


@pytest.fixture(scope="module", params=["core.elf", "raw.img"])
def rk(request, bed):
    p, findings, summary, notes = check("file:" + os.path.join(bed["dir"], "rk", request.param))
    assert p.returncode == 4, p.stderr
    assert all(s["complete"] for s in summary.values()), summary
    return findings, dict(bed["info"], kind=request.param, notes=notes)


def only(findings, technique):
    got = [f for f in findings if f["technique"] == technique]
    assert len(got) == 1, (technique, findings)
    return got[0]


def test_techniques_applied(bed):
    """The guest really was rootkitted: a check of the test bed itself."""
    info = bed["info"]
    assert "rk_hidemod" not in info["visible_modules"]
    assert "rk_hidekobj" not in info["visible_modules"]
    for m in ("rk_syscall", "rk_ftrace", "rk_kprobe", "rk_hideproc", "rk_procfs", "rk_idt",
              "rk_tty", "rk_input"):
        assert m in info["visible_modules"]
    # the guest lived on after its IDT moved; xa_rtspin really is SCHED_FIFO (policy 1)
    assert "alive" in info["alive"]
    assert re.search(r"policy\s*:\s*1\b", info["rtspin_sched"]), info["rtspin_sched"]
    for line in ("unlinked pid %d" % info["pids"]["xa_hideme"],
                 "unlinked pid %d" % info["pids"]["xa_rtspin"], "sys_call_table[62] hooked",
                 "rk_idt: every CPU loads the IDT at", "rk_tty: n_tty receive_buf2 hooked",
                 "rk_input: input handler rk_keylog registered",
                 "rk_input: kbd_handler.event hooked",
                 "__x64_sys_getdents64 hooked", "kprobe on vfs_read", "unlinked from the module",
                 "proc_root_operations.iterate_shared hooked",
                 "rk_hidekobj: unlinked from the module list and /sys/module"):
        assert line in info["dmesg"]


def test_hidden_module(rk):
    """Unlinked from the list: seen in /sys/module, the address tree and a
    carve of module memory; unlinked from /sys/module too: seen in the
    address tree and the carve."""
    findings, info = rk
    got = {f["culprit"]: f for f in findings if f["technique"] == "hidden-module"}
    assert sorted(got) == ["rk_hidekobj", "rk_hidemod"], findings
    assert all(f["check"] == "modules" for f in got.values())
    assert ("is in /sys/module, in the module address tree and in module memory but"
            in got["rk_hidemod"]["detail"])
    assert ("is in the module address tree and in module memory but"
            in got["rk_hidekobj"]["detail"])


def hidden(findings, comm):
    got = [f for f in findings if f["technique"] == "hidden-process" and f["culprit"] == comm]
    assert len(got) == 1, (comm, findings)
    return got[0]


def test_hidden_process(rk):
    """Unlinked from the task list: still in the PID IDR and on its parent's
    children list (it sleeps, so no run queue holds it)."""
    findings, info = rk
    f = hidden(findings, "xa_hideme")
    assert f["pid"] == info["pids"]["xa_hideme"]
    assert "is in the PID IDR and a listed task's child but" in f["detail"], f


def test_hidden_runnable_process(rk):
    """A hidden SCHED_FIFO process that never sleeps, with two nice-19
    threads pinned beside it: its CPU's RT priority list holds it and the CFS
    tree of that CPU one of its threads at least, whenever the dump paused."""
    findings, info = rk
    f = hidden(findings, "xa_rtspin")
    assert f["pid"] == info["pids"]["xa_rtspin"]
    for view in ("in the PID IDR", "queued on a CFS run queue", "queued on an RT run queue",
                 "a listed task's child"):
        assert view in f["detail"], f


def test_syscall_table_hook(rk):
    findings, info = rk
    f = only(findings, "syscall-hook")
    assert f["culprit"] == "rk_syscall"
    assert f["detail"].startswith("sys_call_table[62] -> [rk_syscall]+")


def test_ftrace_hook(rk):
    findings, info = rk
    f = only(findings, "ftrace-hook")
    assert f["culprit"] == "rk_ftrace"
    assert "IPMODIFY" in f["detail"] and "__x64_sys_getdents64+0x0" in f["detail"]


def test_kprobe(rk):
    findings, info = rk
    f = only(findings, "kprobe")
    assert f["culprit"] == "rk_kprobe" and "on vfs_read+0x0" in f["detail"]


def test_ebpf_program(rk):
    findings, info = rk
    f = only(findings, "bpf-program")
    assert f["culprit"] == "xa_rkfilter" and "socket_filter" in f["detail"]


def test_injected_code(rk):
    findings, info = rk
    f = only(findings, "anon-exec")
    assert f["pid"] == info["pids"]["xa_inject"] and f["culprit"] == "xa_inject"
    assert int(f["addr"], 16) == int(info["inject_va"], 16)


def test_ld_preload(rk):
    findings, info = rk
    f = only(findings, "ld-preload")
    assert f["pid"] == info["pids"]["xa_preload"] and "LD_PRELOAD=/tmp/xa_evil.so" in f["detail"]


def test_deleted_executable(rk):
    findings, info = rk
    f = only(findings, "deleted-exe")
    assert f["pid"] == info["pids"]["xa_deleted"] and "/tmp/xa_deleted (deleted)" in f["detail"]


def test_idtr_replaced(rk):
    """Every CPU's IDTR points at rk_idt's copy of the IDT: seen where the
    dump has the CPUs' registers (QEMU's ELF notes); a raw image has none,
    and the idt check says so in a note instead of staying silent."""
    findings, info = rk
    got = [f for f in findings if f["technique"] == "idtr-replaced"]
    idt_notes = [n for n in info["notes"] if n["check"] == "idt"]
    if info["kind"] == "core.elf":
        assert len(got) == 1 and idt_notes == [], (got, idt_notes)
        f = got[0]
        assert f["culprit"] == "rk_idt" and f["check"] == "idt"
        assert f["detail"].startswith("CPUs 0, 1 load the IDT at [rk_idt]+0x"), f
    else:
        assert got == []
        assert len(idt_notes) == 1 and "no CPU's IDTR judged" in idt_notes[0]["note"]


def test_tty_hook(rk):
    findings, info = rk
    f = only(findings, "tty-hook")
    assert f["culprit"] == "rk_tty" and f["check"] == "ops"
    assert f["detail"].startswith("line discipline 0 (tty_ldiscs[0]) .receive_buf2 -> [rk_tty]+")


def test_input_handler(rk):
    """rk_input's own handler is reported; evdev's and joydev's (loaded in
    the same guest) are in-tree handlers of their own modules: not."""
    findings, info = rk
    f = only(findings, "input-handler")
    assert f["culprit"] == "rk_input" and f["check"] == "ops"
    assert 'input handler "rk_keylog"' in f["detail"]
    assert "evdev" in info["clean_modules"] and "joydev" in info["clean_modules"]


def test_input_hook(rk):
    """rk_input also patched the console keyboard handler's event function."""
    findings, info = rk
    f = only(findings, "input-hook")
    assert f["culprit"] == "rk_input" and f["check"] == "ops"
    assert f["detail"].startswith('input handler "kbd" .event -> [rk_input]+0x'), f


def test_proc_root_hook(rk):
    findings, info = rk
    f = only(findings, "ops-hook")
    assert f["culprit"] == "rk_procfs" and f["check"] == "ops"
    assert f["detail"].startswith("proc_root_operations+0x")
    assert "-> [rk_procfs]+" in f["detail"]


def test_nothing_else(rk):
    """Every finding is one of the planted techniques: no false positive
    next to them."""
    findings, info = rk
    want = ["hidden-module", "hidden-module", "hidden-process", "hidden-process", "syscall-hook",
            "ftrace-hook", "kprobe", "bpf-program", "anon-exec", "ld-preload", "deleted-exe",
            "ops-hook", "tty-hook", "input-handler", "input-hook"]
    if info["kind"] == "core.elf":
        want.append("idtr-replaced")
    assert sorted(f["technique"] for f in findings) == sorted(want)


def test_text_output_names_culprits(bed):
    p = run_tool("xa-check", "file:" + os.path.join(bed["dir"], "rk", "core.elf"), check=False)
    assert p.returncode == 4
    for word in ("rk_hidemod", "rk_hidekobj", "rk_syscall", "rk_ftrace", "rk_kprobe", "rk_procfs",
                 "rk_idt", "rk_tty", "rk_input", "xa_hideme", "xa_rtspin", "xa_inject",
                 "xa_rkfilter"):
        assert word in p.stdout


def test_clean_twin(bed):
    """The same guest before the techniques, with 20+ ordinary Debian
    modules loaded on top of the harness's own: nothing to report."""
    with open(os.path.join(bed["dir"], "clean", "rootkit.json")) as f:
        clean = json.load(f)
    assert len(clean["clean_modules"]) >= 20
    for fname in ("core.elf", "raw.img"):
        p, findings, summary, _notes = check("file:" + os.path.join(bed["dir"], "clean", fname))
        assert findings == [] and p.returncode == 0, (findings, p.stderr)
        assert len(summary) == 9 and all(s["complete"] for s in summary.values())


@pytest.mark.parametrize("kind", ["l4", "l5"])
def test_clean_harness_dumps(kind):
    d = os.path.join(DUMPS, kind)
    require(os.path.exists(os.path.join(d, "core.elf")), "no %s dump set in %s" % (kind, DUMPS))
    p, findings, summary, notes = check("file:" + os.path.join(d, "core.elf"))
    assert findings == [] and p.returncode == 0, (findings, p.stderr)
    assert len(summary) == 9
    assert notes == []  # the ELF notes give every CPU's IDTR


def test_one_check(bed):
    p, findings, summary, _notes = check("file:" + os.path.join(bed["dir"], "rk", "core.elf"),
                                         "--check", "syscalls")
    assert p.returncode == 4 and list(summary) == ["syscalls"]
    assert [f["technique"] for f in findings] == ["syscall-hook"]


def test_unknown_check_is_usage_error(bed):
    p = run_tool("xa-check", "file:" + os.path.join(bed["dir"], "rk", "core.elf"), "--check",
                 "nosuch", check=False)
    assert p.returncode == 2 and "nosuch" in p.stderr
