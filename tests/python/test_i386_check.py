"""xa-check's table checks (syscalls, idt) on 32-bit x86 guests with no
configuration (issue 18): Debian's 686 kernels have no BTF and no data
symbols, so sys_call_table and idt_table are found by their shape
(os/linux/check32_tables.c). Checked on the i386 / i386pae dump sets: the
tables found are the kernel's (entry 0 is restart_syscall's handler, the
IDT is what CPU 0's IDTR maps to), clean guests are clean, hooks patched
into a copy are reported exactly, and a copy whose table lost its shape is
refused rather than called clean.
"""
import os
import re
import shutil
import struct

import pytest

import xa_py  # noqa: F401  (sets sys.path for the package)
import xenaccess
from test_i386 import guest32  # noqa: F401  (the dump sets: i386 and i386pae, raw and ELF)
from xatest import DUMPS, json_lines, require, run_tool

pytest_plugins = ["xa_py"]

NR_KILL = 37  # i386 __NR_kill, a rootkit's favourite
VEC_INT3 = 3


def check(target, *names):
    args = [a for n in names for a in ("--check", n)]
    return run_tool("xa-check", target, "--json", *args, check=False)


def found_at(rows, what):
    """The table address a check's note gives ("... found by its shape at 0x...")."""
    for r in rows:
        m = re.match(what + r" found by its shape at (0x[0-9a-f]+)", r.get("note", ""))
        if m:
            return int(m.group(1), 16)
    raise AssertionError("no note on %s in %r" % (what, rows))


def idtr_base(dump_dir):
    """CPU 0's IDT base from the regs.txt QEMU wrote with the dump."""
    with open(os.path.join(dump_dir, "regs.txt")) as f:
        m = re.search(r"^IDT=\s*([0-9a-f]+)", f.read(), re.M)
    assert m, "no IDT line in regs.txt"
    return int(m.group(1), 16)


def gate(handler, selector=0x60, flags=0x8e00):
    """An i386 interrupt gate: offset low, selector, flags, offset high."""
    return struct.pack("<HHHH", handler & 0xffff, selector, flags, handler >> 16)


def file_offset(path, pa):
    """Where physical address @pa is in a raw image or a QEMU ELF64 core."""
    with open(path, "rb") as f:
        head = f.read(64)
        if head[:4] != b"\x7fELF":
            return pa
        assert head[4] == 2, "not an ELF64 core"
        phoff, = struct.unpack_from("<Q", head, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", head, 0x36)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    for i in range(phnum):
        p_type, _, p_offset, _, p_paddr, p_filesz = struct.unpack_from("<IIQQQQ", table,
                                                                        i * phentsize)
        if p_type == 1 and p_paddr <= pa < p_paddr + p_filesz:
            return p_offset + pa - p_paddr
    raise AssertionError("0x%x not in the core" % pa)


COPIES = []


@pytest.fixture(autouse=True)
def drop_copies():
    """Each patched copy is a whole dump: removed after its test, so a run
    does not leave gigabytes in pytest's kept temporary directories."""
    yield
    while COPIES:
        try:
            os.remove(COPIES.pop())
        except FileNotFoundError:
            pass


def patched(tmp_path, src_target, vm, writes):
    """A copy of the dump with (virtual address, bytes) written; the shared
    dumps are never touched."""
    src = src_target[len("file:"):]
    copy = tmp_path / os.path.basename(src)
    shutil.copyfile(src, copy)
    COPIES.append(copy)
    with open(copy, "r+b") as f:
        for va, data in writes:
            f.seek(file_offset(src, vm.translate(va)))
            f.write(data)
    return "file:%s" % copy


@pytest.fixture(scope="module")
def tables(guest32):
    """The tables the clean dump's checks report, checked against the guest."""
    p = check(guest32["target"], "syscalls", "idt")
    rows = json_lines(p.stdout)
    return {"proc": p, "rows": rows, "syscalls": found_at(rows, "sys_call_table"),
            "idt": found_at(rows, "idt_table")}


def test_clean_guest_tables_found(guest32, tables):
    p, rows = tables["proc"], tables["rows"]
    assert p.returncode == 0 and p.stderr == "", p.stderr
    ends = [r for r in rows if "complete" in r]
    assert [(r["check"], r["findings"], r["complete"]) for r in ends] == \
        [("syscalls", 0, True), ("idt", 0, True)]
    with xenaccess.open(guest32["target"]) as vm:
        # the kernel's own table: its first entries are these handlers
        for nr, name in enumerate(["restart_syscall", "exit", "fork", "read"]):
            assert vm.read_u32(tables["syscalls"] + 4 * nr) == \
                vm.symbol("__ia32_sys_" + name), name
        # the IDT the CPU loads (its read-only alias in the CPU entry area)
        # maps to the page found
        assert vm.translate(idtr_base(guest32["dir"])) == vm.translate(tables["idt"])
        assert vm.read(tables["idt"], 8) == gate(vm.symbol("asm_exc_divide_error"))


def test_hooks_reported(guest32, tables, tmp_path):
    """sys_call_table[kill] pointed into a module, the int3 gate at an
    address outside the text and every module: exactly these two findings."""
    with xenaccess.open(guest32["target"]) as vm:
        mod = list(vm.modules())[0]
        hook = mod.base + 0x40
        stray = tables["idt"] + 0x800  # the kernel's bss, past the IDT
        copy = patched(tmp_path, guest32["target"], vm, [
            (tables["syscalls"] + 4 * NR_KILL, struct.pack("<I", hook)),
            (tables["idt"] + 8 * VEC_INT3, gate(stray, flags=0xee00))])
    p = check(copy, "syscalls", "idt")
    assert p.returncode == 4, p.stderr
    found = [(r["check"], r["technique"], r["culprit"], int(r["addr"], 16))
             for r in json_lines(p.stdout) if "technique" in r]
    assert found == [("syscalls", "syscall-hook", mod.name, hook),
                     ("idt", "idt-hook", "", stray)], p.stdout
    assert "sys_call_table[%d] -> [%s]+0x40" % (NR_KILL, mod.name) in p.stdout
    assert "IDT vector %d -> 0x%x, outside the kernel's text" % (VEC_INT3, stray) in p.stdout


def test_hook_in_hidden_module_named(guest32, tables, tmp_path):
    """sys_call_table[kill] pointed into a module that is also unlinked from
    the module list (its neighbours patched): the hook is still named after
    it, found in /sys/module or by the carve of module memory."""
    with xenaccess.open(guest32["target"]) as vm:
        mods = list(vm.modules())
        assert len(mods) >= 5
        k = len(mods) // 2
        victim = mods[k]
        prev, nxt = mods[k - 1].module + 4, mods[k + 1].module + 4  # struct module.list
        hook = victim.base + 0x40
        copy = patched(tmp_path, guest32["target"], vm, [
            (tables["syscalls"] + 4 * NR_KILL, struct.pack("<I", hook)),
            (prev, struct.pack("<I", nxt)), (nxt + 4, struct.pack("<I", prev))])
    p = check(copy, "syscalls")
    assert p.returncode == 4, p.stderr
    found = [(r["technique"], r["culprit"], int(r["addr"], 16))
             for r in json_lines(p.stdout) if "technique" in r]
    assert found == [("syscall-hook", victim.name, hook)], p.stdout
    assert "sys_call_table[%d] -> [%s]+0x40" % (NR_KILL, victim.name) in p.stdout


@pytest.mark.parametrize("kind", ["i386", "i386pae"])
def test_broken_shape_refused(kind, tmp_path):
    """A copy whose tables lost their shape (the first syscall entries and
    the exception gates zeroed): both checks refuse in one line each, never
    "clean"; with nothing else run, nothing is printed and the exit is 1."""
    d = os.path.join(DUMPS, kind)
    require(os.path.exists(os.path.join(d, "truth.json")), f"no {kind} dump set in {DUMPS}")
    target = "file:" + os.path.join(d, "raw.img")
    rows = json_lines(check(target, "syscalls", "idt").stdout)
    syscalls, idt = found_at(rows, "sys_call_table"), found_at(rows, "idt_table")
    with xenaccess.open(target) as vm:
        copy = patched(tmp_path, target, vm, [(syscalls, bytes(4 * 8)), (idt, bytes(8 * 20))])
    p = check(copy, "syscalls", "idt")
    assert p.returncode == 1 and p.stdout == "", (p.returncode, p.stdout)
    lines = p.stderr.splitlines()
    assert len(lines) == 1, p.stderr  # the first one's reason, the other named
    assert "no i386 system call table found" in lines[0] and "(and idt)" in lines[0], lines


def check_live_pae_tables(live32):
    """On the running 686-pae guest (test_i386.py's live32, one boot): both
    tables found, nothing reported, and every CPU's IDTR judged (the live
    target gives registers; the CPUs load idt_table's read-only alias)."""
    p = check(live32["target"], "syscalls", "idt")
    rows = json_lines(p.stdout)
    assert p.returncode == 0 and p.stderr == "", (p.stdout, p.stderr)
    assert [(r["check"], r["findings"], r["complete"]) for r in rows if "complete" in r] == \
        [("syscalls", 0, True), ("idt", 0, True)]
    notes = [r["note"] for r in rows if "note" in r]
    assert any(n.startswith("sys_call_table found by its shape") for n in notes), notes
    assert any(n.startswith("idt_table found by its shape") for n in notes), notes
    assert not any("IDTR" in n for n in notes), notes  # every CPU's IDTR was judged


# ---- ops: the operation tables found by their shape (check32_ops.c) ----

OPS_TABLES = ["proc_root_operations", "proc_root_inode_operations", "tcp4_seq_ops",
              "tcp6_seq_ops", "udp_seq_ops", "udp6_seq_ops", "raw_seq_ops", "packet_seq_ops",
              "tty_fops", "console_fops", "hung_up_tty_fops"]
SEQ_SHOW = 12       # seq_operations.show on i386: start, stop, next, show
FOPS_ITERATE_SHARED = 32  # file_operations.iterate_shared: slot 8
TERMINALS_REFUSED = "ops: tables judged; terminals not"


def ops_found(rows):
    """{table: address} from the ops check's notes."""
    found = {}
    for r in rows:
        m = re.match(r"(\w+) found by its shape at (0x[0-9a-f]+)", r.get("note", ""))
        if m and r["check"] == "ops":
            found[m.group(1)] = int(m.group(2), 16)
    return found


@pytest.fixture(scope="module")
def ops(guest32):
    p = check(guest32["target"], "ops")
    return {"proc": p, "rows": json_lines(p.stdout), "found": ops_found(json_lines(p.stdout))}


def test_ops_tables_found_clean(guest32, ops):
    """Every table of the list found once, holding the kernel's handlers, no
    finding; the terminals part refuses in one line (exit 3), never clean."""
    p, found = ops["proc"], ops["found"]
    assert p.returncode == 3, p.stderr
    assert sorted(found) == sorted(OPS_TABLES), ops["rows"]
    ends = [r for r in ops["rows"] if "complete" in r]
    assert [(r["check"], r["complete"]) for r in ends] == [("ops", False)]
    assert not any("technique" in r for r in ops["rows"]), ops["rows"]
    assert p.stderr.count("\n") == 1 and TERMINALS_REFUSED in p.stderr, p.stderr
    with xenaccess.open(guest32["target"]) as vm:
        # the tables hold the handlers their source names, at their slots
        for table, show in [("tcp4_seq_ops", "tcp4_seq_show"), ("udp6_seq_ops", "udp6_seq_show"),
                            ("packet_seq_ops", "packet_seq_show")]:
            assert vm.read_u32(found[table] + SEQ_SHOW) == vm.symbol(show), table
        assert vm.read_u32(found["proc_root_operations"] + FOPS_ITERATE_SHARED) == \
            vm.symbol("proc_root_readdir")


def test_ops_hooks_reported(guest32, ops, tmp_path):
    """tcp4_seq_ops.show pointed into a module and proc_root_operations'
    iterate_shared (the slot that tells the table from its siblings) at an
    address outside the text and every module: both tables still found,
    exactly these two findings, the first named by its module."""
    found = ops["found"]
    with xenaccess.open(guest32["target"]) as vm:
        mod = list(vm.modules())[0]
        hook = mod.base + 0x40
        stray = found["tcp4_seq_ops"] + 0x1000  # the kernel's data, not text
        copy = patched(tmp_path, guest32["target"], vm, [
            (found["tcp4_seq_ops"] + SEQ_SHOW, struct.pack("<I", hook)),
            (found["proc_root_operations"] + FOPS_ITERATE_SHARED, struct.pack("<I", stray))])
    p = check(copy, "ops")
    rows = json_lines(p.stdout)
    assert ops_found(rows) == found, rows
    hits = [(r["technique"], r["culprit"], int(r["addr"], 16)) for r in rows if "technique" in r]
    assert sorted(hits) == sorted([("ops-hook", mod.name, hook), ("ops-hook", "", stray)]), rows
    assert "tcp4_seq_ops+0xc (struct seq_operations) -> [%s]+0x40" % mod.name in p.stdout
    assert "proc_root_operations+0x20 (struct file_operations) -> 0x%x" % stray in p.stdout
    assert p.returncode == 3 and TERMINALS_REFUSED in p.stderr, p.stderr


def test_ops_broken_shape_refused(guest32, ops, tmp_path):
    """tcp4_seq_ops with three of its four slots hooked no longer has the
    shape: refused in one line, not called clean; a copy of udp_seq_ops
    planted in the data makes two places: refused too."""
    found = ops["found"]
    with xenaccess.open(guest32["target"]) as vm:
        udp = vm.read(found["udp_seq_ops"], 16)
        decoy = found["tcp4_seq_ops"] + 0x1000
        copy = patched(tmp_path, guest32["target"], vm, [
            (found["tcp4_seq_ops"], struct.pack("<3I", *[0xf8000000 + 16 * i for i in range(3)])),
            (decoy, udp)])
    p = check(copy, "ops")
    assert p.returncode == 3, p.stderr
    rows = json_lines(p.stdout)
    assert "tcp4_seq_ops" not in ops_found(rows) and "udp_seq_ops" not in ops_found(rows)
    assert not any("technique" in r for r in rows), rows
    lines = p.stderr.splitlines()
    assert len(lines) == 1, p.stderr
    assert "no place" in lines[0] and "shape of tcp4_seq_ops" in lines[0], lines[0]


def test_ops_sibling_tables_hooked_alike(guest32, ops, tmp_path):
    """tcp4_seq_ops.show and tcp6_seq_ops.show both pointed into a module
    (the usual way to hide a port): which place is which table is unknown,
    but both are judged, each hook reported once."""
    found = ops["found"]
    with xenaccess.open(guest32["target"]) as vm:
        mod = list(vm.modules())[0]
        hooks = {found["tcp4_seq_ops"]: mod.base + 0x40, found["tcp6_seq_ops"]: mod.base + 0x80}
        copy = patched(tmp_path, guest32["target"], vm,
                       [(at + SEQ_SHOW, struct.pack("<I", h)) for at, h in hooks.items()])
    p = check(copy, "ops")
    rows = json_lines(p.stdout)
    hits = sorted(int(r["addr"], 16) for r in rows if "technique" in r)
    assert hits == sorted(hooks.values()), rows
    assert all(r["culprit"] == mod.name for r in rows if "technique" in r), rows
    for at in hooks:
        assert "tcp4_seq_ops or tcp6_seq_ops at 0x%x+0xc (struct seq_operations)" % at \
            in p.stdout, p.stdout
    assert p.returncode == 3 and TERMINALS_REFUSED in p.stderr, p.stderr


# ---- ftrace: ftrace_list_end and ftrace_ops_list found by their shape ----

FT_NEXT, FT_FLAGS, FT_WAIT_LIST = 4, 8, 40  # i386 struct ftrace_ops (check32_hooks.h)
FT_IPMODIFY = 1 << 12


def ftrace_found(rows):
    for r in rows:
        m = re.match(r"ftrace_ops_list found by its shape at (0x[0-9a-f]+) \((\d+) ftrace_ops "
                     r"before ftrace_list_end at (0x[0-9a-f]+)\)", r.get("note", ""))
        if m:
            return int(m.group(1), 16), int(m.group(2)), int(m.group(3), 16)
    raise AssertionError("no ftrace note in %r" % rows)


@pytest.fixture(scope="module")
def ftrace(guest32):
    p = check(guest32["target"], "ftrace")
    return {"proc": p, "rows": json_lines(p.stdout)}


def test_ftrace_clean(guest32, ftrace):
    """The chain found, empty (nothing traces on the test guest): clean,
    complete; the list end is the ftrace_ops calling ftrace_stub and the
    list points at it."""
    p, rows = ftrace["proc"], ftrace["rows"]
    assert p.returncode == 0 and p.stderr == "", p.stderr
    assert [(r["findings"], r["complete"]) for r in rows if "complete" in r] == [(0, True)]
    head, nr, end = ftrace_found(rows)
    assert nr == 0
    with xenaccess.open(guest32["target"]) as vm:
        assert vm.read_u32(head) == end
        assert vm.read_u32(end) == vm.symbol("ftrace_stub")
        assert vm.read_u32(end + FT_NEXT) == 0


def plant_ops(vm, at, func, nxt, flags=0):
    """A minimal struct ftrace_ops (func, next, flags; no hash) at @at."""
    return (at, struct.pack("<3I", func, nxt, flags) + bytes(52 - 12))


def test_ftrace_planted_ops_reported(guest32, ftrace, tmp_path):
    """An ftrace_ops planted in a module's memory at the head of the chain,
    its callback in that module with IPMODIFY: found by the walk, reported
    exactly, named by its module."""
    head, _, end = ftrace_found(ftrace["rows"])
    with xenaccess.open(guest32["target"]) as vm:
        mod = list(vm.modules())[0]
        ops, hook = mod.base + 0x100, mod.base + 0x40
        copy = patched(tmp_path, guest32["target"], vm, [
            plant_ops(vm, ops, hook, end, FT_IPMODIFY), (head, struct.pack("<I", ops))])
    p = check(copy, "ftrace")
    rows = json_lines(p.stdout)
    assert p.returncode == 4, p.stderr
    assert ftrace_found(rows) == (head, 1, end)
    hits = [(r["technique"], r["culprit"], int(r["addr"], 16)) for r in rows if "technique" in r]
    assert hits == [("ftrace-hook", mod.name, hook)], rows
    assert "ftrace_ops 0x%x calls [%s]+0x40 (IPMODIFY: diverts) on every function" % (
        ops, mod.name) in p.stdout


def test_ftrace_broken_shapes_refused(guest32, ftrace, tmp_path):
    """The list end without its self-pointing lock: no list end, refused;
    two pointers near it leading to it by different chains: refused. Never
    clean, one line each; the check run alone stops before saying anything,
    so an error (exit 1, nothing on stdout)."""
    head, _, end = ftrace_found(ftrace["rows"])
    with xenaccess.open(guest32["target"]) as vm:
        no_end = patched(tmp_path, guest32["target"], vm,
                         [(end + FT_WAIT_LIST, struct.pack("<I", 0))])
        mod = list(vm.modules())[0]
        a, b = mod.base + 0x100, mod.base + 0x200
        (tmp_path / "two").mkdir()
        two = patched(tmp_path / "two", guest32["target"], vm, [
            plant_ops(vm, a, mod.base + 0x40, end), plant_ops(vm, b, mod.base + 0x80, end),
            (head, struct.pack("<I", a)), (end - 0x80, struct.pack("<I", b))])
    for target, why in [(no_end, "no ftrace_list_end found"), (two, "different chains")]:
        p = check(target, "ftrace")
        assert p.returncode == 1 and p.stdout == "", (p.returncode, p.stdout)
        assert len(p.stderr.splitlines()) == 1 and why in p.stderr, p.stderr
        assert "ftrace check stopped early" in p.stderr, p.stderr
